package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/bottest"
	"github.com/askpa/askpa/postgres"
	"github.com/askpa/askpa/postgres/pgtest"
	"github.com/askpa/askpa/sqlite"
)

func BenchmarkRenderTenThousandCharacters(b *testing.B) {
	r := bot.Reply{Text: tenThousand(), Sources: []bot.Source{{Title: "Guide", URL: "https://example.org"}},
		Buttons: [][]bot.Button{{{Label: "Helpful", Action: bot.ActionHelpful}}}}
	for b.Loop() {
		render(r)
	}
}

// BenchmarkEventAcknowledged measures how long Slack waits for its answer
// (it gives up after 3 seconds): verifying one event and writing it to the
// intake, while the bot takes 5 ms to answer each in the background. The
// intake is in memory (the cost of everything but the store), SQLite on
// disk, or PostgreSQL when ASKPA_TEST_DATABASE_URL is set.
func BenchmarkEventAcknowledged(b *testing.B) {
	for _, st := range benchStores(b) {
		b.Run(st.name, func(b *testing.B) {
			bottest.OneAtATime(b, benchEvents(b, st), unseenID(), eventRequest)
		})
	}
}

// BenchmarkEventAcknowledgedTogether is BenchmarkEventAcknowledged with
// events arriving together, 16 at a time for each CPU: its time per event
// is the wall-clock time over the events acknowledged, so it measures the
// rate, which the intake's group commit keeps up. Compare with httpapi's
// BenchmarkBareGinTogether.
func BenchmarkEventAcknowledgedTogether(b *testing.B) {
	for _, st := range benchStores(b) {
		b.Run(st.name, func(b *testing.B) {
			bottest.Together(b, benchEvents(b, st), unseenID(), eventRequest)
		})
	}
}

// benchEvents returns the events handler of a channel on st's intake,
// whose answers take 5 ms.
func benchEvents(b *testing.B, st benchStore) http.Handler {
	h := newHarness(b, func(c *Config) {
		if st.intake != nil {
			c.Intake = st.intake
		}
	})
	h.handler.answer = func(bot.Message) []bot.Reply { time.Sleep(5 * time.Millisecond); return nil }
	return h.ch.EventsHandler()
}

// unseenID returns an event number no earlier run in this process used:
// the channel drops an event it has seen, which costs nothing.
func unseenID() int64 { return time.Now().UnixNano() & (1<<48 - 1) }

// eventRequest is a signed event delivery of a direct message, event
// number id, from one of 50 people.
func eventRequest(id int64) *http.Request {
	body, _ := json.Marshal(map[string]any{"type": "event_callback", "team_id": testTeam, "event_id": "EvB" + strconv.FormatInt(id, 10),
		"event": dm("U"+strconv.FormatInt(id%50, 10), "holiday", "1.1")})
	now := time.Now()
	req := httptest.NewRequest(http.MethodPost, PathEvents, strings.NewReader(string(body)))
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("X-Slack-Signature", sign(testSecret, now, string(body)))
	return req
}

// benchStore is an intake to benchmark; nil means the harness's in-memory one.
type benchStore struct {
	name   string
	intake bot.Intake
}

func benchStores(b *testing.B) []benchStore {
	ctx := context.Background()
	lite, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "askpa.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { lite.Close() })
	stores := []benchStore{{name: "memory"}, {name: "sqlite", intake: lite}}
	if os.Getenv(pgtest.EnvVar) != "" {
		pg, err := postgres.Open(ctx, pgtest.URL(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { pg.Close() })
		stores = append(stores, benchStore{name: "postgres", intake: pg})
	}
	return stores
}
