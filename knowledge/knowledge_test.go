package knowledge

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

var today = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

const topicsYAML = `- id: pay
  label: Pay
  audience: both
- id: holiday
  label: Holiday
  audience: both
`

// doc returns a valid document with the given id, front matter lines
// replaced or added by overrides ("key: value"; "key:" alone removes it),
// and body.
func doc(id string, body string, overrides ...string) string {
	fields := []struct{ key, line string }{
		{"id", "id: " + id},
		{"title", "title: Holiday pay"},
		{"kind", "kind: guidance"},
		{"audience", "audience: employer"},
		{"topics", "topics: [holiday]"},
		{"summary", "summary: How holiday pay works."},
		{"reviewed", "reviewed: 2026-11-01"},
		{"sources", "sources:\n  - https://www.gov.uk/holiday-entitlement-rights"},
		{"questions", "questions:\n  - how much holiday does my PA get"},
	}
	for _, o := range overrides {
		key, _, _ := strings.Cut(o, ":")
		found := false
		for i := range fields {
			if fields[i].key == key {
				found = true
				if strings.TrimSpace(o) == key+":" {
					fields[i].line = ""
				} else {
					fields[i].line = o
				}
			}
		}
		if !found {
			fields = append(fields, struct{ key, line string }{key, o})
		}
	}
	var b strings.Builder
	b.WriteString("---\n")
	for _, f := range fields {
		if f.line != "" {
			b.WriteString(f.line + "\n")
		}
	}
	b.WriteString("---\n\n" + body)
	return b.String()
}

const goodBody = `## How much holiday a PA gets

A PA gets 5.6 weeks of paid holiday a year, capped at 28 days.

## Holiday for irregular hours

Holiday builds up at 12.07% of hours worked. See [how much](#how-much-holiday-a-pa-gets).
`

func fsWith(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{TopicsFile: {Data: []byte(topicsYAML)}}
	for name, data := range files {
		m[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return m
}

func TestLoadSplitsSectionsIntoPassages(t *testing.T) {
	fsys := fsWith(map[string]string{"guidance/holiday-pay.md": doc("holiday-pay", "Intro text before any heading.\n\n"+goodBody+`
## A list and a link

- first **bold** item
- second item with [gov.uk](https://www.gov.uk/x)

1. one
2. two
`)})
	base, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	d := base.Document("holiday-pay")
	if d == nil {
		t.Fatal("document holiday-pay not loaded")
	}
	if d.Kind != Guidance || d.Audience != Employer || d.Title != "Holiday pay" || d.Reviewed.Format(time.DateOnly) != "2026-11-01" {
		t.Errorf("front matter = %+v", d)
	}
	var got []string
	for _, s := range d.Sections {
		got = append(got, s.Anchor+"|"+s.Heading)
	}
	want := []string{"|Holiday pay", "how-much-holiday-a-pa-gets|How much holiday a PA gets", "holiday-for-irregular-hours|Holiday for irregular hours", "a-list-and-a-link|A list and a link"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("sections:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	list := d.Sections[3]
	wantText := "• first bold item\n• second item with gov.uk (https://www.gov.uk/x)\n\n1. one\n2. two"
	if list.Text != wantText {
		t.Errorf("list text = %q, want %q", list.Text, wantText)
	}
	if !strings.Contains(d.Sections[2].Text, "See how much.") {
		t.Errorf("a relative link should keep only its text: %q", d.Sections[2].Text)
	}
	if d.Sections[1].Line != 17 {
		t.Errorf("first ## heading on line %d, want 17", d.Sections[1].Line)
	}
	p, ok := base.Passage("holiday-pay#holiday-for-irregular-hours")
	if !ok || p.Doc != d || !strings.Contains(p.Section.Text, "12.07%") {
		t.Errorf("Passage lookup = %v, %v", p, ok)
	}
	if n := len(base.Passages()); n != 4 {
		t.Errorf("%d passages, want 4", n)
	}
	if base.Hash == "" {
		t.Error("no content hash")
	}
}

func TestHashChangesWithContent(t *testing.T) {
	a, _ := Check(fsWith(map[string]string{"g/a.md": doc("a", goodBody)}), today)
	b, _ := Check(fsWith(map[string]string{"g/a.md": doc("a", goodBody+"\nMore.\n")}), today)
	c, _ := Check(fsWith(map[string]string{"g/a.md": doc("a", goodBody)}), today)
	if a.Hash == b.Hash {
		t.Error("hash did not change when a document changed")
	}
	if a.Hash != c.Hash {
		t.Error("hash changed for the same content")
	}
}

// TestLintRules checks each lint rule with a document that breaks it: the
// problem must name the file, the line and say what is wrong.
func TestLintRules(t *testing.T) {
	long := "## Too long\n\n" + strings.Repeat("This sentence makes the section far too long to read. ", 40) + "\n"
	tests := []struct {
		name     string
		files    map[string]string
		rule     string
		file     string
		line     int
		message  string
		fatal    bool
		loadFail bool
	}{
		{"no front matter", map[string]string{"g/a.md": "## Heading\n\nText.\n"}, "no-front-matter", "g/a.md", 1, "must start with YAML front matter", true, true},
		{"unclosed front matter", map[string]string{"g/a.md": "---\nid: a\n\n## Heading\n\nText.\n"}, "no-front-matter", "g/a.md", 1, "never closed", true, true},
		{"bad yaml", map[string]string{"g/a.md": "---\nid: a\nkind: guidance\n  title: indented\n---\n\n## H\n\nText.\n"}, "bad-yaml", "g/a.md", 4, "front matter: mapping values are not allowed", true, true},
		{"missing id", map[string]string{"g/a.md": doc("a", goodBody, "id:")}, "missing-field", "g/a.md", 1, `no "id" field`, true, true},
		{"missing summary", map[string]string{"g/a.md": doc("a", goodBody, "summary:")}, "missing-field", "g/a.md", 1, `no "summary" field`, false, false},
		{"missing questions", map[string]string{"g/a.md": doc("a", goodBody, "questions:")}, "missing-field", "g/a.md", 1, `no "questions" field`, false, false},
		{"unknown field", map[string]string{"g/a.md": doc("a", goodBody, "auidence: pa")}, "unknown-field", "g/a.md", 13, `unknown front-matter field "auidence"`, false, false},
		{"bad kind", map[string]string{"g/a.md": doc("a", goodBody, "kind: leaflet")}, "bad-kind", "g/a.md", 4, `kind "leaflet" is not one of`, true, true},
		{"bad audience", map[string]string{"g/a.md": doc("a", goodBody, "audience: carers")}, "bad-audience", "g/a.md", 5, `audience "carers" is not one of employer, pa, both`, true, true},
		{"bad id", map[string]string{"g/a.md": doc("Holiday Pay", goodBody)}, "bad-id", "g/a.md", 2, "lower case words joined by hyphens", true, true},
		{"duplicate id", map[string]string{"g/a.md": doc("same", goodBody), "g/b.md": doc("same", goodBody)}, "duplicate-id", "g/b.md", 2, `id "same" is already used by g/a.md`, true, true},
		{"unknown topic", map[string]string{"g/a.md": doc("a", goodBody, "topics: [holidays]")}, "unknown-topic", "g/a.md", 6, `topic "holidays" is not listed in topics.yaml`, false, false},
		{"who knows for PAs only", map[string]string{"g/a.md": doc("a", goodBody), TopicsFile: topicsYAML + "- id: tax\n  label: Tax\n  audience: both\n  ask_pa: Your employer's payroll service will know.\n"}, "bad-topic", TopicsFile, 7, `topic "tax" has ask_pa but no ask`, false, false},
		{"who knows, not a sentence", map[string]string{"g/a.md": doc("a", goodBody), TopicsFile: topicsYAML + "- id: tax\n  label: Tax\n  audience: both\n  ask: HMRC\n"}, "bad-topic", TopicsFile, 7, `"HMRC" should be a sentence`, false, false},
		{"bad source", map[string]string{"g/a.md": doc("a", goodBody, "sources:\n  - gov.uk/holiday")}, "bad-source", "g/a.md", 9, `source "gov.uk/holiday" is not an http(s) URL`, false, false},
		{"future review", map[string]string{"g/a.md": doc("a", goodBody, "reviewed: 2027-01-01")}, "future-review", "g/a.md", 8, "in the future", false, false},
		{"stale review", map[string]string{"g/a.md": doc("a", goodBody, "reviewed: 2025-04-01")}, "stale-review", "g/a.md", 8, "more than 18 months ago", false, false},
		{"bad date", map[string]string{"g/a.md": doc("a", goodBody, "reviewed: last week")}, "bad-date", "g/a.md", 8, `"last week" is not a date`, false, false},
		{"empty section", map[string]string{"g/a.md": doc("a", goodBody+"\n## Nothing here\n\n## Last\n\nText.\n")}, "empty-section", "g/a.md", 23, `section "Nothing here" has no text`, false, false},
		{"long section", map[string]string{"g/a.md": doc("a", long)}, "long-section", "g/a.md", 15, "keep it under 1400", false, false},
		{"duplicate heading", map[string]string{"g/a.md": doc("a", goodBody+"\n## Holiday for irregular hours\n\nAgain.\n")}, "duplicate-heading", "g/a.md", 23, "repeats the one on line 19", false, false},
		{"broken file link", map[string]string{"g/a.md": doc("a", "## H\n\nSee [pay](missing.md).\n")}, "broken-link", "g/a.md", 17, `points to g/missing.md, which does not exist`, false, false},
		{"broken anchor link", map[string]string{"g/a.md": doc("a", "## H\n\nSee [pay](b.md#nowhere).\n"), "g/b.md": doc("b", goodBody)}, "broken-link", "g/a.md", 17, "g/b.md has no section #nowhere", false, false},
		{"h1 heading", map[string]string{"g/a.md": doc("a", "# Title again\n\n"+goodBody)}, "h1-heading", "g/a.md", 15, "use the title field", false, false},
		{"no sections", map[string]string{"g/a.md": doc("a", "")}, "no-sections", "g/a.md", 14, "no text to answer from", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fsWith(tt.files)
			problems := Lint(fsys, today)
			var found *Problem
			for i, p := range problems {
				if p.Rule == tt.rule {
					found = &problems[i]
				}
			}
			if found == nil {
				t.Fatalf("no %s problem; got %v", tt.rule, problems)
			}
			if found.File != tt.file || found.Line != tt.line || !strings.Contains(found.Message, tt.message) || found.Fatal != tt.fatal {
				t.Errorf("got %s (fatal %v)\nwant %s:%d: ...%s... (fatal %v)", found, found.Fatal, tt.file, tt.line, tt.message, tt.fatal)
			}
			_, err := Load(fsys)
			if (err != nil) != tt.loadFail {
				t.Errorf("Load error = %v, want failure %v", err, tt.loadFail)
			}
		})
	}
}

func TestLintCleanBaseHasNoProblems(t *testing.T) {
	fsys := fsWith(map[string]string{
		"g/a.md": doc("a", goodBody+"\n## Link\n\nSee [b](b.md#how-much-holiday-a-pa-gets).\n"),
		"g/b.md": doc("b", goodBody),
	})
	if problems := Lint(fsys, today); len(problems) != 0 {
		t.Errorf("unexpected problems: %v", problems)
	}
}

func TestSynonymsAndTopicsFiles(t *testing.T) {
	fsys := fsWith(map[string]string{"g/a.md": doc("a", goodBody)})
	fsys[SynonymsFile] = &fstest.MapFile{Data: []byte("# comment\nPA, Personal  Assistant, carer\nsack, dismiss\nlonely\nfire, sack\n")}
	base, problems := Check(fsys, today)
	want := [][]string{{"pa", "personal assistant", "carer"}, {"sack", "dismiss"}}
	if len(base.Synonyms) != 2 || strings.Join(base.Synonyms[0], ",") != strings.Join(want[0], ",") || strings.Join(base.Synonyms[1], ",") != strings.Join(want[1], ",") {
		t.Errorf("synonyms = %q, want %q", base.Synonyms, want)
	}
	var msgs []string
	for _, p := range problems {
		msgs = append(msgs, p.String())
	}
	joined := strings.Join(msgs, "\n")
	for _, w := range []string{"synonyms.txt:4: a synonym group needs at least two", `synonyms.txt:5: "sack" is already in the group on line 3`} {
		if !strings.Contains(joined, w) {
			t.Errorf("problems lack %q:\n%s", w, joined)
		}
	}
	if len(base.Topics) != 2 || base.Topics[0] != (Topic{ID: "pay", Label: "Pay", Audience: Both}) {
		t.Errorf("topics = %+v", base.Topics)
	}
	fsys[TopicsFile] = &fstest.MapFile{Data: []byte(topicsYAML + "- id: tax\n  label: Tax\n  audience: both\n  ask: Your payroll service will know.\n  ask_pa: Your employer's payroll service will know.\n")}
	base, _ = Check(fsys, today)
	tax, ok := base.Topic("tax")
	if !ok || tax.WhoKnows(Employer) != "Your payroll service will know." || tax.WhoKnows(PA) != "Your employer's payroll service will know." {
		t.Errorf("topic tax = %+v, %v: want who knows for employers and for PAs", tax, ok)
	}
	if pay, _ := base.Topic("pay"); pay.WhoKnows(PA) != "" {
		t.Errorf("topic pay names %q, want no one", pay.WhoKnows(PA))
	}
}

func TestAudienceSees(t *testing.T) {
	tests := []struct {
		asker, doc Audience
		want       bool
	}{
		{Employer, Employer, true}, {Employer, Both, true}, {Employer, PA, false},
		{PA, PA, true}, {PA, Both, true}, {PA, Employer, false},
		{Both, Employer, true}, {Both, PA, true},
	}
	for _, tt := range tests {
		if got := tt.asker.Sees(tt.doc); got != tt.want {
			t.Errorf("%s sees %s = %v, want %v", tt.asker, tt.doc, got, tt.want)
		}
	}
	if _, err := ParseAudience("Carer"); err == nil || !strings.Contains(err.Error(), "employer, pa, both") {
		t.Errorf("ParseAudience(Carer) error = %v", err)
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"How much holiday a PA gets":     "how-much-holiday-a-pa-gets",
		"Sick pay (SSP) from April 2026": "sick-pay-ssp-from-april-2026",
		"A PA's pay: £12.71 an hour":     "a-pas-pay-1271-an-hour",
		"Carer's leave and time-off":     "carers-leave-and-time-off",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteHTML(t *testing.T) {
	body := "## Pay & rates 1 < 2\n\nPaid at **£12.71** an hour. See [holiday](holiday.md#how-much) and [gov.uk](https://www.gov.uk/x).\n\n<script>alert(1)</script>\n\n| age | rate |\n|---|---|\n| 21+ | £12.71 |\n"
	base, err := Load(fsWith(map[string]string{"g/a.md": doc("a", body), "g/holiday.md": doc("holiday", "## How much\n\nText.\n")}))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := base.Document("a").WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`<h2 id="pay--rates-1--2">Pay &amp; rates 1 &lt; 2</h2>`,
		`<strong>£12.71</strong>`,
		`<a href="holiday#how-much">holiday</a>`,
		`<a href="https://www.gov.uk/x">gov.uk</a>`,
		`<td>£12.71</td>`,
		`<a href="https://www.gov.uk/holiday-entitlement-rights" rel="noopener">`,
		`Last checked 1 November 2026.`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "<script>") {
		t.Errorf("raw HTML passed through:\n%s", out)
	}
}
