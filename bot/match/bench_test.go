package match_test

import (
	"testing"

	"github.com/askpa/askpa/bot/bottest"
	"github.com/askpa/askpa/bot/match"
)

// BenchmarkDefault is the cost of loading the built-in matcher (the model
// and the train split's remembered questions) over the built-in knowledge
// base: most of what askpa serve does before it is ready.
func BenchmarkDefault(b *testing.B) {
	base, ix := bottest.Index(b)
	for b.Loop() {
		if _, err := match.Default(base, ix); err != nil {
			b.Fatal(err)
		}
	}
}
