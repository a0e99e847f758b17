package safety

import "testing"

// TestCombine checks how a conversation's verdict is made from the
// verdicts on its last message, its recent messages together and the
// message before the last.
func TestCombine(t *testing.T) {
	none := Verdict{Kind: Ordinary, Danger: 0.02}
	caution := Verdict{Kind: Abuse, Level: LevelCaution, Danger: 0.2}
	urgent := Verdict{Kind: Abuse, Level: LevelUrgent, Danger: 0.8}
	request := Verdict{Kind: Requested, Level: LevelHandOver, Danger: 0.01}
	tests := []struct {
		name                     string
		last, together, previous Verdict
		want                     Level
		by                       string
	}{
		{"the last message is urgent alone", urgent, none, none, LevelUrgent, ""},
		{"a second message adds the worrying detail", none, urgent, caution, LevelUrgent, "conversation"},
		{"a second message explains the first away", none, caution, urgent, LevelNone, ""},
		{"together no worse than the last", caution, caution, none, LevelCaution, ""},
		{"a request belongs to its own message", none, request, none, LevelNone, ""},
	}
	for _, tt := range tests {
		v := combine(tt.last, tt.together, tt.previous)
		if v.Level != tt.want || v.By != tt.by {
			t.Errorf("%s: %s by %q, want %s by %q", tt.name, v.Level, v.By, tt.want, tt.by)
		}
	}
}
