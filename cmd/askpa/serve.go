package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/httpapi"
	"github.com/askpa/askpa/support"
	"github.com/askpa/askpa/support/postgres"
	"github.com/askpa/askpa/support/sqlite"
)

// serveStore is what askpa serve keeps everything in.
type serveStore interface {
	support.Store
	bot.Store
	bot.Mailbox
}

// shutdownGrace is how long in-flight requests get after SIGTERM.
const shutdownGrace = 20 * time.Second

// runServe runs the service until ctx is cancelled (SIGINT, SIGTERM): the
// HTTP API with the web channel, the support desk and its outbox
// dispatcher. Configuration comes from the environment (see README.md);
// zero configuration serves on :8080 with SQLite under ./data.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	fl.SetOutput(stderr)
	webhookTimeout := fl.Duration("webhook-timeout", support.WebhookTimeout, "time limit of one outbound delivery attempt")
	rateLimit := fl.Float64("rate-limit", 10, "requests per second allowed to one client address (0: no limit)")
	debug := fl.Bool("debug", false, "log at debug level")
	if err := fl.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fl.NArg() > 0 {
		return usageError{"serve takes no arguments"}
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	staff, err := httpapi.ParseStaff(getenv("ASKPA_STAFF_TOKENS"))
	if err != nil {
		return fmt.Errorf("ASKPA_STAFF_TOKENS: %w", err)
	}
	webhookURLs := splitList(getenv("ASKPA_WEBHOOK_URLS"))
	webhookSecret := getenv("ASKPA_WEBHOOK_SECRET")
	if len(webhookURLs) > 0 && webhookSecret == "" {
		return errors.New("ASKPA_WEBHOOK_URLS is set but ASKPA_WEBHOOK_SECRET is empty: webhooks must be signed")
	}
	var targets []support.Target
	for _, u := range webhookURLs {
		w, err := support.NewWebhook(u, []byte(webhookSecret), &http.Client{Timeout: *webhookTimeout})
		if err != nil {
			return fmt.Errorf("ASKPA_WEBHOOK_URLS: %w", err)
		}
		targets = append(targets, w)
	}

	store, err := openStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer store.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	web := httpapi.WebChannel{Mailbox: store}
	channels := map[string]bot.Channel{web.Name(): web}

	var desk *support.Desk
	var disp *support.Dispatcher
	handler, relay := newEngine(store, func() *support.Desk { return desk }, channels)
	desk, err = support.NewDesk(support.Config{
		Store: store, Targets: targets, Relay: relay, Logger: log, Registerer: reg,
		Notify: func() { disp.Wake() },
	})
	if err != nil {
		return err
	}
	disp, err = support.NewDispatcher(support.DispatcherConfig{
		Store: store, Targets: desk.Targets(), Timeout: *webhookTimeout, Lease: 2**webhookTimeout + 5*time.Second,
		Logger: log, Registerer: reg,
	})
	if err != nil {
		return err
	}
	limit := rate.Limit(*rateLimit)
	if *rateLimit <= 0 {
		limit = rate.Inf
	}
	api, err := httpapi.New(httpapi.Config{
		Desk: desk, Handler: handler, Mailbox: store, Staff: staff,
		SupportSecret:  []byte(getenv("ASKPA_SUPPORT_WEBHOOK_SECRET")),
		Ready:          map[string]httpapi.Pinger{"store": store},
		TrustedProxies: splitList(getenv("ASKPA_TRUSTED_PROXIES")),
		RateLimit:      limit,
		Gatherer:       reg, Registerer: reg, Logger: log,
	})
	if err != nil {
		return err
	}

	addr := getenv("ASKPA_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	fmt.Fprintf(stdout, "askpa: listening on http://%s\n", ln.Addr())
	log.Info("serving", slog.String("addr", ln.Addr().String()), slog.Int("webhooks", len(targets)),
		slog.Int("staff", len(staff)), slog.Bool("helpdesk_replies", getenv("ASKPA_SUPPORT_WEBHOOK_SECRET") != ""))

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error { return disp.Run(gctx) })
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		log.Info("shutting down: finishing requests and deliveries in flight")
		return srv.Shutdown(sctx)
	})
	err = g.Wait()
	log.Info("stopped")
	return err
}

// openStore opens PostgreSQL when ASKPA_DATABASE_URL is set and SQLite under
// ASKPA_DATA_DIR (./data) otherwise.
func openStore(ctx context.Context, getenv env) (serveStore, error) {
	if url := getenv("ASKPA_DATABASE_URL"); url != "" {
		s, err := postgres.Open(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("ASKPA_DATABASE_URL: %w", err)
		}
		return s, nil
	}
	dir := getenv("ASKPA_DATA_DIR")
	if dir == "" {
		dir = "./data"
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("ASKPA_DATA_DIR: %w", err)
	}
	return sqlite.Open(ctx, filepath.Join(dir, "askpa.db"))
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// newEngine builds the answer engine: the bot.Handler the channels call and
// the support.Relay the desk drives to reach people. This is the one seam
// to change when bot.NewService lands; until then it is placeholderEngine,
// which answers nothing itself and hands people who ask for a person to
// the desk. desk is called only after serve has built the desk.
func newEngine(store bot.Store, desk func() *support.Desk, channels map[string]bot.Channel) (bot.Handler, support.Relay) {
	p := &placeholderEngine{store: store, desk: desk, channels: channels}
	return p, p
}

// placeholderEngine stands in for the bot engine: it keeps conversations,
// escalates when asked for a person, relays what the person writes while
// escalated, and delivers staff replies through the person's channel.
type placeholderEngine struct {
	store    bot.Store
	desk     func() *support.Desk
	channels map[string]bot.Channel
}

const (
	placeholderNoAnswer = "I can't answer questions yet. Ask for a person and someone from the support team will reply here."
	placeholderEscalate = "I've asked the support team to pick this up. A person will reply here."
	placeholderRelayed  = "Thanks. The support team can see your message."
)

// wantsPerson reports whether text asks for a human.
func wantsPerson(text string) bool {
	t := strings.ToLower(text)
	for _, w := range []string{"person", "human", "someone", "somebody", "staff", "adviser", "advisor"} {
		if strings.Contains(t, w) {
			return true
		}
	}
	return false
}

func (p *placeholderEngine) Handle(ctx context.Context, m bot.Message) (bot.Result, error) {
	c, err := p.store.Conversation(ctx, m.Address, m.Audience, m.At)
	if err != nil {
		return bot.Result{}, err
	}
	if err := p.store.AppendTurn(ctx, c.ID, bot.Turn{From: bot.FromUser, Text: m.Text, At: m.At}); err != nil {
		return bot.Result{}, err
	}
	res := bot.Result{ConversationID: c.ID}
	reply := func(text string, a *bot.Answer) (bot.Result, error) {
		res.Answer = a
		res.Replies = []bot.Reply{{Text: text}}
		return res, p.store.AppendTurn(ctx, c.ID, bot.Turn{From: bot.FromBot, Text: text, At: m.At})
	}
	if c.Mode != bot.ModeBot && c.EscalationID != "" {
		err := p.desk().AddPersonMessage(ctx, c.EscalationID, m.Text, m.At)
		switch {
		case err == nil:
			res.EscalationID = c.EscalationID
			return reply(placeholderRelayed, nil)
		case !errors.Is(err, support.ErrResolved) && !errors.Is(err, support.ErrNotFound):
			return bot.Result{}, err
		}
		c.Mode, c.EscalationID = bot.ModeBot, ""
	}
	answer := &bot.Answer{Question: m.Text, Audience: c.Audience, Sources: []bot.Source{}, Suggestions: []string{}}
	if !wantsPerson(m.Text) && m.Action != bot.ActionHuman {
		answer.Text = placeholderNoAnswer
		return reply(placeholderNoAnswer, answer)
	}
	turns, err := p.store.Turns(ctx, c.ID, support.MaxHistoryLen)
	if err != nil {
		return bot.Result{}, err
	}
	var history []support.Message
	for _, t := range turns {
		history = append(history, support.Message{From: t.From, Text: t.Text, At: t.At})
	}
	e, err := p.desk().Escalate(ctx, support.NewEscalation{
		ConversationID: c.ID, Address: support.Address(m.Address), Audience: string(c.Audience),
		Reason: bot.ReasonRequested, Priority: support.PriorityNormal,
		Summary: "The person asked to talk to a person.", Messages: history,
	})
	if err != nil {
		return bot.Result{}, err
	}
	c.Mode, c.EscalationID, c.UpdatedAt = bot.ModeWaiting, e.ID, m.At
	if err := p.store.SaveConversation(ctx, c); err != nil {
		return bot.Result{}, err
	}
	res.EscalationID = e.ID
	answer.Text, answer.Escalate, answer.Reason = placeholderEscalate, true, bot.ReasonRequested
	return reply(placeholderEscalate, answer)
}

// DeliverReply sends a staff reply through the person's own channel.
func (p *placeholderEngine) DeliverReply(ctx context.Context, e support.Escalation, m support.Message) error {
	ch := p.channels[e.Address.Channel]
	if ch == nil {
		return support.Permanent(fmt.Errorf("the %s channel is not running", e.Address.Channel))
	}
	if err := ch.Send(ctx, bot.Address(e.Address), bot.Reply{Text: m.Text, FromStaff: true}); err != nil {
		return err
	}
	return p.store.AppendTurn(ctx, e.ConversationID, bot.Turn{From: bot.FromStaff, Text: m.Text, At: m.At})
}

// StatusChanged switches the conversation's mode and tells the person.
func (p *placeholderEngine) StatusChanged(ctx context.Context, e support.Escalation) error {
	c, err := p.store.ConversationByID(ctx, e.ConversationID)
	if errors.Is(err, bot.ErrNotFound) {
		return support.Permanent(err)
	}
	if err != nil {
		return err
	}
	var text string
	switch e.Status {
	case support.StatusClaimed:
		c.Mode, c.EscalationID = bot.ModeHuman, e.ID
		text = "Someone from the support team has picked up your conversation."
	case support.StatusOpen:
		c.Mode, c.EscalationID = bot.ModeWaiting, e.ID
		text = "The support team has reopened your conversation. A person will reply here."
	case support.StatusResolved:
		if c.EscalationID != e.ID {
			return nil // the person has moved on
		}
		c.Mode, c.EscalationID = bot.ModeBot, ""
		text = "The support team has closed this conversation. Ask me again, or ask for a person, at any time."
	}
	if err := p.store.SaveConversation(ctx, c); err != nil {
		return err
	}
	if ch := p.channels[e.Address.Channel]; ch != nil {
		return ch.Send(ctx, bot.Address(e.Address), bot.Reply{Text: text})
	}
	return nil
}
