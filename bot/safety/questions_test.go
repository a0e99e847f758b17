package safety_test

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/askpa/askpa/bot/safety"
	"github.com/askpa/askpa/content"
	"github.com/askpa/askpa/knowledge"
)

func TestQuestionExamplesLeaveOutSectionsThatMayBeDanger(t *testing.T) {
	not, err := safety.ReadNotOrdinary(fstest.MapFS{"list.txt": {Data: []byte("# a comment\n\nemergency-help\npa-staying-safe#if-you-are-hurt\n")}}, "list.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Join([]string{
		`{"id": "Q-1", "section": "sick-pay#rates", "q": "how much sick pay if my PA dies of flu", "voice": "employer"}`,
		`{"id": "Q-2", "section": "emergency-help#if-someone-is-hurt", "q": "mum has collapsed", "voice": "relative"}`,
		`{"id": "Q-3", "section": "pa-staying-safe#if-you-are-hurt", "q": "he hit me", "voice": "pa"}`,
		`{"id": "Q-4", "section": "pa-staying-safe#lone-working", "q": "do i need a lone working plan", "voice": "pa"}`,
		`{"id": "Q-5", "section": "none", "q": "what is the weather", "voice": "pa"}`,
	}, "\n")
	ex, err := safety.QuestionExamples(fstest.MapFS{"train/q.jsonl": {Data: []byte(lines)}}, "train", not)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range ex {
		if e.Label != safety.Ordinary {
			t.Errorf("%s: label %s, want ordinary", e.ID, e.Label)
		}
		ids = append(ids, e.ID+"/"+e.Voice+"/"+e.Audience)
	}
	if got, want := strings.Join(ids, " "), "Q-1/person/employer Q-4/pa/pa"; got != want {
		t.Errorf("examples %s, want %s", got, want)
	}

	_, err = safety.QuestionExamples(fstest.MapFS{"train/q.jsonl": {Data: []byte(`{"id": "Q-1", "section": "s#a", "q": "hi", "voice": "cat"}`)}}, "train", not)
	if err == nil || !strings.Contains(err.Error(), "train/q.jsonl:1: voice \"cat\"") {
		t.Errorf("a bad voice: %v, want an error naming the file and line", err)
	}
	if _, err := safety.ReadNotOrdinary(fstest.MapFS{"list.txt": {Data: []byte("emergency-help\nsick pay\n")}}, "list.txt"); err == nil || !strings.Contains(err.Error(), "list.txt:2:") {
		t.Errorf("a line with a space: %v, want an error naming the file and line", err)
	}
}

// TestNotOrdinaryNamesRealSections checks every guide and section of the
// corpus's not-ordinary.txt against the knowledge base, so that a renamed
// section does not quietly let its questions back in.
func TestNotOrdinaryNamesRealSections(t *testing.T) {
	not, err := safety.ReadNotOrdinary(os.DirFS("testdata/corpus"), "not-ordinary.txt")
	if err != nil {
		t.Fatal(err)
	}
	base, err := knowledge.Load(content.FS)
	if err != nil {
		t.Fatal(err)
	}
	for name := range not {
		if strings.Contains(name, "#") {
			if _, ok := base.Passage(name); !ok {
				t.Errorf("not-ordinary.txt names %s, which is not a section of the knowledge base", name)
			}
		} else if base.Document(name) == nil {
			t.Errorf("not-ordinary.txt names %s, which is not a guide of the knowledge base", name)
		}
	}
}
