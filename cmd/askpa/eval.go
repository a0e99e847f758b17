package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/knowledge"
)

// evalCase is one line of an evaluation set (see design.md).
type evalCase struct {
	ID       string     `json:"id"`
	Audience string     `json:"audience"`
	Q        string     `json:"q"`
	Facts    [][]string `json:"facts"`
	Escalate bool       `json:"escalate"`
	Offtopic bool       `json:"offtopic"`
}

// factsNeeded is the share of a question's facts its answer must contain.
const factsNeeded = 0.6

// evalResult is the verdict on one case.
type evalResult struct {
	ID        string     `json:"id"`
	Pass      bool       `json:"pass"`
	Found     int        `json:"facts_found"`
	Facts     int        `json:"facts"`
	Missing   [][]string `json:"missing_facts,omitempty"`
	Escalated bool       `json:"escalated"`
	Want      bool       `json:"want_escalate"`
	Offtopic  bool       `json:"offtopic,omitempty"`
	Answered  bool       `json:"answered"`
	Passage   string     `json:"passage,omitempty"`
	// Chars is the length, in characters, of what the person sees first
	// (the answer before More), when answered.
	Chars    int      `json:"answer_chars,omitempty"`
	Problems []string `json:"problems,omitempty"`
}

// evalTotals are the metrics of a whole run.
type evalTotals struct {
	Questions        int     `json:"questions"`
	Passed           int     `json:"passed"`
	PassRate         float64 `json:"pass_rate"`
	FactRecall       float64 `json:"fact_recall"`
	EscalationCases  int     `json:"escalation_cases"`
	EscalationRecall float64 `json:"escalation_recall"`
	FalseEscalations int     `json:"false_escalations"`
	OfftopicCases    int     `json:"offtopic_cases"`
	OfftopicRefused  float64 `json:"offtopic_refused"`
	// MedianChars is the median of the answered questions' Chars.
	MedianChars int `json:"median_answer_chars"`
}

// judge scores one answer against its case.
func judge(c evalCase, a bot.Answer) evalResult {
	r := evalResult{ID: c.ID, Facts: len(c.Facts), Escalated: a.Escalate, Want: c.Escalate, Offtopic: c.Offtopic, Answered: a.Answered, Passage: a.PassageID}
	if a.Answered {
		r.Chars = utf8.RuneCountInString(a.Text)
	}
	text := strings.ToLower(a.Text)
	for _, item := range c.Facts {
		ok := false
		for _, spelling := range item {
			if strings.Contains(text, strings.ToLower(spelling)) {
				ok = true
				break
			}
		}
		if ok {
			r.Found++
		} else {
			r.Missing = append(r.Missing, item)
		}
	}
	if r.Facts > 0 && float64(r.Found) < factsNeeded*float64(r.Facts) {
		r.Problems = append(r.Problems, fmt.Sprintf("found %d of %d facts", r.Found, r.Facts))
	}
	if a.Escalate != c.Escalate {
		r.Problems = append(r.Problems, fmt.Sprintf("escalate: want %v, got %v", c.Escalate, a.Escalate))
	}
	if c.Offtopic && a.Answered {
		r.Problems = append(r.Problems, "off-topic question was answered")
	}
	r.Pass = len(r.Problems) == 0
	return r
}

func total(rs []evalResult) evalTotals {
	t := evalTotals{Questions: len(rs)}
	var facts, found, escalated, refused int
	var lengths []int
	for _, r := range rs {
		if r.Answered {
			lengths = append(lengths, r.Chars)
		}
		if r.Pass {
			t.Passed++
		}
		facts += r.Facts
		found += r.Found
		if r.Want {
			t.EscalationCases++
			if r.Escalated {
				escalated++
			}
		} else if r.Escalated {
			t.FalseEscalations++
		}
		if r.Offtopic {
			t.OfftopicCases++
			if !r.Answered {
				refused++
			}
		}
	}
	t.PassRate = ratio(t.Passed, t.Questions)
	t.FactRecall = ratio(found, facts)
	t.EscalationRecall = ratio(escalated, t.EscalationCases)
	t.OfftopicRefused = ratio(refused, t.OfftopicCases)
	t.MedianChars = median(lengths)
	return t
}

// median returns the middle of xs (the mean of the two middle ones for an
// even count, rounded down), 0 for none.
func median(xs []int) int {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// ratio is n/d, or 1 when there is nothing to measure.
func ratio(n, d int) float64 {
	if d == 0 {
		return 1
	}
	return float64(n) / float64(d)
}

// runEval answers every question of an evaluation set and reports how many
// pass; it fails (exit 1) when a metric is below its flag's bar.
func runEval(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fl := flag.NewFlagSet("eval", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var ef engineFlags
	ef.register(fl, getenv)
	minPass := fl.Float64("min-pass", 0, "fail when the pass rate is below this (0-1)")
	minRecall := fl.Float64("min-escalation-recall", 0, "fail when fewer of the escalation cases escalate (0-1)")
	maxFalse := fl.Int("max-false-escalations", -1, "fail when more questions escalate that should not (-1: no limit)")
	minOfftopic := fl.Float64("min-offtopic-refused", 0, "fail when fewer off-topic questions are left unanswered (0-1)")
	asJSON := fl.Bool("json", false, "print results as JSON lines: one per question, then the totals")
	verbose := fl.Bool("v", false, "print the answer of every failing question")
	if err := fl.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fl.NArg() != 1 {
		return usageError{"eval needs exactly one evaluation file"}
	}
	cases, err := readEvalFile(fl.Arg(0))
	if err != nil {
		return err
	}
	a, err := ef.open(ctx, warnings(stderr))
	if err != nil {
		return err
	}
	defer a.Close()

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	var results []evalResult
	for _, c := range cases {
		audience, err := knowledge.ParseAudience(c.Audience)
		if err != nil {
			return fmt.Errorf("%s: case %s: %w", fl.Arg(0), c.ID, err)
		}
		ans, err := a.engine.Answer(ctx, c.Q, audience)
		if err != nil {
			return err
		}
		r := judge(c, ans)
		results = append(results, r)
		switch {
		case *asJSON:
			b, _ := json.Marshal(r)
			fmt.Fprintf(out, "%s\n", b)
		case r.Pass:
			fmt.Fprintf(out, "PASS %-6s facts %d/%d  %s\n", r.ID, r.Found, r.Facts, r.Passage)
		default:
			fmt.Fprintf(out, "FAIL %-6s facts %d/%d  %s: %s", r.ID, r.Found, r.Facts, r.Passage, strings.Join(r.Problems, "; "))
			if len(r.Missing) > 0 {
				fmt.Fprintf(out, "; missing %s", missingList(r.Missing))
			}
			fmt.Fprintln(out)
			if *verbose {
				fmt.Fprintf(out, "       question: %s\n       answer: %s\n", c.Q, strings.ReplaceAll(ans.Text, "\n", "\n               "))
			}
		}
	}
	t := total(results)
	if *asJSON {
		b, _ := json.Marshal(t)
		fmt.Fprintf(out, "%s\n", b)
	} else {
		fmt.Fprintf(out, "\n%d questions: %d passed (%.0f%%), fact recall %.0f%%, escalation recall %.0f%% of %d, %d false escalations, off-topic refused %.0f%% of %d\n",
			t.Questions, t.Passed, 100*t.PassRate, 100*t.FactRecall, 100*t.EscalationRecall, t.EscalationCases, t.FalseEscalations, 100*t.OfftopicRefused, t.OfftopicCases)
		fmt.Fprintf(out, "what a person sees first, when answered: median %d characters\n", t.MedianChars)
	}
	var below []string
	if t.PassRate < *minPass {
		below = append(below, fmt.Sprintf("pass rate %.2f < %.2f", t.PassRate, *minPass))
	}
	if t.EscalationRecall < *minRecall {
		below = append(below, fmt.Sprintf("escalation recall %.2f < %.2f", t.EscalationRecall, *minRecall))
	}
	if *maxFalse >= 0 && t.FalseEscalations > *maxFalse {
		below = append(below, fmt.Sprintf("%d false escalations > %d", t.FalseEscalations, *maxFalse))
	}
	if t.OfftopicRefused < *minOfftopic {
		below = append(below, fmt.Sprintf("off-topic refused %.2f < %.2f", t.OfftopicRefused, *minOfftopic))
	}
	if len(below) > 0 {
		out.Flush()
		fmt.Fprintf(stderr, "eval: below the bar: %s\n", strings.Join(below, "; "))
		return exitError{1}
	}
	return nil
}

func missingList(items [][]string) string {
	var parts []string
	for _, it := range items {
		parts = append(parts, strings.Join(it, " | "))
	}
	return "[" + strings.Join(parts, "], [") + "]"
}

// readEvalFile reads an evaluation set, naming the line of any bad entry.
func readEvalFile(path string) ([]evalCase, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cases []evalCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var c evalCase
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if c.Q == "" {
			return nil, fmt.Errorf("%s:%d: no question (q)", path, n)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("%s: no questions", path)
	}
	return cases, nil
}
