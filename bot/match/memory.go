package match

import (
	"math"
	"sort"
)

// maxShare is the largest share of remembered questions a feature may
// appear in and still count: a piece like " th" is in most of them.
const maxShare = 0.1

// memory holds the questions people wrote for each section, and finds the
// sections whose questions a new message resembles most.
type memory struct {
	section []string // the section each remembered question is for
	writer  []string // who wrote it
	idf     map[uint32]float32
	post    map[uint32][]posting
	// centroids adds up each section's question vectors, and byWriter
	// the same for each of its writers, so that a writer's own questions
	// can be left out.
	centroids map[string]map[uint32]float64
	byWriter  map[string]map[string]map[uint32]float64
	norms     map[string]float64 // of each centroid, with every writer
	// centroidPost lists, for each feature, the centroids that have it.
	centroidPost map[uint32][]centroidWeight
}

type centroidWeight struct {
	section string
	w       float64
}

type posting struct {
	entry int32
	w     float32
}

// newMemory remembers questions (each for one section, by one writer).
func newMemory(qs []Question) *memory {
	m := &memory{idf: map[uint32]float32{}, post: map[uint32][]posting{},
		centroids: map[string]map[uint32]float64{}, byWriter: map[string]map[string]map[uint32]float64{},
		norms: map[string]float64{}, centroidPost: map[uint32][]centroidWeight{}}
	raw := make([][]uint32, len(qs))
	df := map[uint32]int{}
	for i, q := range qs {
		raw[i] = terms(q.Text)
		seen := map[uint32]bool{}
		for _, id := range raw[i] {
			if !seen[id] {
				seen[id] = true
				df[id]++
			}
		}
	}
	n := float64(len(qs))
	for id, d := range df {
		if float64(d) <= maxShare*n || n < 50 {
			m.idf[id] = float32(math.Log(1 + n/float64(d)))
		}
	}
	for i, q := range qs {
		m.section = append(m.section, q.Section)
		m.writer = append(m.writer, q.Writer)
		v := weigh(raw[i], m.idf)
		c := m.centroids[q.Section]
		if c == nil {
			c = map[uint32]float64{}
			m.centroids[q.Section] = c
			m.byWriter[q.Section] = map[string]map[uint32]float64{}
		}
		w := m.byWriter[q.Section][q.Writer]
		if w == nil {
			w = map[uint32]float64{}
			m.byWriter[q.Section][q.Writer] = w
		}
		for k, id := range v.ids {
			m.post[id] = append(m.post[id], posting{int32(i), v.ws[k]})
			c[id] += float64(v.ws[k])
			w[id] += float64(v.ws[k])
		}
	}
	secs := make([]string, 0, len(m.centroids))
	for sec := range m.centroids {
		secs = append(secs, sec)
	}
	sort.Strings(secs)
	for _, sec := range secs {
		for id, x := range m.centroids[sec] {
			m.norms[sec] += x * x
			m.centroidPost[id] = append(m.centroidPost[id], centroidWeight{sec, x})
		}
		m.norms[sec] = math.Sqrt(m.norms[sec])
	}
	return m
}

// centroidLikeness returns, for every section, the cosine of text with
// the sum of the section's question vectors (without writer's own).
func (m *memory) centroidLikeness(text, writer string) map[string]float64 {
	v := weigh(terms(text), m.idf)
	dots := map[string]float64{}
	for k, id := range v.ids {
		for _, c := range m.centroidPost[id] {
			dots[c.section] += float64(v.ws[k]) * c.w
		}
	}
	out := make(map[string]float64, len(dots))
	for sec, dot := range dots {
		norm := m.norms[sec]
		if own := m.byWriter[sec][writer]; own != nil {
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
			out[sec] = dot / norm
		}
	}
	return out
}

// likeness is how much a message resembles the questions of one section.
type likeness struct {
	best, second float64 // the two highest cosines
}

// similar returns, for every section with a question sharing a feature
// with text, how much they resemble it, leaving out the questions of
// writer (when training: a new message comes from someone new).
func (m *memory) similar(text, writer string) map[string]likeness {
	v := weigh(terms(text), m.idf)
	scores := map[int32]float64{}
	for k, id := range v.ids {
		for _, p := range m.post[id] {
			scores[p.entry] += float64(v.ws[k] * p.w)
		}
	}
	out := map[string]likeness{}
	for e, s := range scores {
		if writer != "" && m.writer[e] == writer {
			continue
		}
		sec := m.section[e]
		l := out[sec]
		switch {
		case s > l.best:
			l.second, l.best = l.best, s
		case s > l.second:
			l.second = s
		}
		out[sec] = l
	}
	return out
}

// top returns the n sections most like, best first (ties by id).
func top(like map[string]likeness, n int) []string {
	ids := make([]string, 0, len(like))
	for id := range like {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := like[ids[i]].best, like[ids[j]].best
		if a != b {
			return a > b
		}
		return ids[i] < ids[j]
	})
	if len(ids) > n {
		ids = ids[:n]
	}
	return ids
}
