package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/askpa/askpa/bot"
)

// runCmd runs askpa with args and returns its output and exit code.
func runCmd(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut, func(string) string { return "" })
	var ee exitError
	var ue usageError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.code
	case errors.As(err, &ue):
		code = 2
	default:
		errOut.WriteString(err.Error())
		code = 1
	}
	return out.String(), errOut.String(), code
}

func TestAskJSON(t *testing.T) {
	out, errOut, code := runCmd(t, "", "ask", "--memory", "--json", "--audience", "pa", "how much sick pay do I get from April 2026")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var a bot.Answer
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if !a.Answered || a.Audience != "pa" || !strings.Contains(a.Text, "£123.25") || len(a.Sources) == 0 || a.Confidence <= 0 || a.Confidence > 1 {
		t.Errorf("answer = %+v", a)
	}
	for _, key := range []string{`"question"`, `"audience"`, `"answered"`, `"answer"`, `"sources"`, `"confidence"`, `"escalate"`, `"urgent"`, `"reason"`, `"suggestions"`} {
		if !strings.Contains(out, key) {
			t.Errorf("JSON lacks %s: %s", key, out)
		}
	}
}

func TestAskReadsOneQuestionPerLine(t *testing.T) {
	in := "how much holiday does a PA get\n\ntell me a joke\nI want to talk to a real person\n"
	out, errOut, code := runCmd(t, in, "ask", "--memory", "--json", "--audience", "employer", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines for 3 questions:\n%s", len(lines), out)
	}
	want := []struct {
		q                  string
		answered, escalate bool
	}{
		{"how much holiday does a PA get", true, false},
		{"tell me a joke", false, false},
		{"I want to talk to a real person", false, true},
	}
	for i, l := range lines {
		var a bot.Answer
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatal(err)
		}
		if a.Question != want[i].q || a.Answered != want[i].answered || a.Escalate != want[i].escalate {
			t.Errorf("line %d: %+v, want %+v", i+1, a, want[i])
		}
	}
}

func TestAskHumanReadable(t *testing.T) {
	out, _, code := runCmd(t, "", "ask", "--memory", "does a PA need a zebra telescope for knitting")
	if code != 0 || !strings.Contains(out, "not answered") || !strings.Contains(out, "not sure") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"ask", "--memory"},
		{"ask", "--memory", "--audience", "carer", "holiday"},
		{"eval", "--memory"},
	} {
		if _, _, code := runCmd(t, "", args...); code != 2 {
			t.Errorf("askpa %q: exit %d, want 2", args, code)
		}
	}
}

// TestHelp: "-h" after a command with subcommands prints that command's
// usage and succeeds, rather than calling -h an unknown subcommand.
func TestHelp(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-h"}, "commands:"},
		{[]string{"match", "-h"}, "askpa match train"},
		{[]string{"safety", "--help"}, "askpa safety train"},
	} {
		out, _, code := runCmd(t, "", c.args...)
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("askpa %q: exit %d, output %.60q; want exit 0 and %q", c.args, code, out, c.want)
		}
	}
}

func TestLintNamesFileAndLine(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "topics.yaml"), "- id: pay\n  label: Pay\n  audience: both\n")
	mustWrite(t, filepath.Join(dir, "guidance", "bad.md"), "---\nid: bad\ntitle: Bad\nkind: leaflet\naudience: employer\ntopics: [pay]\nsummary: s\nreviewed: 2026-11-01\nsources: [https://www.gov.uk/]\nquestions: [q]\n---\n\n## Heading\n\nText.\n")
	out, _, code := runCmd(t, "", "lint", "--today", "2026-11-22", dir)
	if code != 1 || !strings.Contains(out, "guidance/bad.md:4: kind \"leaflet\" is not one of") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
	_, errOut, code := runCmd(t, "", "lint", filepath.Join(dir, "missing"))
	if code != 1 || !strings.Contains(errOut, "missing") {
		t.Errorf("missing directory: exit %d, %s", code, errOut)
	}
}

func TestLintBuiltInContent(t *testing.T) {
	out, errOut, code := runCmd(t, "", "lint")
	if code != 0 {
		t.Errorf("the built-in knowledge base has problems:\n%s%s", out, errOut)
	}
}

func TestEvalReportsAndEnforcesTheBar(t *testing.T) {
	out, errOut, code := runCmd(t, "", "eval", "--memory", "testdata/small-eval.jsonl")
	if code != 0 {
		t.Fatalf("eval without a bar failed: %d %s", code, errOut)
	}
	for _, want := range []string{
		"PASS t1", "PASS t2", "PASS t3",
		"FAIL t4", "missing [a figure no answer contains], [another missing figure]",
		"4 questions: 3 passed (75%)", "escalation recall 100% of 1", "off-topic refused 100% of 1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
	_, errOut, code = runCmd(t, "", "eval", "--memory", "--min-pass", "0.9", "testdata/small-eval.jsonl")
	if code != 1 || !strings.Contains(errOut, "pass rate 0.75 < 0.90") {
		t.Errorf("below the bar: exit %d, %s", code, errOut)
	}
	out, _, _ = runCmd(t, "", "eval", "--memory", "--json", "testdata/small-eval.jsonl")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var totals evalTotals
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &totals); err != nil || totals.Questions != 4 || totals.Passed != 3 {
		t.Errorf("JSON totals = %+v (%v)", totals, err)
	}
	// What a person sees first is reported, and stays within a phone
	// screen (the engine's default of 900 characters, beyond a first
	// paragraph).
	var chars []int
	for _, l := range lines[:len(lines)-1] {
		var r evalResult
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		if r.Answered {
			chars = append(chars, r.Chars)
		}
	}
	if len(chars) == 0 || totals.MedianChars != median(chars) || totals.MedianChars <= 0 || totals.MedianChars > 900 {
		t.Errorf("median first screen %d of %v, want their median, within 900", totals.MedianChars, chars)
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		xs   []int
		want int
	}{{nil, 0}, {[]int{5}, 5}, {[]int{900, 10, 300}, 300}, {[]int{4, 1, 3, 2}, 2}} {
		if got := median(tt.xs); got != tt.want {
			t.Errorf("median(%v) = %d, want %d", tt.xs, got, tt.want)
		}
	}
}

func TestEvalRejectsBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.jsonl")
	mustWrite(t, path, `{"id": "x", "q": "holiday", "audience": "employer"}`+"\n"+`{"id": "y", "q": }`+"\n")
	_, errOut, code := runCmd(t, "", "eval", "--memory", path)
	if code != 1 || !strings.Contains(errOut, "bad.jsonl:2:") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// TestPublicEvaluationSet holds the answer engine to a bar just below what
// it reaches on the public sample: at least 85% passes (with the trained
// matcher, which was never tuned to this sample, 24 of its 26; the search
// index alone reached 26 on the earlier content only after being tuned
// to it), every escalation case escalates and no off-topic question is
// answered. The sample lives outside
// the repository: ASKPA_PUBLIC_EVAL names it (.ci/run sets it), else
// shared/eval beside the checkout; without it the test is skipped.
func TestPublicEvaluationSet(t *testing.T) {
	path := os.Getenv("ASKPA_PUBLIC_EVAL")
	if path == "" {
		path = filepath.Join("..", "..", "..", "shared", "eval", "public.jsonl")
	}
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no public evaluation set at %s (set ASKPA_PUBLIC_EVAL)", path)
	}
	out, errOut, code := runCmd(t, "", "eval", "--memory", "--min-pass", "0.85", "--min-escalation-recall", "1", "--min-offtopic-refused", "1", path)
	if code != 0 {
		t.Errorf("public evaluation below the bar: %s\n%s", errOut, out)
	}
}

// TestDevelopmentEvaluationSet keeps the wider development set (written
// from the facts, not from the content) from sliding back: it guards the
// knowledge base and the ranking against regressions, and every one of its
// crisis, safeguarding, dispute and hand-over cases must escalate. (131 of
// 160 pass; the bar sits just below.) Two of its ordinary questions are
// handed over as disputes since the safety brief counts live conflicts
// with an employer or the council as disputes (a council recovering a
// surplus, a PA just dismissed who asks about a tribunal): the set's
// labels and the brief differ there, so two false escalations are allowed.
func TestDevelopmentEvaluationSet(t *testing.T) {
	out, errOut, code := runCmd(t, "", "eval", "--memory", "--min-pass", "0.8", "--min-escalation-recall", "1",
		"--max-false-escalations", "2", "--min-offtopic-refused", "1", filepath.Join("..", "..", "testdata", "eval", "dev.jsonl"))
	if code != 0 {
		t.Errorf("development evaluation below the bar: %s\n%s", errOut, out)
	}
}

func TestIndexBuildsOnceThenReuses(t *testing.T) {
	data := t.TempDir()
	out, errOut, code := runCmd(t, "", "index", "--data", data)
	if code != 0 || !strings.HasPrefix(out, "index built") {
		t.Fatalf("first index: exit %d %q %s", code, out, errOut)
	}
	out, _, _ = runCmd(t, "", "index", "--data", data)
	if !strings.HasPrefix(out, "index up to date") {
		t.Errorf("second index: %q", out)
	}
	out, _, _ = runCmd(t, "", "index", "--data", data, "--force")
	if !strings.HasPrefix(out, "index built") {
		t.Errorf("forced index: %q", out)
	}
	// ask uses the stored index.
	out, _, code = runCmd(t, "", "ask", "--data", data, "how much holiday does a PA get")
	if code != 0 || !strings.Contains(out, "5.6 weeks") {
		t.Errorf("ask with the stored index: %d %s", code, out)
	}
}

func mustWrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
