package editdistance

import "testing"

func TestOSA(t *testing.T) {
	vowels := func(x, y rune) int {
		if isVowel(x) && isVowel(y) {
			return 1
		}
		return 2
	}
	for _, tt := range []struct {
		a, b  string
		limit int
		sub   func(x, y rune) int
		want  int
	}{
		{"holiday", "holiday", 2, nil, 0},
		{"holliday", "holiday", 2, nil, 1},
		{"hoilday", "holiday", 2, nil, 1}, // swapped neighbours count once
		{"maternaty", "maternity", 2, nil, 1},
		{"maternaty", "matern", 2, nil, 3}, // cut short past the limit
		{"abc", "xyz", 1, nil, 2},
		{"suicidel", "suicidal", 1, vowels, 1}, // one vowel for another
		{"cooking", "choking", 1, vowels, 2},   // not a likely slip
	} {
		if got := OSA(tt.a, tt.b, tt.limit, tt.sub); got != tt.want {
			t.Errorf("OSA(%q, %q, %d) = %d, want %d", tt.a, tt.b, tt.limit, got, tt.want)
		}
	}
}

func isVowel(r rune) bool { return r == 'a' || r == 'e' || r == 'i' || r == 'o' || r == 'u' }
