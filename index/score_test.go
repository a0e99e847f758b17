package index

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/askpa/askpa/content"
	"github.com/askpa/askpa/knowledge"
)

// bleveHit is one hit of the reference search: what Bleve itself finds
// for a search's clauses.
type bleveHit struct {
	id    string
	score float64
	found map[string]bool // the terms it matched
}

// bleveSearch runs clauses as one Bleve query, as askpa did before it
// scored them itself: a boolean query of term queries with the audience
// filter, with match locations for the terms each hit matched.
func bleveSearch(t *testing.T, ix *Index, clauses []clause, audience knowledge.Audience, size int) []bleveHit {
	t.Helper()
	var should []query.Query
	for _, c := range clauses {
		tq := bleve.NewTermQuery(c.term)
		tq.SetField(c.field)
		tq.SetBoost(c.boost)
		should = append(should, tq)
	}
	bq := bleve.NewBooleanQuery()
	bq.AddShould(should...)
	bq.SetMinShould(1)
	if audience != "" && audience != knowledge.Both {
		own := bleve.NewTermQuery(string(audience))
		own.SetField(fieldAudience)
		both := bleve.NewTermQuery(string(knowledge.Both))
		both.SetField(fieldAudience)
		bq.AddFilter(bleve.NewDisjunctionQuery(own, both))
	}
	req := bleve.NewSearchRequestOptions(bq, size, 0, false)
	req.IncludeLocations = true
	res, err := ix.bleve.Search(req)
	if err != nil {
		t.Fatal(err)
	}
	var out []bleveHit
	for _, h := range res.Hits {
		found := map[string]bool{}
		for _, terms := range h.Locations {
			for term := range terms {
				found[term] = true
			}
		}
		out = append(out, bleveHit{h.ID, h.Score, found})
	}
	return out
}

// clausesOf returns a search's clauses for text, as Search builds them,
// and its distinct terms in bit order.
func clausesOf(ix *Index, text string) ([]clause, []string) {
	var clauses []clause
	var terms []string
	for _, u := range ix.units(text) {
		for i, alt := range u.alts {
			bit := slices.Index(terms, alt)
			if bit < 0 {
				bit = len(terms)
				terms = append(terms, alt)
			}
			for _, f := range fieldBoosts {
				clauses = append(clauses, clause{term: alt, field: f.field, boost: f.boost * u.boost[i], bit: bit})
			}
		}
	}
	return clauses, terms
}

// TestScoreIsBleves checks that the index's own evaluation of a search
// finds what Bleve finds for the same query, in the same order, with the
// same scores and matched terms, for every question of the matching
// corpus's validation split (every fourth, for time), from both audiences
// and from none. Scores may differ in
// their last bits (Bleve adds a passage's term scores in the order its
// heap yields them), and ties are broken differently (see better):
// passages whose scores are that close may swap, and at the end of the
// list one may take the place of another that Bleve kept.
func TestScoreIsBleves(t *testing.T) {
	if testing.Short() {
		t.Skip("reads every validation question")
	}
	base, err := knowledge.Load(content.FS)
	if err != nil {
		t.Fatal(err)
	}
	ix := openMem(t, base)
	questions := corpusQuestions(t, "../bot/match/corpus/validation")
	const size = 80
	ctx := context.Background()
	swapped := 0
	for k, text := range questions {
		if k%4 != 0 {
			continue
		}
		clauses, terms := clausesOf(ix, text)
		if len(clauses) == 0 {
			continue
		}
		for _, audience := range []knowledge.Audience{knowledge.Employer, knowledge.PA, ""} {
			want := bleveSearch(t, ix, clauses, audience, size)
			got, acc, err := ix.docs.score(ctx, clauses, len(terms), audience, size)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%q (%s): %d hits, Bleve finds %d", text, audience, len(got), len(want))
			}
			close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(math.Abs(a), math.Abs(b)) }
			for i, g := range got {
				w := want[i]
				id := ix.docs.passages[ix.docs.passage[g.doc]].ID()
				if !close(g.score, w.score) {
					t.Fatalf("%q (%s): hit %d scores %v, Bleve's %v", text, audience, i, g.score, w.score)
				}
				if id != w.id {
					// Allowed only between passages Bleve scores as nearly equal.
					j := slices.IndexFunc(want, func(h bleveHit) bool { return h.id == id })
					if j < 0 && !close(g.score, want[len(want)-1].score) || j >= 0 && !close(want[j].score, w.score) {
						t.Fatalf("%q (%s): hit %d is %s (%v), Bleve's is %s (%v)", text, audience, i, id, g.score, w.id, w.score)
					}
					swapped++
					if j < 0 {
						continue // a near-tie at the cut
					}
					w = want[j]
				}
				for bit, term := range terms {
					if acc.has(g.doc, bit) != w.found[term] {
						t.Fatalf("%q (%s): hit %s matched %q: %v, Bleve says %v", text, audience, id, term, acc.has(g.doc, bit), w.found[term])
					}
				}
			}
			ix.docs.scratch.Put(acc)
		}
	}
	t.Logf("%d questions × 3 audiences; %d hits swapped with a near-equal one", (len(questions)+3)/4, swapped)
}

// corpusQuestions reads the "q" of every line of the JSON Lines files in dir.
func corpusQuestions(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no questions in %s: %v", dir, err)
	}
	var out []string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			var q struct {
				Q string `json:"q"`
			}
			if json.Unmarshal(sc.Bytes(), &q) == nil && q.Q != "" {
				out = append(out, q.Q)
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
