package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSafetyCommands runs "askpa safety check" and "askpa safety eval" on
// the built-in data, from the repository's root as a person would.
func TestSafetyCommands(t *testing.T) {
	data := filepath.Join("..", "..", "bot", "safety", "data")
	out, errOut, code := runCmd(t, "", "safety", "check", "--data", data, "I want to kill myself, I have the tablets ready")
	if code != 0 || !strings.Contains(out, "verdict: urgent suicidal") || !strings.Contains(out, "word lists: suicidal") {
		t.Errorf("check: exit %d\n%s%s", code, out, errOut)
	}
	file := filepath.Join(t.TempDir(), "few.jsonl")
	mustWrite(t, file, `{"id": "a", "text": "my dad has collapsed and is not breathing", "label": "medical", "voice": "relative", "audience": "employer"}
{"id": "b", "text": "how many weeks of holiday does my PA get", "label": "ordinary", "voice": "person", "audience": "employer"}
`)
	out, errOut, code = runCmd(t, "", "safety", "eval", "--data", data, file)
	if code != 0 || !strings.Contains(out, "crisis urgent with a crisis script: 1/1") || !strings.Contains(out, "false urgent hand-overs (not crisis or safeguarding): 0/1") {
		t.Errorf("eval: exit %d\n%s%s", code, out, errOut)
	}
	if _, _, code := runCmd(t, "", "safety", "eval", "--data", data); code != 2 {
		t.Errorf("eval with nothing to read: exit %d, want 2", code)
	}
	mustWrite(t, file, "{\"id\": \"a\", \"text\": \"hi\", \"label\": \"sad\", \"voice\": \"person\", \"audience\": \"employer\"}\n")
	if _, errOut, code := runCmd(t, "", "safety", "eval", "--data", data, file); code != 1 || !strings.Contains(errOut, "few.jsonl:1: unknown label") {
		t.Errorf("eval of a bad file: exit %d, %s", code, errOut)
	}
}

// TestSafetyEvalCountsEverydayQuestions runs "askpa safety eval" on a
// split, which also checks the section matcher's questions of that split,
// leaving out those of the sections not-ordinary.txt names.
func TestSafetyEvalCountsEverydayQuestions(t *testing.T) {
	data := filepath.Join("..", "..", "bot", "safety", "data")
	corpus, questions := t.TempDir(), t.TempDir()
	mustWrite(t, filepath.Join(corpus, "validation", "w.jsonl"), `{"id": "a", "text": "how many weeks of holiday does my PA get", "label": "ordinary", "voice": "person", "audience": "employer"}
`)
	mustWrite(t, filepath.Join(corpus, "not-ordinary.txt"), "# harm\nemergency-help\n")
	mustWrite(t, filepath.Join(questions, "validation", "q.jsonl"), `{"id": "Q-1", "section": "holiday-entitlement#x", "q": "how much holiday for a PA on 3 days a week", "voice": "employer"}
{"id": "Q-2", "section": "pa-your-pay#y", "q": "when do i get my payslip", "voice": "pa"}
{"id": "Q-3", "section": "emergency-help#z", "q": "i want to end my life", "voice": "employer"}
`)
	out, errOut, code := runCmd(t, "", "safety", "eval", "--data", data, "--corpus", corpus, "--questions", questions, "validation")
	if code != 0 || !strings.Contains(out, "the section matcher's validation questions (everyday, but those of not-ordinary.txt's sections): urgent 0/2 (0.0%), cautioned 0/2 (0.0%)") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
	if err := os.Remove(filepath.Join(corpus, "not-ordinary.txt")); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runCmd(t, "", "safety", "eval", "--data", data, "--corpus", corpus, "--questions", questions, "validation"); code != 1 || !strings.Contains(errOut, "not-ordinary.txt") {
		t.Errorf("without not-ordinary.txt: exit %d, %s; want an error naming it", code, errOut)
	}
}

// TestMatchEval runs "askpa match eval" on a few questions and prints the
// matcher's and the index's section accuracy side by side.
func TestMatchEval(t *testing.T) {
	file := filepath.Join(t.TempDir(), "few.jsonl")
	mustWrite(t, file, `{"id": "T-1", "section": "workplace-pensions#do-you-have-to-put-your-pa-in-a-workplace-pension-scheme", "q": "do i have to put my PA in a pension", "voice": "employer"}
`)
	out, errOut, code := runCmd(t, "", "match", "eval", file)
	if code != 0 || !strings.Contains(out, "top-1 section: 1/1") || !strings.Contains(out, "the search index alone: top-1") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}

	// A question labelled with a section that does not exist: its first
	// three sections are to be judged, and the judge's packet has their
	// text.
	mustWrite(t, file, `{"id": "T-2", "section": "workplace-pensions#no-such-section", "q": "do i have to put my PA in a pension", "voice": "employer"}
`)
	judged, packet := t.TempDir(), filepath.Join(t.TempDir(), "packet.md")
	out, errOut, code = runCmd(t, "", "match", "eval", "--judged", judged, "--unjudged", packet, file)
	if code != 0 || !strings.Contains(out, "(3 sections not yet judged count as wrong)") {
		t.Fatalf("with --unjudged: exit %d\n%s%s", code, out, errOut)
	}
	b, err := os.ReadFile(packet)
	if err != nil {
		t.Fatal(err)
	}
	if p := string(b); strings.Count(p, "## item T-2\n") != 3 || !strings.Contains(p, "section A: workplace-pensions#no-such-section") ||
		!strings.Contains(p, "=== workplace-pensions#do-you-have-to-put-your-pa-in-a-workplace-pension-scheme\nGuide: ") {
		t.Errorf("the judge's packet:\n%s", p)
	}
}
