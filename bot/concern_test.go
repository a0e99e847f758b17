package bot

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/askpa/askpa/content"
	"github.com/askpa/askpa/knowledge"
)

var updateConcern = flag.Bool("update-concern", false, "retrain bot/concern_model.txt from the examples")

// concernExample is one message the concern model learns from, with the
// index of its class in concernClasses.
type concernExample struct {
	text  string
	class int
	from  string // the file it came from
}

// concernEvalSets are the development and held-out question sets the
// model learns from. The public sample in ../shared/eval is never used.
const concernEvalSets = "../testdata/eval/*.jsonl"

// concernOffTopicFiles hold messages about other things entirely, one a
// line, for the model's off-topic class.
const concernOffTopicFiles = "testdata/offtopic_*.txt"

// plainRules returns the built-in rules without the concern model.
func plainRules(tb testing.TB) *Rules {
	tb.Helper()
	r, err := ParseRules(defaultSafetyRules, defaultSmallTalkRules)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func classIndex(tb testing.TB, c Category) int {
	tb.Helper()
	i := slices.Index(concernClasses, c)
	if i < 0 {
		tb.Fatalf("no concern class %q", c)
	}
	return i
}

// concernExamples gathers the training messages: the safety cases (near
// misses and small talk as ordinary), the evaluation sets, and every
// question the knowledge base answers, as ordinary.
func concernExamples(tb testing.TB) []concernExample {
	tb.Helper()
	var out []concernExample

	raw, err := os.ReadFile("testdata/safety_cases.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	var suite struct {
		Cases []struct {
			Q    string `yaml:"q"`
			Want string `yaml:"want"`
			Rule string `yaml:"rule"`
		} `yaml:"cases"`
	}
	if err := yaml.Unmarshal(raw, &suite); err != nil {
		tb.Fatalf("testdata/safety_cases.yaml: %v", err)
	}
	for _, c := range suite.Cases {
		class := 0
		switch {
		case c.Want == "smalltalk" && strings.HasPrefix(c.Rule, "off-topic"):
			class = classIndex(tb, classOffTopic)
		case c.Want != "none" && c.Want != "smalltalk":
			class = classIndex(tb, Category(c.Want))
		}
		out = append(out, concernExample{c.Q, class, "safety_cases.yaml"})
	}

	offTopic, err := filepath.Glob(concernOffTopicFiles)
	if err != nil || len(offTopic) == 0 {
		tb.Fatalf("no off-topic examples match %s", concernOffTopicFiles)
	}
	for _, path := range offTopic {
		raw, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		for _, line := range strings.Split(string(raw), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				out = append(out, concernExample{line, classIndex(tb, classOffTopic), filepath.Base(path)})
			}
		}
	}

	sets, err := filepath.Glob(concernEvalSets)
	if err != nil || len(sets) == 0 {
		tb.Fatalf("no evaluation sets match %s", concernEvalSets)
	}
	for _, path := range sets {
		out = append(out, evalExamples(tb, path)...)
	}

	base, err := knowledge.Load(content.FS)
	if err != nil {
		tb.Fatal(err)
	}
	for _, d := range base.Documents {
		if d.Kind == knowledge.Signposting {
			continue // the emergency pages' own questions are about emergencies
		}
		for _, q := range d.Questions {
			out = append(out, concernExample{q, 0, d.ID})
		}
	}
	return out
}

// evalExamples reads one evaluation set (JSON lines).
func evalExamples(tb testing.TB, path string) []concernExample {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []concernExample
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		var c struct {
			Q        string     `json:"q"`
			Facts    [][]string `json:"facts"`
			Escalate bool       `json:"escalate"`
			OffTopic bool       `json:"offtopic"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			tb.Fatalf("%s:%d: %v", path, n, err)
		}
		cat := evalCategory(c.Facts, c.Escalate)
		if c.OffTopic {
			cat = classOffTopic
		}
		out = append(out, concernExample{c.Q, classIndex(tb, cat), filepath.Base(path)})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// evalCategory infers which kind of hand-over an evaluation question
// expects from the facts its answer must carry: the evaluation sets say
// only whether to escalate.
func evalCategory(facts [][]string, escalate bool) Category {
	if !escalate {
		return ""
	}
	if len(facts) == 0 {
		return CategoryRequested
	}
	var words []string
	for _, alts := range facts {
		words = append(words, alts...)
	}
	all := strings.ToLower(strings.Join(words, " | "))
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(all, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("116 123", "85258", "samaritans"):
		return CategoryCrisis
	case has("review", "complain", "appeal", "acas", "reconsideration"):
		return CategoryDispute
	case has("safeguarding", "0808", "08000", "101", "hourglass"):
		return CategorySafeguarding
	case has("999", "111"):
		return CategoryCrisis
	}
	return CategorySafeguarding
}

// train fits a model to examples as the rules normalise them.
func train(r *Rules, examples []concernExample) *concernModel {
	texts := make([]string, len(examples))
	classes := make([]int, len(examples))
	for i, e := range examples {
		texts[i] = r.Normalize(e.text)
		classes[i] = e.class
	}
	return trainConcernModel(texts, classes)
}

// TestConcernModel checks that concern_model.txt is the model the current
// examples train, and rewrites it with -update-concern.
func TestConcernModel(t *testing.T) {
	r := plainRules(t)
	var b bytes.Buffer
	train(r, concernExamples(t)).writeTo(&b)
	if *updateConcern {
		if err := os.WriteFile("concern_model.txt", b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	fresh, err := parseConcernModel(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	stored, err := parseConcernModel(defaultConcernModel)
	if err != nil {
		t.Fatal(err)
	}
	// Floating point may differ in the last places between machines, so
	// the weights are compared with a tolerance far below what one new
	// example changes.
	const tolerance = 0.01
	differ := func(a, b []float64) bool {
		for k := range concernClasses {
			var x, y float64
			if a != nil {
				x = a[k]
			}
			if b != nil {
				y = b[k]
			}
			if math.Abs(x-y) > tolerance {
				return true
			}
		}
		return false
	}
	stale := differ(fresh.bias, stored.bias)
	for f, w := range fresh.weights {
		stale = stale || differ(w, stored.weights[f])
	}
	for f, w := range stored.weights {
		stale = stale || differ(fresh.weights[f], w)
	}
	if stale {
		t.Fatal("concern_model.txt is out of date with the safety cases, evaluation sets or knowledge base; run: go test ./bot -run TestConcernModel -update-concern")
	}
}

// TestConcernModelGeneralises trains the model without one held-out set
// and checks that, on that set, it finds hand-overs the rules miss
// without handing over many ordinary questions: the reason it exists.
func TestConcernModelGeneralises(t *testing.T) {
	const heldOut = "holdout6.jsonl"
	r := plainRules(t)
	training, test := splitExamples(t, heldOut)
	offTopic := classIndex(t, classOffTopic)
	handOver := func(e concernExample) bool { return e.class != 0 && e.class != offTopic }
	escalated := func(r *Rules, text string) bool { return r.Check(text, "").Category != "" }
	before := tally(test, handOver, func(text string) bool { return escalated(r, text) })
	r.concern = train(plainRules(t), training)
	after := tally(test, handOver, func(text string) bool { return escalated(r, text) })
	ruleCaught, handOvers, ruleFalse, ordinary := before.hits, before.positives, before.falseHits, before.negatives
	modelCaught, modelFalse := after.hits, after.falseHits
	t.Logf("%s, never trained on: rules alone catch %d of %d hand-overs (%d false alarms in %d ordinary questions); with the model %d (%d false alarms)",
		heldOut, ruleCaught, handOvers, ruleFalse, ordinary, modelCaught, modelFalse)
	// At the time of writing: 17 of 45 rising to 34, false alarms 1 to 3
	// of 75. If the rules are ever tuned on this set, write a new one.
	if added := modelCaught - ruleCaught; added*5 < handOvers {
		t.Errorf("the model added %d hand-overs of %d; want at least a fifth", added, handOvers)
	}
	if added := modelFalse - ruleFalse; added*25 > ordinary {
		t.Errorf("the model added %d false alarms in %d ordinary questions; want at most 4%%", added, ordinary)
	}
}

// heldOutTally counts how a flag falls on held-out examples.
type heldOutTally struct {
	hits, positives      int // flagged, of the examples that should be
	falseHits, negatives int // flagged, of the others
}

// tally flags each example and counts the outcome against positive.
func tally(examples []concernExample, positive func(concernExample) bool, flagged func(text string) bool) heldOutTally {
	var c heldOutTally
	for _, e := range examples {
		f := flagged(e.text)
		if positive(e) {
			c.positives++
			if f {
				c.hits++
			}
			continue
		}
		c.negatives++
		if f {
			c.falseHits++
		}
	}
	return c
}

// splitExamples separates the examples from the evaluation sets heldOut
// from the rest.
func splitExamples(tb testing.TB, heldOut ...string) (training, test []concernExample) {
	tb.Helper()
	for _, e := range concernExamples(tb) {
		if slices.Contains(heldOut, e.from) {
			test = append(test, e)
		} else {
			training = append(training, e)
		}
	}
	if len(test) == 0 {
		tb.Fatalf("no examples from %v", heldOut)
	}
	return training, test
}

// TestOffTopicModelGeneralises trains the model without the three newest
// held-out sets and checks that, on them, it recognises off-topic messages
// the small-talk rules miss, without turning real questions away.
func TestOffTopicModelGeneralises(t *testing.T) {
	heldOut := []string{"holdout6.jsonl", "holdout7.jsonl", "holdout8.jsonl"}
	r := plainRules(t)
	training, test := splitExamples(t, heldOut...)
	offTopic := classIndex(t, classOffTopic)
	// Off-topic messages against ordinary questions; hand-overs aside.
	var examples []concernExample
	for _, e := range test {
		if e.class == 0 || e.class == offTopic {
			examples = append(examples, e)
		}
	}
	isOffTopic := func(e concernExample) bool { return e.class == offTopic }
	refused := func(text string) bool { return r.SmallTalk(text) != nil || r.OffTopic(text) != nil }
	before := tally(examples, isOffTopic, refused)
	r.concern = train(plainRules(t), training)
	after := tally(examples, isOffTopic, refused)
	ruleRefused, offTopics, ruleTurned, questions := before.hits, before.positives, before.falseHits, before.negatives
	modelRefused, modelTurned := after.hits, after.falseHits
	t.Logf("%v, never trained on: the small-talk rules refuse %d of %d off-topic messages (and %d of %d questions); with the model %d (and %d)",
		heldOut, ruleRefused, offTopics, ruleTurned, questions, modelRefused, modelTurned)
	// At the time of writing: 21 of 34 rising to 30, and 1 of 203
	// questions turned away (which the engine still answers, because the
	// knowledge base matches it well).
	if added := modelRefused - ruleRefused; added*3 < offTopics-ruleRefused {
		t.Errorf("the model refused %d more of the %d off-topic messages the rules missed; want at least a third", added, offTopics-ruleRefused)
	}
	if added := modelTurned - ruleTurned; added*100 > questions {
		t.Errorf("the model turned away %d of %d real questions; want at most 1%%", added, questions)
	}
}

// TestConcernRepliesSignpostEmergencyHelp checks that every reply the model
// can give carries the signposts its category needs.
func TestConcernRepliesSignpostEmergencyHelp(t *testing.T) {
	r, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	for _, cat := range categoryOrder {
		rule := r.concernRules[cat]
		if rule == nil || rule.Say == "" {
			t.Errorf("%s: no concern reply", cat)
			continue
		}
		if (Verdict{Category: cat}).Urgent() && len(rule.Signpost) == 0 {
			t.Errorf("%s: an urgent concern reply must signpost emergency help", cat)
		}
		if cat == CategoryDispute && !rule.Search {
			t.Errorf("dispute: the concern reply must still answer with a first step")
		}
	}
}

func TestParseConcernModelErrors(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"empty", "", "no bias line"},
		{"wrong header", "some other file\n", "line 1"},
		{"short row", concernHeader + "\nbias\t0\t0\t0\t0\t0\t0\nw:hit\t1\t2\n", "line 3"},
		{"bad number", concernHeader + "\nbias\t0\t0\tx\t0\t0\t0\n", "line 2"},
		{"no bias", concernHeader + "\nw:hit\t0\t1\t0\t0\t0\t0\n", "no bias line"},
		{"older model", "askpa concern model v1\nbias\t0\t0\t0\t0\t0\n", "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConcernModel([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one naming %q", err, tt.want)
			}
		})
	}
}

func TestConcernModelRoundTrip(t *testing.T) {
	m := &concernModel{
		bias:    []float64{1, -0.5, -0.5, -0.25, -0.25, -0.5},
		weights: map[string][]float64{"w:hit": {-1, 0.5, 2, 0, 0, 0}, "w:recip": {0, 0, 0, 0, 0, 3}, "w:tiny": {0.001, 0, 0, 0, 0, 0}},
	}
	var b bytes.Buffer
	m.writeTo(&b)
	got, err := parseConcernModel(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.bias, m.bias) || len(got.weights) != 2 || !slices.Equal(got.weights["w:hit"], m.weights["w:hit"]) {
		t.Fatalf("round trip: got %+v, want %+v without w:tiny", got, m)
	}
	if s := got.classify("he hit her"); s.category != CategorySafeguarding || s.concern < 0.5 || s.offTopic > 0.1 {
		t.Errorf("classify(he hit her) = %+v, want safeguarding above 0.5", s)
	}
	if s := got.classify("a recipe for scones"); s.offTopic < 0.5 || s.concern > 0.5 {
		t.Errorf("classify(a recipe for scones) = %+v, want off-topic above 0.5", s)
	}
}

// BenchmarkConcernClassify is what the model adds to a message no rule
// matched, after normalising.
func BenchmarkConcernClassify(b *testing.B) {
	m, err := parseConcernModel(defaultConcernModel)
	if err != nil {
		b.Fatal(err)
	}
	norm := plainRules(b).Normalize("honestly i am not coping, my PA didnt turn up again and the council still havent sorted my direct payment review")
	for b.Loop() {
		m.classify(norm)
	}
}

// BenchmarkParseConcernModel is what loading the model adds to startup.
func BenchmarkParseConcernModel(b *testing.B) {
	for b.Loop() {
		if _, err := parseConcernModel(defaultConcernModel); err != nil {
			b.Fatal(err)
		}
	}
}

// fixedHits is a Searcher that always finds one passage, as well as match.
type fixedHits struct {
	p     knowledge.Passage
	match float64
}

func (f fixedHits) Search(context.Context, knowledge.Query) ([]knowledge.Hit, error) {
	return []knowledge.Hit{{Passage: f.p, Score: 1, Match: f.match}}, nil
}

// TestOffTopicVerdictYieldsToTheKnowledgeBase checks when the model's
// off-topic verdict is the reply: only when the message names nothing
// askpa knows about and the knowledge base does not match it well.
func TestOffTopicVerdictYieldsToTheKnowledgeBase(t *testing.T) {
	base, err := knowledge.Load(content.FS)
	if err != nil {
		t.Fatal(err)
	}
	r := plainRules(t)
	// A model sure that every message is off-topic.
	r.concern = &concernModel{bias: []float64{0, 0, 0, 0, 0, 10}, weights: map[string][]float64{}}
	p := base.Passages()[0]
	tests := []struct {
		q        string
		match    float64
		answered bool
	}{
		{"how long do I boil an egg", 0.5, false},
		{"how long do I boil an egg", 0.8, true},         // the knowledge base matches well
		{"how long does my PA get for lunch", 0.5, true}, // names a PA
	}
	for _, tt := range tests {
		e, err := NewEngine(base, fixedHits{p, tt.match}, EngineConfig{Rules: r})
		if err != nil {
			t.Fatal(err)
		}
		a, err := e.Answer(context.Background(), tt.q, knowledge.Employer)
		if err != nil {
			t.Fatal(err)
		}
		if a.Answered != tt.answered || a.Escalate {
			t.Errorf("%q (match %.1f): answered=%v escalate=%v, want answered=%v", tt.q, tt.match, a.Answered, a.Escalate, tt.answered)
		}
		if !tt.answered && !strings.HasPrefix(a.Text, strings.SplitN(r.offTopicRule.Say, "{", 2)[0]) {
			t.Errorf("%q: reply %q, want the off-topic reply", tt.q, a.Text)
		}
	}
}
