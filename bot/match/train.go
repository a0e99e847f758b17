package match

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"text/tabwriter"

	"github.com/askpa/askpa/knowledge"
)

// trainSteps, trainRate and trainL2 tune the gradient descent that fits the
// model's weights; they were chosen on the validation split.
const (
	trainSteps = 400
	trainRate  = 0.5
	trainL2    = 1e-3
)

// example is a question with its candidates, described once.
type example struct {
	q     Question
	cs    []candidate
	right int // the index of the right section among cs, or -1
	// noSection is the classifier's probability that no section answers.
	noSection float64
}

// describe finds and describes every question's candidates. Training
// questions are described leaving out their own writer's remembered
// questions, as a new person's message would be.
func (m *Matcher) describe(ctx context.Context, qs []Question, leaveOutWriter bool) ([]example, error) {
	out := make([]example, 0, len(qs))
	for _, q := range qs {
		writer := ""
		if leaveOutWriter {
			writer = q.Writer
		}
		cs, noSection, err := m.candidates(ctx, q.Text, q.Audience(), writer)
		if err != nil {
			return nil, err
		}
		e := example{q: q, cs: cs, right: -1, noSection: noSection}
		for i, c := range cs {
			if c.passage.ID() == q.Section {
				e.right = i
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// Train fits a Model from the train split's answerable questions (which
// the Matcher also remembers); calibrates its confidence on the validation
// split's answerable questions, the train split's unanswerable ones
// (section NoSection) and offTopic, messages no section answers (off-topic
// messages of another validation split). It is
// deterministic up to the index's floating point. The test split must
// never be passed to it. It returns the model and its report on the
// validation split.
func Train(ctx context.Context, base *knowledge.Base, search Searcher, train, validation []Question, offTopic []Question) (Model, Report, error) {
	all := train
	train, trainNone := splitAnswerable(train)
	validation, validationNone := splitAnswerable(validation)
	if len(train) == 0 || len(validation) == 0 {
		return Model{}, Report{}, fmt.Errorf("match: training needs questions in both the train and the validation split")
	}
	cls, folds := trainClassifiers(all)
	m, err := New(base, search, train, Model{Features: featureNames, Weights: make([]float64, nFeatures), A: 1, Classifier: cls})
	if err != nil {
		return Model{}, Report{}, err
	}
	m.folds = folds
	tr, err := m.describe(ctx, train, true)
	if err != nil {
		return Model{}, Report{}, err
	}
	// Listwise softmax regression by full-batch gradient descent.
	w := make([]float64, nFeatures)
	for range trainSteps {
		grad := make([]float64, nFeatures)
		n := 0
		for _, e := range tr {
			if e.right < 0 {
				continue
			}
			n++
			p := Model{Weights: w}.probabilities(e.cs)
			for i, c := range e.cs {
				g := p[i]
				if i == e.right {
					g--
				}
				for k := range nFeatures {
					grad[k] += g * c.f[k]
				}
			}
		}
		for k := range w {
			w[k] -= trainRate * (grad[k]/float64(n) + trainL2*w[k])
		}
	}
	m.model.Weights = w
	va, err := m.describe(ctx, validation, false)
	if err != nil {
		return Model{}, Report{}, err
	}
	none, err := m.describe(ctx, append(append([]Question(nil), trainNone...), offTopic...), false)
	if err != nil {
		return Model{}, Report{}, err
	}
	calibration := append(append([]example(nil), va...), none...)
	m.model.A, m.model.B = platt(m.model, calibration)
	// Rounded, so that the sums of floating-point numbers in another order
	// give the same file.
	for k := range m.model.Weights {
		m.model.Weights[k] = round6(m.model.Weights[k])
	}
	m.model.A, m.model.B = round6(m.model.A), round6(m.model.B)
	vn, err := m.describe(ctx, validationNone, false)
	if err != nil {
		return Model{}, Report{}, err
	}
	return m.model, m.report(append(va, vn...), nil), nil
}

// trainClassifiers trains the Classifier on qs and, for each writer, one
// that did not see that writer's questions: the ranker learns how far to
// trust the classifier from its guesses about questions it has not seen,
// as the remembered questions leave out their own writer's.
func trainClassifiers(qs []Question) (*Classifier, map[string]*Classifier) {
	var sections, writers []string
	for _, q := range qs {
		sections = append(sections, q.Section)
		writers = append(writers, q.Writer)
	}
	slices.Sort(sections)
	sections = slices.Compact(sections)
	slices.Sort(writers)
	writers = slices.Compact(writers)
	out := make([]*Classifier, len(writers)+1)
	// Each takes about a hundred megabytes while it learns: one a CPU.
	spread(len(out), runtime.GOMAXPROCS(0), func(f int) {
		learn := qs
		if f < len(writers) {
			learn = slices.DeleteFunc(slices.Clone(qs), func(q Question) bool { return q.Writer == writers[f] })
		}
		out[f] = trainClassifier(learn, sections)
	})
	folds := map[string]*Classifier{}
	for f, w := range writers {
		folds[w] = out[f]
	}
	return out[len(writers)], folds
}

// splitAnswerable returns the questions some section answers, then those
// none does.
func splitAnswerable(qs []Question) (answerable, none []Question) {
	for _, q := range qs {
		if q.Answerable() {
			answerable = append(answerable, q)
		} else {
			none = append(none, q)
		}
	}
	return answerable, none
}

// platt fits A and B so that the calibrated confidence of each example's
// best candidate matches how often it is the right section (Platt scaling,
// by Newton's method on the log loss).
func platt(mo Model, es []example) (a, b float64) {
	type point struct{ x, y float64 }
	var pts []point
	for _, e := range es {
		if len(e.cs) == 0 {
			continue
		}
		p := mo.probabilities(e.cs)
		best := argmax(p)
		pb := min(max(p[best], 1e-6), 1-1e-6)
		right := best == e.right
		x := math.Log(pb / (1 - pb))
		y := 0.0
		if right {
			y = 1
		}
		pts = append(pts, point{x, y})
	}
	a, b = 1, 0
	for range 50 {
		var ga, gb, haa, hab, hbb float64
		for _, pt := range pts {
			q := 1 / (1 + math.Exp(-(a*pt.x + b)))
			d := q - pt.y
			ga += d * pt.x
			gb += d
			v := q * (1 - q)
			haa += v * pt.x * pt.x
			hab += v * pt.x
			hbb += v
		}
		haa += 1e-6
		hbb += 1e-6
		det := haa*hbb - hab*hab
		if det == 0 {
			break
		}
		a -= (hbb*ga - hab*gb) / det
		b -= (haa*gb - hab*ga) / det
	}
	return a, b
}

func argmax(p []float64) int {
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	return best
}

// Report is how a Matcher did on a set of questions.
type Report struct {
	// Questions counts the answerable questions.
	Questions int
	// Top1 and Top3 count the answerable questions whose section was
	// ranked first, or among the first three.
	Top1, Top3 int
	// Answered counts the answerable questions whose first section the
	// index found enough of the question in to be given as the answer;
	// AnsweredRight those of them whose first section is the right
	// one.
	Answered, AnsweredRight int
	// Hidden counts the answerable questions whose section is written for
	// the other audience, which the asker is never shown (an employer's
	// question labelled with a section written to PAs): no ranking gets
	// them right.
	Hidden int
	// ModelTop1 counts the answerable questions the model's own best guess
	// (before the index's coverage comes first) got right: what the
	// reliability table calibrates.
	ModelTop1 int
	// Unanswerable counts the questions no section answers, and
	// UnanswerableAnswered those given an answer all the same.
	Unanswerable, UnanswerableAnswered int
	// Judged says whether judgements were given. JudgedTop1 then counts
	// the answerable questions whose first section is their own or one a
	// judge found answers them; JudgedTop3 those counted by Top3 or with
	// any of its first three sections judged to answer it. Unjudged lists
	// the sections among the first three that are neither the question's
	// own nor judged yet, where a verdict could change a count: they
	// count as wrong.
	Judged                 bool
	JudgedTop1, JudgedTop3 int
	Unjudged               []Unjudged
	// Bins is the reliability table of the answerable questions:
	// confidence in tenths, with how many questions fell in each and how
	// many of them were right.
	Bins [10]struct {
		N, Right   int
		Confidence float64
	}
}

func (m *Matcher) report(es []example, judgements Judgements) Report {
	r := Report{Judged: judgements != nil}
	for _, e := range es {
		if !e.q.Answerable() {
			r.Unanswerable++
		} else {
			r.Questions++
		}
		if len(e.cs) == 0 {
			continue
		}
		p := m.model.probabilities(e.cs)
		order := ranking(e.cs, p, e.noSection)
		conf := m.model.calibrate(p[order[0]])
		answered := e.cs[order[0]].answerable(e.noSection) >= minSearchMatch
		if !e.q.Answerable() {
			if answered {
				r.UnanswerableAnswered++
			}
			continue
		}
		if p, ok := m.base.Passage(e.q.Section); ok && !e.q.Audience().Sees(p.Audience()) {
			r.Hidden++
		}
		right := order[0] == e.right
		inTop3 := slices.Contains(order[:min(3, len(order))], e.right)
		if inTop3 {
			r.Top3++
		}
		if right {
			r.Top1++
		}
		if r.Judged {
			r.judge(e, order, inTop3, judgements)
		}
		if argmax(p) == e.right {
			r.ModelTop1++
		}
		if answered {
			r.Answered++
			if right {
				r.AnsweredRight++
			}
		}
		bin := min(int(conf*10), 9)
		r.Bins[bin].N++
		r.Bins[bin].Confidence += conf
		if right {
			r.Bins[bin].Right++
		}
	}
	return r
}

// judge counts e, ranked in order, by the judgements: its first section
// towards JudgedTop1, and any of its first three towards JudgedTop3. The
// sections that would settle a count and have not been judged go to
// Unjudged.
func (r *Report) judge(e example, order []int, inTop3 bool, judgements Judgements) {
	first := order[:min(3, len(order))]
	verdict := func(rank int) (yes, known bool, u Unjudged) {
		shown := e.cs[first[rank]].passage.ID()
		yes, known = judgements.answers(e.q, shown)
		return yes, known, Unjudged{ID: e.q.ID, Text: e.q.Text, Voice: e.q.Voice, Own: e.q.Section, Shown: shown, Rank: rank + 1}
	}
	yes, known, u := verdict(0)
	if !known {
		r.Unjudged = append(r.Unjudged, u)
	}
	if yes {
		r.JudgedTop1++
	}
	if yes || inTop3 {
		r.JudgedTop3++
		return
	}
	var pending []Unjudged
	for rank := 1; rank < len(first); rank++ {
		yes, known, u := verdict(rank)
		if yes {
			r.JudgedTop3++
			return
		}
		if !known {
			pending = append(pending, u)
		}
	}
	r.Unjudged = append(r.Unjudged, pending...)
}

// Evaluate ranks every question and reports how the Matcher did. With
// judgements (nil for none), it also counts a first section other than a
// question's own as right when a judge found that it answers the question.
func (m *Matcher) Evaluate(ctx context.Context, qs []Question, judgements Judgements) (Report, error) {
	es, err := m.describe(ctx, qs, false)
	if err != nil {
		return Report{}, err
	}
	return m.report(es, judgements), nil
}

// Write prints r for a person.
func (r Report) Write(w io.Writer) error {
	pct := func(a, b int) string {
		if b == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%d/%d (%.1f%%)", a, b, 100*float64(a)/float64(b))
	}
	fmt.Fprintf(w, "top-1 section: %s\ntop-3 sections: %s\nanswered (the index found enough of the question in the first section): %s, of which right: %s\nthe model's own best guess: %s\n",
		pct(r.Top1, r.Questions), pct(r.Top3, r.Questions), pct(r.Answered, r.Questions), pct(r.AnsweredRight, r.Answered), pct(r.ModelTop1, r.Questions))
	if r.Hidden > 0 {
		fmt.Fprintf(w, "of the questions whose section the asker may be shown (%d are labelled with one written for the other audience), top-1: %s, top-3: %s\n",
			r.Hidden, pct(r.Top1, r.Questions-r.Hidden), pct(r.Top3, r.Questions-r.Hidden))
	}
	if r.Judged {
		fmt.Fprintf(w, "counting sections a judge found answer the question as right, top-1: %s, top-3: %s (%d sections not yet judged count as wrong)\n",
			pct(r.JudgedTop1, r.Questions), pct(r.JudgedTop3, r.Questions), len(r.Unjudged))
	}
	if r.Unanswerable > 0 {
		fmt.Fprintf(w, "questions no section answers, answered all the same: %s\n", pct(r.UnanswerableAnswered, r.Unanswerable))
	}
	fmt.Fprint(w, "\nreliability of the model's calibrated confidence in its best guess, by tenths:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "confidence\tquestions\tmean confidence\tright\t")
	for i, b := range r.Bins {
		if b.N == 0 {
			continue
		}
		fmt.Fprintf(tw, "%.1f-%.1f\t%d\t%.2f\t%.2f\t\n", float64(i)/10, float64(i+1)/10, b.N, b.Confidence/float64(b.N), float64(b.Right)/float64(b.N))
	}
	return tw.Flush()
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }
