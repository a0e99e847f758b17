package index

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/askpa/askpa/internal/editdistance"
	"github.com/askpa/askpa/knowledge"
)

// fieldBoosts weights where a word is found: a passage whose heading, title
// or the questions its document answers use the asker's words is a better
// answer than one that merely mentions them.
var fieldBoosts = []struct {
	field string
	boost float64
}{
	{fieldHeading, 3.0},
	{fieldTitle, 2.0},
	{fieldQuestions, 2.0},
	{fieldSummary, 1.0},
	{fieldBody, 1.0},
}

// Weights of the alternatives a question word stands for.
const (
	synonymBoost    = 0.9 // another word of the same synonym group ranks a little lower
	typoFactor      = 0.8 // a known word a misspelt one is close to
	componentFactor = 0.4 // one word of a phrase ("wage" of "minimum wage")
	numberWeight    = 0.5 // numbers (ages, years, hours) say little about the topic
	weakFactor      = 0.3 // how much a weak word (weakwords.txt) counts
	// incidentalFactor is how much a word counts that the knowledge base
	// uses only in passing, never in a heading, title or question.
	incidentalFactor = 0.4
	// passingShare and unknownWordShare scale, when judging a passage, the
	// words the knowledge base only mentions in passing and the words it
	// has never seen, against the words of its own topics.
	passingShare     = 0.5
	unknownWordShare = 0.5
	// unknownShare is how common a word the knowledge base has never seen is
	// taken to be: unknown words ("rude", "football") may be incidental
	// detail or a sign the question is off-topic, so they count like a
	// moderately rare word, not like the rarest.
	unknownShare = 0.05
	// specificShare is how much matched weight, as a share of the weight of
	// the rarest word, a passage needs before its Match is not discounted for
	// matching only common words ("time", "pay"): about one fairly rare word.
	specificShare = 0.25
	defaultLimit  = 5
)

// unit is one word of a question, with everything it may match.
type unit struct {
	term   string    // as analysed
	alts   []string  // analysed terms that count as this word, term first if known
	boost  []float64 // how strongly each alternative ranks a passage
	credit []float64 // how much of the word each alternative covers
	weight float64   // how much the word says about the question
	// share is how much the word counts when judging whether a passage
	// answers the question: fully for the knowledge base's own topics,
	// less for words it only mentions in passing, less again for words it
	// has never seen (details of the asker's life: "pregnant", "tiverton").
	share float64
}

func (u *unit) add(term string, boost, credit float64) {
	if !slices.Contains(u.alts, term) {
		u.alts = append(u.alts, term)
		u.boost = append(u.boost, boost)
		u.credit = append(u.credit, credit)
	}
}

// units analyses a question into its telling words.
func (ix *Index) units(text string) []unit {
	var us []unit
	seen := map[string]bool{}
	input := []byte(expandContractions(text))
	for _, tok := range ix.analyzer.Analyze(input) {
		term := string(tok.Term)
		if seen[term] || term == "" {
			continue
		}
		seen[term] = true
		u := unit{term: term, share: 1}
		switch group, ok := ix.synonyms[term]; {
		case ok:
			maxDF := 0
			for _, alt := range group {
				boost := synonymBoost
				if alt == term {
					boost = 1
				}
				u.add(alt, boost, 1)
				maxDF = max(maxDF, ix.docFreq[alt])
			}
			u.weight = ix.idf(maxDF)
		case ix.docFreq[term] > 0:
			// A weak or incidental word also ranks passages less: a heading
			// that shares only "still" or "paid" with a question is no match.
			u.add(term, ix.termWeight(term)/ix.idf(ix.docFreq[term]), 1)
			u.weight = ix.termWeight(term)
			if !ix.topical[term] || weakWords[term] {
				u.share = passingShare
			}
		default:
			// Unknown to the knowledge base: perhaps a typo of a word it
			// knows, which then counts as much as that word would.
			u.weight = ix.idf(int(unknownShare * float64(ix.passages)))
			u.share = unknownWordShare
			raw := strings.ToLower(string(input[tok.Start:tok.End]))

			if near := ix.nearTerms(raw); len(near) > 0 {
				u.weight, u.share = 0, 1
				for _, n := range near {
					u.add(n, typoFactor, typoFactor)
					for _, alt := range ix.synonyms[n] {
						u.add(alt, typoFactor*synonymBoost, typoFactor)
					}
					u.weight = max(u.weight, ix.termWeight(n))
				}
			}
		}
		if isNumber(term) {
			u.weight = min(u.weight, numberWeight)
			u.share = passingShare
		}
		if weakWords[term] && ix.docFreq[term] == 0 {
			u.weight *= weakFactor // chat words the knowledge base never uses ("tbh")
		}
		// A phrase also matches, weakly, text using its words apart.
		for _, alt := range slices.Clone(u.alts) {
			if parts := strings.Split(alt, joinedTermPadding); len(parts) > 1 {
				for _, p := range parts {
					if ix.docFreq[p] > 0 {
						u.add(p, componentFactor, componentFactor)
					}
				}
			}
		}
		us = append(us, u)
	}
	return us
}

// termWeight is how much a known term says about a question: rare terms
// more than common ones, and terms the knowledge base only ever mentions in
// passing ("true", "next") or weak words ("want", "get") much less.
func (ix *Index) termWeight(term string) float64 {
	w := ix.idf(ix.docFreq[term])
	if !ix.topical[term] {
		w *= incidentalFactor
	}
	if weakWords[term] {
		w *= weakFactor
	}
	return w
}

func isNumber(term string) bool {
	for _, r := range term {
		if unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// nearTerms returns the analysed terms of the known words a misspelt word
// is probably meant to be: within one edit for words of five to seven
// letters and two for longer ones, the most common first, at most three.
// A real English word is not a misspelling ("supposed" is not a slip for
// "support"): it has none.
func (ix *Index) nearTerms(word string) []string {
	n := len([]rune(word))
	limit := 0
	switch {
	case n >= 8:
		limit = 2
	case n >= 5:
		limit = 1
	}
	if limit == 0 || isNumber(word) || isEnglishWord(word) {
		return nil
	}
	type cand struct {
		term string
		dist int
		df   int
	}
	ix.wordsOnce.Do(ix.collectWords)
	var cs []cand
	// Only words whose length is within limit of n can be within limit
	// edits of it.
	for length := n - limit; length <= n+limit; length++ {
		for _, known := range ix.byLength[length] {
			if d := editdistance.OSA(word, known.word, limit, nil); d <= limit {
				cs = append(cs, cand{known.term, d, ix.docFreq[known.term]})
			}
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].dist != cs[j].dist {
			return cs[i].dist < cs[j].dist
		}
		if cs[i].df != cs[j].df {
			return cs[i].df > cs[j].df
		}
		return cs[i].term < cs[j].term
	})
	var out []string
	for _, c := range cs {
		if len(out) == 3 {
			break
		}
		if !slices.Contains(out, c.term) {
			out = append(out, c.term)
		}
	}
	return out
}

// Search returns the passages that best answer q, best first, each with how
// well it matches (knowledge.Hit.Match). A question with no telling words
// (only "what", "is", "the" ...) finds nothing. It fails only if Bleve does
// or ctx ends.
func (ix *Index) Search(ctx context.Context, q knowledge.Query) ([]knowledge.Hit, error) {
	select {
	case <-ix.closed:
		return nil, ErrClosed
	default:
	}
	units := ix.units(q.Text)
	var clauses []clause
	bits := map[string]int{} // each distinct term -> its bit
	for _, u := range units {
		for i, alt := range u.alts {
			bit, ok := bits[alt]
			if !ok {
				bit = len(bits)
				bits[alt] = bit
			}
			for _, f := range fieldBoosts {
				clauses = append(clauses, clause{term: alt, field: f.field, boost: f.boost * u.boost[i], bit: bit})
			}
		}
	}
	if len(clauses) == 0 {
		return nil, nil
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	// Fetch more than asked: hits are re-ranked by how much of the question
	// they cover.
	res, acc, err := ix.docs.score(ctx, clauses, len(bits), q.Audience, max(limit*4, 20))
	if err != nil {
		return nil, fmt.Errorf("index: search: %w", err)
	}
	defer ix.docs.scratch.Put(acc)
	var total float64
	for _, u := range units {
		total += u.weight * u.share
	}
	hits := make([]knowledge.Hit, 0, len(res))
	for _, h := range res {
		i := ix.docs.passage[h.doc]
		if i < 0 {
			continue // the index is older than the base; cannot happen when opened by Open
		}
		hit := knowledge.Hit{Passage: ix.docs.passages[i], Score: h.score}
		var got float64
		for _, u := range units {
			matched := 0.0
			for i, alt := range u.alts {
				if acc.has(h.doc, bits[alt]) {
					matched = max(matched, u.credit[i])
				}
			}
			if matched > 0 {
				got += u.weight * u.share * matched
				hit.Matched = append(hit.Matched, u.term)
			} else {
				hit.Missed = append(hit.Missed, u.term)
			}
		}
		if total > 0 {
			hit.Match = got / total * min(1, got/(specificShare*ix.idf(0)))
		}
		hits = append(hits, hit)
	}
	rerank(hits, q.Audience)
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits, nil
}

// kindFactors prefer what to do over illustrations of it: a case study or a
// note for councils answers a question only when guidance does not.
var kindFactors = map[knowledge.Kind]float64{
	knowledge.Guidance:     1,
	knowledge.Signposting:  1,
	knowledge.Standard:     0.9,
	knowledge.CaseStudy:    0.8,
	knowledge.GoodPractice: 0.8,
}

// positionFactor slightly prefers a document's earlier sections: writers
// put the main answer first and the details and exceptions after it.
func positionFactor(p knowledge.Passage) float64 {
	for i := range p.Doc.Sections {
		if &p.Doc.Sections[i] == p.Section {
			return max(0.88, 1-0.03*float64(i))
		}
	}
	return 1
}

// sharedFactor slightly prefers a passage written for the asker's own
// audience over one written for employers and PAs alike.
const sharedFactor = 0.95

// rerank orders hits by relevance scaled by coverage, so a passage that
// answers all of a question beats one that says much about part of it, and
// replaces each Score with that ranking score (1 for the best).
func rerank(hits []knowledge.Hit, audience knowledge.Audience) {
	if len(hits) == 0 {
		return
	}
	top := hits[0].Score
	for _, h := range hits {
		top = max(top, h.Score)
	}
	for i, h := range hits {
		r := math.Sqrt(h.Score/top) * (0.1 + 0.9*h.Match) * kindFactors[h.Passage.Doc.Kind] * positionFactor(h.Passage)
		if h.Passage.Audience() == knowledge.Both && audience != "" && audience != knowledge.Both {
			r *= sharedFactor
		}
		hits[i].Score = r
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].Score > hits[j].Score })
	best := hits[0].Score
	for i := range hits {
		hits[i].Score /= best
	}
}
