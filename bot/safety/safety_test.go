package safety_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"unicode"
	"unicode/utf8"

	"github.com/askpa/askpa/bot/safety"
	"github.com/askpa/askpa/knowledge"
)

func TestNormalise(t *testing.T) {
	spellings := map[string]string{"u": "you", "cant": "cannot"}
	tests := []struct{ in, want string }{
		{"Can't BREATHE!!", "cannot breathe"},
		{"u ok?", "you ok"},
		{"  lots   of\tspace\n", "lots of space"},
		{"£12.71 an hour", "£12 71 an hour"},
		{"it’s 3am", "its 3am"},
		{"bad\x00byte\xffhere", "bad byte here"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := safety.Normalise(tt.in, spellings); got != tt.want {
			t.Errorf("Normalise(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNormalise(f *testing.F) {
	for _, s := range []string{"Can't BREATHE!!", "u ok?", "bad\x00byte\xff", "ÀÉÎ õü", "日本語 text"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := safety.Normalise(s, map[string]string{"u": "you"})
		if !utf8.ValidString(got) || strings.Contains(got, "  ") || strings.TrimSpace(got) != got || strings.ContainsRune(got, 0) {
			t.Fatalf("Normalise(%q) = %q: want valid, single-spaced, trimmed text", s, got)
		}
		for _, c := range got {
			if unicode.IsUpper(c) && unicode.ToLower(c) != c { // "ℋ" has no lower case
				t.Fatalf("Normalise(%q) = %q keeps upper case", s, got)
			}
		}
	})
}

// TestCheck checks messages whose meaning no one could doubt, in words
// written for this test (not taken from any corpus split). A classifier
// that gets one of these wrong has broken.
func TestCheck(t *testing.T) {
	c := defaultChecker(t)
	tests := []struct {
		audience knowledge.Audience
		msg      string
		level    safety.Level
		group    safety.Group
		self     bool
	}{
		{knowledge.Employer, "I want to kill myself, I have the tablets ready", safety.LevelUrgent, safety.GroupCrisis, true},
		{knowledge.PA, "the man I support says he is going to end his life tonight", safety.LevelUrgent, safety.GroupCrisis, false},
		{knowledge.Employer, "my dad has collapsed on the kitchen floor and is not breathing", safety.LevelUrgent, safety.GroupCrisis, false},
		{knowledge.Employer, "my husband hits me and I am scared to go home", safety.LevelUrgent, safety.GroupSafeguarding, true},
		{knowledge.PA, "my employer's son grabbed me and said he would hurt me if I told anyone", safety.LevelUrgent, safety.GroupSafeguarding, true},
		{knowledge.Employer, "my PA has been taking money from my purse and using my bank card", safety.LevelUrgent, safety.GroupSafeguarding, true},
		{knowledge.Employer, "how much holiday does a PA get if she works three days a week", safety.LevelNone, safety.GroupNone, false},
		{knowledge.PA, "how much statutory sick pay will I get", safety.LevelNone, safety.GroupNone, false},
		{knowledge.Employer, "can I speak to a real person please", safety.LevelHandOver, safety.GroupRequested, false},
		{knowledge.Employer, "the council have cut my direct payment in half and I want to appeal", safety.LevelHandOver, safety.GroupDispute, false},
	}
	for _, tt := range tests {
		x := c.Explain(context.Background(), tt.msg, tt.audience)
		v := x.Verdict
		if v.Level != tt.level || v.Group() != tt.group {
			t.Errorf("%q: %s %s (p=%.2f), want %s of group %q\n  probabilities %v", tt.msg, v.Level, v.Kind, v.Probability, tt.level, tt.group, x.Probabilities)
			continue
		}
		if tt.level == safety.LevelUrgent && v.Self != tt.self {
			t.Errorf("%q: self = %v, want %v (the reply would speak to the wrong person)", tt.msg, v.Self, tt.self)
		}
	}
}

func TestCheckConversation(t *testing.T) {
	c := defaultChecker(t)
	ctx := context.Background()
	// The first message alone is an ordinary question; the second makes
	// the conversation urgent. (The second is urgent on its own too; how
	// messages are weighed together is TestCombine's.)
	adds := []string{"my mum's PA does her shopping, is that allowed from the direct payment", "the thing is mum's savings have gone and the PA has a new car and mum won't say why"}
	if v := c.CheckConversation(ctx, adds, knowledge.Employer); !v.Urgent() || v.Group() != safety.GroupSafeguarding {
		t.Errorf("a worrying second message: %s %s by %s, want urgent safeguarding", v.Level, v.Kind, v.By)
	}
	// The second message explains the first away.
	contrast := []string{"my client is on the floor", "she is fine, she was only doing her physio exercises on the mat. Do I record that as an activity?"}
	if v := c.CheckConversation(ctx, contrast, knowledge.PA); v.Urgent() {
		t.Errorf("a first message explained away: %s %s by %s, want not urgent", v.Level, v.Kind, v.By)
	}
	if v := c.CheckConversation(ctx, nil, knowledge.PA); v.Kind != safety.Ordinary || v.Level != safety.LevelNone {
		t.Errorf("no messages: %+v, want an ordinary verdict", v)
	}
}

func TestWithout(t *testing.T) {
	c := defaultChecker(t)
	got := c.Without("Can someone ring me back? My PA has not been paid for June")
	if strings.Contains(got, "ring me back") || !strings.Contains(got, "my pa has not been paid for june") {
		t.Errorf("Without = %q, want the question without the request", got)
	}
}

func TestNamesDomain(t *testing.T) {
	c := defaultChecker(t)
	for msg, want := range map[string]bool{
		"can my direct payment pay for a train ticket": true,
		"does my PA get paid for bank holidays":        true,
		"how long do I roast a chicken for":            false,
	} {
		if got := c.NamesDomain(msg); got != want {
			t.Errorf("NamesDomain(%q) = %v, want %v", msg, got, want)
		}
	}
}

// TestRepliesGiveTheNumbers checks that every urgent reply, to the person
// and to someone writing about them, gives the numbers that kind of
// situation needs (shared/facts.md section I), and that every caution line
// gives at least one.
func TestRepliesGiveTheNumbers(t *testing.T) {
	c := defaultChecker(t)
	need := map[safety.Kind][]string{
		safety.Suicidal:       {"116 123", "111", "option 2", "85258", "999"},
		safety.Medical:        {"999", "111"},
		safety.Abuse:          {"999", "safeguarding", "101", "0808 808 8141"},
		safety.DomesticAbuse:  {"999", "55", "0808 2000 247", "0808 801 0327"},
		safety.Neglect:        {"999", "111", "safeguarding"},
		safety.FinancialAbuse: {"safeguarding", "101", "0808 808 8141"},
		safety.PAHarmed:       {"999", "101", "0300 123 1100"},
		safety.Exploitation:   {"999", "08000 121 700", "0800 808 3733"},
		safety.Medicines:      {"999", "111", "safeguarding"},
	}
	for _, k := range safety.Kinds {
		r, ok := c.Reply(k)
		if ok != k.Danger() {
			t.Errorf("%s: has a reply %v, want %v", k, ok, k.Danger())
			continue
		}
		if !ok {
			continue
		}
		for _, self := range []bool{true, false} {
			script := r.Script(self)
			for _, n := range need[k] {
				if !strings.Contains(script, n) {
					t.Errorf("%s (self %v): reply lacks %q:\n%s", k, self, n, script)
				}
			}
		}
		if !strings.ContainsAny(r.Line, "0123456789") || !strings.HasPrefix(r.Guide, "emergency-help#") {
			t.Errorf("%s: line %q and guide %q: want a number in the line and an emergency-help section", k, r.Line, r.Guide)
		}
	}
}

// TestValidationSplit holds the built-in classifier to what it scored on
// the validation split when it was trained (see data/thresholds.txt), so a
// change that makes it worse fails here. The test split is not read.
func TestValidationSplit(t *testing.T) {
	c := defaultChecker(t)
	ex, err := safety.ReadCorpus(os.DirFS("testdata/corpus"), "validation")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Evaluate(context.Background(), ex)
	atLeast := func(what string, got, n int, want float64) {
		if float64(got) < want*float64(n) {
			t.Errorf("%s: %d/%d, want at least %.0f%%", what, got, n, 100*want)
		}
	}
	atLeast("crisis urgent with a crisis script", r.Crisis.RightGroup, r.Crisis.N, 0.95)
	atLeast("safeguarding urgent with a safeguarding script", r.Safeguarding.RightGroup, r.Safeguarding.N, 0.94)
	if float64(r.Other.Urgent) > 0.01*float64(r.Other.N) {
		t.Errorf("false urgent hand-overs: %d/%d, want at most 1%%", r.Other.Urgent, r.Other.N)
	}
	if float64(r.Other.Caution) > 0.05*float64(r.Other.N) {
		t.Errorf("false cautions: %d/%d, want at most 5%%", r.Other.Caution, r.Other.N)
	}
}

// TestTestSplitIsFrozen fails when a file of the test split changes: the
// split is written once, and any change must be visible in review.
func TestTestSplitIsFrozen(t *testing.T) {
	sums, err := os.ReadFile("testdata/corpus/test/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		want, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("SHA256SUMS: bad line %q", line)
		}
		data, err := os.ReadFile("testdata/corpus/test/" + name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s has changed since the test split was frozen", name)
		}
		files++
	}
	entries, _ := os.ReadDir("testdata/corpus/test")
	if files == 0 || files != len(entries)-1 {
		t.Errorf("SHA256SUMS lists %d files, the folder holds %d", files, len(entries)-1)
	}
}

func TestReadCorpusNamesFileAndLine(t *testing.T) {
	good := `{"id": "a", "text": "hello", "label": "ordinary", "voice": "person", "audience": "employer"}`
	tests := []struct{ name, line, want string }{
		{"not JSON", `{"id": `, "x/a.jsonl:2:"},
		{"unknown label", `{"id": "b", "text": "hi", "label": "sad", "voice": "person", "audience": "employer"}`, `x/a.jsonl:2: unknown label "sad"`},
		{"unknown field", `{"id": "b", "text": "hi", "label": "ordinary", "voice": "person", "audience": "employer", "lable": "x"}`, "x/a.jsonl:2:"},
		{"no text", `{"id": "b", "label": "ordinary", "voice": "person", "audience": "employer"}`, "x/a.jsonl:2: want either text or turns"},
		{"duplicate id", good, `x/a.jsonl:2: id "a" is used before, at x/a.jsonl:1`},
		{"bad voice", `{"id": "b", "text": "hi", "label": "ordinary", "voice": "cat", "audience": "employer"}`, `x/a.jsonl:2: voice "cat"`},
		{"empty turn", `{"id": "b", "turns": ["hi", " "], "label": "ordinary", "voice": "pa", "audience": "pa"}`, "x/a.jsonl:2: an empty message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"x/a.jsonl": {Data: []byte(good + "\n" + tt.line + "\n")}}
			_, err := safety.ReadCorpus(fsys, "x")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	ex, err := safety.ReadCorpus(fstest.MapFS{"x/a.jsonl": {Data: []byte(good + "\n\n")}}, "x")
	if err != nil || len(ex) != 1 || ex[0].File != "x/a.jsonl:1" {
		t.Errorf("a good file: %v, %+v", err, ex)
	}
}
