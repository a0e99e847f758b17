package safety_test

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/askpa/askpa/bot/safety"
)

// dataWith returns the built-in data files with one file replaced.
func dataWith(tb testing.TB, name, content string) fstest.MapFS {
	tb.Helper()
	fsys := fstest.MapFS{}
	entries, err := os.ReadDir("data")
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile("data/" + e.Name())
		if err != nil {
			tb.Fatal(err)
		}
		fsys[e.Name()] = &fstest.MapFile{Data: b}
	}
	fsys[name] = &fstest.MapFile{Data: []byte(content)}
	return fsys
}

// TestLoadNamesTheProblem breaks each data file an editor maintains and
// checks that loading fails naming the file (and line) at fault.
func TestLoadNamesTheProblem(t *testing.T) {
	words, _ := os.ReadFile("data/words.txt")
	replies, _ := os.ReadFile("data/replies.md")
	thresholds, _ := os.ReadFile("data/thresholds.txt")
	long := "[suicidal] too long\n" + strings.Repeat("one, ", 33) + "\n"
	tests := []struct{ name, file, content, want string }{
		{"phrases before a list", "words.txt", "suicide\n", "words.txt:1: phrases before the first [list]"},
		{"a list too long", "words.txt", long + "[domain] x\npa\n", "words.txt:2: list [suicidal] has more than 32 entries"},
		{"a short prefix", "words.txt", "[domain] x\npa*\n", `words.txt:2: "pa*": a word ending in * needs at least three letters`},
		{"a list twice", "words.txt", string(words) + "\n[domain] again\npa\n", "list [domain] is defined twice"},
		{"no person rule", "rules.txt", "[other] x\nhello\n", "rules.txt: no [person] rule"},
		{"a spelling without meaning", "spellings.txt", "u you\nwot\n", "spellings.txt:2: want a spelling and what it means"},
		{"an unknown kind", "replies.md", string(replies) + "\n## sadness\n", `is not a crisis or safeguarding kind`},
		{"a reply without other", "replies.md", strings.Replace(string(replies), "\n### other\n", "\n### others\n", 1), "want ### self or ### other"},
		{"a missing threshold", "thresholds.txt", strings.Replace(string(thresholds), "\ndispute ", "\n# dispute ", 1), "thresholds.txt: dispute is missing"},
		{"a threshold out of range", "thresholds.txt", strings.Replace(string(thresholds), "\nofftopic ", "\nofftopic 1.5 #", 1), "offtopic: \"1.5\" is not a probability"},
		{"a model that is not one", "kinds.model", "hello", "kinds.model: safety: not a model file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := safety.Load(dataWith(t, tt.file, tt.content))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load: %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := safety.Load(dataWith(t, "words.txt", string(words))); err != nil {
		t.Errorf("the built-in data: %v", err)
	}
}
