package slack

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
)

func BenchmarkRenderTenThousandCharacters(b *testing.B) {
	r := bot.Reply{Text: tenThousand(), Sources: []bot.Source{{Title: "Guide", URL: "https://example.org"}},
		Buttons: [][]bot.Button{{{Label: "Helpful", Action: bot.ActionHelpful}}}}
	for b.Loop() {
		render(r)
	}
}

// BenchmarkEventAcknowledged measures how long Slack waits for its answer:
// verifying, de-duplicating and accepting one event, while the bot takes
// 5 ms to answer in the background.
func BenchmarkEventAcknowledged(b *testing.B) {
	h := newHarness(b, nil)
	h.handler.answer = func(bot.Message) []bot.Reply { time.Sleep(5 * time.Millisecond); return nil }
	handler := h.ch.EventsHandler()
	i := 0
	for b.Loop() {
		i++
		body, _ := json.Marshal(map[string]any{"type": "event_callback", "team_id": testTeam, "event_id": "EvB" + strconv.Itoa(i),
			"event": dm("U"+strconv.Itoa(i%50), "holiday", "1.1")})
		now := time.Now()
		req := httptest.NewRequest(http.MethodPost, PathEvents, strings.NewReader(string(body)))
		req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("X-Slack-Signature", sign(testSecret, now, string(body)))
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
	b.StopTimer()
	h.idle()
}
