package match

import (
	"bytes"
	"compress/gzip"
	"encoding/gob"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode"

	porterstemmer "github.com/blevesearch/go-porterstemmer"
)

// The classifier's training, chosen on the validation split: more epochs
// gain nothing there (79.7% top-1 after 20 and after 30), and weights
// smaller than classifierMinWeight change almost nothing (79.6% against
// 79.7%) while taking most of the room.
const (
	classifierEpochs    = 20
	classifierRate      = 0.5
	classifierL2        = 1e-5
	classifierMinWeight = 0.1
	classifierSeed      = 1
)

// noSectionWeight is how much more a question no section answers counts
// in training than one a section answers. There are a few hundred of them
// against thousands of answerable ones, and each batch of answerable
// questions added to the corpus crowds "no section" out a little more:
// chosen on the validation split's unanswerable questions (U2), answered
// all the same 183 times of 300 at weight 1, 169 at 2 and 159 at 3, with
// top-1 unchanged.
const noSectionWeight = 3

// Classifier is a linear softmax model that reads a message and gives the
// probability of each section, and of NoSection (no section answers it),
// from the words, word pairs and three-letter pieces the corpus's writers
// used. Where the remembered questions find the sections whose questions,
// added up, look most like the message, it learns which pieces of a
// message tell one section from its neighbours. TrainClassifier makes one;
// it is stored in data/classifier.bin.
type Classifier struct {
	sections []string // sorted
	idf      map[uint32]float32
	rows     map[uint32]classifierRow
	bias     []float32
}

// classifierRow holds one feature's weights, for the sections they are
// not negligible for.
type classifierRow struct {
	class []uint16
	w     []float32
}

// classifierTerms returns the classifier's features of text: those of the
// remembered questions (stems and three-letter pieces) and the pairs of
// neighbouring stems ("sick pay" is not "sick" and "pay").
func classifierTerms(text string) []uint32 {
	out := terms(text)
	prev := ""
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	}) {
		w = strings.ReplaceAll(w, "'", "")
		if w == "" || stopWords[w] {
			continue
		}
		s := porterstemmer.StemString(w)
		if prev != "" {
			out = append(out, hash2("b:", prev+" "+s))
		}
		prev = s
	}
	return out
}

// TrainClassifier fits a Classifier to questions (their sections, with
// NoSection for those no section answers) by stochastic gradient descent
// on the log loss, in an order fixed by a seed: the same questions give the
// same classifier on the same machine. It fails when there are none.
func TrainClassifier(qs []Question) (*Classifier, error) {
	if len(qs) == 0 {
		return nil, fmt.Errorf("match: the classifier needs questions to learn from")
	}
	var sections []string
	for _, q := range qs {
		sections = append(sections, q.Section)
	}
	slices.Sort(sections)
	return trainClassifier(qs, slices.Compact(sections)), nil
}

// trainClassifier fits a Classifier of sections (sorted, each once, every
// question's among them) to qs.
func trainClassifier(qs []Question, sections []string) *Classifier {
	number := map[string]int{}
	for i, s := range sections {
		number[s] = i
	}
	raw := make([][]uint32, len(qs))
	inParallel(len(qs), func(i int) {
		raw[i] = classifierTerms(qs[i].Text)
		slices.Sort(raw[i])
	})
	c := &Classifier{idf: inverseFrequencies(raw), sections: sections}
	classes := len(c.sections)
	vs := make([]vector, len(qs))
	dense := map[uint32][]float32{}
	for i, r := range raw {
		vs[i] = weigh(r, c.idf)
		for _, id := range vs[i].ids {
			if dense[id] == nil {
				dense[id] = make([]float32, classes)
			}
		}
	}
	bias := make([]float32, classes)
	s := make([]float64, classes)
	order := make([]int, len(qs))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(classifierSeed, classifierSeed))
	for range classifierEpochs {
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for _, i := range order {
			v := vs[i]
			for k := range s {
				s[k] = float64(bias[k])
			}
			for j, id := range v.ids {
				x := float64(v.ws[j])
				for k, w := range dense[id] {
					s[k] += x * float64(w)
				}
			}
			softmax(s)
			s[number[qs[i].Section]]--
			rate := classifierRate
			if qs[i].Section == NoSection {
				rate *= noSectionWeight
			}
			for k, g := range s {
				bias[k] -= float32(rate * g)
			}
			for j, id := range v.ids {
				x := float64(v.ws[j])
				row := dense[id]
				for k, g := range s {
					row[k] -= float32(rate * (g*x + classifierL2*float64(row[k])))
				}
			}
		}
	}
	c.bias = bias
	c.rows = make(map[uint32]classifierRow, len(dense))
	for id, ws := range dense {
		var r classifierRow
		for k, w := range ws {
			if math.Abs(float64(w)) >= classifierMinWeight {
				r.class = append(r.class, uint16(k))
				r.w = append(r.w, w)
			}
		}
		if len(r.class) > 0 {
			c.rows[id] = r
		}
	}
	return c
}

// softmax turns scores into probabilities, in place.
func softmax(s []float64) {
	top := math.Inf(-1)
	for _, x := range s {
		top = max(top, x)
	}
	sum := 0.0
	for k := range s {
		s[k] = math.Exp(s[k] - top)
		sum += s[k]
	}
	for k := range s {
		s[k] /= sum
	}
}

// Sections returns the sections the classifier tells apart, sorted; their
// order is that of Probabilities.
func (c *Classifier) Sections() []string { return c.sections }

// number returns the number of section among c.Sections().
func (c *Classifier) number(section string) (int, bool) {
	return slices.BinarySearch(c.sections, section)
}

// Probabilities returns the probability of each of c.Sections() that it
// answers text.
func (c *Classifier) Probabilities(text string) []float64 {
	s := make([]float64, len(c.sections))
	for k, b := range c.bias {
		s[k] = float64(b)
	}
	v := weigh(classifierTerms(text), c.idf)
	for j, id := range v.ids {
		r, ok := c.rows[id]
		if !ok {
			continue
		}
		x := float64(v.ws[j])
		for i, k := range r.class {
			s[k] += x * float64(r.w[i])
		}
	}
	softmax(s)
	return s
}

// classifierFile is a Classifier as stored: features sorted, weights as
// 16-bit multiples of Scale.
type classifierFile struct {
	Sections []string
	Features []uint32
	IDF      []float32
	// Counts holds how many weights each feature has; Classes and Weights
	// hold them, feature after feature.
	Counts  []uint16
	Classes []uint16
	Weights []int16
	Scale   float32
	Bias    []float32
}

const classifierMagic = "askpa classifier 1\n"

// WriteTo writes c, compressed, in the form ReadClassifier reads; the same
// classifier always gives the same bytes.
func (c *Classifier) WriteTo(w io.Writer) (int64, error) {
	f := classifierFile{Sections: c.sections, Bias: c.bias}
	for id := range c.idf {
		f.Features = append(f.Features, id)
	}
	slices.Sort(f.Features)
	biggest := float32(0)
	for _, r := range c.rows {
		for _, x := range r.w {
			biggest = max(biggest, float32(math.Abs(float64(x))))
		}
	}
	f.Scale = max(biggest, 1e-6) / math.MaxInt16
	for _, id := range f.Features {
		f.IDF = append(f.IDF, c.idf[id])
		r := c.rows[id]
		f.Counts = append(f.Counts, uint16(len(r.class)))
		f.Classes = append(f.Classes, r.class...)
		for _, x := range r.w {
			f.Weights = append(f.Weights, int16(math.Round(float64(x/f.Scale))))
		}
	}
	var buf bytes.Buffer
	buf.WriteString(classifierMagic)
	z, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	if err := gob.NewEncoder(z).Encode(f); err != nil {
		return 0, fmt.Errorf("match: classifier: %w", err)
	}
	if err := z.Close(); err != nil {
		return 0, fmt.Errorf("match: classifier: %w", err)
	}
	return buf.WriteTo(w)
}

// ReadClassifier reads a Classifier written by WriteTo. It fails on data
// that is not one, or is damaged.
func ReadClassifier(data []byte) (*Classifier, error) {
	rest, ok := bytes.CutPrefix(data, []byte(classifierMagic))
	if !ok {
		return nil, fmt.Errorf("match: classifier: not a classifier file")
	}
	z, err := gzip.NewReader(bytes.NewReader(rest))
	if err != nil {
		return nil, fmt.Errorf("match: classifier: %w", err)
	}
	var f classifierFile
	if err := gob.NewDecoder(z).Decode(&f); err != nil {
		return nil, fmt.Errorf("match: classifier: %w", err)
	}
	total := 0
	for _, n := range f.Counts {
		total += int(n)
	}
	switch {
	case len(f.IDF) != len(f.Features) || len(f.Counts) != len(f.Features):
		return nil, fmt.Errorf("match: classifier: %d features but %d weights of words and %d counts", len(f.Features), len(f.IDF), len(f.Counts))
	case len(f.Classes) != total || len(f.Weights) != total:
		return nil, fmt.Errorf("match: classifier: %d weights counted, %d classes and %d weights stored", total, len(f.Classes), len(f.Weights))
	case len(f.Bias) != len(f.Sections):
		return nil, fmt.Errorf("match: classifier: %d sections but %d biases", len(f.Sections), len(f.Bias))
	}
	c := &Classifier{sections: f.Sections, bias: f.Bias, idf: make(map[uint32]float32, len(f.Features)), rows: map[uint32]classifierRow{}}
	at := 0
	for i, id := range f.Features {
		c.idf[id] = f.IDF[i]
		n := int(f.Counts[i])
		if n == 0 {
			continue
		}
		r := classifierRow{class: f.Classes[at : at+n], w: make([]float32, n)}
		for k, q := range f.Weights[at : at+n] {
			if int(r.class[k]) >= len(f.Sections) {
				return nil, fmt.Errorf("match: classifier: a weight for section %d of %d", r.class[k], len(f.Sections))
			}
			r.w[k] = float32(q) * f.Scale
		}
		c.rows[id] = r
		at += n
	}
	return c, nil
}
