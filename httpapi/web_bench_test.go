package httpapi_test

// POST /v1/messages set beside a bare gin handler that parses the same
// JSON, on the same machine, both served in-process (no network):
//
//	go test -run '^$' -bench 'WebMessage|BareGin' -count 5 ./httpapi
//
// BenchmarkWebMessage runs the whole web channel as askpa serve wires it:
// the session check, the bot service with the real answer engine (safety,
// matcher, index over the built-in knowledge base), the support desk and
// the question log, on SQLite in a file and, when ASKPA_TEST_DATABASE_URL
// is set, on PostgreSQL. Each session sends two messages, questions of the
// matching corpus's validation split in turn, so conversations start,
// continue and sometimes hand over, as they do. Both report the median and
// 99th-percentile latency (p50-µs, p99-µs).

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/bottest"
	"github.com/askpa/askpa/bot/match"
	"github.com/askpa/askpa/httpapi"
	"github.com/askpa/askpa/postgres"
	"github.com/askpa/askpa/postgres/pgtest"
	"github.com/askpa/askpa/sqlite"
	"github.com/askpa/askpa/support"
)

// webStore is what the web channel needs of a store.
type webStore interface {
	bot.Store
	bot.Mailbox
	bot.WebSessions
	bot.QuestionLog
	support.Store
	Close() error
}

// webStores returns the stores to run the web benchmark on: SQLite in a
// file, and PostgreSQL when ASKPA_TEST_DATABASE_URL is set.
func webStores(b *testing.B) []struct {
	name string
	open func(b *testing.B) webStore
} {
	stores := []struct {
		name string
		open func(b *testing.B) webStore
	}{{"sqlite", func(b *testing.B) webStore {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "askpa.db"))
		if err != nil {
			b.Fatal(err)
		}
		return s
	}}}
	if os.Getenv(pgtest.EnvVar) != "" {
		stores = append(stores, struct {
			name string
			open func(b *testing.B) webStore
		}{"postgres", func(b *testing.B) webStore {
			s, err := postgres.Open(context.Background(), pgtest.URL(b))
			if err != nil {
				b.Fatal(err)
			}
			return s
		}})
	}
	return stores
}

// BenchmarkWebMessage is the cost of one POST /v1/messages.
func BenchmarkWebMessage(b *testing.B) {
	qs := webQuestions(b)
	for _, st := range webStores(b) {
		b.Run(st.name, func(b *testing.B) {
			store := st.open(b)
			b.Cleanup(func() { store.Close() })
			desk, err := support.NewDesk(support.Config{Store: store})
			if err != nil {
				b.Fatal(err)
			}
			svc, err := bot.NewService(bot.ServiceConfig{Engine: bottest.Engine(b), Store: store, Desk: desk, Questions: store})
			if err != nil {
				b.Fatal(err)
			}
			h, err := httpapi.New(httpapi.Config{Desk: desk, Handler: svc, Mailbox: store, Sessions: store, RateLimit: rate.Inf})
			if err != nil {
				b.Fatal(err)
			}
			newSession := func() string {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/sessions", nil))
				var s struct{ Token string }
				if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &s) != nil {
					b.Fatalf("POST /v1/sessions: %d %s", rec.Code, rec.Body)
				}
				return s.Token
			}
			// Each session sends two messages.
			var token string
			bottest.OneAtATime(b, h, 0, func(n int64) *http.Request {
				if n%2 == 1 {
					b.StopTimer()
					token = newSession()
					b.StartTimer()
				}
				return messageRequest(qs[int(n)%len(qs)], token)
			})
		})
	}
}

// BenchmarkBareGin is the floor BenchmarkWebMessage is measured against: a
// gin handler that parses the same JSON bodies and answers a small JSON
// object, with gin's default middleware.
func BenchmarkBareGin(b *testing.B) {
	qs := webQuestions(b)
	bottest.OneAtATime(b, bareGin(), 0, func(n int64) *http.Request { return messageRequest(qs[int(n)%len(qs)], "0123456789") })
}

// BenchmarkBareGinTogether is BenchmarkBareGin with requests arriving
// together, 16 at a time for each CPU: the floor the channels'
// acknowledgements arriving together (BenchmarkWebhookAcknowledgedTogether
// in bot/telegram, BenchmarkEventAcknowledgedTogether in bot/slack) are
// measured against.
func BenchmarkBareGinTogether(b *testing.B) {
	qs := webQuestions(b)
	bottest.Together(b, bareGin(), 0, func(n int64) *http.Request { return messageRequest(qs[int(n)%len(qs)], "0123456789") })
}

// bareGin returns a gin engine with gin's default middleware and one
// handler that parses a message's JSON and answers a small JSON object.
func bareGin() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery())
	r.POST("/v1/messages", func(c *gin.Context) {
		var in struct {
			User     string `json:"user"`
			Audience string `json:"audience"`
			Text     string `json:"text"`
		}
		if err := c.ShouldBindJSON(&in); err != nil {
			c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": err.Error()})
			return
		}
		c.JSON(http.StatusOK, gin.H{"question": in.Text, "audience": in.Audience, "answered": false})
	})
	return r
}

// messageRequest is POST /v1/messages asking q, with the session token.
func messageRequest(q match.Question, token string) *http.Request {
	body, _ := json.Marshal(map[string]string{"audience": string(q.Audience()), "text": q.Text})
	req := httptest.NewRequest(http.MethodPost, "/v1/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

var (
	webQuestionsOnce sync.Once
	webQs            []match.Question
	webQsErr         error
)

// webQuestions returns 1,000 questions of the matching corpus's
// validation split, evenly spread over it.
func webQuestions(b *testing.B) []match.Question {
	b.Helper()
	webQuestionsOnce.Do(func() {
		var all []match.Question
		all, webQsErr = match.ReadQuestions(os.DirFS("../bot/match/corpus"), "validation")
		const n = 1000
		for i := range min(n, len(all)) {
			webQs = append(webQs, all[i*len(all)/min(n, len(all))])
		}
	})
	if webQsErr != nil || len(webQs) == 0 {
		b.Fatalf("reading the questions: %v", webQsErr)
	}
	return webQs
}
