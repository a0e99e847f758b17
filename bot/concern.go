package bot

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	porterstemmer "github.com/blevesearch/go-porterstemmer"
)

// The concern model is askpa's second line behind its rules. The rules in
// safety.yaml and smalltalk.yaml recognise what people say in words someone
// wrote a pattern for; the model recognises many other ways of saying the
// same things ("she hauls him up by the armpits and he yelps"; "when do the
// clocks go back?"). It is a linear classifier over words and word pairs,
// trained by TestConcernModel -update-concern from
// bot/testdata/safety_cases.yaml, the development and held-out sets in
// testdata/eval, the off-topic examples in bot/testdata and the knowledge
// base's own questions (as ordinary questions), and stored as data in
// concern_model.txt. It is consulted only when no rule matched, and it must
// be very sure.

//go:embed concern_model.txt
var defaultConcernModel []byte

// classOffTopic is the model's class for messages about something askpa
// does not cover. It is not a safety category: such a message gets the
// off-topic small-talk reply.
const classOffTopic Category = "offtopic"

// concernClasses are the model's classes, in the order of its weights:
// ordinary questions first, then the safety categories, then off-topic.
var concernClasses = []Category{"", CategoryCrisis, CategorySafeguarding, CategoryDispute, CategoryRequested, classOffTopic}

// concernScores is what the model makes of a message.
type concernScores struct {
	// category is the most likely safety category, and concern the
	// probability that the message belongs to one of them.
	category Category
	concern  float64
	// offTopic is the probability that the message is off-topic.
	offTopic float64
}

// concernModel is a multinomial logistic regression: for each class, a bias
// and a weight per feature.
type concernModel struct {
	bias    []float64
	weights map[string][]float64
}

// concernStop are words too common to say anything about a situation.
var concernStop = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the and or but if of to in on at for with from by is are was were be
		been being am i you he she it we they me him her us them my your his its our their this that these
		those do does did have has had will would can could should may might must not no so as than then
		there here what which who whom when where why how all any some just very really too also only own same`) {
		m[w] = true
	}
	return m
}()

// concernFeatures returns the features of a normalised message: the stems
// of its words and of each pair of neighbouring words, stop words left out.
func concernFeatures(norm string) []string {
	set := map[string]bool{}
	prev := ""
	for _, w := range strings.Fields(norm) {
		if concernStop[w] {
			prev = ""
			continue
		}
		s := porterstemmer.StemString(w)
		set["w:"+s] = true
		if prev != "" {
			set["b:"+prev+"_"+s] = true
		}
		prev = s
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// classify scores a normalised message.
func (m *concernModel) classify(norm string) concernScores {
	z := append([]float64(nil), m.bias...)
	for _, f := range concernFeatures(norm) {
		if w, ok := m.weights[f]; ok {
			for k := range z {
				z[k] += w[k]
			}
		}
	}
	p := softmax(z)
	var s concernScores
	best := -1.0
	for k, c := range concernClasses {
		switch c {
		case "":
		case classOffTopic:
			s.offTopic = p[k]
		default:
			s.concern += p[k]
			if p[k] > best {
				s.category, best = c, p[k]
			}
		}
	}
	return s
}

func softmax(z []float64) []float64 {
	top := z[0]
	for _, v := range z {
		top = math.Max(top, v)
	}
	out := make([]float64, len(z))
	var sum float64
	for i, v := range z {
		out[i] = math.Exp(v - top)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

const concernHeader = "askpa concern model v2"

// parseConcernModel reads a model written by writeTo. It fails naming the
// line of anything it cannot read.
func parseConcernModel(data []byte) (*concernModel, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	m := &concernModel{weights: map[string][]float64{}}
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case n == 1:
			if line != concernHeader {
				return nil, fmt.Errorf("concern model: line 1: want %q", concernHeader)
			}
			continue
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != len(concernClasses)+1 {
			return nil, fmt.Errorf("concern model: line %d: want a name and %d weights", n, len(concernClasses))
		}
		w := make([]float64, len(concernClasses))
		for k := range w {
			v, err := strconv.ParseFloat(fields[k+1], 64)
			if err != nil {
				return nil, fmt.Errorf("concern model: line %d: %w", n, err)
			}
			w[k] = v
		}
		if fields[0] == "bias" {
			m.bias = w
		} else {
			m.weights[fields[0]] = w
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("concern model: %w", err)
	}
	if m.bias == nil {
		return nil, fmt.Errorf("concern model: no bias line")
	}
	return m, nil
}

// writeTo writes m in the format parseConcernModel reads, features sorted,
// weights rounded, features whose weights are all negligible left out.
func (m *concernModel) writeTo(b *bytes.Buffer) {
	b.WriteString(concernHeader + "\n")
	b.WriteString("# Trained by: go test ./bot -run TestConcernModel -update-concern\n")
	b.WriteString("# Columns: feature, then a weight for: ordinary, crisis, safeguarding, dispute, requested, off-topic.\n")
	row := func(name string, w []float64) {
		b.WriteString(name)
		for _, v := range w {
			b.WriteString("\t" + strconv.FormatFloat(v, 'f', 4, 64))
		}
		b.WriteString("\n")
	}
	row("bias", m.bias)
	names := make([]string, 0, len(m.weights))
	for f, w := range m.weights {
		keep := false
		for _, v := range w {
			keep = keep || math.Abs(v) >= 0.005
		}
		if keep {
			names = append(names, f)
		}
	}
	sort.Strings(names)
	for _, f := range names {
		row(f, m.weights[f])
	}
}

// trainConcernModel fits a model to examples (normalised text and class
// index into concernClasses) by stochastic gradient descent with L2
// regularisation. It is deterministic: the same examples give the same
// model.
func trainConcernModel(texts []string, classes []int) *concernModel {
	const (
		epochs = 30
		l2     = 1e-3
		rate   = 0.5
		decay  = 0.92
	)
	index := map[string]int{}
	var names []string
	X := make([][]int, len(texts))
	for i, t := range texts {
		for _, f := range concernFeatures(t) {
			j, ok := index[f]
			if !ok {
				j = len(names)
				index[f] = j
				names = append(names, f)
			}
			X[i] = append(X[i], j)
		}
	}
	K := len(concernClasses)
	bias := make([]float64, K)
	W := make([][]float64, len(names))
	for j := range W {
		W[j] = make([]float64, K)
	}
	order := make([]int, len(texts))
	for i := range order {
		order[i] = i
	}
	lr := rate
	seed := uint64(1)
	for epoch := 0; epoch < epochs; epoch++ {
		// A fixed, dependency-free shuffle (xorshift) keeps training
		// repeatable on every machine.
		for i := len(order) - 1; i > 0; i-- {
			seed ^= seed << 13
			seed ^= seed >> 7
			seed ^= seed << 17
			j := int(seed % uint64(i+1))
			order[i], order[j] = order[j], order[i]
		}
		for _, i := range order {
			z := append([]float64(nil), bias...)
			for _, j := range X[i] {
				for k := range z {
					z[k] += W[j][k]
				}
			}
			p := softmax(z)
			for k := range p {
				g := p[k]
				if k == classes[i] {
					g--
				}
				bias[k] -= lr * g
				for _, j := range X[i] {
					W[j][k] -= lr * (g + l2*W[j][k])
				}
			}
		}
		lr *= decay
	}
	m := &concernModel{bias: bias, weights: map[string][]float64{}}
	for j, f := range names {
		m.weights[f] = W[j]
	}
	return m
}

// concernReply is what the rules say when the model, not a rule, found a
// situation: one reply per class, from safety.yaml's "concern" section.
type concernReply struct {
	Say      string   `yaml:"say"`
	Signpost []string `yaml:"signpost"`
	Search   bool     `yaml:"search"`
}
