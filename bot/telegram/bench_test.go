package telegram

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/bottest"
	"github.com/askpa/askpa/postgres"
	"github.com/askpa/askpa/postgres/pgtest"
	"github.com/askpa/askpa/sqlite"
)

// BenchmarkWebhookAcknowledged measures how long Telegram waits for the
// webhook's 200: checking the secret, reading the update and writing it to
// the intake, in memory (everything but the store), SQLite on disk, or
// PostgreSQL when ASKPA_TEST_DATABASE_URL is set.
func BenchmarkWebhookAcknowledged(b *testing.B) {
	for _, in := range benchIntakes(b) {
		b.Run(in.name, func(b *testing.B) {
			f := newWebhookFixture(b, func(c *Config) { c.Intake = in.intake })
			bottest.OneAtATime(b, f.ch.WebhookHandler(), unseenID(), updateRequest)
		})
	}
}

// BenchmarkWebhookAcknowledgedTogether is BenchmarkWebhookAcknowledged with
// updates arriving together, 16 at a time for each CPU, as Telegram sends
// them to a busy bot: its time per update is the wall-clock time the run
// took over the updates acknowledged, so it measures the rate, which the
// intake's group commit keeps up. Compare with httpapi's
// BenchmarkBareGinTogether.
func BenchmarkWebhookAcknowledgedTogether(b *testing.B) {
	for _, in := range benchIntakes(b) {
		b.Run(in.name, func(b *testing.B) {
			f := newWebhookFixture(b, func(c *Config) { c.Intake = in.intake })
			bottest.Together(b, f.ch.WebhookHandler(), unseenID(), updateRequest)
		})
	}
}

// benchIntake is an intake to benchmark the webhook with.
type benchIntake struct {
	name   string
	intake bot.Intake
}

// benchIntakes returns an in-memory intake, SQLite in a file and, when
// ASKPA_TEST_DATABASE_URL is set, PostgreSQL.
func benchIntakes(b *testing.B) []benchIntake {
	ctx := context.Background()
	lite, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "askpa.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { lite.Close() })
	intakes := []benchIntake{{"memory", bottest.NewIntake()}, {"sqlite", lite}}
	if os.Getenv(pgtest.EnvVar) != "" {
		pg, err := postgres.Open(ctx, pgtest.URL(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { pg.Close() })
		intakes = append(intakes, benchIntake{"postgres", pg})
	}
	return intakes
}

// unseenID returns an update id no earlier run in this process used: the
// channel drops an update it has seen, which costs nothing.
func unseenID() int64 { return time.Now().UnixNano() & (1<<48 - 1) }

// updateRequest is the webhook's request for a private message with
// update id id, from one of 50 people.
func updateRequest(id int64) *http.Request {
	body := fmt.Sprintf(`{"update_id": %d, "message": {"message_id": %d, "date": 1, "text": "how much holiday does my PA get", "from": {"id": %d, "first_name": "Ann"}, "chat": {"id": %d, "type": "private"}}}`,
		id, id, 1000+id%50, 1000+id%50)
	req := httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader(body))
	req.Header.Set(SecretHeader, "s3cret-Token_1")
	return req
}
