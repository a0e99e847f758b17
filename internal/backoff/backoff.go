// Package backoff is askpa's one rule for waiting between attempts: waits
// that double from a base up to a maximum, with jitter so that many
// clients that failed together do not retry together.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Policy waits Base after the first failure, doubling after each further
// one up to Max, each wait jittered to between half and all of that.
type Policy struct {
	Base, Max time.Duration
}

// Delay returns the wait after failure n (1, 2, ...; less than 1 counts as
// 1), given rnd in [0, 1) for the jitter.
func (p Policy) Delay(n int, rnd float64) time.Duration {
	n = max(n, 1)
	d := p.Max
	if n < 40 {
		if x := p.Base << (n - 1); x > 0 && x < p.Max {
			d = x
		}
	}
	return d/2 + time.Duration(rnd*float64(d/2))
}

// Next returns the wait after failure n, with random jitter.
func (p Policy) Next(n int) time.Duration {
	return p.Delay(n, rand.Float64()) // #nosec G404 -- jitter only
}
