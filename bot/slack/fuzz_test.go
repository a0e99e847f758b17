package slack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/askpa/askpa/bot"
)

// countingIntake counts the deliveries written to the intake it wraps.
type countingIntake struct {
	bot.Intake
	n atomic.Int64
}

func (c *countingIntake) Receive(ctx context.Context, in bot.Inbound) (bool, error) {
	c.n.Add(1)
	return c.Intake.Receive(ctx, in)
}

// FuzzSignedRequest posts any body to the events, interactions and
// commands handlers, with any timestamp and signature or a genuine
// signature of the body. Only a request signed with the signing secret
// over its own timestamp and body, less than five minutes from now, gets
// past 401, and a refused one writes nothing to the intake. The handlers
// answer 200, 400, 401, 413 or 503 only, every error with a JSON body.
func FuzzSignedRequest(f *testing.F) {
	var intake *countingIntake
	h := newHarness(f, func(c *Config) {
		intake = &countingIntake{Intake: c.Intake}
		c.Intake = intake
		// Work accepted goes on in the background; it says nothing.
		c.Handler = bot.HandlerFunc(func(context.Context, bot.Message) (bot.Result, error) { return bot.Result{}, nil })
	})
	handlers := h.ch.Handlers()
	paths := []string{PathEvents, PathInteractions, PathCommands}

	event := func(inner map[string]any) string {
		return string(mustJSON(map[string]any{"type": "event_callback", "event_id": "Ev1", "team_id": testTeam, "event": inner,
			"authorizations": []map[string]any{{"team_id": testTeam, "user_id": testBotUser, "is_bot": true}}}))
	}
	press := mustJSON(map[string]any{"type": "block_actions", "trigger_id": "t2", "user": map[string]any{"id": "U1"},
		"channel": map[string]any{"id": "D1"}, "actions": []map[string]any{{"type": "button", "block_id": "askpa_buttons_0", "action_id": "askpa_0_0", "value": bot.ActionHelpful}}})
	share := mustJSON(map[string]any{"type": "block_actions", "trigger_id": "t3", "user": map[string]any{"id": "U1"},
		"container": map[string]any{"type": "message", "message_ts": "1.2", "channel_id": "D1", "is_ephemeral": true},
		"actions":   []map[string]any{{"type": "button", "value": encodeShare(bot.Reply{Text: "Holiday: 5.6 weeks", Sources: []bot.Source{{ID: "h", Title: "Holiday", URL: "https://example.org/h"}}})}}})
	seeds := []struct {
		kind uint8
		body string
	}{
		{0, event(dm("U1", "hello", "1.1"))},
		{0, event(map[string]any{"type": "app_mention", "channel": "C1", "user": "U1", "text": "<@" + testBotUser + "> holiday?", "ts": "2.2"})},
		{0, event(map[string]any{"type": "message", "subtype": "message_changed", "channel": "D1", "channel_type": "im", "user": "U1"})},
		{0, `{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`},
		{0, `{"type":"event_callback","event_id":"Ev2"}`},
		{0, `{"type":"app_rate_limited"}`},
		{0, `{"type":"event_callback","event":{"type":"message","user":null}}`},
		{0, `[1,2]`},
		{1, url.Values{"payload": {string(press)}}.Encode()},
		{1, url.Values{"payload": {string(share)}}.Encode()},
		{1, "payload=%7B%22type%22%3A%22block_actions%22%7D"},
		{1, "payload=%zz"},
		{1, "nopayload=1"},
		{2, url.Values{"command": {"/askpa"}, "text": {"hello"}, "user_id": {"U1"}, "channel_id": {"C1"}, "trigger_id": {"t1"}}.Encode()},
		{2, url.Values{"command": {"/askpa"}, "text": {"help"}, "channel_id": {"C1"}}.Encode()},
		{2, "text=%"},
	}
	for _, s := range seeds {
		f.Add(s.kind, []byte(s.body), int64(0), "", "", true)
	}
	f.Add(uint8(0), []byte(seeds[0].body), int64(-600), "", "", true)          // stale
	f.Add(uint8(1), []byte(seeds[8].body), int64(600), "", "", true)           // from the future
	f.Add(uint8(2), []byte(seeds[13].body), int64(0), "", "v0=00", false)      // forged
	f.Add(uint8(0), []byte(seeds[0].body), int64(0), "", "", false)            // unsigned
	f.Add(uint8(0), []byte(seeds[0].body), int64(0), "not a time", "", true)   // no time
	f.Add(uint8(2), []byte(seeds[13].body), int64(0), "+1700000000", "", true) // long ago
	f.Add(uint8(1), []byte(seeds[8].body), int64(0), "", "v1=abcdef", false)   // another scheme
	f.Add(uint8(0), []byte(seeds[0].body), int64(0), "", "v0="+strings.Repeat("A", 64), false)
	f.Fuzz(func(t *testing.T, kind uint8, body []byte, delta int64, rawTS, signature string, signIt bool) {
		path := paths[int(kind)%len(paths)]
		now := time.Now()
		ts := rawTS
		if ts == "" {
			ts = strconv.FormatInt(now.Unix()+delta, 10)
		}
		m := hmac.New(sha256.New, []byte(testSecret))
		m.Write([]byte("v0:" + ts + ":"))
		m.Write(body)
		mac := m.Sum(nil)
		if signIt {
			signature = "v0=" + hex.EncodeToString(mac)
		}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
		if path == PathEvents {
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", signature)
		before := intake.n.Load()
		rec := httptest.NewRecorder()
		handlers[path].ServeHTTP(rec, req)
		written := intake.n.Load() - before

		switch rec.Code {
		case 200, 400, 401, 413, 503:
		default:
			t.Fatalf("%s answered %d %q", path, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var e struct{ Error string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
				t.Fatalf("%s answered %d with %q (%s): want a JSON error like the rest of the API", path, rec.Code, rec.Body, rec.Header().Get("Content-Type"))
			}
		}

		got, hasV0 := strings.CutPrefix(signature, "v0=")
		sent, err := hex.DecodeString(got)
		genuine := hasV0 && err == nil && hmac.Equal(sent, mac)
		sec, err := strconv.ParseInt(ts, 10, 64)
		age := now.Sub(time.Unix(sec, 0)).Abs()
		if err != nil {
			genuine = false
		}
		if age > 5*time.Minute-5*time.Second && age < 5*time.Minute+5*time.Second {
			return // at the edge of the window: the handler's clock has moved on
		}
		fresh := age <= 5*time.Minute
		if accepted := rec.Code != http.StatusUnauthorized; accepted != (genuine && fresh) {
			t.Fatalf("%s, timestamp %q (genuine %v, fresh %v): answered %d %q", path, ts, genuine, fresh, rec.Code, rec.Body)
		}
		if written != 0 && rec.Code != http.StatusOK || written > 1 {
			t.Fatalf("%s answered %d after writing %d deliveries to the intake", path, rec.Code, written)
		}
	})
}

// FuzzPlainText checks what becomes of the text of a Slack message:
// plainText gives valid UTF-8 for valid UTF-8, trimmed, with single spaces,
// no tab or carriage return, at most one blank line in a row, and no
// mention of the bot itself in text as Slack sends it; commandText
// never gives empty text, and is idempotent.
func FuzzPlainText(f *testing.F) {
	for _, s := range []string{
		"<@UBOT0001> how much holiday?", "hey <@UBOT0001|askpa>, <@U123|alex> and <@U456> in <#C1|general> <#C2>",
		"<!here> <!subteam^S123> <!date^1392734382^{date}|Feb 18> <https://example.org|a link> <https://example.org>",
		"a &lt;b&gt; &amp;lt; c", "  lots \t of\r\n\r\n\r\n\n space  ", "<>", "<|>", "<@>", "<<@UBOT0001>>", "help", "HELP",
		"/cancel", "feedback  it was great", "help me please", "", "   ", "\u00a0help\u2028", "<@UBOT0001>", "feedback\n\nthanks",
	} {
		f.Add(s)
	}
	const self = testBotUser
	f.Fuzz(func(t *testing.T, s string) {
		p := plainText(s, self)
		if utf8.ValidString(s) && !utf8.ValidString(p) {
			t.Fatalf("plainText(%q) = %q: invalid UTF-8", s, p)
		}
		if strings.TrimSpace(p) != p || strings.Contains(p, "  ") || strings.ContainsAny(p, "\t\r") || strings.Contains(p, "\n\n\n") {
			t.Fatalf("plainText(%q) = %q: want trimmed text, single spaces, no tabs or CR, blank lines collapsed", s, p)
		}
		for _, l := range strings.Split(p, "\n") {
			if strings.TrimSpace(l) != l {
				t.Fatalf("plainText(%q) = %q: line %q has spaces at an end", s, p, l)
			}
		}
		// Slack escapes "<", ">" and "&" in what people type, so its text
		// has brackets only around its own markup.
		if rest := slackToken.ReplaceAllString(s, ""); !strings.ContainsAny(rest, "<>&") && strings.Contains(p, "<@"+self+">") {
			t.Fatalf("plainText(%q) = %q keeps the mention of the bot", s, p)
		}
		c := commandText(p)
		if c == "" || strings.TrimSpace(c) != c {
			t.Fatalf("commandText(%q) = %q", p, c)
		}
		if again := commandText(c); again != c {
			t.Fatalf("commandText is not idempotent: %q -> %q -> %q", p, c, again)
		}
		if utf8.ValidString(p) && !utf8.ValidString(c) {
			t.Fatalf("commandText(%q) = %q: invalid UTF-8", p, c)
		}
	})
}

// FuzzShareValue checks the value of a "Share in channel" button, which
// comes back from Slack in a button press: decodeShare never panics on any
// value, and what encodeShare makes of a reply fits in a button and decodes
// to the reply's text (shortened, with "…", when it must be) and its first
// five sources.
func FuzzShareValue(f *testing.F) {
	long := strings.Repeat("Holiday builds up at 12.07% of hours worked. ", 200)
	f.Add("Short answer & <b>", "holiday", "Holiday entitlement", "https://example.org/holiday", uint8(1), "")
	f.Add(long, "holiday", "Holiday", "https://example.org/h", uint8(7), sharePrefix+"!!not base64")
	f.Add("", "", "", "", uint8(0), sharePrefix)
	f.Add("x", strings.Repeat("i", 900), strings.Repeat("t", 900), "https://example.org/"+strings.Repeat("u", 900), uint8(3), "share:80")
	f.Add("é\n\n  ", "a", "b", "c", uint8(1), encodeShare(bot.Reply{Text: "hi", Sources: []bot.Source{{ID: "a"}}}))
	f.Fuzz(func(t *testing.T, text, id, title, link string, n uint8, value string) {
		_, _ = decodeShare(value)

		for _, s := range []string{text, id, title, link} {
			if !utf8.ValidString(s) {
				return // replies are valid UTF-8, field by field
			}
		}
		r := bot.Reply{Text: text}
		for i := 0; i < int(n%8); i++ {
			r.Sources = append(r.Sources, bot.Source{ID: id + strconv.Itoa(i), Title: title, URL: link})
		}
		v := encodeShare(r)
		if v == "" {
			if fits := packShare(shared{Text: "", Sources: r.Sources[:min(5, len(r.Sources))]}); len(fits) <= maxButtonValue {
				t.Fatalf("encodeShare gave up though the sources alone fit (%d characters)", len(fits))
			}
			return
		}
		if len(v) > maxButtonValue || !strings.HasPrefix(v, sharePrefix) {
			t.Fatalf("share value of %d characters: %.40q", len(v), v)
		}
		s, err := decodeShare(v)
		if err != nil {
			t.Fatalf("decodeShare(encodeShare(...)): %v", err)
		}
		if len(s.Sources) != min(5, len(r.Sources)) {
			t.Fatalf("%d sources shared as %d", len(r.Sources), len(s.Sources))
		}
		for i, src := range s.Sources {
			if src != r.Sources[i] {
				t.Fatalf("source %+v shared as %+v", r.Sources[i], src)
			}
		}
		if s.Text != r.Text {
			cut, ok := strings.CutSuffix(s.Text, "…")
			if !ok || !strings.HasPrefix(r.Text, cut) {
				t.Fatalf("text %.60q shared as %.60q", r.Text, s.Text)
			}
		}
	})
}
