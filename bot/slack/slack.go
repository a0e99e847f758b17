// Package slack is askpa's Slack channel: it receives events, slash commands
// and button presses from a Slack app, either over HTTP (the Events API) or
// over Socket Mode, turns them into bot.Message values for a bot.Handler,
// and renders the replies as Block Kit messages. It also implements
// bot.Channel, so staff replies can be relayed to a person later.
//
// It is the only package that imports github.com/slack-go/slack.
package slack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/internal/backoff"
	"github.com/askpa/askpa/knowledge"
	"github.com/askpa/askpa/support"
)

// Routes at which the HTTP handlers are meant to be mounted.
const (
	PathEvents       = "/webhooks/slack/events"
	PathInteractions = "/webhooks/slack/interactions"
	PathCommands     = "/webhooks/slack/commands"
)

// Config configures a Channel. Zero values are sensible defaults, except
// that BotToken, Handler and Intake are required, and SigningSecret or
// AppToken.
type Config struct {
	// BotToken is the bot user OAuth token (xoxb-...). Required.
	BotToken string
	// SigningSecret verifies requests to the HTTP handlers.
	SigningSecret string
	// AppToken (xapp-...) switches Run to Socket Mode.
	AppToken string
	// APIURL is the Slack Web API base URL, ending in "/"; empty means Slack's.
	APIURL string
	// SupportChannel is the Slack channel ID where support staff are told
	// of escalations; empty switches that off.
	SupportChannel string
	// InternalNotePrefix marks a staff message in an escalation thread that
	// must not reach the person. Default "note:". Matched case-insensitively.
	InternalNotePrefix string

	// HTTPClient makes Web API calls; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// Logger receives operational logs, never message text; nil discards.
	Logger *slog.Logger
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time

	// Handler answers people's messages. Required.
	Handler bot.Handler
	// Intake keeps each delivery from Slack, de-duplicated, from the moment
	// it is acknowledged until it has been handled. Required.
	Intake bot.Intake

	// MaxConcurrent bounds how many deliveries this process works on at
	// once (default 8); one conversation's are always worked on in order.
	MaxConcurrent int
	// Lease is how long one process holds a delivery it is working on
	// before another may take it over, after a crash (default 1 minute); the
	// work for one delivery is cut short before then.
	Lease time.Duration
	// Poll is how often the intake is read for deliveries received by
	// other processes and for retries (default 1 second).
	Poll time.Duration
	// MaxAttempts bounds the tries of one Web API call (default 5).
	MaxAttempts int
	// RetryBase is the first back-off delay after a transient failure
	// (default 500 ms); it doubles each try up to RetryMax (default 30 s).
	RetryBase, RetryMax time.Duration
}

// Channel is the Slack channel. Create it with New; mount its HTTP handlers
// or call Run for Socket Mode; call Close on shutdown.
type Channel struct {
	cfg   Config
	api   *slackapi.Client
	log   *slog.Logger
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	intake *bot.IntakeWorker

	namesMu sync.Mutex
	names   map[string]string // Slack user ID -> display name, for staff

	desk atomic.Pointer[support.Desk]
	net  atomic.Pointer[network]
	dms  map[string]string // Slack user ID -> their direct message channel; under namesMu

	threadsMu sync.Mutex
	threads   map[string]string // support channel thread ts -> escalation ID ("" for none)
	cards     map[string]string // escalation ID -> its card's ts
	echoes    map[string]bool   // "id#seq" of staff replies written in a Slack thread

	// botUser is askpa's own bot user, learnt from the events Slack sends
	// (their authorizations); "" until the first.
	botUser atomic.Pointer[string]
}

// learnSelf remembers askpa's own bot user, when user is not empty.
func (c *Channel) learnSelf(user string) {
	if user != "" {
		c.botUser.Store(&user)
	}
}

// self returns askpa's own bot user, or "" before any event told it.
func (c *Channel) self() string {
	if u := c.botUser.Load(); u != nil {
		return *u
	}
	return ""
}

var _ bot.Channel = (*Channel)(nil)

// New returns a Channel for cfg. It makes no network calls and starts no
// goroutines. It returns an error when BotToken, Handler or Store is
// missing, or when there is neither a SigningSecret nor an AppToken.
func New(cfg Config) (*Channel, error) {
	if cfg.BotToken == "" {
		return nil, errors.New("slack: BotToken is required")
	}
	if cfg.Handler == nil || cfg.Intake == nil {
		return nil, errors.New("slack: Handler and Intake are required")
	}
	if cfg.SigningSecret == "" && cfg.AppToken == "" {
		return nil, errors.New("slack: SigningSecret (Events API over HTTP) or AppToken (Socket Mode) is required")
	}
	if cfg.InternalNotePrefix == "" {
		cfg.InternalNotePrefix = "note:"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 500 * time.Millisecond
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 30 * time.Second
	}
	opts := []slackapi.Option{slackapi.OptionHTTPClient(cfg.HTTPClient)}
	if cfg.APIURL != "" {
		opts = append(opts, slackapi.OptionAPIURL(cfg.APIURL))
	}
	if cfg.AppToken != "" {
		opts = append(opts, slackapi.OptionAppLevelToken(cfg.AppToken))
	}
	c := &Channel{
		cfg:     cfg,
		api:     slackapi.New(cfg.BotToken, opts...),
		log:     cfg.Logger.With("channel", bot.ChannelSlack),
		now:     cfg.Clock,
		sleep:   sleepCtx,
		names:   map[string]string{},
		dms:     map[string]string{},
		threads: map[string]string{},
		cards:   map[string]string{},
		echoes:  map[string]bool{},
	}
	var err error
	c.intake, err = bot.NewIntakeWorker(bot.IntakeConfig{
		Intake:    cfg.Intake,
		Source:    bot.ChannelSlack,
		Handle:    c.handleInbound,
		GiveUp:    c.giveUp,
		Workers:   cfg.MaxConcurrent,
		Lease:     cfg.Lease,
		Poll:      cfg.Poll,
		RetryBase: cfg.RetryBase,
		RetryMax:  cfg.RetryMax,
		Now:       cfg.Clock,
		Logger:    cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Name returns "slack".
func (c *Channel) Name() string { return bot.ChannelSlack }

// audience is the default audience on Slack: personal assistants.
const audience = knowledge.Audience("pa")

// Send posts r to the Slack conversation (and thread) at to, split into as
// many messages as Slack's limits need, in order. Transient failures and
// rate limits are retried with back-off; Send returns an error only when it
// gave up, naming the Slack error but never the message text. Errors that no
// retry can mend (the conversation is gone or archived, the token is
// refused) are marked with support.Permanent so the outbox gives up at once.
func (c *Channel) Send(ctx context.Context, to bot.Address, r bot.Reply) error {
	if to.ChatID == "" {
		return errors.New("slack: send: address has no chat")
	}
	for i, m := range render(r) {
		opts := []slackapi.MsgOption{
			slackapi.MsgOptionText(m.Text, false),
			slackapi.MsgOptionBlocks(m.Blocks...),
		}
		if to.ThreadID != "" {
			opts = append(opts, slackapi.MsgOptionTS(to.ThreadID))
		}
		err := c.retry(ctx, "chat.postMessage", func(ctx context.Context) error {
			_, _, err := c.api.PostMessageContext(ctx, to.ChatID, opts...)
			return err
		})
		if err != nil {
			// A gone or closed conversation will not come back on a retry.
			return classify(fmt.Errorf("slack: send part %d: %w", i+1, err))
		}
	}
	return nil
}

// Run blocks until ctx is done. It works on the deliveries in the intake
// (with other processes sharing it) and, with an AppToken, receives them
// over Socket Mode; otherwise they come through the HTTP handlers. When ctx
// ends Run stops, lets the work in hand finish for a while (what does not
// finish stays in the intake for the next process) and returns nil. It
// returns an error when Socket Mode cannot connect (an invalid token, for
// example).
func (c *Channel) Run(ctx context.Context) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	worked := make(chan error, 1)
	go func() { worked <- c.intake.Run(ctx) }()
	var err error
	if c.cfg.AppToken != "" {
		err = c.runSocketMode(ctx)
	} else {
		<-ctx.Done()
	}
	failed := ctx.Err() == nil
	stop()
	if werr := <-worked; werr != nil {
		return werr
	}
	if err != nil && failed {
		return fmt.Errorf("slack: socket mode: %w", err)
	}
	return nil
}

// retry calls fn until it succeeds, fails permanently, or MaxAttempts tries
// were made, waiting between tries as Slack asked (rate limits) or with
// jittered exponential back-off (transient failures).
func (c *Channel) retry(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	var err error
	attempt := 0
	for {
		attempt++
		if err = fn(ctx); err == nil {
			return nil
		}
		wait, ok := c.retryDelay(err, attempt)
		if !ok || attempt >= c.cfg.MaxAttempts {
			break
		}
		c.log.Warn("slack call failed, retrying", "op", op, "attempt", attempt, "error", errKind(err), "wait", wait)
		if serr := c.sleep(ctx, wait); serr != nil {
			err = errors.Join(err, serr)
			break
		}
	}
	c.log.Error("slack call failed, giving up", "op", op, "attempts", attempt, "error", errKind(err))
	return fmt.Errorf("%s failed after %d attempt(s): %w", op, attempt, err)
}

// retryDelay says whether err is worth another try and how long to wait.
func (c *Channel) retryDelay(err error, attempt int) (time.Duration, bool) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return 0, false
	}
	wait := backoff.Policy{Base: c.cfg.RetryBase, Max: c.cfg.RetryMax}.Next(attempt)
	if rl, ok := errors.AsType[*slackapi.RateLimitedError](err); ok {
		return max(rl.RetryAfter, time.Second), true
	}
	if transient(err) {
		return wait, true
	}
	return 0, false
}

// transient reports errors that may go away on their own: server errors,
// 429s without Retry-After, Slack's own transient error codes, and network
// failures.
func transient(err error) bool {
	if sc, ok := errors.AsType[slackapi.StatusCodeError](err); ok {
		return sc.Retryable()
	}
	if se, ok := errors.AsType[slackapi.SlackErrorResponse](err); ok {
		switch se.Err {
		case "ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout":
			return true
		}
		return false
	}
	// Anything from the HTTP round trip (timeouts, connection refused or
	// reset, unexpected EOF) is a network failure worth retrying.
	return isURLError(err) || errors.Is(err, io.ErrUnexpectedEOF)
}

// errKind describes err for logs without any content: rate limits, HTTP
// status, Slack's error code, or the kind of network failure.
func errKind(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded"
	}
	if rl, ok := errors.AsType[*slackapi.RateLimitedError](err); ok {
		return "rate limited, retry after " + rl.RetryAfter.String()
	}
	if sc, ok := errors.AsType[slackapi.StatusCodeError](err); ok {
		return fmt.Sprintf("http %d", sc.Code)
	}
	if se, ok := errors.AsType[slackapi.SlackErrorResponse](err); ok {
		return "slack error " + se.Err
	}
	if isURLError(err) {
		return "network error"
	}
	return "other error"
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func isURLError(err error) bool {
	_, ok := errors.AsType[*url.Error](err)
	return ok
}
