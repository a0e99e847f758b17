package knowledge

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzLoadDocument loads a knowledge base of one fuzzed Markdown file (and
// a valid topics.yaml). Load never panics; it fails exactly when Lint finds
// a fatal problem, with a ProblemsError naming the file; every problem
// names the file and a line within it (the line after the last one for
// "the end"); and a document that loads has an id, a title and sections
// with text.
func FuzzLoadDocument(f *testing.F) {
	const file = "guidance/holiday.md"
	for _, s := range []string{
		doc("holiday-pay", goodBody),
		doc("holiday-pay", "Just an opening paragraph.\n"),
		doc("holiday-pay", "# Title as a heading\n\n## A\n\nx\n\n## A\n\ny [link](other.md#nowhere) [self](#a)\n"),
		doc("Holiday Pay", goodBody),
		doc("holiday-pay", goodBody, "kind: essay", "audience: everyone", "reviewed: yesterday", "sources: [ftp://x]", "colour: red"),
		doc("holiday-pay", goodBody, "title:", "topics: [unknown]"),
		doc("holiday-pay", "## Empty\n\n## Tables\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"),
		"---\nid: [unclosed\n---\n\n## x\n\ny\n",
		"---\nid: a\n\n## never closed\n",
		"---\n- a list\n---\n\n## x\n\ny\n",
		"---\nid: a\ntitle: t\nkind: guidance\naudience: pa\n---\n",
		"no front matter\n",
		"",
		"---\n---\n",
		"---\r\nid: a\r\n---\r\n\r\n## x\r\n\r\ny\r\n",
		"---\nid: a\ntitle: !!binary aGk=\nkind: &k guidance\naudience: *k\n---\n\n## x\n\ny\n",
		doc("holiday-pay", "## A\n\nCall {{local.safeguarding_team | the council}}, {{local.nope | x}}, {{local.council}} {{ {{local.council\n"),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{TopicsFile: {Data: []byte(topicsYAML)}, file: {Data: data}}
		// Lines as an editor counts them: YAML takes a lone CR for a line
		// break too.
		lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) - bytes.Count(data, []byte("\r\n")) + 1
		base, err := Load(fsys)
		problems := Lint(fsys, today)
		fatal := 0
		for _, p := range problems {
			if p.File != file || p.Line < 1 || p.Line > lines+1 || p.Rule == "" || p.Message == "" {
				t.Fatalf("problem %+v: want the file, a line in 1..%d, a rule and a message", p, lines+1)
			}
			if p.Fatal {
				fatal++
			}
		}
		if err != nil {
			var pe ProblemsError
			if !errors.As(err, &pe) || len(pe) == 0 || !strings.Contains(err.Error(), file+":") {
				t.Fatalf("Load: %v (%T): want a ProblemsError naming %s and its line", err, err, file)
			}
			if len(pe) != fatal {
				t.Fatalf("Load reports %d problems, Lint %d fatal ones", len(pe), fatal)
			}
			return
		}
		if fatal > 0 {
			t.Fatalf("Load succeeded but Lint found %d fatal problems: %v", fatal, problems)
		}
		if len(base.Documents) != 1 {
			t.Fatalf("loaded %d documents from one file", len(base.Documents))
		}
		d := base.Documents[0]
		if d.Path != file || !idPattern.MatchString(d.ID) || d.Title == "" || !d.Kind.Valid() || !d.Audience.Valid() || len(d.Sections) == 0 {
			t.Fatalf("loaded %+v", d)
		}
		for _, s := range d.Sections {
			if s.Text == "" || s.Line < 1 || s.Line > lines+1 {
				t.Fatalf("section %+v", s)
			}
		}
		if again, err := Load(fsys); err != nil || again.Hash != base.Hash {
			t.Fatalf("loading the same file again: %v, hash %s then %s", err, base.Hash, again.Hash)
		}
	})
}
