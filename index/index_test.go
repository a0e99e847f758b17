package index

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/askpa/askpa/knowledge"
)

// testBase loads the small knowledge base under testdata/content.
func testBase(tb testing.TB) *knowledge.Base {
	tb.Helper()
	base, err := knowledge.Load(os.DirFS("testdata/content"))
	if err != nil {
		tb.Fatal(err)
	}
	return base
}

func openMem(tb testing.TB, base *knowledge.Base) *Index {
	tb.Helper()
	ix, err := Open(context.Background(), base, Config{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ix.Close() })
	return ix
}

// top returns the document id of the best hit, or "" for none.
func top(tb testing.TB, ix *Index, q string, a knowledge.Audience) knowledge.Hit {
	tb.Helper()
	hits, err := ix.Search(context.Background(), knowledge.Query{Text: q, Audience: a})
	if err != nil {
		tb.Fatal(err)
	}
	if len(hits) == 0 {
		return knowledge.Hit{}
	}
	return hits[0]
}

func docOf(h knowledge.Hit) string {
	if h.Passage.Doc == nil {
		return ""
	}
	return h.Passage.Doc.ID
}

func TestSynonyms(t *testing.T) {
	ix := openMem(t, testBase(t))
	tests := []struct {
		q, want string
	}{
		// Single words and multi-word phrases stand for each other, both ways.
		{"what can my DP pay for", "direct-payments"},                  // dp -> "direct payment"
		{"can my personal budget pay for my carer", "direct-payments"}, // phrase -> phrase
		{"how do I sack someone", "dismissal"},                         // sack -> dismiss
		{"how do i get rid of someone", "dismissal"},                   // 3-word phrase -> dismiss
		{"how much is sick pay", "ssp"},                                // "sick pay" -> SSP
		{"do I need a police check", "dbs"},                            // "police check" -> DBS
		{"how much time off does a worker get", "holiday"},             // "time off" -> annual leave
		{"what are my rights as a PA", "pa-rights"},                    // pa -> "personal assistant"
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			h := top(t, ix, tt.q, knowledge.Both)
			if docOf(h) != tt.want {
				t.Errorf("best hit %q (match %.2f), want %q", h.Passage.ID(), h.Match, tt.want)
			}
		})
	}
}

func TestPhraseIsNotItsWordsApart(t *testing.T) {
	// "time off" is one term: a question about the time of day must not
	// match annual leave as strongly as one about time off.
	ix := openMem(t, testBase(t))
	off := top(t, ix, "time off", knowledge.Both)
	if docOf(off) != "holiday" || off.Match < 0.9 {
		t.Fatalf("time off: %s match %.2f", off.Passage.ID(), off.Match)
	}
	if h := top(t, ix, "time", knowledge.Both); docOf(h) == "holiday" && h.Match >= off.Match {
		t.Errorf("the word time alone matched annual leave as well as time off (%.2f)", h.Match)
	}
}

func TestTypos(t *testing.T) {
	ix := openMem(t, testBase(t))
	for q, want := range map[string]string{
		"how much maternaty pay":         "maternity",
		"what is statutory sick pay now": "ssp",
		"enhansed dbs check":             "dbs",
		"how do i dismis someone":        "dismissal",
	} {
		if h := top(t, ix, q, knowledge.Both); docOf(h) != want || h.Match < 0.4 {
			t.Errorf("%q: best hit %q match %.2f, want %s", q, h.Passage.ID(), h.Match, want)
		}
	}
}

func TestAudienceFilter(t *testing.T) {
	ix := openMem(t, testBase(t))
	for _, tt := range []struct {
		audience knowledge.Audience
		q        string
		seen     map[string]bool
	}{
		{knowledge.PA, "written statement rights first day personal assistant", map[string]bool{"pa-rights": true}},
		{knowledge.Employer, "written statement rights first day personal assistant", map[string]bool{"pa-rights": false}},
		{knowledge.PA, "maternity pay", map[string]bool{"maternity": true, "mentions": false}},
		{knowledge.Employer, "maternity pay", map[string]bool{"maternity": true, "mentions": true}},
	} {
		hits, err := ix.Search(context.Background(), knowledge.Query{Text: tt.q, Audience: tt.audience, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, h := range hits {
			got[h.Passage.Doc.ID] = true
			if !tt.audience.Sees(h.Passage.Doc.Audience) {
				t.Errorf("%s asking %q was shown %s, written for %s", tt.audience, tt.q, h.Passage.ID(), h.Passage.Doc.Audience)
			}
		}
		for id, want := range tt.seen {
			if got[id] != want {
				t.Errorf("%s asking %q: %s shown = %v, want %v", tt.audience, tt.q, id, got[id], want)
			}
		}
	}
}

func TestHeadingOutranksMention(t *testing.T) {
	// "mentions" names maternity in its body; "maternity" is about it.
	ix := openMem(t, testBase(t))
	if h := top(t, ix, "maternity", knowledge.Employer); docOf(h) != "maternity" {
		t.Errorf("best hit %s, want the maternity guide", h.Passage.ID())
	}
}

func TestMatch(t *testing.T) {
	ix := openMem(t, testBase(t))
	for _, tt := range []struct {
		q        string
		min, max float64
	}{
		{"how much sick pay from april 2026", 0.8, 1},
		{"which dbs check for personal care", 0.8, 1},
		{"what is the capital of france", 0, 0.2},
		{"best pizza toppings", 0, 0.2},
		// Half the question is about the knowledge base, half is not.
		{"sick pay and a football match", 0.15, 0.6},
	} {
		h := top(t, ix, tt.q, knowledge.Both)
		if h.Match < tt.min || h.Match > tt.max {
			t.Errorf("%q: match %.2f (%s, missed %v), want %.1f-%.1f", tt.q, h.Match, h.Passage.ID(), h.Missed, tt.min, tt.max)
		}
	}
	if hits, _ := ix.Search(context.Background(), knowledge.Query{Text: "what is it and how"}); len(hits) != 0 {
		t.Errorf("a question of stop words found %d hits", len(hits))
	}
}

func TestPersistentIndexReusedUntilContentChanges(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	base := testBase(t)

	first, err := Open(ctx, base, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !first.Rebuilt() {
		t.Error("first open should build the index")
	}
	first.Close()
	first.Close() // Close is idempotent

	second, err := Open(ctx, base, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if second.Rebuilt() {
		t.Error("same content: the stored index should be reused")
	}
	if h := top(t, second, "police check", knowledge.Both); docOf(h) != "dbs" {
		t.Errorf("reopened index: police check found %q", h.Passage.ID())
	}
	second.Close()

	// Change one document: the index is rebuilt and finds the new text.
	changed := fstest.MapFS{}
	root := os.DirFS("testdata/content")
	for _, name := range []string{"topics.yaml", "synonyms.txt", "guidance/holiday.md", "guidance/dbs.md"} {
		b, err := os.ReadFile(filepath.Join("testdata/content", name))
		if err != nil {
			t.Fatal(err)
		}
		changed[name] = &fstest.MapFile{Data: b}
	}
	_ = root
	changed["guidance/hoists.md"] = &fstest.MapFile{Data: []byte("---\nid: hoists\ntitle: Hoists\nkind: guidance\naudience: employer\ntopics: [pay]\nsummary: s\nreviewed: 2026-11-01\nsources: [https://www.hse.gov.uk/]\nquestions: [hoist]\n---\n\n## Servicing a hoist\n\nA hoist needs a thorough examination every six months.\n")}
	base2, err := knowledge.Load(changed)
	if err != nil {
		t.Fatal(err)
	}
	third, err := Open(ctx, base2, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if !third.Rebuilt() {
		t.Error("changed content: the index should be rebuilt")
	}
	if h := top(t, third, "hoist servicing", knowledge.Employer); docOf(h) != "hoists" {
		t.Errorf("rebuilt index: hoist servicing found %q", h.Passage.ID())
	}
	if h := top(t, third, "maternity", knowledge.Employer); docOf(h) != "" {
		t.Errorf("rebuilt index still finds a removed document: %s", h.Passage.ID())
	}
}

func TestIndexBuiltWithOlderAnalysisIsRebuilt(t *testing.T) {
	dir := t.TempDir()
	base := testBase(t)
	ix, err := Open(context.Background(), base, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ix.Close()
	// An index from before the analysis format was recorded holds the
	// content hash alone.
	if err := os.WriteFile(filepath.Join(dir, "current", hashFile), []byte(base.Hash), 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := Open(context.Background(), base, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if !again.Rebuilt() {
		t.Error("an index analysed the old way was reused; it must be rebuilt")
	}
}

func TestDamagedIndexIsRebuilt(t *testing.T) {
	dir := t.TempDir()
	base := testBase(t)
	ix, err := Open(context.Background(), base, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ix.Close()
	// The hash matches but the index files are gone.
	current := filepath.Join(dir, "current")
	entries, _ := os.ReadDir(current)
	for _, e := range entries {
		if e.Name() != hashFile {
			os.RemoveAll(filepath.Join(current, e.Name()))
		}
	}
	ix, err = Open(context.Background(), base, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if !ix.Rebuilt() {
		t.Error("a damaged index should be rebuilt")
	}
	if h := top(t, ix, "police check", knowledge.Both); docOf(h) != "dbs" {
		t.Errorf("after rebuild: %q", h.Passage.ID())
	}
}

func TestSearchAfterClose(t *testing.T) {
	ix, err := Open(context.Background(), testBase(t), Config{})
	if err != nil {
		t.Fatal(err)
	}
	ix.Close()
	if _, err := ix.Search(context.Background(), knowledge.Query{Text: "holiday"}); err != ErrClosed {
		t.Errorf("Search after Close: %v, want ErrClosed", err)
	}
	if err := ix.Ping(context.Background()); err != ErrClosed {
		t.Errorf("Ping after Close: %v, want ErrClosed", err)
	}
}

func TestDistinctWordsKeepTheirOwnStems(t *testing.T) {
	ix := openMem(t, testBase(t))
	terms := func(s string) []string {
		var out []string
		for _, tok := range ix.analyzer.Analyze([]byte(s)) {
			out = append(out, string(tok.Term))
		}
		return out
	}
	for _, pair := range [][2]string{
		{"allowed", "allowance"},       // "am I allowed to" is not about an allowance
		{"communication", "community"}, // communication needs, community groups
		{"university", "universal"},    // Universal Credit
	} {
		a, b := terms(pair[0]), terms(pair[1])
		if len(a) != 1 || len(b) != 1 || a[0] == b[0] {
			t.Errorf("%q analyses to %v and %q to %v, want one different term each", pair[0], a, pair[1], b)
		}
	}
	if got, want := terms("allowances"), terms("allowance"); len(got) != 1 || got[0] != want[0] {
		t.Errorf("plural allowances analyses to %v, want %v", got, want)
	}
	if stem([]byte("Allowance")) != terms("allowance")[0] {
		t.Errorf("stem and the analyzer disagree on allowance")
	}
}
