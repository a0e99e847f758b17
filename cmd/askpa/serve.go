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
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/httpapi"
	"github.com/askpa/askpa/insights"
	"github.com/askpa/askpa/internal/sqlstore"
	"github.com/askpa/askpa/postgres"
	"github.com/askpa/askpa/retention"
	"github.com/askpa/askpa/sqlite"
	"github.com/askpa/askpa/support"
)

// serveStore is what askpa serve keeps everything in.
type serveStore interface {
	support.Store
	support.StatsSource
	bot.Store
	bot.Mailbox
	bot.Intake
	bot.Leader
	bot.WebSessions
	support.StaffSessions
	support.Watcher
	bot.PersonStore
	retention.Store
	directory.Store
	bot.QuestionLog
	insights.Store
	// SetListingEvents makes every listing change write its outbox rows
	// in its own transaction (sqlstore.Store.SetListingEvents).
	SetListingEvents(func(directory.Change) ([]support.Delivery, error))
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

	policy, err := retentionPolicy(getenv)
	if err != nil {
		return err
	}
	staff, err := httpapi.ParseStaff(getenv("ASKPA_STAFF_TOKENS"))
	if err != nil {
		return fmt.Errorf("ASKPA_STAFF_TOKENS: %w", err)
	}
	consoleIdle := httpapi.DefaultConsoleIdle
	if v := getenv("ASKPA_CONSOLE_IDLE"); v != "" {
		if consoleIdle, err = time.ParseDuration(v); err != nil || consoleIdle < time.Minute {
			return fmt.Errorf("ASKPA_CONSOLE_IDLE: want a duration of at least 1m, such as 8h, not %q", v)
		}
	}
	if len(staff) == 0 {
		log.Warn("the staff API refuses every request: no support staff can see or answer escalations until ASKPA_STAFF_TOKENS is set (name:token,name:token)")
	}
	helpdesks, err := httpapi.ParseHelpdeskKeys(getenv("ASKPA_HELPDESK_SECRETS"))
	if err != nil {
		return fmt.Errorf("ASKPA_HELPDESK_SECRETS: %w", err)
	}
	webhookSecret := getenv("ASKPA_WEBHOOK_SECRET")
	var targets []support.Target
	for _, u := range splitList(getenv("ASKPA_WEBHOOK_URLS")) {
		// "URL|devon+somerset": this helpdesk hears of those areas only,
		// signed with its own secret when ASKPA_HELPDESK_SECRETS has one.
		u, areaList, _ := strings.Cut(u, "|")
		var areas []string
		for _, a := range strings.Split(areaList, "+") {
			if a = strings.TrimSpace(a); a != "" {
				areas = append(areas, a)
			}
		}
		secret := []byte(webhookSecret)
		if k, ok := helpdeskFor(helpdesks, areas); ok {
			secret = k.Secret
		}
		if len(secret) == 0 {
			return errors.New("ASKPA_WEBHOOK_URLS is set but ASKPA_WEBHOOK_SECRET is empty: webhooks must be signed (or give the helpdesk of those areas its own secret in ASKPA_HELPDESK_SECRETS)")
		}
		w, err := support.NewWebhook(u, secret, &http.Client{Timeout: *webhookTimeout})
		if err != nil {
			return fmt.Errorf("ASKPA_WEBHOOK_URLS: %w", err)
		}
		targets = append(targets, support.ForAreas(w, areas))
	}

	store, err := openStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer store.Close()

	ef := engineFlags{contentDir: getenv("ASKPA_CONTENT_DIR"), localDir: getenv("ASKPA_LOCAL_DIR"), area: getenv("ASKPA_AREA"), dataDir: orDefault(getenv("ASKPA_DATA_DIR"), "./data"), publicURL: getenv("ASKPA_PUBLIC_URL"), everyArea: true}
	answers, err := ef.open(ctx, log)
	if err != nil {
		return err
	}
	defer answers.Close()
	log.Info("knowledge base loaded", slog.String("from", answers.source), slog.Int("documents", len(answers.base.Documents)),
		slog.Int("passages", len(answers.base.Passages())), slog.Bool("index_rebuilt", answers.index.Rebuilt()))
	var areas []bot.AreaEngine
	for _, a := range answers.areas {
		areas = append(areas, bot.AreaEngine{Area: a.area, Engine: a.engine})
		log.Info("local pack loaded; people in its area pick it with /area", slog.String("area", a.area.ID), slog.String("council", a.area.Name), slog.String("from", ef.localDir))
	}
	if answers.area != nil {
		log.Info("local pack loaded", slog.String("area", answers.area.ID), slog.String("council", answers.area.Name), slog.String("from", ef.localDir))
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(support.NewOnCallCollector(support.OnCallConfig{Source: store, IntakeSources: []string{"telegram", "slack"}, Logger: log}))

	// The channels call the service, and the service needs the desk, which
	// needs the channels' targets: the channels get a handler that reaches
	// the service once it is built, before anything runs.
	var svc *bot.Service
	handler := bot.HandlerFunc(func(ctx context.Context, m bot.Message) (bot.Result, error) { return svc.Handle(ctx, m) })
	web := httpapi.WebChannel{Mailbox: store}
	relay, err := bot.NewRelay(bot.RelayConfig{Store: store, Channels: []bot.Channel{web}, Logger: log})
	if err != nil {
		return err
	}
	chans, err := newChannels(getenv, handler, store, log)
	if err != nil {
		return err
	}
	for _, c := range chans.all() {
		relay.AddChannel(c)
	}
	if chans.slack != nil && getenv("ASKPA_SUPPORT_SLACK_CHANNEL") != "" {
		targets = append(targets, chans.slack.SupportTarget())
	}

	var disp *support.Dispatcher
	desk, err := support.NewDesk(support.Config{
		Store: store, Targets: targets, Relay: relay, Logger: log, Registerer: reg,
		Notify: func() { disp.Wake() },
	})
	if err != nil {
		return err
	}
	if chans.slack != nil {
		chans.slack.SetDesk(desk)
	}
	privacy, err := bot.NewPrivacy(bot.PrivacyConfig{Store: store, Desk: desk, Logger: log})
	if err != nil {
		return err
	}
	// The PA network: staff moderate it through the API, employers search
	// it; search reads the store, so every replica sees every approval.
	// PAs list themselves in Slack, which tells them of every change and
	// carries introductions to them and their outcome back to employers.
	// Every listing change and every introduction change is an event in
	// the outbox, written with the change: a signed webhook to each
	// webhook without an area restriction; the owner's DMs (listing news,
	// introduction requests with Accept and Decline) and the moderation
	// card through Slack's ListingTarget; an introduction's outcome to the
	// employer on their own channel through the relay's
	// IntroductionTarget. Notify only wakes the dispatcher (introductions
	// are picked up at its next poll).
	outTargets := append(desk.Targets(), relay.IntroductionTarget(store))
	if chans.slack != nil {
		outTargets = append(outTargets, chans.slack.ListingTarget())
	}
	store.SetListingEvents(sqlstore.WebhookListingEvents(outTargets, nil))
	netCfg := directory.Config{Store: store, Logger: log,
		Notify: func(context.Context, directory.Listing, string) { disp.Wake() }}
	network, err := directory.NewNetwork(netCfg)
	if err != nil {
		return err
	}
	if chans.slack != nil {
		chans.slack.SetNetwork(network, relay)
	}
	svc, err = bot.NewService(bot.ServiceConfig{Engine: answers.engine, Areas: areas, Store: store, Desk: desk, Network: network, Privacy: privacy,
		Questions: store, Retention: policy, Logger: log, Registerer: reg})
	if err != nil {
		return err
	}
	// The purge keeps to the retention policy, one replica at a time.
	purge, err := retention.NewRunner(retention.Config{Store: store, Leader: store, Policy: policy, Logger: log, Registerer: reg})
	if err != nil {
		return err
	}
	disp, err = support.NewDispatcher(support.DispatcherConfig{
		Store: store, Targets: outTargets, Timeout: *webhookTimeout, Lease: 2**webhookTimeout + 5*time.Second,
		Logger: log, Registerer: reg,
	})
	if err != nil {
		return err
	}
	shutdown := make(chan struct{}) // ends the console's event streams
	limit := rate.Limit(*rateLimit)
	if *rateLimit <= 0 {
		limit = rate.Inf
	}
	api, err := httpapi.New(httpapi.Config{
		Desk: desk, Directory: network, Handler: svc, Mailbox: store, Sessions: store, Staff: staff,
		AllowedOrigins: splitList(getenv("ASKPA_WEB_ORIGINS")), AssertionSecret: []byte(getenv("ASKPA_WEB_ASSERTION_SECRET")),
		People:         svc,
		Insights:       store,
		SupportSecret:  []byte(getenv("ASKPA_SUPPORT_WEBHOOK_SECRET")),
		Helpdesks:      helpdesks,
		AreaDistricts:  answers.districts(),
		Ready:          map[string]httpapi.Pinger{"store": store, "index": answers.index},
		Mount:          chans.routes(),
		Guides:         answers.base,
		TrustedProxies: splitList(getenv("ASKPA_TRUSTED_PROXIES")),
		RateLimit:      limit,
		Gatherer:       reg, Registerer: reg, Logger: log,
		Console:      store,
		ConsoleIdle:  consoleIdle,
		ConsoleHTTPS: strings.HasPrefix(strings.ToLower(getenv("ASKPA_PUBLIC_URL")), "https://"),
		Shutdown:     shutdown,
	})
	if err != nil {
		return fmt.Errorf("HTTP API (check ASKPA_TRUSTED_PROXIES, ASKPA_WEB_ORIGINS, ASKPA_WEB_ASSERTION_SECRET): %w", err)
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
	srv.RegisterOnShutdown(func() { close(shutdown) })
	fmt.Fprintf(stdout, "askpa: listening on http://%s\n", ln.Addr())
	log.Info("serving", slog.String("addr", ln.Addr().String()), slog.Int("webhooks", len(targets)),
		slog.Int("staff", len(staff)), slog.Bool("helpdesk_replies", getenv("ASKPA_SUPPORT_WEBHOOK_SECRET") != "" || len(helpdesks) > 0),
		slog.Bool("telegram", chans.telegram != nil), slog.Bool("slack", chans.slack != nil))

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error { return disp.Run(gctx) })
	g.Go(func() error { return svc.RunFollowUps(gctx, time.Minute) })
	g.Go(func() error { return purge.Run(gctx) })
	g.Go(func() error { return network.Run(gctx) })
	for _, run := range chans.runners() {
		g.Go(func() error { return run(gctx) })
	}
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

// helpdeskFor returns the helpdesk key of exactly areas (in any order).
func helpdeskFor(keys []httpapi.HelpdeskKey, areas []string) (httpapi.HelpdeskKey, bool) {
	want := slices.Sorted(slices.Values(areas))
	for _, k := range keys {
		if len(want) > 0 && slices.Equal(slices.Sorted(slices.Values(k.Areas)), want) {
			return k, true
		}
	}
	return httpapi.HelpdeskKey{}, false
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
