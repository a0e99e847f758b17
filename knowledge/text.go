package knowledge

import (
	"bytes"
	"sort"
	"strconv"
	"strings"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
)

// lineIndex maps byte offsets of a file to 1-based line numbers.
type lineIndex []int // offsets at which each line starts

func newLineIndex(src []byte) lineIndex {
	idx := lineIndex{0}
	for i, b := range src {
		if b == '\n' && i+1 < len(src) {
			idx = append(idx, i+1)
		}
	}
	return idx
}

// line returns the 1-based line holding offset.
func (l lineIndex) line(offset int) int {
	return sort.Search(len(l), func(i int) bool { return l[i] > offset })
}

// end returns the number of lines.
func (l lineIndex) end() int { return len(l) }

// slice returns lines [from, to) of src (1-based).
func (l lineIndex) slice(src []byte, from, to int) string {
	if from < 1 {
		from = 1
	}
	if from > len(l) || to <= from {
		return ""
	}
	start := l[from-1]
	stop := len(src)
	if to-1 < len(l) {
		stop = l[to-1]
	}
	return string(src[start:stop])
}

// nearestStart returns the byte offset where n's text begins, looking into its
// children for container nodes that carry no lines of their own.
func nearestStart(n ast.Node) int {
	for c := n; c != nil; {
		if c.Type() == ast.TypeBlock && c.Lines().Len() > 0 {
			return c.Lines().At(0).Start
		}
		if t, ok := c.(*ast.Text); ok {
			return t.Segment.Start
		}
		if c.FirstChild() != nil {
			c = c.FirstChild()
			continue
		}
		// Inline node without text: walk up to a block with lines.
		for p := c.Parent(); p != nil; p = p.Parent() {
			if p.Type() == ast.TypeBlock && p.Lines().Len() > 0 {
				return p.Lines().At(0).Start
			}
		}
		return 0
	}
	return 0
}

// plainInline renders the inline content of n as plain text. Absolute links
// keep their address in brackets; relative links keep only their text.
func plainInline(n ast.Node, src []byte) string {
	var b strings.Builder
	writeInline(&b, n, src)
	return strings.Join(strings.Fields(b.String()), " ")
}

func writeInline(b *strings.Builder, n ast.Node, src []byte) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Segment.Value(src))
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.CodeSpan:
			writeInline(b, c, src)
		case *ast.Link:
			before := b.Len()
			writeInline(b, c, src)
			label := b.String()[before:]
			dest := string(c.Destination)
			if isAbsolute(dest) && strings.TrimSpace(label) != dest {
				b.WriteString(" (" + dest + ")")
			}
		case *ast.AutoLink:
			b.Write(c.URL(src))
		case *ast.RawHTML:
			// Dropped: HTML is not shown in chat.
		default:
			writeInline(b, c, src)
		}
	}
}

func isAbsolute(dest string) bool {
	return strings.HasPrefix(dest, "http://") || strings.HasPrefix(dest, "https://") ||
		strings.HasPrefix(dest, "mailto:") || strings.HasPrefix(dest, "tel:")
}

// plainBlock renders a block node as plain chat text: paragraphs as lines,
// list items prefixed with "• " (or their number), table rows with cells
// joined by " | ", deeper headings as their own line.
func plainBlock(n ast.Node, src []byte) string {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock, *ast.Heading:
		return plainInline(n, src)
	case *ast.List:
		var items []string
		i := n.Start
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			marker := "• "
			if n.IsOrdered() {
				marker = strconv.Itoa(i) + ". "
				i++
			}
			var parts []string
			for cc := c.FirstChild(); cc != nil; cc = cc.NextSibling() {
				if t := plainBlock(cc, src); t != "" {
					parts = append(parts, t)
				}
			}
			items = append(items, marker+strings.Join(parts, "\n  "))
		}
		return strings.Join(items, "\n")
	case *ast.Blockquote:
		var parts []string
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			if t := plainBlock(c, src); t != "" {
				parts = append(parts, t)
			}
		}
		return strings.Join(parts, "\n")
	case *east.Table:
		var rows []string
		for r := n.FirstChild(); r != nil; r = r.NextSibling() {
			var cells []string
			for c := r.FirstChild(); c != nil; c = c.NextSibling() {
				cells = append(cells, plainInline(c, src))
			}
			rows = append(rows, strings.Join(cells, " | "))
		}
		return strings.Join(rows, "\n")
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		var b bytes.Buffer
		for i := 0; i < n.Lines().Len(); i++ {
			seg := n.Lines().At(i)
			b.Write(seg.Value(src))
		}
		return strings.TrimSpace(b.String())
	case *ast.ThematicBreak, *ast.HTMLBlock:
		return ""
	default:
		return plainInline(n, src)
	}
}
