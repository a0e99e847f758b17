// Package bottest helps the tests of packages that drive the bot: it builds
// the real answer engine over the built-in knowledge base once per test
// binary, so end-to-end tests answer as the service does.
package bottest

import (
	"context"
	"sync"
	"testing"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/match"
	"github.com/askpa/askpa/content"
	"github.com/askpa/askpa/index"
	"github.com/askpa/askpa/knowledge"
)

var (
	once   sync.Once
	engine *bot.Engine
	err    error
)

// Engine returns the engine over the built-in knowledge base with an
// in-memory index and the built-in matcher and safety layer, as askpa
// serve answers. It fails tb when the knowledge base
// does not load.
func Engine(tb testing.TB) *bot.Engine {
	tb.Helper()
	once.Do(func() {
		var base *knowledge.Base
		if base, err = knowledge.Load(content.FS); err != nil {
			return
		}
		var ix *index.Index
		if ix, err = index.Open(context.Background(), base, index.Config{}); err != nil {
			return
		}
		var m *match.Matcher
		if m, err = match.Default(base, ix); err != nil {
			return
		}
		engine, err = bot.NewEngine(base, m, bot.EngineConfig{})
	})
	if err != nil {
		tb.Fatalf("building the answer engine: %v", err)
	}
	return engine
}
