package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// commands is the command menu Telegram shows people.
var commands = []tgbotapi.BotCommand{
	{Command: "start", Description: "Start: what askpa can do, and who you are"},
	{Command: "help", Description: "How to ask, and what askpa cannot do"},
	{Command: "topics", Description: "Browse topics"},
	{Command: "human", Description: "Talk to a person from the support team"},
	{Command: "cancel", Description: "Stop waiting for a person; back to the bot"},
	{Command: "privacy", Description: "What askpa keeps about you, and for how long"},
	{Command: "forget", Description: "Erase everything askpa holds about you"},
}

// Run receives updates until ctx ends, and blocks until then. It connects
// (getMe, retried while the Bot API is unreachable), sets the command menu,
// and then either registers the webhook (webhook mode: updates arrive at
// WebhookHandler) or removes any webhook and long-polls getUpdates. Every
// update is written to the intake before Telegram is told it arrived, and
// handled from there by Config.Workers workers, in order within each chat,
// together with other processes serving the same bot. When ctx ends Run
// stops receiving, finishes the updates being handled (for up to
// Config.ShutdownTimeout; the rest stay in the intake) and returns nil. It
// returns an error at once if the Bot API refuses the token or the webhook,
// or if Run is already running.
func (c *Channel) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("telegram: Run called twice")
	}
	defer c.running.Store(false)

	if err := c.connect(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("telegram: connecting: %w", err)
	}
	if err := c.call(ctx, "setMyCommands", func(api *tgbotapi.BotAPI) error {
		_, err := api.Request(tgbotapi.NewSetMyCommands(commands...))
		return err
	}); err != nil && ctx.Err() == nil {
		c.log.Warn("telegram: could not set the command menu", "error", err)
	}

	receiving, stop := context.WithCancel(ctx)
	defer stop()
	worked := make(chan error, 1)
	go func() { worked <- c.intake.Run(receiving) }()
	err := c.receive(receiving)
	stop()
	if werr := <-worked; err == nil {
		err = werr
	}
	return err
}

// receive takes updates from Telegram until ctx ends: by webhook
// (WebhookHandler writes them to the intake) or by long polling.
func (c *Channel) receive(ctx context.Context) error {
	if !c.WebhookMode() {
		return c.pollAsLeader(ctx)
	}
	if err := c.setWebhook(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("telegram: registering the webhook: %w", err)
	}
	c.log.Info("telegram: receiving updates by webhook")
	<-ctx.Done()
	return nil
}

// connect calls getMe until it succeeds, the Bot API refuses the token, or
// ctx ends, waiting with backoff between tries.
func (c *Channel) connect(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		err := c.attempt(ctx, func(*tgbotapi.BotAPI) error { return nil })
		if err == nil {
			c.log.Info("telegram: connected", "bot", c.self().UserName)
			return nil
		}
		if isPermanent(err) || ctx.Err() != nil {
			return err
		}
		c.log.Warn("telegram: Bot API unreachable; retrying", "attempt", attempt, "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.cfg.Clock.After(c.backoff(attempt)):
		}
	}
}

// setWebhook registers WebhookURL with its secret token. The library's
// WebhookConfig predates secret_token, so the request is made by hand.
func (c *Channel) setWebhook(ctx context.Context) error {
	allowed, _ := json.Marshal(allowedUpdates)
	return c.call(ctx, "setWebhook", func(api *tgbotapi.BotAPI) error {
		_, err := api.MakeRequest("setWebhook", tgbotapi.Params{
			"url":             c.cfg.WebhookURL,
			"secret_token":    c.cfg.WebhookSecret,
			"allowed_updates": string(allowed),
		})
		return err
	})
}

// pollerRole is the name of the role of the process that long-polls.
const pollerRole = "telegram-poller"

// pollAsLeader long-polls while this process is the elected poller (or
// always, without a Leader), and otherwise tries every LeaderRetry to
// become it, until ctx ends.
func (c *Channel) pollAsLeader(ctx context.Context) error {
	if c.cfg.Leader == nil {
		return c.poll(ctx)
	}
	waiting := false
	for ctx.Err() == nil {
		lost, release, ok, err := c.cfg.Leader.Lead(ctx, pollerRole)
		switch {
		case err != nil && ctx.Err() == nil:
			c.log.Warn("telegram: could not ask to become the poller; trying again", "error", err)
		case ok:
			c.log.Info("telegram: this process is the poller")
			waiting = false
			pctx, cancel := context.WithCancel(ctx)
			go func() {
				select {
				case <-lost:
					c.log.Warn("telegram: lost the poller's role; polling stops")
					cancel()
				case <-pctx.Done():
				}
			}()
			err := c.poll(pctx)
			cancel()
			release()
			if err != nil {
				return err
			}
			continue
		case !waiting:
			c.log.Info("telegram: another process polls; this one handles updates and stands by")
			waiting = true
		}
		t := time.NewTimer(c.cfg.LeaderRetry)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

// poll long-polls getUpdates until ctx ends, writing each new update to
// the intake. Telegram forgets updates below the offset sent, so each batch
// is confirmed by the next call, and the offset moves past an update only
// once the intake has it.
func (c *Channel) poll(ctx context.Context) error {
	if err := c.call(ctx, "deleteWebhook", func(api *tgbotapi.BotAPI) error {
		_, err := api.Request(tgbotapi.DeleteWebhookConfig{})
		return err
	}); err != nil && ctx.Err() == nil {
		c.log.Warn("telegram: could not remove the webhook before polling", "error", err)
	}
	c.log.Info("telegram: receiving updates by long polling")
	timeout := max(int(c.cfg.PollTimeout/time.Second), 1)
	offset := 0
	failures := 0
	quick := 0 // empty answers in a row that came back long before the timeout
	for ctx.Err() == nil {
		var updates []tgbotapi.Update
		start := c.cfg.Clock.Now()
		err := func() error {
			rctx, cancel := context.WithTimeout(ctx, c.cfg.PollTimeout+c.cfg.RequestTimeout)
			defer cancel()
			api, err := c.client(rctx)
			if err != nil {
				return err
			}
			updates, err = api.GetUpdates(tgbotapi.UpdateConfig{
				Offset: offset, Timeout: timeout, AllowedUpdates: allowedUpdates,
			})
			return err
		}()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			failures++
			if isUnauthorized(err) {
				return fmt.Errorf("telegram: getUpdates: %w", err)
			}
			c.log.Warn("telegram: getUpdates failed; retrying", "failures", failures, "error", err)
			select {
			case <-ctx.Done():
			case <-c.cfg.Clock.After(c.backoff(failures)):
			}
			continue
		}
		failures = 0
		// A long poll that answers at once with nothing (a broken gateway)
		// would otherwise be asked again at once, and again.
		if len(updates) == 0 && c.cfg.Clock.Now().Sub(start) < c.cfg.PollTimeout/4 {
			quick++
			if quick == 1 {
				c.log.Warn("telegram: getUpdates answered at once with nothing; waiting between polls")
			}
			select {
			case <-ctx.Done():
			case <-c.cfg.Clock.After(c.backoff(quick)):
			}
			continue
		}
		quick = 0
		for _, u := range updates {
			if u.UpdateID < offset {
				continue
			}
			if err := c.saveUpdate(ctx, u); err != nil {
				if ctx.Err() != nil {
					break
				}
				// Not confirmed: Telegram gives it (and those after it)
				// again on the next poll.
				failures++
				c.log.Error("telegram: update not written to the intake; polling it again", "update_id", u.UpdateID, "error", err)
				select {
				case <-ctx.Done():
				case <-c.cfg.Clock.After(c.backoff(failures)):
				}
				break
			}
			offset = u.UpdateID + 1
		}
	}
	return nil
}

// isUnauthorized reports a 401 or 404 from the Bot API: the token is wrong
// or revoked, and polling again will not help.
func isUnauthorized(err error) bool {
	var apiErr *tgbotapi.Error
	if errors.As(err, &apiErr) {
		return apiErr.Code == 401 || apiErr.Code == 404
	}
	var se *statusError
	return errors.As(err, &se) && (se.Code == 401 || se.Code == 404)
}
