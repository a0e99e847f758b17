package bot_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/bottest"
	"github.com/askpa/askpa/knowledge"
)

// safetyCase is one message of testdata/safety_cases.yaml and what must
// happen to it.
type safetyCase struct {
	Q        string   `yaml:"q"`
	As       string   `yaml:"as"`   // employer or pa; empty for both
	Want     string   `yaml:"want"` // crisis, safeguarding, requested, dispute, none, smalltalk
	Rule     string   `yaml:"rule"`
	Contains []string `yaml:"contains"`
}

type safetySuite struct {
	Numbers      map[string][]string `yaml:"numbers"`
	DisputeSteps []string            `yaml:"dispute_steps"`
	Cases        []safetyCase        `yaml:"cases"`
}

func loadSafetySuite(tb testing.TB) safetySuite {
	tb.Helper()
	raw, err := os.ReadFile("testdata/safety_cases.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	var s safetySuite
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		tb.Fatalf("testdata/safety_cases.yaml: %v", err)
	}
	return s
}

// safetyEngine returns the real engine (the built-in knowledge base, an
// in-memory index and the default rules) and its knowledge base.
func safetyEngine(tb testing.TB) (*bot.Engine, *knowledge.Base) {
	tb.Helper()
	e := bottest.Engine(tb)
	return e, e.Base()
}

func defaultRules(tb testing.TB) *bot.Rules {
	tb.Helper()
	r, err := bot.DefaultRules()
	if err != nil {
		tb.Fatalf("DefaultRules: %v", err)
	}
	return r
}

func (c safetyCase) audiences() []knowledge.Audience {
	if c.As == "" {
		return []knowledge.Audience{knowledge.Employer, knowledge.PA}
	}
	return []knowledge.Audience{knowledge.Audience(c.As)}
}

func ruleIDs(rs []*bot.Rule) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

// TestSafetyCases runs every message of testdata/safety_cases.yaml through
// the rules and through the real engine, as each audience it names.
func TestSafetyCases(t *testing.T) {
	suite := loadSafetySuite(t)
	rules := defaultRules(t)
	eng, _ := safetyEngine(t)
	for i, c := range suite.Cases {
		for _, aud := range c.audiences() {
			name := fmt.Sprintf("%03d-%s-%s", i+1, c.Want, aud)
			t.Run(name, func(t *testing.T) {
				v := rules.Check(c.Q, aud)
				a, err := eng.Answer(context.Background(), c.Q, aud)
				if err != nil {
					t.Fatalf("Answer(%q): %v", c.Q, err)
				}
				checkSafetyCase(t, suite, rules, c, v, a)
			})
		}
	}
}

// checkSafetyCase checks what the rules found (v) and what the engine
// answered (a) for one case.
func checkSafetyCase(t testing.TB, suite safetySuite, rules *bot.Rules, c safetyCase, v bot.Verdict, a bot.Answer) {
	t.Helper()
	norm := rules.Normalize(c.Q)
	got := string(v.Category)
	if got == "" {
		got = "none"
	}
	want := c.Want
	if want == "smalltalk" {
		want = "none"
	}
	if got != want {
		t.Fatalf("%q\nnormalised %q\nrules say %s %v, want %s", c.Q, norm, got, ruleIDs(v.Rules), want)
	}
	switch c.Want {
	case "crisis", "safeguarding":
		if !slices.Contains(ruleIDs(v.Rules), c.Rule) {
			t.Errorf("%q\nnormalised %q\nmatched rules %v, want %s among them", c.Q, norm, ruleIDs(v.Rules), c.Rule)
		}
		if !a.Escalate || !a.Urgent || a.Reason != c.Want {
			t.Errorf("%q: escalate=%v urgent=%v reason=%q, want an urgent %s hand-over", c.Q, a.Escalate, a.Urgent, a.Reason, c.Want)
		}
		for _, s := range a.Sources {
			if s.ID != "emergency-help" {
				t.Errorf("%q: reply drawn from %s, want only emergency signposting, never a search answer", c.Q, s.ID)
			}
		}
		if len(a.Sources) == 0 {
			t.Errorf("%q: reply has no signposting source", c.Q)
		}
		for _, n := range append(slices.Clone(suite.Numbers[c.Rule]), c.Contains...) {
			if !strings.Contains(a.Text, n) {
				t.Errorf("%q: reply lacks %q:\n%s", c.Q, n, a.Text)
			}
		}
	case "requested":
		if !a.Escalate || a.Urgent || a.Reason != bot.ReasonRequested {
			t.Errorf("%q: escalate=%v urgent=%v reason=%q, want a non-urgent requested hand-over", c.Q, a.Escalate, a.Urgent, a.Reason)
		}
		if strings.TrimSpace(a.Text) == "" {
			t.Errorf("%q: empty reply", c.Q)
		}
	case "dispute":
		if !a.Escalate || a.Urgent || a.Reason != bot.ReasonDispute {
			t.Errorf("%q: escalate=%v urgent=%v reason=%q, want a non-urgent dispute hand-over", c.Q, a.Escalate, a.Urgent, a.Reason)
		}
		if !a.Answered || len(a.Sources) == 0 {
			t.Errorf("%q: dispute answered=%v with %d sources, want a first step from the knowledge base", c.Q, a.Answered, len(a.Sources))
		}
		lower := strings.ToLower(a.Text)
		if !slices.ContainsFunc(suite.DisputeSteps, func(s string) bool { return strings.Contains(lower, strings.ToLower(s)) }) {
			t.Errorf("%q: dispute reply names none of the first steps %v:\n%s", c.Q, suite.DisputeSteps, a.Text)
		}
		for _, n := range c.Contains {
			if !strings.Contains(a.Text, n) {
				t.Errorf("%q: reply lacks %q:\n%s", c.Q, n, a.Text)
			}
		}
	case "none":
		if st := rules.SmallTalk(c.Q); st != nil {
			t.Errorf("%q: taken as small talk (%s), want it searched", c.Q, st.ID)
		}
		if a.Escalate || a.Urgent {
			t.Errorf("%q: escalate=%v urgent=%v reason=%q, want no hand-over for a plain question", c.Q, a.Escalate, a.Urgent, a.Reason)
		}
	case "smalltalk":
		st := rules.SmallTalk(c.Q)
		if st == nil || st.ID != c.Rule {
			id := "nothing"
			if st != nil {
				id = st.ID
			}
			t.Fatalf("%q\nnormalised %q\nsmall talk matched %s, want %s", c.Q, norm, id, c.Rule)
		}
		if a.Escalate || a.Urgent || a.Answered {
			t.Errorf("%q: escalate=%v urgent=%v answered=%v, want a small-talk reply", c.Q, a.Escalate, a.Urgent, a.Answered)
		}
		if opening, _, _ := strings.Cut(st.Say, "{"); !strings.HasPrefix(a.Text, opening) {
			t.Errorf("%q: reply %q, want the %s reply", c.Q, a.Text, st.ID)
		}
	default:
		t.Fatalf("case %q: unknown want %q", c.Q, c.Want)
	}
}

// TestSafetySuiteCoverage keeps the case list broad: enough phrasings per
// category, and every urgent rule exercised.
func TestSafetySuiteCoverage(t *testing.T) {
	suite := loadSafetySuite(t)
	count := map[string]int{}
	perRule := map[string]int{}
	seen := map[string]bool{}
	for _, c := range suite.Cases {
		key := strings.ToLower(c.Q) + "|" + c.As
		if seen[key] {
			t.Errorf("case %q is listed twice", c.Q)
		}
		seen[key] = true
		count[c.Want]++
		if c.Want == "crisis" || c.Want == "safeguarding" {
			if _, ok := suite.Numbers[c.Rule]; !ok {
				t.Errorf("case %q: rule %q has no entry in numbers", c.Q, c.Rule)
			}
			perRule[c.Rule]++
		}
	}
	minimum := map[string]int{"crisis": 20, "safeguarding": 20, "requested": 20, "dispute": 20, "none": 40, "smalltalk": 10}
	for cat, n := range minimum {
		if count[cat] < n {
			t.Errorf("%d %s cases, want at least %d", count[cat], cat, n)
		}
	}
	for id := range suite.Numbers {
		if perRule[id] < 5 {
			t.Errorf("rule %s has %d cases, want at least 5", id, perRule[id])
		}
	}
	// Every urgent rule of the built-in rules must be in numbers, so that
	// each has its signposting checked, and numbers must name only rules
	// that exist.
	urgent := urgentRuleIDs(t)
	for _, id := range urgent {
		if _, ok := suite.Numbers[id]; !ok {
			t.Errorf("urgent rule %s is not covered by testdata/safety_cases.yaml", id)
		}
	}
	for id := range suite.Numbers {
		if !slices.Contains(urgent, id) {
			t.Errorf("numbers names %s, which is not an urgent rule of safety.yaml", id)
		}
	}
	t.Logf("cases: %v", count)
}

// urgentRuleIDs finds the ids of the crisis and safeguarding rules by
// parsing the built-in safety.yaml.
func urgentRuleIDs(tb testing.TB) []string {
	tb.Helper()
	raw, err := os.ReadFile("safety.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	var f struct {
		Rules []struct {
			ID       string `yaml:"id"`
			Category string `yaml:"category"`
		} `yaml:"rules"`
	}
	if err := yaml.Unmarshal(raw, &f); err != nil {
		tb.Fatal(err)
	}
	var ids []string
	for _, r := range f.Rules {
		if r.Category == "crisis" || r.Category == "safeguarding" {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) == 0 {
		tb.Fatal("no urgent rules found in safety.yaml")
	}
	return ids
}
