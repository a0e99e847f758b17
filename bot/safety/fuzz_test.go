package safety

import (
	"context"
	"math"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/askpa/askpa/knowledge"
)

// fuzzChecker returns the built-in checker, failing the fuzz target when
// it does not load.
func fuzzChecker(f *testing.F) *Checker {
	f.Helper()
	c, err := Default()
	if err != nil {
		f.Fatalf("safety.Default: %v", err)
	}
	return c
}

// FuzzNormaliseIdempotent checks what Normalise's doc comment promises on
// any input: valid UTF-8 with no NUL, lowered (unicode.ToLower) letters, digits and "£"
// between single spaces, only the first 4,000 characters read. Normalised
// text is normalised already: Normalise leaves it as it is, with no
// spellings and with the built-in ones (whose meanings are never
// themselves chat spellings), so the word lists, normalised once when
// loaded, and messages are read alike.
func FuzzNormaliseIdempotent(f *testing.F) {
	spellings := fuzzChecker(f).spellings
	for _, s := range []string{
		"Can't BREATHE!!", "u ok?", "  lots   of\tspace\n", "£12.71 an hour", "it’s 3am",
		"bad\x00byte\xffhere", "", "İSTANBUL ǅ ß ẞ Σ", "ur PA cant come, im on my own",
		"a\u0301b", "١٢٣ ٤", "x\u200by", strings.Repeat("é", 4001),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, sp := range []map[string]string{nil, spellings} {
			got := Normalise(s, sp)
			if !utf8.ValidString(got) || strings.ContainsRune(got, 0) || strings.Contains(got, "  ") || strings.TrimSpace(got) != got {
				t.Fatalf("Normalise(%q) = %q: want valid, single-spaced, trimmed text without NUL", s, got)
			}
			for _, c := range got {
				// "ℋ" is upper case with no lower case: lowering leaves it.
				if c != ' ' && c != '£' && !unicode.IsLetter(c) && !unicode.IsDigit(c) || unicode.ToLower(c) != c {
					t.Fatalf("Normalise(%q) = %q holds %q", s, got, c)
				}
			}
			if again := Normalise(got, sp); again != got {
				t.Fatalf("Normalise is not idempotent (spellings: %v):\n  Normalise(%q) = %q\n  Normalise(%q) = %q", sp != nil, s, got, got, again)
			}
		}
		// Only the first 4,000 characters count.
		if s != "" {
			long := strings.Repeat(s, maxRunes/max(1, utf8.RuneCountInString(s))+1)
			if utf8.RuneCountInString(long) < maxRunes {
				return // bytes of s joined into fewer characters
			}
			if a, b := Normalise(long, nil), Normalise(long+"kill myself", nil); a != b {
				t.Fatalf("text after the first %d characters changed the result", maxRunes)
			}
		}
	})
}

// FuzzCheck runs the built-in checker on any text: it never panics, and its
// verdict is one the rest of askpa can act on: a known kind at a level that
// fits it, probabilities in [0, 1], a second kind only when it is another
// danger kind, and the same verdict for the text as for its normalised
// form.
func FuzzCheck(f *testing.F) {
	c := fuzzChecker(f)
	for _, s := range []string{
		"I want to kill myself, I have the tablets ready",
		"my husband hits me and I am scared to go home",
		"how much holiday does a PA get if she works three days a week",
		"can I speak to a real person please",
		"the council have cut my direct payment in half and I want to appeal",
		"u ok? im not", "", "\x00\xff", "!!!", "£££ 999 111",
	} {
		f.Add(s, false)
	}
	f.Add("how long do I roast a chicken for", true)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, s string, pa bool) {
		audience := knowledge.Employer
		if pa {
			audience = knowledge.PA
		}
		v := c.Check(ctx, s, audience)
		if !v.Kind.Valid() {
			t.Fatalf("Check(%q): kind %q", s, v.Kind)
		}
		switch v.Level {
		case LevelUrgent, LevelCaution:
			if !v.Kind.Danger() {
				t.Fatalf("Check(%q): %s for kind %s", s, v.Level, v.Kind)
			}
		case LevelHandOver:
			if v.Kind != Requested && v.Kind != Dispute {
				t.Fatalf("Check(%q): hand-over for kind %s", s, v.Kind)
			}
		case LevelNone:
			if v.Kind != Ordinary && v.Kind != Situation && v.Kind != OffTopic {
				t.Fatalf("Check(%q): no action for kind %s", s, v.Kind)
			}
		default:
			t.Fatalf("Check(%q): level %d", s, v.Level)
		}
		for name, p := range map[string]float64{"probability": v.Probability, "danger": v.Danger} {
			if math.IsNaN(p) || p < 0 || p > 1+1e-9 {
				t.Fatalf("Check(%q): %s %v", s, name, p)
			}
		}
		if v.Also != "" && (!v.Also.Danger() || v.Also == v.Kind) {
			t.Fatalf("Check(%q): also %q with kind %q", s, v.Also, v.Kind)
		}
		if v.By != "model" && v.By != "rule" {
			t.Fatalf("Check(%q): by %q", s, v.By)
		}
		if w := c.Check(ctx, Normalise(s, c.spellings), audience); w != v {
			t.Fatalf("Check(%q) = %+v but Check of its normalised form = %+v", s, v, w)
		}
	})
}
