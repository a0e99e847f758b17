// Package telegram is askpa's Telegram channel: it receives updates from the
// Telegram Bot API (long polling by default, a webhook when configured),
// turns them into bot.Message values for the bot engine, and renders and
// sends the engine's replies as Telegram HTML with inline keyboards. It is
// the only package that imports the Telegram Bot API library.
//
// In private chats every message goes to the engine; in group chats only
// messages that mention the bot (@username) or reply to one of its messages
// do. Commands arrive at the engine as text ("/start", "/help", "/topics",
// "/human", "/cancel") and pressed buttons as bot.Message.Action.
package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/knowledge"
)

// Name is the channel name used in addresses and for de-duplication.
const Name = bot.ChannelTelegram

// DefaultAPIURL is the Bot API base URL used when Config.APIURL is empty.
const DefaultAPIURL = "https://api.telegram.org"

// WebhookPath is the route the webhook handler expects to be mounted at.
const WebhookPath = "/webhooks/telegram"

// SecretHeader is the header Telegram sets to the webhook's secret token.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// Clock tells the time and waits. The zero Config uses the system clock.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Config configures a Channel. Only Token, Handler and Store are required;
// every other zero value means the default given.
type Config struct {
	// Token is the bot token from @BotFather. It is a secret: it is never
	// logged and is removed from every error this package returns.
	Token string
	// APIURL is the Bot API base URL; the bot calls {APIURL}/bot{token}/{method}.
	// Default DefaultAPIURL.
	APIURL string
	// WebhookURL switches on webhook mode: Run registers it with Telegram
	// and updates arrive through WebhookHandler instead of long polling.
	WebhookURL string
	// WebhookSecret is the secret_token Telegram sends with every webhook
	// request; required in webhook mode (1-256 of A-Z, a-z, 0-9, _ and -).
	WebhookSecret string
	// HTTPClient makes the Bot API requests. Default http.DefaultClient.
	// Request deadlines come from contexts, so it needs no Timeout.
	HTTPClient *http.Client
	// Logger receives operational logs, never message text or secrets.
	// Default slog.Default().
	Logger *slog.Logger
	// Clock is used for timestamps and for waiting between retries.
	// Default the system clock.
	Clock Clock
	// PollTimeout is how long one getUpdates long poll may wait for updates.
	// Default 30s; it is sent to Telegram in whole seconds.
	PollTimeout time.Duration
	// RequestTimeout bounds every other Bot API request. Default 30s.
	RequestTimeout time.Duration
	// MaxAttempts bounds the attempts at one Bot API call before Send gives
	// up (429, 5xx and network failures are retried). Default 5.
	MaxAttempts int
	// BaseBackoff is the first wait after a transient failure; it doubles
	// each attempt up to MaxBackoff, with jitter. Defaults 500ms and 30s.
	// An update whose handling fails is tried again after the same waits,
	// at most five times.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// MaxRetryAfter is the longest 429 retry_after honoured by waiting; a
	// longer one makes Send give up at once. Default 60s.
	MaxRetryAfter time.Duration
	// Workers bounds how many updates this process handles at once; updates
	// from one chat are always handled in order. Default 8.
	Workers int
	// Lease is how long one process holds an update it is handling before
	// another may take it over (after a crash). Default 1 minute.
	Lease time.Duration
	// Poll is how often the intake is read for updates received by other
	// processes and for retries. Default 1 second.
	Poll time.Duration
	// ShutdownTimeout bounds how long Run keeps handling updates already
	// received after its context is cancelled; those not finished stay in
	// the intake. Default 10s.
	ShutdownTimeout time.Duration
	// Audience is the audience of a new person on Telegram. Default
	// knowledge.Employer.
	Audience knowledge.Audience
	// Handler answers messages; required.
	Handler bot.Handler
	// Intake keeps each update, de-duplicated, from the moment it is
	// received until it has been handled; required.
	Intake bot.Intake
	// Leader, when set, elects the one process that long-polls among
	// several serving the bot (the Bot API refuses two pollers); the others
	// try to take over every LeaderRetry. Nil means this process polls.
	// Webhook mode needs no election.
	Leader bot.Leader
	// LeaderRetry is how often a process that does not poll tries to
	// become the poller. Default 5s.
	LeaderRetry time.Duration
}

var secretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// withDefaults validates c and fills its zero values.
func (c Config) withDefaults() (Config, error) {
	if c.Token == "" {
		return c, errors.New("telegram: Config.Token is required")
	}
	if c.Handler == nil {
		return c, errors.New("telegram: Config.Handler is required")
	}
	if c.Intake == nil {
		return c, errors.New("telegram: Config.Intake is required")
	}
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	u, err := url.Parse(c.APIURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("telegram: Config.APIURL %q is not an http(s) URL", c.APIURL)
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	if c.WebhookURL != "" {
		u, err := url.Parse(c.WebhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("telegram: Config.WebhookURL %q is not an http(s) URL", c.WebhookURL)
		}
		if !secretRE.MatchString(c.WebhookSecret) {
			return c, errors.New("telegram: webhook mode needs Config.WebhookSecret of 1-256 characters A-Z, a-z, 0-9, _ or -")
		}
	}
	if c.HTTPClient == nil {
		c.HTTPClient = http.DefaultClient
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = systemClock{}
	}
	if c.PollTimeout <= 0 {
		c.PollTimeout = 30 * time.Second
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.BaseBackoff <= 0 {
		c.BaseBackoff = 500 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.MaxBackoff < c.BaseBackoff {
		c.MaxBackoff = c.BaseBackoff
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = 60 * time.Second
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.LeaderRetry <= 0 {
		c.LeaderRetry = 5 * time.Second
	}
	if c.Audience == "" {
		c.Audience = knowledge.Employer
	}
	return c, nil
}

// Channel is the Telegram channel. It implements bot.Channel. Create it with
// New, serve it with Run, and in webhook mode mount WebhookHandler at
// WebhookPath.
type Channel struct {
	cfg Config
	log *slog.Logger

	mu  sync.Mutex
	api *tgbotapi.BotAPI // connected lazily: creating it calls getMe

	running atomic.Bool
	intake  *bot.IntakeWorker
}

var _ bot.Channel = (*Channel)(nil)

// New returns a Channel for cfg. It checks the configuration but makes no
// request and starts no goroutine: the bot connects (getMe) on the first
// Run or Send. It returns an error when Token, Handler or Intake is
// missing, a URL is malformed, or webhook mode lacks a valid WebhookSecret.
func New(cfg Config) (*Channel, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Channel{cfg: cfg, log: cfg.Logger.With("channel", Name)}
	c.intake, err = bot.NewIntakeWorker(bot.IntakeConfig{
		Intake:          cfg.Intake,
		Source:          Name,
		Handle:          c.handleInbound,
		GiveUp:          c.giveUp,
		Workers:         cfg.Workers,
		Lease:           cfg.Lease,
		Poll:            cfg.Poll,
		RetryBase:       cfg.BaseBackoff,
		RetryMax:        cfg.MaxBackoff,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Now:             cfg.Clock.Now,
		Logger:          cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Name returns "telegram".
func (c *Channel) Name() string { return Name }

// WebhookMode reports whether the channel receives updates through
// WebhookHandler (Config.WebhookURL is set) rather than long polling.
func (c *Channel) WebhookMode() bool { return c.cfg.WebhookURL != "" }

// client returns the Bot API client bound to ctx, connecting first if
// needed. Connecting calls getMe, which also checks the token.
func (c *Channel) client(ctx context.Context) (*tgbotapi.BotAPI, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.api == nil {
		endpoint := c.cfg.APIURL + "/bot%s/%s"
		api, err := tgbotapi.NewBotAPIWithClient(c.cfg.Token, endpoint, c.doer(ctx))
		if err != nil {
			return nil, fmt.Errorf("getMe: %w", err)
		}
		if api.Self.ID == 0 || api.Self.UserName == "" {
			return nil, errors.New("getMe: the Bot API returned no bot")
		}
		c.api = api
	}
	// BotAPI makes requests without a context; a shallow copy with a client
	// bound to ctx lets every call be cancelled and bounded.
	api := *c.api
	api.Client = c.doer(ctx)
	return &api, nil
}

// self returns the connected bot's user; the zero User before connecting.
func (c *Channel) self() tgbotapi.User {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.api == nil {
		return tgbotapi.User{}
	}
	return c.api.Self
}

func (c *Channel) doer(ctx context.Context) tgbotapi.HTTPClient {
	return ctxDoer{ctx: ctx, c: c.cfg.HTTPClient, token: c.cfg.Token}
}

// ctxDoer binds Bot API requests to a context, keeps the token out of
// errors, and reports HTTP failures whose body is not a Bot API answer (a
// proxy's error page, a gateway's own JSON) as a statusError, which is
// retried when the status is temporary.
type ctxDoer struct {
	ctx   context.Context
	c     *http.Client
	token string
}

func (d ctxDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.c.Do(req.WithContext(d.ctx))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = strings.ReplaceAll(ue.URL, d.token, "<token>")
		}
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if err != nil || !isBotAPIAnswer(resp.Header.Get("Content-Type"), body) {
		// A proxy's error page, or JSON in another form: the library would
		// read it as a Bot API error with no code and no description.
		return nil, &statusError{Code: resp.StatusCode}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// isBotAPIAnswer reports whether an error body is in the Bot API's form: JSON
// with "ok" and an "error_code".
func isBotAPIAnswer(contentType string, body []byte) bool {
	if !strings.HasPrefix(contentType, "application/json") {
		return false
	}
	var answer struct {
		OK        *bool `json:"ok"`
		ErrorCode int   `json:"error_code"`
	}
	return json.Unmarshal(body, &answer) == nil && answer.OK != nil && answer.ErrorCode != 0
}

// statusError is an HTTP failure without a Bot API error body.
type statusError struct{ Code int }

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.Code, http.StatusText(e.Code))
}
