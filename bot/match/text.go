package match

import (
	"math"
	"slices"
	"strings"
	"unicode"

	porterstemmer "github.com/blevesearch/go-porterstemmer"
)

// stopWords say nothing about which section a question is about. "Not"
// and "no" are not among them: "what can I NOT spend it on" asks for
// another section than "what can I spend it on".
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the and or but if of to in on at for with from by is are was were be been being
		it its this that these those there here i me my we our you your he him his she her they them their
		do does did doing have has had having am can could would should will shall may might must
		what which who whom how when where why so than too very just also about into over
		as up out off then only own same such any all each some more most other get got`) {
		m[w] = true
	}
	return m
}()

// vector is a text as the paraphrase memory sees it: hashed features and
// their weights, sorted by feature, of unit length.
type vector struct {
	ids []uint32
	ws  []float32
}

// terms returns the features of a text before weighting: the stems of its
// words (not stop words), and the three-letter pieces of each word, so that
// "holliday" still shares most of "holiday".
func terms(text string) []uint32 {
	var out []uint32
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
	for _, w := range words {
		w = strings.ReplaceAll(w, "'", "")
		if w == "" || stopWords[w] {
			continue
		}
		out = append(out, hash2("w:", porterstemmer.StemString(w)))
		padded := " " + w + " "
		if len(padded) > 26 {
			continue
		}
		for i := 0; i+3 <= len(padded); i++ {
			out = append(out, hash2("c:", padded[i:i+3]))
		}
	}
	return out
}

func hash(s string) uint32 { return hash2("", s) }

// hash2 is hash(prefix + s), without joining them.
func hash2(prefix, s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(prefix); i++ {
		h = (h ^ uint32(prefix[i])) * 16777619
	}
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

// inverseFrequencies returns the weight of each feature of docs (each
// sorted) by how few of them have it, log(1 + n/df), leaving out features
// in more than maxShare of them (when there are enough to tell).
func inverseFrequencies(docs [][]uint32) map[uint32]float32 {
	df := map[uint32]int{}
	for _, d := range docs {
		for k, id := range d {
			if k == 0 || id != d[k-1] {
				df[id]++
			}
		}
	}
	n := float64(len(docs))
	idf := make(map[uint32]float32, len(df))
	for id, d := range df {
		if float64(d) <= maxShare*n || n < 50 {
			idf[id] = float32(math.Log(1 + n/float64(d)))
		}
	}
	return idf
}

// weigh turns features into a unit-length TF-IDF vector; features with no
// weight in idf (unknown, or too common to tell anything) are dropped.
func weigh(ids []uint32, idf map[uint32]float32) vector {
	slices.Sort(ids)
	var v vector
	for i := 0; i < len(ids); {
		j := i
		for j < len(ids) && ids[j] == ids[i] {
			j++
		}
		if w, ok := idf[ids[i]]; ok {
			v.ids = append(v.ids, ids[i])
			v.ws = append(v.ws, w*float32(1+math.Log(float64(j-i))))
		}
		i = j
	}
	norm := float32(0)
	for _, w := range v.ws {
		norm += w * w
	}
	if norm > 0 {
		n := float32(1 / math.Sqrt(float64(norm)))
		for i := range v.ws {
			v.ws[i] *= n
		}
	}
	return v
}

// stemHashes returns the stems of a text's words (not stop words), hashed
// as terms hashes them, each once, sorted.
func stemHashes(text string) []uint32 {
	var out []uint32
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	}) {
		w = strings.ReplaceAll(w, "'", "")
		if w != "" && !stopWords[w] {
			out = append(out, hash2("w:", porterstemmer.StemString(w)))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
