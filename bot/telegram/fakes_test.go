package telegram

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/bottest"
	"github.com/askpa/askpa/bot/telegram/telegramtest"
)

// fakeHandler records the messages it is given and answers with reply.
type fakeHandler struct {
	mu    sync.Mutex
	got   []bot.Message
	reply func(bot.Message) ([]bot.Reply, error)
	// block, when set, is waited on before answering.
	block chan struct{}
	seen  chan bot.Message
}

func newFakeHandler() *fakeHandler {
	return &fakeHandler{seen: make(chan bot.Message, 100)}
}

func (h *fakeHandler) Handle(ctx context.Context, m bot.Message) (bot.Result, error) {
	h.mu.Lock()
	h.got = append(h.got, m)
	reply, block := h.reply, h.block
	h.mu.Unlock()
	h.seen <- m
	if block != nil {
		<-block
	}
	if reply == nil {
		return bot.Result{ConversationID: "c1", Replies: []bot.Reply{{Text: "You said: " + m.Text + m.Action}}}, nil
	}
	rs, err := reply(m)
	return bot.Result{ConversationID: "c1", Replies: rs}, err
}

func (h *fakeHandler) messages() []bot.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]bot.Message(nil), h.got...)
}

// next waits for the next message the handler is given.
func (h *fakeHandler) next(tb testing.TB) bot.Message {
	tb.Helper()
	select {
	case m := <-h.seen:
		return m
	case <-time.After(telegramtest.WaitTimeout):
		tb.Fatal("handler was not called")
		return bot.Message{}
	}
}

// fakeClock never waits: After fires at once and records what was asked.
type fakeClock struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time { return time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC) }

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- c.Now().Add(d)
	return ch
}

func (c *fakeClock) waited() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// fixture is a channel wired to a test Bot API server and fakes.
type fixture struct {
	srv     *telegramtest.Server
	ch      *Channel
	handler *fakeHandler
	intake  *bottest.Intake
	clock   *fakeClock
	logs    *syncBuffer
	cfg     Config
}

// newFixture builds a channel against a new test server; mods adjust the
// configuration before New.
func newFixture(tb testing.TB, mods ...func(*Config)) *fixture {
	tb.Helper()
	f := &fixture{
		srv:     telegramtest.NewServer(tb),
		handler: newFakeHandler(),
		intake:  bottest.NewIntake(),
		clock:   &fakeClock{},
		logs:    &syncBuffer{},
	}
	f.cfg = Config{
		Token:   f.srv.Token(),
		APIURL:  f.srv.URL(),
		Logger:  slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Clock:   f.clock,
		Poll:    10 * time.Millisecond,
		Handler: f.handler,
		Intake:  f.intake,
	}
	for _, m := range mods {
		m(&f.cfg)
	}
	ch, err := New(f.cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	f.ch = ch
	tb.Cleanup(func() {
		if strings.Contains(f.logs.String(), f.srv.Token()) {
			tb.Errorf("the bot token appears in the logs:\n%s", f.logs.String())
		}
	})
	return f
}

// run starts Run and stops it when the test ends, failing the test if Run
// returned an error.
func (f *fixture) run(tb testing.TB) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.ch.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				tb.Errorf("Run: %v", err)
			}
		})
	}
	tb.Cleanup(stop)
	return stop
}

// webhookServer serves f's webhook handler at WebhookPath.
func webhookServer(tb testing.TB, h http.Handler) string {
	tb.Helper()
	mux := http.NewServeMux()
	mux.Handle("POST "+WebhookPath, h)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv.URL + WebhookPath
}

var (
	alice = telegramtest.User{ID: 501, FirstName: "Alice"}
	bob   = telegramtest.User{ID: 502, FirstName: "Bob", Username: "bob_smith"}
)

// fakeLeader is a bot.Leader shared by the channels of one test, as the
// database is by processes.
type fakeLeader struct {
	mu       sync.Mutex
	held     bool
	refusals int
}

func (l *fakeLeader) Lead(context.Context, string) (<-chan struct{}, func(), bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held {
		l.refusals++
		return nil, nil, false, nil
	}
	l.held = true
	var once sync.Once
	return make(chan struct{}), func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.held = false
		})
	}, true, nil
}

func (l *fakeLeader) refused() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.refusals
}
