package backoff

import (
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	p := Policy{Base: time.Second, Max: 10 * time.Second}
	tests := []struct {
		n        int
		rnd      float64
		want     time.Duration
		describe string
	}{
		{1, 0, 500 * time.Millisecond, "first failure, least jitter: half the base"},
		{1, 0.999999, time.Second - time.Microsecond, "first failure, most jitter: nearly the base"},
		{0, 0, 500 * time.Millisecond, "below 1 counts as the first"},
		{3, 0, 2 * time.Second, "doubles: 4 s, jittered down to half"},
		{5, 0, 5 * time.Second, "16 s is over the maximum: 10 s, halved"},
		{1000, 0, 5 * time.Second, "no overflow after many failures"},
	}
	for _, tt := range tests {
		if got := p.Delay(tt.n, tt.rnd); got.Round(time.Millisecond) != tt.want.Round(time.Millisecond) {
			t.Errorf("%s: Delay(%d, %v) = %v, want %v", tt.describe, tt.n, tt.rnd, got, tt.want)
		}
	}
	for n := 1; n < 70; n++ {
		if d := p.Next(n); d < p.Base/2 || d > p.Max {
			t.Fatalf("Next(%d) = %v, outside [%v, %v]", n, d, p.Base/2, p.Max)
		}
	}
}
