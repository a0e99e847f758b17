package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/bottest"
)

func TestSignaturesAreCheckedBeforeAnything(t *testing.T) {
	event, _ := json.Marshal(map[string]any{"type": "event_callback", "event_id": "Ev1", "team_id": testTeam,
		"event": dm("U1", "hello", "1.1")})
	command := url.Values{"command": {"/askpa"}, "text": {"hello"}, "user_id": {"U1"}, "channel_id": {"C1"}, "trigger_id": {"t1"}}.Encode()
	press, _ := json.Marshal(map[string]any{"type": "block_actions", "trigger_id": "t2", "user": map[string]any{"id": "U1"},
		"channel": map[string]any{"id": "D1"}, "actions": []map[string]any{{"type": "button", "block_id": "askpa_buttons_0", "action_id": "askpa_0_0", "value": bot.ActionHelpful}}})
	interaction := url.Values{"payload": {string(press)}}.Encode()

	requests := []struct{ path, contentType, body string }{
		{PathEvents, "application/json", string(event)},
		{PathCommands, "application/x-www-form-urlencoded", command},
		{PathInteractions, "application/x-www-form-urlencoded", interaction},
	}
	cases := []struct {
		name   string
		secret string
		at     time.Time
		tamper bool
		want   int
	}{
		{"forged", "not-the-secret", time.Now(), false, http.StatusUnauthorized},
		{"missing", "", time.Now(), false, http.StatusUnauthorized},
		{"stale", testSecret, time.Now().Add(-10 * time.Minute), false, http.StatusUnauthorized},
		{"from the future", testSecret, time.Now().Add(10 * time.Minute), false, http.StatusUnauthorized},
		{"body changed after signing", testSecret, time.Now(), true, http.StatusUnauthorized},
		{"valid", testSecret, time.Now(), false, http.StatusOK},
	}
	for _, tc := range cases {
		for _, rq := range requests {
			t.Run(tc.name+rq.path, func(t *testing.T) {
				h := newHarness(t, nil)
				body := rq.body
				status := 0
				if tc.tamper {
					// Sign one body, send another.
					req, _ := http.NewRequest(http.MethodPost, h.srv.URL+rq.path, strings.NewReader(strings.Replace(body, "hello", "HELLO", 1)+" "))
					req.Header.Set("Content-Type", rq.contentType)
					req.Header.Set("X-Slack-Request-Timestamp", itoa(tc.at.Unix()))
					req.Header.Set("X-Slack-Signature", sign(testSecret, tc.at, body))
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					status = resp.StatusCode
				} else {
					var answer string
					status, answer = h.post(t, rq.path, rq.contentType, body, tc.secret, tc.at)
					var e struct{ Error string }
					if status == http.StatusUnauthorized && (json.Unmarshal([]byte(answer), &e) != nil || e.Error == "") {
						t.Errorf("refusal body %q: want a JSON error like the rest of the API", answer)
					}
				}
				h.idle()
				if status != tc.want {
					t.Fatalf("status = %d, want %d", status, tc.want)
				}
				handled := len(h.handler.messages())
				if tc.want == http.StatusUnauthorized {
					if handled != 0 || len(h.peer.sent()) != 0 || len(h.intake.Handled()) != 0 {
						t.Fatalf("refused request had effects: handled %d, sent %d, deliveries taken in %d",
							handled, len(h.peer.sent()), len(h.intake.Handled()))
					}
				} else if handled != 1 {
					t.Fatalf("valid request handled %d times, want 1", handled)
				}
			})
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func TestURLVerificationIsAnswered(t *testing.T) {
	h := newHarness(t, nil)
	body := `{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
	status, resp := h.post(t, PathEvents, "application/json", body, testSecret, time.Now())
	if status != http.StatusOK {
		t.Fatalf("status = %d", status)
	}
	var got struct{ Challenge string }
	if err := json.Unmarshal([]byte(resp), &got); err != nil || got.Challenge != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("challenge answer = %q", resp)
	}
}

func TestRepeatedEventIsHandledOnce(t *testing.T) {
	h := newHarness(t, nil)
	for range 3 { // Slack retries when it did not hear back in time
		if status := h.event(t, "Ev0001", dm("U1", "holiday pay", "1700000000.000100")); status != http.StatusOK {
			t.Fatalf("status = %d", status)
		}
	}
	h.idle()
	if n := len(h.handler.messages()); n != 1 {
		t.Fatalf("handled %d times, want 1", n)
	}
	if n := len(h.peer.sent()); n != 1 {
		t.Fatalf("answered %d times, want 1", n)
	}
}

func TestDirectMessageIsAnsweredInTheDM(t *testing.T) {
	h := newHarness(t, nil)
	h.handler.answer = answerWithButtons
	h.event(t, "Ev1", dm("U1", "how much holiday &amp; pay?", "1700000000.000100"))
	h.idle()

	msgs := h.handler.messages()
	if len(msgs) != 1 {
		t.Fatalf("handled %d messages", len(msgs))
	}
	m := msgs[0]
	want := bot.Address{Channel: "slack", UserID: "U1", ChatID: "DU1", Team: testTeam}
	if m.Address != want || m.Text != "how much holiday & pay?" || m.Audience != "pa" || m.Private {
		t.Fatalf("message = %+v", m)
	}
	sent := h.peer.sent()
	if len(sent) != 1 || sent[0].Channel != "DU1" || sent[0].Thread != "" || sent[0].Method != "chat.postMessage" {
		t.Fatalf("sent = %+v", sent)
	}
	if !strings.Contains(sent[0].sectionText(), "how much holiday &amp; pay?") || !strings.Contains(sent[0].sectionText(), "<https://example.org/holiday|Holiday entitlement>") {
		t.Fatalf("answer text = %q", sent[0].sectionText())
	}
	if got := sent[0].buttons(); strings.Join(got, ",") != "helpful,not_helpful,human" {
		t.Fatalf("buttons = %v", got)
	}
}

func TestMentionIsAnsweredInTheThread(t *testing.T) {
	cases := []struct {
		name, thread, wantThread string
	}{
		{"new thread", "", "1700000000.000200"},
		{"existing thread", "1699999999.000001", "1699999999.000001"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			ev := map[string]any{"type": "app_mention", "user": "U2", "channel": "C1", "ts": "1700000000.000200",
				"text": "<@" + testBotUser + "> what is the   national living wage?"}
			if tc.thread != "" {
				ev["thread_ts"] = tc.thread
			}
			h.event(t, "EvM"+itoa(int64(i)), ev)
			h.idle()
			msgs := h.handler.messages()
			if len(msgs) != 1 || msgs[0].Text != "what is the national living wage?" || msgs[0].Address.ThreadID != tc.wantThread {
				t.Fatalf("messages = %+v", msgs)
			}
			sent := h.peer.sent()
			if len(sent) != 1 || sent[0].Channel != "C1" || sent[0].Thread != tc.wantThread {
				t.Fatalf("sent = %+v", sent)
			}
		})
	}
}

func TestEventsNotForTheBotAreIgnored(t *testing.T) {
	cases := map[string]map[string]any{
		"a bot's message":     {"type": "message", "channel": "D1", "channel_type": "im", "user": "U9", "bot_id": "B1", "text": "hi", "ts": "1.1"},
		"askpa's own message": {"type": "message", "channel": "D1", "channel_type": "im", "user": testBotUser, "text": "hi", "ts": "1.2"},
		"bot_message subtype": {"type": "message", "subtype": "bot_message", "channel": "D1", "channel_type": "im", "text": "hi", "ts": "1.3"},
		"an edit":             {"type": "message", "subtype": "message_changed", "channel": "D1", "channel_type": "im", "message": map[string]any{"user": "U1", "text": "hi"}, "ts": "1.4"},
		"a join":              {"type": "message", "subtype": "channel_join", "channel": "C1", "channel_type": "channel", "user": "U1", "text": "<@U1> has joined", "ts": "1.5"},
		"a deletion":          {"type": "message", "subtype": "message_deleted", "channel": "D1", "channel_type": "im", "ts": "1.6"},
		"channel chatter":     {"type": "message", "channel": "C1", "channel_type": "channel", "user": "U1", "text": "lunch?", "ts": "1.7"},
		"a bot mentioning":    {"type": "app_mention", "channel": "C1", "user": "U9", "bot_id": "B1", "text": "<@" + testBotUser + "> hi", "ts": "1.8"},
		"an edited mention":   {"type": "app_mention", "channel": "C1", "user": "U1", "text": "<@" + testBotUser + "> hi", "ts": "1.9", "edited": map[string]any{"user": "U1", "ts": "2.0"}},
		"a reaction":          {"type": "reaction_added", "user": "U1", "reaction": "thumbsup"},
	}
	h := newHarness(t, nil)
	i := 0
	for name, ev := range cases {
		i++
		if status := h.event(t, "EvIgnored"+itoa(int64(i)), ev); status != http.StatusOK {
			t.Fatalf("%s: status = %d", name, status)
		}
	}
	h.idle()
	if got := h.handler.messages(); len(got) != 0 {
		t.Fatalf("handled %d ignorable events: %+v", len(got), got)
	}
	// The same harness does answer a person, so the test can fail.
	h.event(t, "EvReal", dm("U1", "hi", "1.10"))
	h.idle()
	if got := h.handler.messages(); len(got) != 1 {
		t.Fatalf("a real DM was handled %d times", len(got))
	}
}

func TestSlashCommandIsAnsweredPrivatelyAndCanBeShared(t *testing.T) {
	h := newHarness(t, nil)
	h.handler.answer = answerWithButtons
	status := h.command(t, url.Values{"command": {"/askpa"}, "text": {"how much holiday"}, "user_id": {"U3"},
		"channel_id": {"C7"}, "team_id": {testTeam}, "trigger_id": {"trig-1"}, "response_url": {h.peer.responseURL("cmd1")}})
	if status != http.StatusOK {
		t.Fatalf("status = %d", status)
	}
	h.idle()
	msgs := h.handler.messages()
	if len(msgs) != 1 || !msgs[0].Private || msgs[0].Text != "how much holiday" || msgs[0].Address.ChatID != "C7" {
		t.Fatalf("messages = %+v", msgs)
	}
	sent := h.peer.sent()
	if len(sent) != 1 || sent[0].Method != "response_url" || sent[0].ResponseType != "ephemeral" {
		t.Fatalf("private answer = %+v", sent)
	}
	share := sent[0].buttonValue(bot.ActionShare)
	if share == "" {
		t.Fatalf("no share button in %v", sent[0].buttons())
	}
	for _, p := range h.peer.sent() {
		if p.Method == "chat.postMessage" {
			t.Fatal("the private answer was also posted visibly")
		}
	}

	// Pressing "Share in channel" posts the answer for everyone, then removes the private copy.
	private := sent[0]
	private.Channel = "C7" // Slack names the channel in the button press
	h.interaction(t, buttonPress("U3", private, share, h.peer.responseURL("share1")))
	h.idle()
	after := h.peer.sentSince(1)
	if len(after) != 2 {
		t.Fatalf("after sharing: %+v", after)
	}
	visible := after[0]
	if visible.Method != "chat.postMessage" || visible.Channel != "C7" {
		t.Fatalf("shared as %+v", visible)
	}
	if !strings.Contains(visible.sectionText(), "Holiday: 5.6 weeks a year for how much holiday") ||
		!strings.Contains(visible.sectionText(), "<https://example.org/holiday|Holiday entitlement>") {
		t.Fatalf("shared text = %q", visible.sectionText())
	}
	if len(visible.buttons()) != 0 {
		t.Fatalf("shared answer has buttons %v", visible.buttons())
	}
	if b := mustJSONString(visible.Blocks); !strings.Contains(b, "<@U3>") {
		t.Fatalf("shared answer does not say who shared it: %s", b)
	}
	if !after[1].DeleteOriginal {
		t.Fatalf("private copy not removed: %+v", after[1])
	}
	if n := len(h.handler.messages()); n != 1 {
		t.Fatalf("sharing went to the bot as a message (%d messages)", n)
	}
}

func TestSlashCommandFallsBackToEphemeralWhenResponseURLFails(t *testing.T) {
	h := newHarness(t, nil)
	h.peer.fail("response_url", 1, func(w http.ResponseWriter) { w.WriteHeader(http.StatusNotFound) })
	h.command(t, url.Values{"command": {"/askpa"}, "text": {"help"}, "user_id": {"U3"}, "channel_id": {"C7"},
		"trigger_id": {"trig-2"}, "response_url": {h.peer.responseURL("expired")}})
	h.idle()
	if msgs := h.handler.messages(); len(msgs) != 1 || msgs[0].Text != "/help" {
		t.Fatalf("messages = %+v", msgs)
	}
	sent := h.peer.sent()
	if len(sent) != 1 || sent[0].Method != "chat.postEphemeral" || sent[0].Channel != "C7" || sent[0].User != "U3" {
		t.Fatalf("sent = %+v", sent)
	}
}

func TestButtonBecomesTheBotAction(t *testing.T) {
	cases := []struct {
		name   string
		event  map[string]any
		chat   string
		thread string
	}{
		{"in a DM", dm("U1", "holiday", "1700000000.000300"), "DU1", ""},
		{"in a mention thread", map[string]any{"type": "app_mention", "user": "U1", "channel": "C1", "ts": "1700000000.000400",
			"text": "<@" + testBotUser + "> holiday"}, "C1", "1700000000.000400"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.handler.answer = answerWithButtons
			h.event(t, "Ev-"+tc.name, tc.event)
			h.idle()
			answer := h.peer.sent()[0]

			h.interaction(t, buttonPress("U1", answer, bot.ActionNotHelpful, h.peer.responseURL("b1")))
			h.idle()
			msgs := h.handler.messages()
			if len(msgs) != 2 {
				t.Fatalf("handled %d", len(msgs))
			}
			m := msgs[1]
			want := bot.Address{Channel: "slack", UserID: "U1", ChatID: tc.chat, ThreadID: tc.thread, Team: testTeam}
			if m.Action != bot.ActionNotHelpful || m.Text != "" || m.Address != want || m.Private {
				t.Fatalf("button message = %+v, want action %q at %+v", m, bot.ActionNotHelpful, want)
			}
			after := h.peer.sentSince(1)
			if len(after) != 2 {
				t.Fatalf("after pressing: %+v", after)
			}
			update, reply := after[0], after[1]
			if update.Method != "chat.update" || update.TS != answer.TS || len(update.buttons()) != 0 ||
				!strings.Contains(mustJSONString(update.Blocks), "✓ Not helpful") {
				t.Fatalf("pressed message not acknowledged: %+v", update)
			}
			if update.sectionText() != answer.sectionText() {
				t.Fatalf("acknowledging changed the answer: %q", update.sectionText())
			}
			if reply.Method != "chat.postMessage" || reply.Channel != tc.chat || reply.Thread != tc.thread ||
				!strings.Contains(reply.sectionText(), "Thanks, noted: not") {
				t.Fatalf("reply = %+v", reply)
			}

			// The same press delivered again is handled once.
			h.interaction(t, buttonPress("U1", answer, bot.ActionNotHelpful, h.peer.responseURL("b1")))
			h.idle()
			if n := len(h.handler.messages()); n != 2 {
				t.Fatalf("repeated press handled again (%d)", n)
			}
		})
	}
}

func TestRateLimitsAreWaitedOutAndRetried(t *testing.T) {
	h := newHarness(t, nil)
	h.peer.fail("chat.postMessage", 2, rateLimited(7))
	err := h.ch.Send(context.Background(), bot.Address{Channel: "slack", UserID: "U1", ChatID: "D1"}, bot.Reply{Text: "staff reply"})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if n := h.peer.attemptsOf("chat.postMessage"); n != 3 {
		t.Fatalf("attempts = %d, want 3", n)
	}
	if len(h.waits) != 2 || h.waits[0] != 7*time.Second || h.waits[1] != 7*time.Second {
		t.Fatalf("waited %v, want the 7s Slack asked for, twice", h.waits)
	}
	if sent := h.peer.sent(); len(sent) != 1 {
		t.Fatalf("delivered %d times", len(sent))
	}
}

func TestTransientFailuresAreRetriedWithBackoff(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RetryBase = time.Second; c.RetryMax = 3 * time.Second })
	h.peer.fail("chat.postMessage", 3, serverError)
	if err := h.ch.Send(context.Background(), bot.Address{ChatID: "D1"}, bot.Reply{Text: "hello"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if n := h.peer.attemptsOf("chat.postMessage"); n != 4 {
		t.Fatalf("attempts = %d, want 4", n)
	}
	// Back-off doubles from RetryBase up to RetryMax, with jitter in the upper half.
	bounds := [][2]time.Duration{{500 * time.Millisecond, time.Second}, {time.Second, 2 * time.Second}, {1500 * time.Millisecond, 3 * time.Second}}
	for i, w := range h.waits {
		if w < bounds[i][0] || w > bounds[i][1] {
			t.Fatalf("wait %d = %v, want within %v", i, w, bounds[i])
		}
	}
}

func TestSendGivesUpWithAnError(t *testing.T) {
	cases := []struct {
		name     string
		fail     func(http.ResponseWriter)
		attempts int
	}{
		{"server keeps failing", serverError, 5},
		{"rate limited for ever", rateLimited(1), 5},
		{"permanent error", slackError("channel_not_found"), 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.peer.fail("chat.postMessage", 100, tc.fail)
			secret := "the person's private question about their pay"
			err := h.ch.Send(context.Background(), bot.Address{ChatID: "D1"}, bot.Reply{Text: secret})
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if n := h.peer.attemptsOf("chat.postMessage"); n != tc.attempts {
				t.Fatalf("attempts = %d, want %d", n, tc.attempts)
			}
			if strings.Contains(err.Error(), "pay") || strings.Contains(h.logText(), "pay") {
				t.Fatalf("message text leaked into the error or logs: %v\n%s", err, h.logText())
			}
			if !strings.Contains(h.logText(), "giving up") {
				t.Fatalf("giving up was not logged:\n%s", h.logText())
			}
		})
	}
}

func TestHandlerFailureIsApologisedFor(t *testing.T) {
	h := newHarness(t, nil)
	h.handler.err = errors.New("index closed")
	h.event(t, "EvErr", dm("U1", "hi", "1.1"))
	h.idle()
	sent := h.peer.sent()
	if len(sent) != 1 || !strings.Contains(sent[0].sectionText(), "something went wrong") {
		t.Fatalf("sent = %+v", sent)
	}
}

func TestStoreFailureAsksSlackToRetry(t *testing.T) {
	h := newHarness(t, nil)
	h.intake.Fail(errors.New("database down"))
	if status := h.event(t, "EvS", dm("U1", "hi", "1.1")); status != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", status)
	}
	h.intake.Fail(nil)
	if status := h.event(t, "EvS", dm("U1", "hi", "1.1")); status != http.StatusOK {
		t.Fatalf("retry status = %d", status)
	}
	h.idle()
	if n := len(h.handler.messages()); n != 1 {
		t.Fatalf("handled %d", n)
	}
}

// TestDeliveriesSurviveARestart checks that what was acknowledged to Slack
// by a process that then stopped (or died) is worked on by the next one
// sharing the intake, in order, once each.
func TestDeliveriesSurviveARestart(t *testing.T) {
	first := newHarness(t, func(c *Config) { c.MaxConcurrent = 1 })
	release, stuck := make(chan struct{}), make(chan struct{}, 1)
	first.handler.answer = func(m bot.Message) []bot.Reply {
		stuck <- struct{}{}
		<-release // this process stops before answering
		return nil
	}
	for i, text := range []string{"one", "two", "three"} {
		if status := first.event(t, fmt.Sprint("EvR", i), dm("U1", text, fmt.Sprintf("1.%d", i))); status != http.StatusOK {
			t.Fatalf("event %d: status %d", i, status)
		}
	}
	<-stuck
	// The next process takes over the same intake once the first one's
	// lease has run out.
	later := func() time.Time { return time.Now().Add(2 * time.Minute) }
	next := newHarnessOn(t, first.peer, func(c *Config) { c.Intake = first.intake; c.Clock = later })
	next.intake = first.intake
	next.idle()
	close(release)
	var got []string
	for _, m := range next.handler.messages() {
		got = append(got, m.Text)
	}
	if !slices.Equal(got, []string{"one", "two", "three"}) {
		t.Fatalf("the next process handled %q; want every acknowledged message, in order", got)
	}
}

func TestPlainText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"<@" + testBotUser + "> what is   SSP?", "what is SSP?"},
		{"ask <@U123|sam> and <#C1|general> &lt;now&gt; &amp; <!here>", "ask @sam and #general <now> & @here"},
		{"see <https://example.org/a|the guide> or <https://example.org/b>", "see the guide or https://example.org/b"},
		{"line one\n\n\n\nline two", "line one\n\nline two"},
		{"<!subteam^S1|@support> please", "@support please"},
	}
	for _, tc := range cases {
		if got := plainText(tc.in, testBotUser); got != tc.want {
			t.Errorf("plainText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCommandText(t *testing.T) {
	cases := map[string]string{
		"":                     "/help",
		"help":                 "/help",
		"Topics":               "/topics",
		"/cancel":              "/cancel",
		"human":                "/human",
		"feedback it was good": "/feedback it was good",
		"help me with holiday": "help me with holiday",
		"how much is SSP":      "how much is SSP",
		"forget":               "/forget",
		"Privacy":              "/privacy",
		"forget the last one":  "forget the last one",
	}
	for in, want := range cases {
		if got := commandText(in); got != want {
			t.Errorf("commandText(%q) = %q, want %q", in, got, want)
		}
	}
}

// mustJSONString encodes v without HTML escaping, as a person would read it.
func mustJSONString(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return b.String()
}

func TestNewRefusesAnIncompleteConfig(t *testing.T) {
	ok := Config{BotToken: "xoxb", SigningSecret: "s", Handler: &fakeHandler{}, Intake: bottest.NewIntake()}
	cases := map[string]func(*Config){
		"no bot token": func(c *Config) { c.BotToken = "" },
		"no handler":   func(c *Config) { c.Handler = nil },
		"no intake":    func(c *Config) { c.Intake = nil },
		"no way in":    func(c *Config) { c.SigningSecret = "" },
	}
	if _, err := New(ok); err != nil {
		t.Fatalf("complete config refused: %v", err)
	}
	for name, change := range cases {
		c := ok
		change(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
