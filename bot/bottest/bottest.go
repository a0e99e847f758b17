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
	indexOnce sync.Once
	base      *knowledge.Base
	ix        *index.Index
	indexErr  error

	engineOnce sync.Once
	engine     *bot.Engine
	engineErr  error
)

// Index returns the built-in knowledge base and an in-memory index of it,
// built once per test binary. It fails tb when the knowledge base does not
// load.
func Index(tb testing.TB) (*knowledge.Base, *index.Index) {
	tb.Helper()
	indexOnce.Do(func() {
		if base, indexErr = knowledge.Load(content.FS); indexErr != nil {
			return
		}
		ix, indexErr = index.Open(context.Background(), base, index.Config{})
	})
	if indexErr != nil {
		tb.Fatalf("building the index: %v", indexErr)
	}
	return base, ix
}

// Engine returns the engine over the built-in knowledge base with an
// in-memory index and the built-in matcher and safety layer, as askpa
// serve answers. It fails tb when they do not load.
func Engine(tb testing.TB) *bot.Engine {
	tb.Helper()
	b, x := Index(tb)
	engineOnce.Do(func() {
		var m *match.Matcher
		if m, engineErr = match.Default(b, x); engineErr != nil {
			return
		}
		engine, engineErr = bot.NewEngine(b, m, bot.EngineConfig{})
	})
	if engineErr != nil {
		tb.Fatalf("building the answer engine: %v", engineErr)
	}
	return engine
}
