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
	"sync/atomic"
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
			h := newHarness(b, func(c *Config) {
				if st.intake != nil {
					c.Intake = st.intake
				}
			})
			h.handler.answer = func(bot.Message) []bot.Reply { time.Sleep(5 * time.Millisecond); return nil }
			handler := h.ch.EventsHandler()
			var lat bottest.Latencies
			// Event ids no earlier run in this process used: the
			// channel drops an event it has seen, which costs nothing.
			i := int(time.Now().UnixNano() & (1<<48 - 1))
			for b.Loop() {
				i++
				body, _ := json.Marshal(map[string]any{"type": "event_callback", "team_id": testTeam, "event_id": "EvB" + strconv.Itoa(i),
					"event": dm("U"+strconv.Itoa(i%50), "holiday", "1.1")})
				now := time.Now()
				req := httptest.NewRequest(http.MethodPost, PathEvents, strings.NewReader(string(body)))
				req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix(), 10))
				req.Header.Set("X-Slack-Signature", sign(testSecret, now, string(body)))
				w := httptest.NewRecorder()
				lat.Time(func() { handler.ServeHTTP(w, req) })
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
			lat.Report(b)
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
			h := newHarness(b, func(c *Config) {
				if st.intake != nil {
					c.Intake = st.intake
				}
			})
			h.handler.answer = func(bot.Message) []bot.Reply { time.Sleep(5 * time.Millisecond); return nil }
			handler := h.ch.EventsHandler()
			var next atomic.Int64
			next.Store(time.Now().UnixNano() & (1<<48 - 1)) // unseen ids, as above
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1)
					body, _ := json.Marshal(map[string]any{"type": "event_callback", "team_id": testTeam, "event_id": "EvT" + strconv.FormatInt(i, 10),
						"event": dm("U"+strconv.FormatInt(i%50, 10), "holiday", "1.1")})
					now := time.Now()
					req := httptest.NewRequest(http.MethodPost, PathEvents, strings.NewReader(string(body)))
					req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix(), 10))
					req.Header.Set("X-Slack-Signature", sign(testSecret, now, string(body)))
					w := httptest.NewRecorder()
					handler.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Errorf("status %d", w.Code)
						return
					}
				}
			})
		})
	}
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
