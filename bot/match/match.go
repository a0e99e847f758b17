// Package match finds the sections of the knowledge base that answer a
// message. It asks the search index for candidates, adds the sections
// whose questions (written by people for the purpose, in their own words)
// the message most resembles, and ranks them all with a small trained
// model whose top probability, calibrated on the validation split, is the
// confidence that the best section answers the message.
//
// The model and the remembered questions are data (data/model.json and the
// corpus's train split), made by "askpa match train" (see Train).
package match

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/askpa/askpa/knowledge"
)

// Searcher finds candidate passages. index.Index implements it.
type Searcher interface {
	Search(ctx context.Context, q knowledge.Query) ([]knowledge.Hit, error)
}

// How many candidates each source gives.
const (
	searchCandidates = 20
	memoryCandidates = 20
)

// The features of a candidate section, in the order of Model.Weights.
var featureNames = []string{
	"search score", "search match", "search rank", // from the index, 0 when it did not find the section
	"likeness", "second likeness", "likeness rank", // from the remembered questions
	"search match × likeness", "audience exact", "found by both",
	"centroid likeness", "centroid rank",
}

const nFeatures = 11

// Model is the trained part of a Matcher.
type Model struct {
	// Features names the features Weights weigh, in order.
	Features []string  `json:"features"`
	Weights  []float64 `json:"weights"`
	// A and B calibrate the best candidate's probability p into the
	// confidence that it is the section that answers the message:
	// 1/(1+exp(-(A·logit(p)+B))).
	A float64 `json:"a"`
	B float64 `json:"b"`
	// GuideA and GuideB calibrate the probability of the best candidate's
	// guide (all its sections' probabilities added up) into the confidence
	// that the answer is in that guide. Guides often have several sections
	// near enough to one question ("how many weeks of holiday"), each of
	// which answers it; this is the confidence askpa answers on.
	GuideA float64 `json:"guide_a"`
	GuideB float64 `json:"guide_b"`
	// Threshold is the guide confidence below which askpa says it is not
	// sure.
	Threshold float64 `json:"threshold"`
}

// Matcher ranks sections for messages. It is safe for concurrent use.
type Matcher struct {
	base   *knowledge.Base
	search Searcher
	mem    *memory
	model  Model
}

// New returns a Matcher over base that takes candidates from search,
// remembers questions (those for sections not in base are ignored), and
// ranks with model. It fails when the model does not fit.
func New(base *knowledge.Base, search Searcher, questions []Question, model Model) (*Matcher, error) {
	if len(model.Weights) != nFeatures || !slices.Equal(model.Features, featureNames) {
		return nil, fmt.Errorf("match: the model weighs %v, not the features %v", model.Features, featureNames)
	}
	var known []Question
	for _, q := range questions {
		if _, ok := base.Passage(q.Section); ok {
			known = append(known, q)
		}
	}
	return &Matcher{base: base, search: search, mem: newMemory(known), model: model}, nil
}

// Threshold returns the confidence below which askpa should say it is not
// sure.
func (m *Matcher) Threshold() float64 { return m.model.Threshold }

// candidate is one section that might answer a message.
type candidate struct {
	passage knowledge.Passage
	f       [nFeatures]float64
	hit     knowledge.Hit // from the index; Passage zero when it did not find it
}

// candidates gathers and describes the sections that might answer text
// for audience, leaving out the remembered questions of writer.
func (m *Matcher) candidates(ctx context.Context, text string, audience knowledge.Audience, writer string) ([]candidate, error) {
	hits, err := m.search.Search(ctx, knowledge.Query{Text: text, Audience: audience, Limit: searchCandidates})
	if err != nil {
		return nil, err
	}
	like := m.mem.similar(text, writer)
	for id := range like {
		if p, ok := m.base.Passage(id); !ok || !audience.Sees(p.Doc.Audience) {
			delete(like, id)
		}
	}
	var cs []candidate
	at := map[string]int{}
	for rank, h := range hits {
		c := candidate{passage: h.Passage, hit: h}
		c.f[0], c.f[1], c.f[2] = h.Score, h.Match, 1/float64(rank+1)
		at[h.Passage.ID()] = len(cs)
		cs = append(cs, c)
	}
	add := func(id string) int {
		i, ok := at[id]
		if !ok {
			p, _ := m.base.Passage(id)
			i = len(cs)
			at[id] = i
			cs = append(cs, candidate{passage: p})
		}
		return i
	}
	for rank, id := range top(like, memoryCandidates) {
		_, found := at[id]
		i := add(id)
		if found {
			cs[i].f[8] = 1
		}
		cs[i].f[5] = 1 / float64(rank+1)
	}
	central := m.mem.centroidLikeness(text, writer)
	for id := range central {
		if p, ok := m.base.Passage(id); !ok || !audience.Sees(p.Doc.Audience) {
			delete(central, id)
		}
	}
	centralLike := make(map[string]likeness, len(central))
	for id, c := range central {
		centralLike[id] = likeness{best: c}
	}
	for rank, id := range top(centralLike, memoryCandidates) {
		cs[add(id)].f[10] = 1 / float64(rank+1)
	}
	for i := range cs {
		id := cs[i].passage.ID()
		l := like[id]
		cs[i].f[3], cs[i].f[4] = l.best, l.second
		cs[i].f[6] = cs[i].f[1] * l.best
		if cs[i].passage.Doc.Audience == audience {
			cs[i].f[7] = 1
		}
		cs[i].f[9] = central[id]
	}
	return cs, nil
}

// probabilities returns the model's probability that each candidate is
// the one that answers the message.
func (mo Model) probabilities(cs []candidate) []float64 {
	p := make([]float64, len(cs))
	top := math.Inf(-1)
	for i, c := range cs {
		for k, w := range mo.Weights {
			p[i] += w * c.f[k]
		}
		top = max(top, p[i])
	}
	sum := 0.0
	for i := range p {
		p[i] = math.Exp(p[i] - top)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// calibrate turns the best candidate's probability into the confidence
// that it is the section that answers the message.
func (mo Model) calibrate(p float64) float64 { return platt1(mo.A, mo.B, p) }

// calibrateGuide turns the probability of a guide into the confidence
// that the answer is in it.
func (mo Model) calibrateGuide(p float64) float64 { return platt1(mo.GuideA, mo.GuideB, p) }

func platt1(a, b, p float64) float64 {
	p = min(max(p, 1e-6), 1-1e-6)
	return 1 / (1 + math.Exp(-(a*math.Log(p/(1-p)) + b)))
}

// guideProbability returns, for each candidate, the probability of its
// guide: the probabilities of all candidates from the same document added
// up.
func guideProbability(cs []candidate, p []float64) []float64 {
	byDoc := map[string]float64{}
	for i, c := range cs {
		byDoc[c.passage.Doc.ID] += p[i]
	}
	g := make([]float64, len(cs))
	for i, c := range cs {
		g[i] = byDoc[c.passage.Doc.ID]
	}
	return g
}

// Evidence a section needs for its calibrated confidence to count: people's
// questions for it that the message resembles this much, or this much of
// the message's telling words in the section (the index's match). The
// corpus has no unanswerable questions, so calibration alone cannot say
// "I don't know" to an on-topic question nothing answers.
const (
	minLikeness    = 0.3
	minSearchMatch = 0.35
)

// Search answers q like the index does, ranked by the model: Score is each
// section's probability relative to the best's, and Match the calibrated
// confidence that the answer is in the section's guide, or the index's
// match when there is too little evidence for the section (see
// minLikeness).
func (m *Matcher) Search(ctx context.Context, q knowledge.Query) ([]knowledge.Hit, error) {
	cs, err := m.candidates(ctx, q.Text, q.Audience, "")
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	if len(cs) == 0 {
		return nil, nil
	}
	p := m.model.probabilities(cs)
	guide := guideProbability(cs, p)
	order := make([]int, len(cs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return p[order[a]] > p[order[b]] })
	limit := q.Limit
	if limit <= 0 {
		limit = 5
	}
	best := p[order[0]]
	var hits []knowledge.Hit
	for _, i := range order[:min(limit, len(order))] {
		h := cs[i].hit
		h.Passage = cs[i].passage
		h.Score = p[i] / best
		h.Match = m.model.calibrateGuide(guide[i])
		if cs[i].f[3] < minLikeness && cs[i].f[1] < minSearchMatch {
			h.Match = min(h.Match, cs[i].f[1])
		}
		hits = append(hits, h)
	}
	return hits, nil
}
