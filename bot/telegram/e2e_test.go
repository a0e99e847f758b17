package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/bottest"
	"github.com/askpa/askpa/bot/telegram"
	"github.com/askpa/askpa/bot/telegram/telegramtest"
	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/httpapi"
	"github.com/askpa/askpa/sqlite"
	"github.com/askpa/askpa/support"
)

// sharedEngine is the real engine over the built-in knowledge base.
func sharedEngine(tb testing.TB) *bot.Engine { return bottest.Engine(tb) }

const staffToken = "staff-token-sam"

// stack is askpa as serve wires it, with the Telegram channel talking to a
// test Bot API server: SQLite store, answer engine, bot service, support
// desk with its outbox dispatcher and relay, and the HTTP API.
type stack struct {
	tg   *telegramtest.Server
	ch   *telegram.Channel
	desk *support.Desk
	disp *support.Dispatcher
	api  *httptest.Server
}

func newStack(t *testing.T, webhook bool) *stack {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "askpa.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	relay, err := bot.NewRelay(bot.RelayConfig{Store: store, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	desk, err := support.NewDesk(support.Config{Store: store, Relay: relay, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	disp, err := support.NewDispatcher(support.DispatcherConfig{Store: store, Targets: desk.Targets(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	network, err := directory.NewNetwork(directory.Config{Store: store, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := bot.NewService(bot.ServiceConfig{Engine: sharedEngine(t), Store: store, Desk: desk, Network: network, Logger: log})
	if err != nil {
		t.Fatal(err)
	}

	s := &stack{tg: telegramtest.NewServer(t), desk: desk, disp: disp}
	cfg := telegram.Config{
		Token: s.tg.Token(), APIURL: s.tg.URL(),
		Handler: svc, Intake: store, Logger: log,
	}
	// The HTTP API mounts the webhook, which needs the channel; the
	// channel's webhook URL needs the API's address.
	var chMu sync.Mutex
	hook := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chMu.Lock()
		ch := s.ch
		chMu.Unlock()
		ch.WebhookHandler().ServeHTTP(w, r)
	})
	router, err := httpapi.New(httpapi.Config{
		Desk: desk, Directory: network, Handler: svc, Mailbox: store, Logger: log,
		Staff: []httpapi.Staff{{Name: "sam", Token: staffToken}},
		Mount: []httpapi.Route{{Method: http.MethodPost, Path: telegram.WebhookPath, Handler: hook}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.api = httptest.NewServer(router)
	t.Cleanup(s.api.Close)
	if webhook {
		cfg.WebhookURL = s.api.URL + telegram.WebhookPath
		cfg.WebhookSecret = "e2e-secret"
	}
	ch, err := telegram.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	chMu.Lock()
	s.ch = ch
	chMu.Unlock()
	relay.AddChannel(ch)

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- ch.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	if webhook {
		s.tg.WaitWebhook()
	}
	return s
}

// staff calls the staff API and decodes the answer into out.
func (s *stack) staff(t *testing.T, method, path string, body any, out any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, s.api.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+staffToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: status %d", method, path, resp.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// deliver runs the outbox until nothing is due, as the dispatcher would.
func (s *stack) deliver(t *testing.T) {
	t.Helper()
	for range 10 {
		n, err := s.disp.Pass(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

type escalationJSON struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Reason   string `json:"reason"`
	Channel  string `json:"channel"`
	Messages []struct {
		From          string `json:"from"`
		Text          string `json:"text"`
		Delivery      string `json:"delivery"`
		DeliveryError string `json:"delivery_error"`
	} `json:"messages"`
}

func (s *stack) escalation(t *testing.T, id string) escalationJSON {
	t.Helper()
	var e escalationJSON
	s.staff(t, http.MethodGet, "/api/v1/escalations/"+id, nil, &e)
	return e
}

// openEscalation returns the one open escalation in the queue.
func (s *stack) openEscalation(t *testing.T) escalationJSON {
	t.Helper()
	var list struct {
		Escalations []escalationJSON `json:"escalations"`
	}
	s.staff(t, http.MethodGet, "/api/v1/escalations?status=open", nil, &list)
	if len(list.Escalations) != 1 {
		t.Fatalf("%d open escalations, want 1", len(list.Escalations))
	}
	return s.escalation(t, list.Escalations[0].ID)
}

// person is someone in a private chat with the bot, keeping count of what
// the bot has sent them.
type person struct {
	t    *testing.T
	s    *stack
	user telegramtest.User
	seen int
}

// say sends text and returns the bot's next message.
func (p *person) say(text string) telegramtest.Message {
	p.t.Helper()
	p.s.tg.Send(p.user, telegramtest.Private(p.user), text)
	return p.next()
}

// press presses a button on m and returns the bot's next message.
func (p *person) press(m telegramtest.Message, label string) telegramtest.Message {
	p.t.Helper()
	q := p.s.tg.Press(p.user, m, label)
	p.s.tg.WaitCallbackAnswer(q)
	return p.next()
}

// next waits for the bot's next message.
func (p *person) next() telegramtest.Message {
	p.t.Helper()
	p.seen++
	msgs := p.s.tg.WaitMessages(p.user.ID, p.seen)
	return msgs[p.seen-1]
}

func hasButton(m telegramtest.Message, label string) bool {
	for _, row := range m.Buttons() {
		for _, b := range row {
			if b == label {
				return true
			}
		}
	}
	return false
}

func expect(t *testing.T, step string, m telegramtest.Message, contains string, buttons ...string) {
	t.Helper()
	if !strings.Contains(m.Text, contains) {
		t.Fatalf("%s: the person sees %q; want it to contain %q", step, m.Text, contains)
	}
	for _, b := range buttons {
		if !hasButton(m, b) {
			t.Fatalf("%s: no %q button among %v", step, b, m.Buttons())
		}
	}
}

// TestEndToEnd drives a person's whole path through Telegram: /start, a
// question answered with buttons, "Not helpful", "Talk to a person", the
// escalation in the queue, a staff reply through the API delivered to the
// chat, the conversation resolved, and the bot answering again.
func TestEndToEnd(t *testing.T) {
	for _, mode := range []string{"polling", "webhook"} {
		t.Run(mode, func(t *testing.T) {
			s := newStack(t, mode == "webhook")
			alice := &person{t: t, s: s, user: telegramtest.User{ID: 7001, FirstName: "Alice"}}

			welcome := alice.say("/start")
			expect(t, "/start", welcome, "Hello, I am askpa", "I employ a PA", "I am a PA")
			expect(t, "choosing employer", alice.press(welcome, "I employ a PA"), "someone who employs a PA")

			answer := alice.say("How much holiday does my PA get?")
			expect(t, "question", answer, "5.6 weeks", "Helpful", "Not helpful", "Talk to a person")
			if len(answer.Links) == 0 {
				t.Errorf("the answer has no source links: %q", answer.HTML)
			}

			sorry := alice.press(answer, "Not helpful")
			expect(t, "not helpful", sorry, "did not help", "Talk to a person")
			handed := alice.press(sorry, "Talk to a person")
			expect(t, "talk to a person", handed, "passed your conversation to the support team")

			e := s.openEscalation(t)
			if e.Channel != "telegram" || e.Reason != bot.ReasonRequested {
				t.Errorf("escalation channel %q reason %q", e.Channel, e.Reason)
			}
			if !containsMessage(e, "user", "How much holiday does my PA get?") {
				t.Errorf("the escalation lacks the person's question: %+v", e.Messages)
			}

			s.staff(t, http.MethodPost, "/api/v1/escalations/"+e.ID+"/claim", nil, nil)
			s.deliver(t)
			expect(t, "claimed", alice.next(), "picked up your conversation")

			staffText := "Hi Alice, I'm Sam. A full-time PA gets 5.6 weeks <including> bank holidays & you can't pay it instead of leave."
			s.staff(t, http.MethodPost, "/api/v1/escalations/"+e.ID+"/replies", map[string]string{"text": staffText}, nil)
			s.deliver(t)
			reply := alice.next()
			if want := "Support team:\n" + staffText; reply.Text != want {
				t.Errorf("staff reply reached the person as %q, want %q", reply.Text, want)
			}
			if got := s.escalation(t, e.ID); !containsDelivered(got, staffText) {
				t.Errorf("the staff reply is not marked delivered: %+v", got.Messages)
			}

			s.staff(t, http.MethodPost, "/api/v1/escalations/"+e.ID+"/resolve", nil, nil)
			s.deliver(t)
			expect(t, "resolved", alice.next(), "back with askpa")

			again := alice.say("What is the minimum wage for a PA?")
			expect(t, "asking again", again, "£", "Helpful", "Not helpful", "Talk to a person")
		})
	}
}

// TestEndToEndCancel: a person who asked for a person changes their mind
// with /cancel, the escalation is closed, and the bot answers again.
func TestEndToEndCancel(t *testing.T) {
	s := newStack(t, false)
	bob := &person{t: t, s: s, user: telegramtest.User{ID: 7002, FirstName: "Bob"}}
	expect(t, "/human", bob.say("/human"), "passed your conversation to the support team", "Back to askpa")
	e := s.openEscalation(t)

	// While waiting, questions go to the support team, and the bot does not
	// answer them (it said once that a person will reply). Updates from one
	// chat are handled in order, so the next message the person sees is
	// the answer to /cancel only if the question got none.
	question := "Can I pay my PA's holiday as extra pay instead?"
	s.tg.Send(bob.user, telegramtest.Private(bob.user), question)
	expect(t, "/cancel", bob.say("/cancel"), "back with askpa")
	if got := s.escalation(t, e.ID); !containsMessage(got, "user", question) {
		t.Errorf("the message did not reach the escalation: %+v", got.Messages)
	}
	if got := s.escalation(t, e.ID); got.Status != string(support.StatusResolved) {
		t.Errorf("after /cancel the escalation is %q, want resolved", got.Status)
	}
	expect(t, "asking again", bob.say("How much holiday does my PA get?"), "5.6 weeks", "Helpful")
}

// TestEndToEndBlockedPerson: a staff reply to someone who blocked the bot
// is marked failed with the reason, and not retried.
func TestEndToEndBlockedPerson(t *testing.T) {
	s := newStack(t, false)
	carol := &person{t: t, s: s, user: telegramtest.User{ID: 7003, FirstName: "Carol"}}
	carol.say("/human")
	e := s.openEscalation(t)
	s.tg.Block(carol.user)
	s.staff(t, http.MethodPost, "/api/v1/escalations/"+e.ID+"/replies", map[string]string{"text": "Hello Carol"}, nil)
	s.deliver(t)
	got := s.escalation(t, e.ID)
	var found bool
	for _, m := range got.Messages {
		if m.From == "staff" && m.Text == "Hello Carol" {
			found = true
			if m.Delivery != string(support.DeliveryFailed) || !strings.Contains(m.DeliveryError, "blocked") {
				t.Errorf("staff reply delivery %q (%q), want failed because the bot was blocked", m.Delivery, m.DeliveryError)
			}
		}
	}
	if !found {
		t.Fatalf("no staff message in %+v", got.Messages)
	}
	if n := s.tg.Calls("sendMessage"); n > 3 {
		t.Errorf("sendMessage called %d times; a blocked chat must not be retried", n)
	}
}

func containsMessage(e escalationJSON, from, text string) bool {
	for _, m := range e.Messages {
		if m.From == from && m.Text == text {
			return true
		}
	}
	return false
}

func containsDelivered(e escalationJSON, text string) bool {
	for _, m := range e.Messages {
		if m.From == "staff" && m.Text == text {
			return m.Delivery == string(support.DeliveryDelivered)
		}
	}
	return false
}
