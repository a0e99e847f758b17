package knowledge

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// guideLinks rewrites links between documents ("holiday-pay.md#x") into
// links between guide pages ("holiday-pay#x").
type guideLinks struct{}

func (guideLinks) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if l, ok := n.(*ast.Link); ok && entering && !isAbsolute(string(l.Destination)) {
			dest := string(l.Destination)
			path, frag, _ := strings.Cut(dest, "#")
			if strings.HasSuffix(path, ".md") {
				path = strings.TrimSuffix(path[strings.LastIndex(path, "/")+1:], ".md")
				if frag != "" {
					path += "#" + frag
				}
				l.Destination = []byte(path)
			}
		}
		return ast.WalkContinue, nil
	})
}

// guideMarkdown renders guide pages: tables, and links between guides.
var guideMarkdown = goldmark.New(
	goldmark.WithExtensions(extension.Table),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(guideLinks{}, 100))),
)

// WriteHTML writes d as an HTML fragment for a guide page: its summary,
// then each section under an <h2> whose id is the section's anchor, so that
// a passage's link (doc#anchor) lands on it. Raw HTML in the Markdown is
// not passed through, and links to other documents point at their pages.
func (d *Document) WriteHTML(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<p class=\"summary\">%s</p>\n", html.EscapeString(d.Summary))
	for _, s := range d.Sections {
		if s.Anchor != "" {
			fmt.Fprintf(&b, "<h2 id=\"%s\">%s</h2>\n", html.EscapeString(s.Anchor), html.EscapeString(s.Heading))
		}
		if err := guideMarkdown.Convert([]byte(s.Markdown), &b); err != nil {
			return fmt.Errorf("knowledge: rendering %s: %w", d.ID, err)
		}
	}
	if len(d.Sources) > 0 {
		b.WriteString("<h2 id=\"sources\">Sources</h2>\n<ul>\n")
		for _, src := range d.Sources {
			u := html.EscapeString(src)
			fmt.Fprintf(&b, "<li><a href=\"%s\" rel=\"noopener\">%s</a></li>\n", u, u)
		}
		b.WriteString("</ul>\n")
	}
	fmt.Fprintf(&b, "<p class=\"reviewed\">Last checked %s.</p>\n", d.Reviewed.Format("2 January 2006"))
	_, err := w.Write(b.Bytes())
	return err
}
