package match

import (
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
)

// maxShare is the largest share of remembered questions a feature may
// appear in and still count: a piece like " th" is in most of them.
const maxShare = 0.1

// memory holds the questions people wrote for each section, and finds the
// sections whose questions, added up, a new message resembles most. Sections are
// numbered in the order of their ids, so that ordering by number is
// ordering by id.
type memory struct {
	sections []string         // the sections remembered questions are for, sorted
	number   map[string]int32 // section id -> its number
	section  []int32          // the section of each remembered question
	idf      map[uint32]float32
	// centroids adds up each section's question vectors, and byWriter
	// the same for each of its writers, so that a writer's own questions
	// can be left out.
	centroids    []map[uint32]float64
	byWriter     []map[string]map[uint32]float64
	byWriterOnce func()    // fills byWriter
	norms        []float64 // of each centroid, with every writer
	// centroidPost lists, for each feature, the centroids that have it.
	centroidPost map[uint32][]centroidWeight
}

type centroidWeight struct {
	section int32
	w       float64
}

// newMemory remembers questions (each for one section, by one writer).
func newMemory(qs []Question) *memory {
	m := &memory{idf: map[uint32]float32{},
		number: map[string]int32{}, centroidPost: map[uint32][]centroidWeight{}}
	for _, q := range qs {
		if _, ok := m.number[q.Section]; !ok {
			m.number[q.Section] = 0
			m.sections = append(m.sections, q.Section)
		}
	}
	sort.Strings(m.sections)
	for i, sec := range m.sections {
		m.number[sec] = int32(i)
	}
	m.centroids = make([]map[uint32]float64, len(m.sections))
	m.byWriter = make([]map[string]map[uint32]float64, len(m.sections))
	m.norms = make([]float64, len(m.sections))
	raw := make([][]uint32, len(qs))
	inParallel(len(qs), func(i int) {
		// Sorted here once: weigh sorts them anyway.
		raw[i] = terms(qs[i].Text)
		slices.Sort(raw[i])
	})
	m.idf = inverseFrequencies(raw)
	vs := make([]vector, len(qs))
	inParallel(len(qs), func(i int) { vs[i] = weigh(raw[i], m.idf) })
	for i, q := range qs {
		sec := m.number[q.Section]
		m.section = append(m.section, sec)
		v := vs[i]
		c := m.centroids[sec]
		if c == nil {
			c = map[uint32]float64{}
			m.centroids[sec] = c
		}
		for k, id := range v.ids {
			c[id] += float64(v.ws[k])
		}
	}
	// Each writer's own sums are needed only to leave them out (when
	// training): they are added up the first time.
	m.byWriterOnce = sync.OnceFunc(func() {
		for i, q := range qs {
			sec := m.section[i]
			if m.byWriter[sec] == nil {
				m.byWriter[sec] = map[string]map[uint32]float64{}
			}
			w := m.byWriter[sec][q.Writer]
			if w == nil {
				w = map[uint32]float64{}
				m.byWriter[sec][q.Writer] = w
			}
			for k, id := range vs[i].ids {
				w[id] += float64(vs[i].ws[k])
			}
		}
	})
	for _, q := range qs {
		if q.Writer == "" {
			m.byWriterOnce() // a question without a writer: a writer "" is left out in every search
			break
		}
	}
	for sec, c := range m.centroids {
		ids := make([]uint32, 0, len(c))
		for id := range c {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			x := c[id]
			m.norms[sec] += x * x
			m.centroidPost[id] = append(m.centroidPost[id], centroidWeight{int32(sec), x})
		}
		m.norms[sec] = math.Sqrt(m.norms[sec])
	}
	return m
}

// inParallel calls fn(i) for every i below n, spread over the CPUs; each
// call must touch only its own i.
func inParallel(n int, fn func(i int)) {
	spread(n, min(runtime.GOMAXPROCS(0), max(1, n/1000)), fn)
}

// spread calls fn(i) for every i below n on workers goroutines; each call
// must touch only its own i.
func spread(n, workers int, fn func(i int)) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				fn(i)
			}
		})
	}
	wg.Wait()
}

// sectionScore is how much a message resembles one section.
type sectionScore struct {
	section int32
	score   float64
}

// vector returns text as the memory sees it.
func (m *memory) vector(text string) vector { return weigh(terms(text), m.idf) }

// centroidLikeness returns, for every section whose centroid shares a
// feature with a message's vector v, the cosine of v with the sum of the
// section's question vectors (without writer's own), when it is positive.
func (m *memory) centroidLikeness(v vector, writer string) []sectionScore {
	dots := make([]float64, len(m.sections))
	seen := make([]bool, len(m.sections))
	touched := 0
	for k, id := range v.ids {
		for _, c := range m.centroidPost[id] {
			if !seen[c.section] {
				seen[c.section] = true
				touched++
			}
			dots[c.section] += float64(v.ws[k]) * c.w
		}
	}
	out := make([]sectionScore, 0, touched)
	for sec := range int32(len(m.sections)) { // in order of number
		if !seen[sec] {
			continue
		}
		dot, norm := dots[sec], m.norms[sec]
		if own := m.own(sec, writer); own != nil {
			// Training: leave the writer's own questions out.
			sq := 0.0
			for id, x := range m.centroids[sec] {
				x -= own[id]
				sq += x * x
			}
			norm = math.Sqrt(sq)
			for k, id := range v.ids {
				dot -= float64(v.ws[k]) * own[id]
			}
		}
		if norm > 0 && dot > 0 {
			out = append(out, sectionScore{sec, dot / norm})
		}
	}
	return out
}

// own returns the sum of writer's question vectors for section sec, nil
// when writer wrote none for it.
func (m *memory) own(sec int32, writer string) map[uint32]float64 {
	if writer == "" && m.byWriter[sec] == nil {
		return nil // no question without a writer (see newMemory)
	}
	m.byWriterOnce()
	return m.byWriter[sec][writer]
}

// top returns the numbers of the n sections of best score, best first,
// ties by id.
func top(scores []sectionScore, n int) []int32 {
	before := func(a, b sectionScore) bool {
		if a.score != b.score {
			return a.score > b.score
		}
		return a.section < b.section
	}
	if n <= 0 {
		return nil
	}
	// The best n so far, in order: most sections fall behind the last.
	best := make([]sectionScore, 0, n+1)
	for _, s := range scores {
		if len(best) == n && !before(s, best[n-1]) {
			continue
		}
		i := len(best)
		for i > 0 && before(s, best[i-1]) {
			i--
		}
		best = slices.Insert(best, i, s)
		if len(best) > n {
			best = best[:n]
		}
	}
	out := make([]int32, len(best))
	for i, s := range best {
		out[i] = s.section
	}
	return out
}
