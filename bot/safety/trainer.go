package safety

import (
	"bytes"
	"fmt"
	"io/fs"
	"strings"
)

// The false-alarm budgets thresholds are chosen for, as shares of the
// validation split's messages that do not belong to the kind.
const (
	budgetUrgent    = 0.01 // ordinary messages handed over as urgent
	budgetCaution   = 0.05 // ordinary messages given a signposting line
	budgetRequested = 0.01
	budgetDispute   = 0.01
	budgetOffTopic  = 0.01
	budgetSituation = 0.05
)

// minKindThreshold is the least probability any kind other than crisis and
// safeguarding is reported at, whatever the budgets allow: handing a
// conversation over, or refusing a question as off-topic, needs at least a
// one-in-five chance that it is right. The validation split cannot show
// the long tail of messages unlike any in it ("what is the best phone for
// an older person"), where a lower threshold fires on noise.
const minKindThreshold = 0.2

// averageOf is how many models, trained on the samples in different
// orders, the kinds model averages.
var averageOf = 5

// Trained is what Train produces: the data files it writes.
type Trained struct {
	Kinds, Self []byte // kinds.model and self.model
	Thresholds  []byte // thresholds.txt, with the validation figures behind them
	Checker     *Checker
}

// Train trains the classifier on train and chooses its thresholds on
// validation, reading the word lists, rules, spellings and replies from
// data. It is deterministic: the same inputs give the same bytes. The
// test split must never be passed to it.
func Train(data fs.FS, trainSet, validation []Example) (Trained, error) {
	t, err := loadText(data)
	if err != nil {
		return Trained{}, fmt.Errorf("safety: %w", err)
	}
	raw, err := fs.ReadFile(data, fileReplies)
	if err != nil {
		return Trained{}, fmt.Errorf("safety: %w", err)
	}
	replies, err := parseReplies(fileReplies, raw)
	if err != nil {
		return Trained{}, fmt.Errorf("safety: %w", err)
	}
	if len(trainSet) == 0 || len(validation) == 0 {
		return Trained{}, fmt.Errorf("safety: training needs examples in both the train and the validation split")
	}
	classes := make([]string, len(Kinds))
	for i, k := range Kinds {
		classes[i] = string(k)
	}
	var kindSamples, selfSamples []sample
	for _, e := range trainSet {
		f := t.x.extract(Normalise(strings.Join(e.Messages(), "\n"), t.spellings), e.Audience)
		kindSamples = append(kindSamples, sample{f: f, class: kindIndex(e.Label), weight: 1})
		if e.Label.Danger() && e.Voice != "" {
			class := 1
			if e.self() {
				class = 0
			}
			sf := t.selfX.extract(Normalise(strings.Join(e.Messages(), "\n"), t.spellings), e.Audience)
			selfSamples = append(selfSamples, sample{f: sf, class: class, weight: 1})
		}
	}
	c := &Checker{text: t, replies: replies}
	c.kinds = trainAveraged(classes, kindSamples, defaultTrainOptions, averageOf)
	c.self = trainAveraged([]string{"self", "other"}, selfSamples, defaultTrainOptions, averageOf)
	for i := range Kinds {
		c.order = append(c.order, i)
	}
	choice := chooseThresholds(c, validation)
	c.t = choice.t
	var out Trained
	var b bytes.Buffer
	if err := c.kinds.writeTo(&b); err != nil {
		return out, err
	}
	out.Kinds = bytes.Clone(b.Bytes())
	b.Reset()
	if err := c.self.writeTo(&b); err != nil {
		return out, err
	}
	out.Self = bytes.Clone(b.Bytes())
	out.Thresholds = choice.file(len(trainSet), len(validation))
	out.Checker = c
	return out, nil
}

// scored is one validation example as the classifier saw it: its last
// message, and (for a conversation) its recent messages together.
type scored struct {
	e                  Example
	last               scores
	together, previous *scores
}

// verdict applies t to s as CheckConversation would.
func (s *scored) verdict(t Thresholds) Verdict {
	v := decide(&s.last, t)
	if s.together == nil || v.Level == LevelUrgent {
		return v
	}
	return combine(v, decide(s.together, t), decide(s.previous, t))
}

// choice is a set of thresholds with what they did on the validation
// split.
type choice struct {
	t      Thresholds
	report Report
}

// chooseThresholds picks, on the validation split: the urgent thresholds
// that find the most crisis and safeguarding messages (crisis counting
// double) with no more than budgetUrgent of the other messages urgent;
// then the caution thresholds likewise within budgetCaution; then each
// other kind's threshold for the most of its messages within its budget.
func chooseThresholds(c *Checker, validation []Example) choice {
	var all []scored
	for _, e := range validation {
		msgs := e.Messages()
		s := scored{e: e, last: c.score(Normalise(msgs[len(msgs)-1], c.spellings), audienceOf(e))}
		if len(msgs) > 1 {
			together := c.score(Normalise(recent(msgs), c.spellings), audienceOf(e))
			previous := c.score(Normalise(msgs[len(msgs)-2], c.spellings), audienceOf(e))
			s.together, s.previous = &together, &previous
		}
		all = append(all, s)
	}
	evaluate := func(t Thresholds) Report {
		r := Report{Labels: map[Kind]*Tally{}}
		for i := range all {
			r.add(all[i].e, all[i].verdict(t))
		}
		return r
	}
	grid := make([]float64, 0, 99)
	for i := 1; i <= 99; i++ {
		grid = append(grid, float64(i)/100)
	}
	within := func(falseAlarms, n int, budget float64) bool { return float64(falseAlarms) <= budget*float64(n) }
	// Requests and disputes off, caution equal to urgent, so that only
	// urgent verdicts count while the urgent thresholds are chosen.
	t := Thresholds{Requested: 1, Dispute: 1, OffTopic: 1, Situation: 1}
	bestScore := -1.0
	for _, uc := range grid {
		for _, us := range grid {
			try := t
			try.UrgentCrisis, try.UrgentSafeguarding, try.CautionCrisis, try.CautionSafeguarding = uc, us, uc, us
			r := evaluate(try)
			if !within(r.Other.Urgent, r.Other.N, budgetUrgent) {
				continue
			}
			// Of equally good thresholds, the highest: the grid is
			// walked upwards.
			score := 2*frac(r.Crisis.RightGroup, r.Crisis.N) + frac(r.Safeguarding.RightGroup, r.Safeguarding.N)
			if score >= bestScore {
				bestScore, t.UrgentCrisis, t.UrgentSafeguarding = score, uc, us
			}
		}
	}
	t.CautionCrisis, t.CautionSafeguarding = t.UrgentCrisis, t.UrgentSafeguarding
	// Each other kind: from the highest threshold down, as long as the
	// messages of other kinds given it stay within its budget.
	for _, k := range []struct {
		kind   Kind
		field  *float64
		budget float64
	}{{Requested, &t.Requested, budgetRequested}, {Dispute, &t.Dispute, budgetDispute}, {OffTopic, &t.OffTopic, budgetOffTopic}, {Situation, &t.Situation, budgetSituation}} {
		others := 0
		for _, e := range validation {
			if e.Label != k.kind {
				others++
			}
		}
		for i := len(grid) - 1; i >= 0 && grid[i] >= minKindThreshold; i-- {
			prev := *k.field
			*k.field = grid[i]
			if !within(foundAs(all, t, k.kind), others, k.budget) {
				*k.field = prev
				break
			}
		}
	}
	// Cautions last: they give way to hand-overs.
	bestScore = -1
	for _, cc := range grid {
		for _, cs := range grid {
			if cc > t.UrgentCrisis || cs > t.UrgentSafeguarding {
				continue
			}
			try := t
			try.CautionCrisis, try.CautionSafeguarding = cc, cs
			r := evaluate(try)
			if !within(r.Other.Urgent+r.Other.Caution, r.Other.N, budgetCaution) {
				continue
			}
			score := 2*frac(r.Crisis.Urgent+r.Crisis.Caution, r.Crisis.N) + frac(r.Safeguarding.Urgent+r.Safeguarding.Caution, r.Safeguarding.N)
			if score >= bestScore {
				bestScore, t.CautionCrisis, t.CautionSafeguarding = score, cc, cs
			}
		}
	}
	return choice{t: t, report: evaluate(t)}
}

// foundAs counts the examples not labelled k that t gives the verdict k.
func foundAs(all []scored, t Thresholds, k Kind) int {
	n := 0
	for i := range all {
		if all[i].e.Label != k && all[i].verdict(t).Kind == k {
			n++
		}
	}
	return n
}

func frac(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// file writes the thresholds and their validation figures as
// thresholds.txt.
func (ch choice) file(nTrain, nValidation int) []byte {
	var b bytes.Buffer
	t, r := ch.t, ch.report
	fmt.Fprintf(&b, `# Thresholds of the safety classifier, written by "askpa safety train".
# Do not edit by hand: retrain instead (go generate ./bot/safety).
#
# Trained on %d examples of the train split; chosen on the %d examples of
# the validation split, never on the test split:
#   urgent-*: the probability of the group (crisis, safeguarding) at which
#     a message is handed over as urgent, chosen to find the most crisis and
#     safeguarding messages (crisis counting double) while no more than
#     %.0f%% of the other messages are urgent;
#   caution-*: at which a message gets the signposting line above its
#     answer, within %.0f%% of the other messages (urgent or caution);
#   requested, dispute, offtopic, situation: the probability of that kind
#     at which it is reported, within %.0f%%, %.0f%%, %.0f%% and %.0f%% of the
#     messages of other kinds.
#
# On the validation split, with these thresholds:
#   crisis urgent with a crisis script:             %s
#   safeguarding urgent with a safeguarding script: %s
#   crisis or safeguarding urgent or cautioned:     %s
#   other messages urgent:                          %s
#   other messages cautioned:                       %s

urgent-crisis        %.2f
urgent-safeguarding  %.2f
caution-crisis       %.2f
caution-safeguarding %.2f
requested            %.2f
dispute              %.2f
offtopic             %.2f
situation            %.2f
`, nTrain, nValidation, 100*budgetUrgent, 100*budgetCaution,
		100*budgetRequested, 100*budgetDispute, 100*budgetOffTopic, 100*budgetSituation,
		ratio(r.Crisis.RightGroup, r.Crisis.N), ratio(r.Safeguarding.RightGroup, r.Safeguarding.N),
		ratio(r.Danger.Urgent+r.Danger.Caution, r.Danger.N), ratio(r.Other.Urgent, r.Other.N), ratio(r.Other.Caution, r.Other.N),
		t.UrgentCrisis, t.UrgentSafeguarding, t.CautionCrisis, t.CautionSafeguarding,
		t.Requested, t.Dispute, t.OffTopic, t.Situation)
	return b.Bytes()
}
