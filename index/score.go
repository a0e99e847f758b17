package index

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/askpa/askpa/knowledge"
)

// A search asks, for every word of the question, every term it stands
// for in every text field: a disjunction of term queries, each boosted by
// where the term is found and how well it stands for the word. Bleve runs
// such a query with one searcher per term and field merged through a heap,
// and records the position of every match, which costs many times the
// reading of the postings themselves. The index evaluates the same query
// itself over the postings Bleve stores, with Bleve's own TF-IDF formula
// (see score), so the passages found and their order are Bleve's, but
// for two things that were never fixed: the order in which one passage's
// term scores are added (it varied from search to search when the clauses
// came from a map, so scores differed in their last bits), and the order
// of passages of equal score (see better).

// clause is one term query of a search.
type clause struct {
	term  string
	field string
	boost float64
	bit   int // which of the search's distinct terms it asks for
}

// scored is a passage a search found, with its Bleve score.
type scored struct {
	doc   uint32 // Bleve's internal document number
	order int32  // the passage's place in the knowledge base, for ties
	score float64
}

// docs is what the index knows of each of Bleve's internal document
// numbers, read once from the snapshot every search uses.
type docs struct {
	reader   bindex.IndexReader // the snapshot searches read; the index never changes once open
	total    uint64             // documents in the index, for idf
	passage  []int32            // internal number -> index into passages, -1 for none
	passages []knowledge.Passage
	// audiences holds, for each audience, whether each internal number
	// may be shown to it (see knowledge.Audience.Sees).
	audiences map[knowledge.Audience][]bool
	scratch   sync.Pool // of *accumulator
	// lists keeps the postings searches have read, decoded, up to
	// maxCachedPostings postings in all (kept counts them).
	lists sync.Map // fieldTerm -> *postings
	kept  atomic.Int64
}

// maxCachedPostings bounds the postings kept decoded: 12 bytes each, so
// at most about 100 MB however large the knowledge base; a knowledge base
// of a few thousand sections has all its postings kept.
const maxCachedPostings = 8 << 20

// fieldTerm names one postings list.
type fieldTerm struct{ field, term string }

// postings is one term's postings list in one field, as a search reads it.
type postings struct {
	count uint64    // documents with the term in the field, for idf
	docs  []uint32  // internal document numbers, in order
	tfn   []float64 // √tf · norm of each, the first factors of its score
}

// postingsOf returns the postings of term in field, read from the
// snapshot the first time and then kept (see maxCachedPostings).
func (d *docs) postingsOf(ctx context.Context, field, term string) (*postings, error) {
	key := fieldTerm{field, term}
	if p, ok := d.lists.Load(key); ok {
		return p.(*postings), nil
	}
	tfr, err := d.reader.TermFieldReader(ctx, []byte(term), field, true, true, false)
	if err != nil {
		return nil, err
	}
	defer tfr.Close()
	p := &postings{count: tfr.Count()}
	var tfd bindex.TermFieldDoc
	for {
		m, err := tfr.Next(&tfd)
		if err != nil {
			return nil, err
		}
		if m == nil {
			break
		}
		n := m.ID.Value()
		if n >= uint64(len(d.passage)) {
			continue // not in the snapshot's numbering; cannot happen
		}
		p.docs = append(p.docs, uint32(n))
		p.tfn = append(p.tfn, math.Sqrt(float64(m.Freq))*m.Norm)
	}
	if d.kept.Add(int64(len(p.docs))) <= maxCachedPostings {
		if prev, loaded := d.lists.LoadOrStore(key, p); loaded {
			d.kept.Add(-int64(len(p.docs)))
			return prev.(*postings), nil
		}
	} else {
		d.kept.Add(-int64(len(p.docs)))
	}
	return p, nil
}

// loadDocs opens the snapshot searches read and maps its internal
// document numbers to passages.
func (ix *Index) loadDocs() error {
	adv, err := ix.bleve.Advanced()
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	d := &docs{reader: r, audiences: map[knowledge.Audience][]bool{}}
	fail := func(err error) error {
		r.Close()
		return fmt.Errorf("index: reading document numbers: %w", err)
	}
	if d.total, err = r.DocCount(); err != nil {
		return fail(err)
	}
	all, err := r.DocIDReaderAll()
	if err != nil {
		return fail(err)
	}
	defer all.Close()
	byID := map[string]int32{}
	for _, p := range ix.base.Passages() {
		byID[p.ID()] = int32(len(d.passages))
		d.passages = append(d.passages, p)
	}
	for {
		id, err := all.Next()
		if err != nil {
			return fail(err)
		}
		if id == nil {
			break
		}
		ext, err := r.ExternalID(id)
		if err != nil {
			return fail(err)
		}
		n := id.Value()
		for uint64(len(d.passage)) <= n {
			d.passage = append(d.passage, -1)
		}
		if i, ok := byID[ext]; ok {
			d.passage[n] = i // else the index is older than the base; cannot happen when opened by Open
		}
	}
	for _, a := range []knowledge.Audience{knowledge.Employer, knowledge.PA} {
		sees := make([]bool, len(d.passage))
		for n, i := range d.passage {
			sees[n] = i >= 0 && a.Sees(d.passages[i].Audience())
		}
		d.audiences[a] = sees
	}
	d.scratch.New = func() any { return newAccumulator(len(d.passage)) }
	ix.docs = d
	return nil
}

// accumulator adds up the term scores of one search per document.
type accumulator struct {
	sum     []float64
	matched []int32
	terms   []uint64 // words bits per document: the distinct terms it matched
	words   int
	touched []uint32
}

func newAccumulator(n int) *accumulator {
	return &accumulator{sum: make([]float64, n), matched: make([]int32, n)}
}

// reset readies a for a search of nTerms distinct terms.
func (a *accumulator) reset(nTerms int) {
	for _, d := range a.touched {
		a.sum[d], a.matched[d] = 0, 0
		clear(a.terms[int(d)*a.words : int(d+1)*a.words])
	}
	a.touched = a.touched[:0]
	a.words = (nTerms + 63) / 64
	if n := len(a.sum) * a.words; cap(a.terms) < n {
		a.terms = make([]uint64, n)
	} else {
		a.terms = a.terms[:n]
	}
}

// has reports whether document d matched distinct term bit.
func (a *accumulator) has(d uint32, bit int) bool {
	return a.terms[int(d)*a.words+bit/64]&(1<<(bit%64)) != 0
}

// score runs the disjunction of clauses, keeping the documents audience
// may see (all of them for "" or Both), and returns the best size of them,
// best first, with
// the accumulator that says which terms each matched (to be put back with
// done). A document's score is Bleve's for a disjunction of term queries
// under a boolean query:
//
//	coord · Σ over matching clauses of √tf · norm · idf · (boost · idf · queryNorm)
//
// where idf = 1 + ln(documents / (documents with the term in the field + 1)),
// queryNorm = 1 / √(Σ over all clauses of (boost · idf)²), and coord is
// the share of the clauses the document matches.
func (d *docs) score(ctx context.Context, clauses []clause, nTerms int, audience knowledge.Audience, size int) ([]scored, *accumulator, error) {
	lists := make([]*postings, len(clauses))
	idfs := make([]float64, len(clauses))
	sumOfSquaredWeights := 0.0
	for i, c := range clauses {
		p, err := d.postingsOf(ctx, c.field, c.term)
		if err != nil {
			return nil, nil, err
		}
		lists[i] = p
		idfs[i] = 1.0 + math.Log(float64(d.total)/float64(p.count+1))
		w := c.boost * idfs[i]
		sumOfSquaredWeights += w * w
	}
	queryNorm := 1.0 / math.Sqrt(sumOfSquaredWeights)

	acc := d.scratch.Get().(*accumulator)
	acc.reset(nTerms)
	for i, c := range clauses {
		if err := ctx.Err(); err != nil {
			d.scratch.Put(acc)
			return nil, nil, err
		}
		p, idf := lists[i], idfs[i]
		queryWeight := c.boost * idf * queryNorm
		word, mask := c.bit/64, uint64(1)<<(c.bit%64)
		for k, n := range p.docs {
			s := p.tfn[k] * idf
			if queryWeight != 1.0 {
				s = s * queryWeight
			}
			if acc.matched[n] == 0 {
				acc.touched = append(acc.touched, n)
			}
			acc.sum[n] += s
			acc.matched[n]++
			acc.terms[int(n)*acc.words+word] |= mask
		}
	}

	sees := d.audiences[audience] // nil: every document
	total := float64(len(clauses))
	best := make(topN, 0, size+1)
	for _, n := range acc.touched {
		if sees != nil && !sees[n] {
			continue
		}
		order := d.passage[n]
		if order < 0 {
			order = math.MaxInt32
		}
		s := scored{doc: n, order: order, score: acc.sum[n] * (float64(acc.matched[n]) / total)}
		if len(best) == size {
			if !better(s, best[0]) {
				continue
			}
			best[0] = s
			heap.Fix(&best, 0)
			continue
		}
		heap.Push(&best, s)
	}
	out := []scored(best)
	slices.SortFunc(out, func(a, b scored) int {
		switch {
		case better(a, b):
			return -1
		case better(b, a):
			return 1
		}
		return 0
	})
	return out, acc, nil
}

// better orders documents as Bleve's collector does, higher score first,
// except for ties: Bleve puts the lower internal number first, and a
// batch numbers its documents in no fixed order, so that two builds of
// the same content could break ties differently; passages of equal score
// come here in the knowledge base's order.
func better(a, b scored) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	if a.order != b.order {
		return a.order < b.order
	}
	return a.doc < b.doc
}

// topN is a heap of the best documents so far, the worst on top.
type topN []scored

func (h topN) Len() int           { return len(h) }
func (h topN) Less(i, j int) bool { return better(h[j], h[i]) }
func (h topN) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *topN) Push(x any)        { *h = append(*h, x.(scored)) }
func (h *topN) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
