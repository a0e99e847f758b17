package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/bottest"
	"github.com/askpa/askpa/bot/telegram/telegramtest"
	"github.com/askpa/askpa/knowledge"
	"github.com/askpa/askpa/support"
)

func answerWithButtons(m bot.Message) ([]bot.Reply, error) {
	return []bot.Reply{{
		Text:    "The National Living Wage is £12.21 an hour from April 2025.\n\n• Check your PA's age\n• Pay at least this rate",
		Sources: []bot.Source{{ID: "minimum-wage", Title: "Minimum wage & your PA", URL: "https://example.org/wage?a=1&b=2"}},
		Buttons: [][]bot.Button{
			{{Label: "Helpful", Action: bot.ActionHelpful}, {Label: "Not helpful", Action: bot.ActionNotHelpful}},
			{{Label: "Talk to a person", Action: bot.ActionHuman}},
		},
	}}, nil
}

func TestPollingDeliversMessageAndReplyWithKeyboard(t *testing.T) {
	f := newFixture(t)
	f.handler.reply = answerWithButtons
	f.run(t)

	sent := f.srv.Send(alice, telegramtest.Private(alice), "What is the minimum wage?")
	got := f.handler.next(t)
	want := bot.Message{
		Address:  bot.Address{Channel: "telegram", UserID: "501", ChatID: "501"},
		Audience: knowledge.Employer,
		Text:     "What is the minimum wage?",
		At:       got.At,
		ID:       strconv.Itoa(sent.UpdateID), // handled again after a crash, it is known
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("handler got %+v\nwant %+v", got, want)
	}
	if got.At.IsZero() {
		t.Error("message has no time")
	}

	msgs := f.srv.WaitMessages(alice.ID, 1)
	m := msgs[0]
	if m.ParseMode != "HTML" {
		t.Errorf("parse mode %q, want HTML", m.ParseMode)
	}
	if !strings.Contains(m.Text, "£12.21 an hour") || !strings.Contains(m.Text, "• Pay at least this rate") {
		t.Errorf("reply text %q lacks the answer", m.Text)
	}
	if want := []telegramtest.Link{{Text: "Minimum wage & your PA", URL: "https://example.org/wage?a=1&b=2"}}; !reflect.DeepEqual(m.Links, want) {
		t.Errorf("links %+v, want %+v", m.Links, want)
	}
	if want := [][]string{{"Helpful", "Not helpful"}, {"Talk to a person"}}; !reflect.DeepEqual(m.Buttons(), want) {
		t.Errorf("buttons %v, want %v", m.Buttons(), want)
	}
	if m.Keyboard[0][1].Data != bot.ActionNotHelpful {
		t.Errorf("Not helpful carries %q", m.Keyboard[0][1].Data)
	}
	if m.ReplyTo != 0 {
		t.Errorf("private reply quotes message %d; want a plain message", m.ReplyTo)
	}
	if strings.Contains(f.logs.String(), "minimum wage") {
		t.Errorf("message text was logged:\n%s", f.logs.String())
	}
}

func TestRunSetsCommandMenu(t *testing.T) {
	f := newFixture(t)
	f.run(t)
	f.srv.WaitCalls("setMyCommands", 1)
	f.srv.Send(alice, telegramtest.Private(alice), "hello") // Run is past setup once this is answered
	f.srv.WaitMessages(alice.ID, 1)
	var names []string
	for _, c := range f.srv.Commands() {
		names = append(names, c.Command)
	}
	if want := []string{"start", "help", "topics", "human", "cancel", "privacy", "forget"}; !reflect.DeepEqual(names, want) {
		t.Errorf("command menu %v, want %v", names, want)
	}
}

func TestCommandsArriveAsText(t *testing.T) {
	f := newFixture(t)
	f.run(t)
	chat := telegramtest.Private(alice)
	tests := []struct{ send, want string }{
		{"/start", "/start"},
		{"/help@" + telegramtest.DefaultBotUsername, "/help"},
		{"/Topics", "/topics"},
		{"/human please", "/human please"},
		{"/cancel", "/cancel"},
		{"/start employer", "/start employer"},
	}
	for _, tt := range tests {
		f.srv.Send(alice, chat, tt.send)
		if got := f.handler.next(t); got.Text != tt.want {
			t.Errorf("%q reached the engine as %q, want %q", tt.send, got.Text, tt.want)
		}
	}
}

func TestCallbackAnsweredAndRouted(t *testing.T) {
	f := newFixture(t)
	f.handler.reply = func(m bot.Message) ([]bot.Reply, error) {
		if m.Action == bot.ActionNotHelpful {
			return []bot.Reply{{Text: "Sorry. Try other words, or talk to a person?"}}, nil
		}
		return answerWithButtons(m)
	}
	f.run(t)
	chat := telegramtest.Private(alice)
	f.srv.Send(alice, chat, "holiday pay")
	f.handler.next(t)
	answer := f.srv.WaitMessages(alice.ID, 1)[0]

	q := f.srv.Press(alice, answer, "Not helpful")
	got := f.handler.next(t)
	if got.Action != bot.ActionNotHelpful || got.Text != "" {
		t.Errorf("button reached the engine as Action %q Text %q", got.Action, got.Text)
	}
	if got.Address != (bot.Address{Channel: "telegram", UserID: "501", ChatID: "501"}) {
		t.Errorf("button from address %+v", got.Address)
	}
	f.srv.WaitCallbackAnswer(q)
	msgs := f.srv.WaitMessages(alice.ID, 2)
	if !strings.HasPrefix(msgs[1].Text, "Sorry. Try other words") {
		t.Errorf("reply to the button: %q", msgs[1].Text)
	}
}

func TestCallbackAnsweredEvenWhenHandlerFails(t *testing.T) {
	f := newFixture(t)
	f.handler.reply = func(m bot.Message) ([]bot.Reply, error) {
		if m.Action != "" {
			return nil, errors.New("engine down")
		}
		return answerWithButtons(m)
	}
	f.run(t)
	f.srv.Send(alice, telegramtest.Private(alice), "holiday pay")
	answer := f.srv.WaitMessages(alice.ID, 1)[0]
	q := f.srv.Press(alice, answer, "Helpful")
	f.srv.WaitCallbackAnswer(q)
	msgs := f.srv.WaitMessages(alice.ID, 2)
	if msgs[1].Text != failedReply {
		t.Errorf("after a handler failure the person saw %q, want %q", msgs[1].Text, failedReply)
	}
}

func TestDuplicateUpdatesIgnored(t *testing.T) {
	t.Run("redelivered to a restarted poller", func(t *testing.T) {
		f := newFixture(t)
		stop := f.run(t)
		chat := telegramtest.Private(alice)
		first := f.srv.Send(alice, chat, "first question")
		f.srv.WaitMessages(alice.ID, 1)
		stop()

		// A new process, sharing the store, is given the update again.
		f.srv.Redeliver(first.UpdateID)
		second, err := New(f.cfg)
		if err != nil {
			t.Fatal(err)
		}
		f.ch = second
		f.run(t)
		f.srv.Send(alice, chat, "second question")
		msgs := f.srv.WaitMessages(alice.ID, 2)

		var texts []string
		for _, m := range f.handler.messages() {
			texts = append(texts, m.Text)
		}
		if want := []string{"first question", "second question"}; !reflect.DeepEqual(texts, want) {
			t.Errorf("handler got %q, want %q", texts, want)
		}
		if len(msgs) != 2 {
			t.Errorf("bot sent %d messages, want 2", len(msgs))
		}
	})
	t.Run("webhook delivered twice", func(t *testing.T) {
		f := newWebhookFixture(t)
		f.run(t)
		f.srv.WaitWebhook()
		chat := telegramtest.Private(alice)
		first := f.srv.Send(alice, chat, "first question")
		f.srv.Redeliver(first.UpdateID)
		f.srv.Send(alice, chat, "second question")
		f.srv.WaitMessages(alice.ID, 2)
		if n := len(f.handler.messages()); n != 2 {
			t.Errorf("handler called %d times for 2 distinct updates and a repeat", n)
		}
		var statuses []int
		for _, d := range f.srv.Deliveries() {
			statuses = append(statuses, d.Status)
		}
		if want := []int{200, 200, 200}; !reflect.DeepEqual(statuses, want) {
			t.Errorf("webhook answered %v, want %v (a repeat is acknowledged, not refused)", statuses, want)
		}
	})
}

func TestGroupChats(t *testing.T) {
	group := telegramtest.Group(900, "PA network")
	botName := "@" + telegramtest.DefaultBotUsername
	tests := []struct {
		name     string
		send     func(s *telegramtest.Server, botMsg int) telegramtest.Message
		wantText string // "" means ignored
	}{
		{"plain message ignored", func(s *telegramtest.Server, _ int) telegramtest.Message {
			return s.Send(alice, group, "what is the minimum wage?")
		}, ""},
		{"mention answered, mention stripped", func(s *telegramtest.Server, _ int) telegramtest.Message {
			return s.Send(alice, group, botName+" what is the minimum wage?")
		}, "what is the minimum wage?"},
		{"mention in the middle", func(s *telegramtest.Server, _ int) telegramtest.Message {
			return s.Send(alice, group, "hey "+botName+", what is the minimum wage?")
		}, "hey, what is the minimum wage?"},
		{"mention with other case", func(s *telegramtest.Server, _ int) telegramtest.Message {
			return s.Send(alice, group, "@AskPA_Test_Bot holiday pay")
		}, "holiday pay"},
		{"bare mention asks for help", func(s *telegramtest.Server, _ int) telegramtest.Message {
			return s.Send(alice, group, botName)
		}, "/help"},
		{"reply to the bot answered", func(s *telegramtest.Server, botMsg int) telegramtest.Message {
			return s.Reply(alice, group, botMsg, "and for sick pay?")
		}, "and for sick pay?"},
		{"reply to someone else ignored", func(s *telegramtest.Server, _ int) telegramtest.Message {
			m := s.Send(bob, group, "hello all")
			return s.Reply(alice, group, m.ID, "hi Bob")
		}, ""},
		{"another user mentioned ignored", func(s *telegramtest.Server, _ int) telegramtest.Message {
			return s.Send(alice, group, "@bob_smith what do you think?")
		}, ""},
		{"command for the bot", func(s *telegramtest.Server, _ int) telegramtest.Message {
			return s.Send(alice, group, "/topics"+botName)
		}, "/topics"},
		{"command for another bot ignored", func(s *telegramtest.Server, _ int) telegramtest.Message {
			return s.Send(alice, group, "/help@other_bot")
		}, ""},
		{"command for nobody ignored", func(s *telegramtest.Server, _ int) telegramtest.Message {
			return s.Send(alice, group, "/help")
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.run(t)
			// The bot's earlier message in the group, to reply to.
			f.srv.Send(bob, group, botName+" hello")
			f.handler.next(t)
			botMsg := f.srv.WaitMessages(group.ID, 1)[0]

			sent := tt.send(f.srv, botMsg.ID)
			// A mention after it: updates from one chat are handled in
			// order, so once this is handled, the one before has been.
			f.srv.Send(bob, group, botName+" sentinel")
			got := f.handler.next(t)
			if tt.wantText == "" {
				if got.Text != "sentinel" {
					t.Errorf("ignored message reached the engine as %q", got.Text)
				}
				return
			}
			if got.Text != tt.wantText {
				t.Errorf("engine got %q, want %q", got.Text, tt.wantText)
			}
			if got.Address.ChatID != strconv.FormatInt(group.ID, 10) || got.Address.UserID != "501" {
				t.Errorf("address %+v", got.Address)
			}
			msgs := f.srv.WaitMessages(group.ID, 3)
			if msgs[1].ReplyTo != sent.ID {
				t.Errorf("group answer replies to message %d, want the question %d", msgs[1].ReplyTo, sent.ID)
			}
		})
	}
}

func TestPrivateMessageWithoutText(t *testing.T) {
	f := newFixture(t)
	f.run(t)
	chat := telegramtest.Private(alice)
	f.srv.SendSticker(alice, chat)
	msgs := f.srv.WaitMessages(alice.ID, 1)
	if msgs[0].Text != textOnlyReply {
		t.Errorf("sticker answered with %q", msgs[0].Text)
	}
	f.srv.Send(alice, chat, "hello")
	if got := f.handler.next(t); got.Text != "hello" {
		t.Errorf("first message to the engine was %q; the sticker should not reach it", got.Text)
	}
}

func newWebhookFixture(tb testing.TB, mods ...func(*Config)) *fixture {
	tb.Helper()
	var f *fixture
	f = newFixture(tb, append([]func(*Config){func(c *Config) {
		c.WebhookURL = "http://placeholder.invalid" + WebhookPath
		c.WebhookSecret = "s3cret-Token_1"
	}}, mods...)...)
	// The webhook URL is known only once the handler is served.
	f.cfg.WebhookURL = webhookServer(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.ch.WebhookHandler().ServeHTTP(w, r)
	}))
	ch, err := New(f.cfg)
	if err != nil {
		tb.Fatal(err)
	}
	f.ch = ch
	return f
}

func TestWebhookMode(t *testing.T) {
	f := newWebhookFixture(t)
	f.handler.reply = answerWithButtons
	f.run(t)
	hook := f.srv.WaitWebhook()
	if hook.URL != f.cfg.WebhookURL || hook.SecretToken != "s3cret-Token_1" {
		t.Errorf("webhook registered as %+v", hook)
	}
	if want := []string{"message", "callback_query"}; !reflect.DeepEqual(hook.AllowedUpdates, want) {
		t.Errorf("allowed updates %v, want %v", hook.AllowedUpdates, want)
	}

	f.srv.Send(alice, telegramtest.Private(alice), "What is the minimum wage?")
	if got := f.handler.next(t); got.Text != "What is the minimum wage?" {
		t.Errorf("engine got %q", got.Text)
	}
	answer := f.srv.WaitMessages(alice.ID, 1)[0]
	q := f.srv.Press(alice, answer, "Talk to a person")
	if got := f.handler.next(t); got.Action != bot.ActionHuman {
		t.Errorf("button reached the engine as %q", got.Action)
	}
	f.srv.WaitCallbackAnswer(q)
	if n := f.srv.Calls("getUpdates"); n != 0 {
		t.Errorf("webhook mode polled getUpdates %d times", n)
	}
}

func TestWebhookSecretToken(t *testing.T) {
	f := newWebhookFixture(t)
	f.run(t)
	f.srv.WaitWebhook()
	body := `{"update_id": 7, "message": {"message_id": 1, "date": 1700000000, "from": {"id": 501, "is_bot": false, "first_name": "A"}, "chat": {"id": 501, "type": "private"}, "text": "forged"}}`
	tests := []struct {
		name   string
		method string
		secret *string
		body   string
		want   int
	}{
		{"missing token", "POST", nil, body, http.StatusUnauthorized},
		{"empty token", "POST", ptr(""), body, http.StatusUnauthorized},
		{"wrong token", "POST", ptr("s3cret-Token_2"), body, http.StatusUnauthorized},
		{"prefix of the token", "POST", ptr("s3cret"), body, http.StatusUnauthorized},
		{"token with extra", "POST", ptr("s3cret-Token_1x"), body, http.StatusUnauthorized},
		{"wrong method", "GET", ptr("s3cret-Token_1"), "", http.StatusMethodNotAllowed},
		{"not an update", "POST", ptr("s3cret-Token_1"), `{"hello": 1}`, http.StatusBadRequest},
		{"not JSON", "POST", ptr("s3cret-Token_1"), `<xml/>`, http.StatusBadRequest},
		{"over 1 MiB", "POST", ptr("s3cret-Token_1"), `{"update_id": 8, "message": {"text": "` + strings.Repeat("a", 1<<20) + `"}}`, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, WebhookPath, strings.NewReader(tt.body))
			if tt.secret != nil {
				req.Header.Set(SecretHeader, *tt.secret)
			}
			rec := httptest.NewRecorder()
			f.ch.WebhookHandler().ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d", rec.Code, tt.want)
			}
			var body struct{ Error string }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == "" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
				t.Errorf("body %q (%s): want a JSON error like the rest of the API", rec.Body.String(), rec.Header().Get("Content-Type"))
			}
		})
	}
	if n := f.intake.Pending(); n != 0 {
		t.Errorf("refused requests left %d updates in the intake", n)
	}

	// The right token is accepted and handled.
	req := httptest.NewRequest("POST", WebhookPath, strings.NewReader(body))
	req.Header.Set(SecretHeader, "s3cret-Token_1")
	rec := httptest.NewRecorder()
	f.ch.WebhookHandler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("right token: status %d", rec.Code)
	}
	if got := f.handler.next(t); got.Text != "forged" {
		t.Errorf("engine got %q", got.Text)
	}
	if n := len(f.handler.messages()); n != 1 {
		t.Errorf("handler called %d times; refused requests must not reach it", n)
	}
}

func ptr[T any](v T) *T { return &v }

func TestWebhookHandlerOffInPollingMode(t *testing.T) {
	f := newFixture(t)
	req := httptest.NewRequest("POST", WebhookPath, strings.NewReader(`{"update_id": 9}`))
	req.Header.Set(SecretHeader, "")
	rec := httptest.NewRecorder()
	f.ch.WebhookHandler().ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("status %d, want 404", rec.Code)
	}
}

func TestShutdownFinishesReceivedUpdates(t *testing.T) {
	f := newWebhookFixture(t)
	release := make(chan struct{})
	f.handler.block = release
	stop := f.run(t)
	f.srv.WaitWebhook()
	f.srv.Send(alice, telegramtest.Private(alice), "question in flight")
	if d := f.srv.Deliveries(); len(d) != 1 || d[0].Status != http.StatusOK {
		t.Fatalf("deliveries %+v: the webhook must answer 200 before the work is done", d)
	}
	f.handler.next(t)
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	close(release)
	<-stopped
	if msgs := f.srv.Messages(alice.ID); len(msgs) != 1 {
		t.Errorf("after shutdown the person has %d replies, want 1", len(msgs))
	}
}

func TestRunRefusesBadToken(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Token = "999:wrong" })
	ctx, cancel := context.WithTimeout(context.Background(), telegramtest.WaitTimeout)
	defer cancel()
	err := f.ch.Run(ctx)
	if err == nil {
		t.Fatal("Run with a wrong token returned nil")
	}
	if strings.Contains(err.Error(), "999:wrong") {
		t.Errorf("error %q contains the token", err)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	h, s := newFakeHandler(), bottest.NewIntake()
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no token", Config{Handler: h, Intake: s}},
		{"no handler", Config{Token: "1:a", Intake: s}},
		{"no intake", Config{Token: "1:a", Handler: h}},
		{"bad API URL", Config{Token: "1:a", Handler: h, Intake: s, APIURL: "ftp://x"}},
		{"webhook without secret", Config{Token: "1:a", Handler: h, Intake: s, WebhookURL: "https://askpa.example/webhooks/telegram"}},
		{"webhook secret with bad characters", Config{Token: "1:a", Handler: h, Intake: s, WebhookURL: "https://askpa.example/webhooks/telegram", WebhookSecret: "not allowed!"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil {
				t.Error("New accepted it")
			}
		})
	}
	if _, err := New(Config{Token: "1:a", Handler: h, Intake: s}); err != nil {
		t.Errorf("minimal config refused: %v", err)
	}
}

// sendFixture returns a fixture whose server knows alice's chat, for Send.
func sendFixture(t *testing.T, mods ...func(*Config)) *fixture {
	f := newFixture(t, mods...)
	f.srv.Send(alice, telegramtest.Private(alice), "hello") // the chat exists; nobody polls
	return f
}

var aliceAddr = bot.Address{Channel: "telegram", UserID: "501", ChatID: "501"}

func TestSendRetries(t *testing.T) {
	tests := []struct {
		name      string
		failures  []telegramtest.Failure
		wantCalls int
		wantErr   error // nil: delivered
		wantWaits []time.Duration
	}{
		{"429 honours retry_after", []telegramtest.Failure{{Code: 429, RetryAfter: 1}}, 2, nil, []time.Duration{time.Second}},
		{"429 twice", []telegramtest.Failure{{Code: 429, RetryAfter: 2}, {Code: 429, RetryAfter: 1}}, 3, nil, []time.Duration{2 * time.Second, time.Second}},
		{"500 then success", []telegramtest.Failure{{Code: 500}, {Code: 502}}, 3, nil, nil},
		{"proxy error page", []telegramtest.Failure{{Code: 502, Page: true}}, 2, nil, nil},
		{"gateway JSON not in the Bot API's form", []telegramtest.Failure{{Code: 502, Foreign: true}}, 2, nil, nil},
		{"dropped connection", []telegramtest.Failure{{Disconnect: true}}, 2, nil, nil},
		{"gives up after MaxAttempts", []telegramtest.Failure{{Code: 500}, {Code: 500}, {Code: 500}, {Code: 500}}, 3, errAny, nil},
		{"retry_after too long", []telegramtest.Failure{{Code: 429, RetryAfter: 3600}}, 1, errAny, nil},
		{"blocked by the user", []telegramtest.Failure{{Code: 403}}, 1, ErrForbidden, nil},
		{"bad request not retried", []telegramtest.Failure{{Code: 400, Description: "Bad Request: chat not found"}}, 1, errAny, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := sendFixture(t, func(c *Config) { c.MaxAttempts = 3 })
			f.srv.Fail("sendMessage", tt.failures...)
			err := f.ch.Send(context.Background(), aliceAddr, bot.Reply{Text: "Your PA is entitled to 5.6 weeks of holiday."})
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Send: %v", err)
			case tt.wantErr != nil && err == nil:
				t.Fatal("Send returned nil; want an error")
			case tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Errorf("Send error %v, want %v", err, tt.wantErr)
			}
			if n := f.srv.Calls("sendMessage"); n != tt.wantCalls {
				t.Errorf("sendMessage called %d times, want %d", n, tt.wantCalls)
			}
			delivered := len(f.srv.Messages(alice.ID))
			if want := map[bool]int{true: 1, false: 0}[tt.wantErr == nil]; delivered != want {
				t.Errorf("%d messages delivered, want %d", delivered, want)
			}
			// The support desk's outbox keeps retrying only what may recover.
			if wantPermanent := tt.wantErr != nil && tt.wantCalls == 1 && tt.name != "retry_after too long"; support.IsPermanent(err) != wantPermanent {
				t.Errorf("support.IsPermanent(%v) = %v, want %v", err, support.IsPermanent(err), wantPermanent)
			}
			if tt.wantWaits != nil && !reflect.DeepEqual(f.clock.waited(), tt.wantWaits) {
				t.Errorf("waited %v, want %v", f.clock.waited(), tt.wantWaits)
			}
			if err != nil {
				if strings.Contains(err.Error(), f.srv.Token()) || strings.Contains(err.Error(), "5.6 weeks") {
					t.Errorf("error %q shows the token or the message", err)
				}
			}
			if strings.Contains(f.logs.String(), "5.6 weeks") {
				t.Errorf("message text logged:\n%s", f.logs.String())
			}
		})
	}
}

var errAny = errors.New("any error")

func TestSendBackoffGrowsAndIsBounded(t *testing.T) {
	f := sendFixture(t, func(c *Config) {
		c.MaxAttempts = 6
		c.BaseBackoff = time.Second
		c.MaxBackoff = 4 * time.Second
	})
	f.srv.Fail("sendMessage", telegramtest.Failure{Code: 500}, telegramtest.Failure{Code: 500},
		telegramtest.Failure{Code: 500}, telegramtest.Failure{Code: 500}, telegramtest.Failure{Code: 500})
	if err := f.ch.Send(context.Background(), aliceAddr, bot.Reply{Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	bounds := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second}
	waits := f.clock.waited()
	if len(waits) != len(bounds) {
		t.Fatalf("waited %d times, want %d", len(waits), len(bounds))
	}
	for i, w := range waits {
		if w < bounds[i]/2 || w > bounds[i] {
			t.Errorf("wait %d was %v, want between %v and %v", i+1, w, bounds[i]/2, bounds[i])
		}
	}
}

func TestSendNetworkErrorHidesToken(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxAttempts = 2 })
	// Connect first, then lose the server.
	if err := f.ch.Send(context.Background(), aliceAddr, bot.Reply{Text: "hi"}); err == nil {
		t.Fatal("send to an unknown chat succeeded")
	}
	f.srv.Close()
	err := f.ch.Send(context.Background(), aliceAddr, bot.Reply{Text: "hi"})
	if err == nil {
		t.Fatal("Send to a closed server returned nil")
	}
	if strings.Contains(err.Error(), f.srv.Token()) {
		t.Errorf("error %q contains the token", err)
	}
	// The request URL is in the error, so the redaction was needed.
	if !strings.Contains(err.Error(), "/bot<token>/sendMessage") {
		t.Errorf("error %q does not name the redacted request", err)
	}
}

func TestSendAddress(t *testing.T) {
	f := sendFixture(t)
	for _, to := range []bot.Address{
		{Channel: "slack", UserID: "U1", ChatID: "D1"},
		{Channel: "telegram", UserID: "501", ChatID: "not-a-number"},
		{Channel: "telegram", UserID: "501"},
	} {
		err := f.ch.Send(context.Background(), to, bot.Reply{Text: "hi"})
		if err == nil {
			t.Errorf("Send to %+v succeeded", to)
		}
		if !support.IsPermanent(err) {
			t.Errorf("Send to %+v: %v is not marked permanent", to, err)
		}
	}
	if n := f.srv.Calls("sendMessage"); n != 0 {
		t.Errorf("bad addresses made %d sendMessage calls", n)
	}
}

func TestSendStaffReply(t *testing.T) {
	f := sendFixture(t)
	err := f.ch.Send(context.Background(), aliceAddr, bot.Reply{Text: "Hi Alice, I've checked <your> contract & it's fine.", FromStaff: true})
	if err != nil {
		t.Fatal(err)
	}
	m := f.srv.Messages(alice.ID)[0]
	if want := "Support team:\nHi Alice, I've checked <your> contract & it's fine."; m.Text != want {
		t.Errorf("person sees %q, want %q", m.Text, want)
	}
	if !strings.HasPrefix(m.HTML, "<b>Support team:</b>") {
		t.Errorf("staff prefix not bold: %q", m.HTML)
	}
}

func TestSendLongReplyInParts(t *testing.T) {
	f := sendFixture(t)
	r := longReply()
	if err := f.ch.Send(context.Background(), aliceAddr, r); err != nil {
		t.Fatal(err)
	}
	msgs := f.srv.Messages(alice.ID)
	if len(msgs) < 3 {
		t.Fatalf("a 10,000-character reply arrived in %d messages", len(msgs))
	}
	var all strings.Builder
	for i, m := range msgs {
		if hasKB := len(m.Keyboard) > 0; hasKB != (i == len(msgs)-1) {
			t.Errorf("part %d of %d has keyboard %v; only the last should", i+1, len(msgs), hasKB)
		}
		all.WriteString(m.Text + " ")
	}
	if got, want := strings.Join(strings.Fields(all.String()), " "), strings.Join(strings.Fields(r.Text), " "); !strings.Contains(got, want) {
		t.Error("the parts together do not hold the whole text")
	}
}

func TestSendDropsOversizedButton(t *testing.T) {
	f := sendFixture(t)
	long := bot.ActionTopic + strings.Repeat("x", 70)
	err := f.ch.Send(context.Background(), aliceAddr, bot.Reply{Text: "Topics", Buttons: [][]bot.Button{
		{{Label: "Pay", Action: bot.ActionTopic + "pay"}, {Label: "Too long", Action: long}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	m := f.srv.Messages(alice.ID)[0]
	if want := [][]string{{"Pay"}}; !reflect.DeepEqual(m.Buttons(), want) {
		t.Errorf("buttons %v, want %v", m.Buttons(), want)
	}
	if !strings.Contains(f.logs.String(), "level=WARN") || !strings.Contains(f.logs.String(), "button dropped") {
		t.Errorf("no warning logged for the dropped button:\n%s", f.logs.String())
	}
}

func TestGetUpdatesFailureRetried(t *testing.T) {
	f := newFixture(t)
	f.srv.Fail("getUpdates", telegramtest.Failure{Code: 502, Page: true}, telegramtest.Failure{Code: 429, RetryAfter: 1})
	f.run(t)
	f.srv.Send(alice, telegramtest.Private(alice), "hello")
	if got := f.handler.next(t); got.Text != "hello" {
		t.Errorf("engine got %q", got.Text)
	}
	if n := f.srv.Calls("getUpdates"); n < 3 {
		t.Errorf("getUpdates called %d times; failures must be retried", n)
	}
}

func TestRunWaitsForTheBotAPI(t *testing.T) {
	f := newFixture(t)
	f.srv.Fail("getMe", telegramtest.Failure{Code: 502, Page: true}, telegramtest.Failure{Disconnect: true}, telegramtest.Failure{Code: 502, Foreign: true})
	f.run(t)
	f.srv.Send(alice, telegramtest.Private(alice), "hello")
	if got := f.handler.next(t); got.Text != "hello" {
		t.Errorf("engine got %q", got.Text)
	}
	if n := f.srv.Calls("getMe"); n != 4 {
		t.Errorf("getMe called %d times, want 4 (an error page, a dropped connection, a gateway's own JSON, then success)", n)
	}
}

// TestWebhookAcknowledgesOnlyWhatIsStored checks that an update is answered
// 200 only once the intake has it: while the store is down the webhook
// answers 503, and Telegram's later delivery is handled once.
func TestWebhookAcknowledgesOnlyWhatIsStored(t *testing.T) {
	f := newWebhookFixture(t)
	f.run(t)
	f.srv.WaitWebhook()
	chat := telegramtest.Private(alice)
	f.intake.Fail(errors.New("database is down"))
	f.srv.Send(alice, chat, "one")
	f.intake.Fail(nil)
	var statuses []int
	for _, d := range f.srv.Deliveries() {
		statuses = append(statuses, d.Status)
	}
	if want := []int{503}; !reflect.DeepEqual(statuses, want) {
		t.Fatalf("webhook answered %v while the store was down, want %v", statuses, want)
	}
	f.srv.DeliverPending() // Telegram tries again
	if got := f.handler.next(t); got.Text != "one" {
		t.Errorf("redelivered update reached the engine as %q", got.Text)
	}
	f.srv.WaitMessages(alice.ID, 1)
}

// TestUpdatesSurviveARestart checks that updates acknowledged by a process
// that then died are handled by the next one, in order, once each.
func TestUpdatesSurviveARestart(t *testing.T) {
	f := newWebhookFixture(t)
	chat := telegramtest.Private(alice)
	// Run is not running: the webhook still takes updates into the intake
	// (as a process does that dies before handling them).
	for i, text := range []string{"first", "second", "third"} {
		u := fmt.Sprintf(`{"update_id": %d, "message": {"message_id": %d, "date": 1, "text": %q, "from": {"id": %d, "first_name": "Alice"}, "chat": {"id": %d, "type": "private"}}}`,
			700+i, 10+i, text, alice.ID, chat.ID)
		req := httptest.NewRequest("POST", WebhookPath, strings.NewReader(u))
		req.Header.Set(SecretHeader, "s3cret-Token_1")
		rec := httptest.NewRecorder()
		f.ch.WebhookHandler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("update %d: status %d", i, rec.Code)
		}
	}
	next, err := New(f.cfg) // the next process, on the same store
	if err != nil {
		t.Fatal(err)
	}
	f.ch = next
	f.run(t)
	for _, want := range []string{"first", "second", "third"} {
		if got := f.handler.next(t); got.Text != want {
			t.Fatalf("after the restart the engine got %q; want %q (in order)", got.Text, want)
		}
	}
	select {
	case m := <-f.handler.seen:
		t.Errorf("the engine got %q a second time", m.Text)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestBrokenLongPollDoesNotSpin checks that a getUpdates that answers at
// once with nothing (a broken gateway) is asked again only after growing
// waits, and that updates still arrive.
func TestBrokenLongPollDoesNotSpin(t *testing.T) {
	f := newFixture(t)
	f.srv.BreakLongPoll(true)
	f.run(t)
	for f.srv.Calls("getUpdates") < 6 {
		time.Sleep(5 * time.Millisecond)
	}
	waits := f.clock.waited()
	if len(waits) < 4 {
		t.Fatalf("waited %v between %d empty polls; want a wait after each", waits, f.srv.Calls("getUpdates"))
	}
	if waits[3] <= waits[0] {
		t.Errorf("waits %v do not grow", waits)
	}
	f.srv.Send(alice, telegramtest.Private(alice), "hello")
	if got := f.handler.next(t); got.Text != "hello" {
		t.Errorf("engine got %q", got.Text)
	}
}

// TestOnlyTheElectedProcessPolls checks that of two processes polling one
// bot, only the elected one polls, and that the other takes over when it
// stops.
func TestOnlyTheElectedProcessPolls(t *testing.T) {
	leader := &fakeLeader{}
	f := newFixture(t, func(c *Config) { c.Leader = leader; c.LeaderRetry = 5 * time.Millisecond })
	stopFirst := f.run(t)
	f.srv.Send(alice, telegramtest.Private(alice), "one")
	if got := f.handler.next(t); got.Text != "one" {
		t.Fatalf("engine got %q", got.Text)
	}
	second, err := New(f.cfg) // another process serving the same bot
	if err != nil {
		t.Fatal(err)
	}
	first := f.ch
	f.ch = second
	f.run(t)
	for leader.refused() < 2 {
		time.Sleep(time.Millisecond)
	}
	f.ch = first
	stopFirst()
	f.srv.Send(alice, telegramtest.Private(alice), "two")
	if got := f.handler.next(t); got.Text != "two" {
		t.Fatalf("after the poller stopped, the engine got %q; want the other process to take over", got.Text)
	}
}
