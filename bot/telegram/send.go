package telegram

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/internal/backoff"
	"github.com/askpa/askpa/support"
)

// ErrForbidden is wrapped by errors for chats the bot may not write to: the
// person blocked the bot, or it was removed from the group. Such sends are
// not retried.
var ErrForbidden = errors.New("telegram: the bot may not write to this chat")

// Send delivers r to the chat at to (bot.Channel). The reply is rendered as
// Telegram HTML, split into parts under Telegram's length limit, and sent in
// order with the inline keyboard on the last part. Rate limits (429) are
// waited out for their retry_after; other transient failures (5xx, network)
// are retried with exponential backoff and jitter, up to
// Config.MaxAttempts. Send returns an error only when it gave up: for an
// address that is not a Telegram chat, a permanent refusal (wrapping
// ErrForbidden for a 403), exhausted attempts, or ctx ending. Parts sent
// before a failure stay sent.
func (c *Channel) Send(ctx context.Context, to bot.Address, r bot.Reply) error {
	if to.Channel != Name {
		return support.Permanent(fmt.Errorf("telegram: address is for channel %q", to.Channel))
	}
	chatID, err := strconv.ParseInt(to.ChatID, 10, 64)
	if err != nil || chatID == 0 {
		return support.Permanent(errors.New("telegram: address has no valid chat id"))
	}
	err = c.sendReply(ctx, chatID, 0, r)
	if err != nil && isPermanent(err) {
		return support.Permanent(err)
	}
	return err
}

// sendReply renders r and sends its parts to chatID. A non-zero replyTo
// makes the first part a reply to that message (used in groups).
func (c *Channel) sendReply(ctx context.Context, chatID int64, replyTo int, r bot.Reply) error {
	out := render(r)
	for _, b := range out.Dropped {
		c.log.Warn("telegram: button dropped: Telegram cannot carry its action",
			"action_bytes", len(b.Action), "label_empty", b.Label == "")
	}
	for i, part := range out.Parts {
		msg := tgbotapi.NewMessage(chatID, part)
		msg.ParseMode = tgbotapi.ModeHTML
		msg.DisableWebPagePreview = true
		if i == 0 && replyTo != 0 {
			msg.ReplyToMessageID = replyTo
			msg.AllowSendingWithoutReply = true
		}
		if i == len(out.Parts)-1 && out.Keyboard != nil {
			msg.ReplyMarkup = *out.Keyboard
		}
		err := c.call(ctx, "sendMessage", func(api *tgbotapi.BotAPI) error {
			_, err := api.Send(msg)
			return err
		})
		if err != nil {
			if len(out.Parts) > 1 {
				return fmt.Errorf("telegram: sending part %d of %d: %w", i+1, len(out.Parts), err)
			}
			return fmt.Errorf("telegram: sending: %w", err)
		}
	}
	return nil
}

// call runs one Bot API call, connecting first when needed, with the retry
// policy described at Send. method names the call in logs and errors.
func (c *Channel) call(ctx context.Context, method string, fn func(api *tgbotapi.BotAPI) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = c.attempt(ctx, fn)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", method, ctx.Err())
		}
		wait, retry := c.retryDelay(err, attempt)
		if !retry || attempt >= c.cfg.MaxAttempts {
			c.log.Warn("telegram: request failed", "method", method, "attempts", attempt, "error", err)
			if isForbidden(err) {
				return fmt.Errorf("%s: %w: %w", method, ErrForbidden, err)
			}
			return fmt.Errorf("%s: gave up after %d attempts: %w", method, attempt, err)
		}
		c.log.Debug("telegram: retrying", "method", method, "attempt", attempt, "wait", wait, "error", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", method, ctx.Err())
		case <-c.cfg.Clock.After(wait):
		}
	}
}

// attempt makes one try at fn within RequestTimeout.
func (c *Channel) attempt(ctx context.Context, fn func(api *tgbotapi.BotAPI) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	api, err := c.client(ctx)
	if err != nil {
		return err
	}
	return fn(api)
}

// retryDelay says whether err is worth another attempt and how long to wait
// first: a 429's retry_after (when not over MaxRetryAfter), or exponential
// backoff with jitter for 5xx and network failures.
func (c *Channel) retryDelay(err error, attempt int) (time.Duration, bool) {
	var apiErr *tgbotapi.Error
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.Code == http.StatusTooManyRequests:
			if apiErr.RetryAfter > 0 {
				d := time.Duration(apiErr.RetryAfter) * time.Second
				return d, d <= c.cfg.MaxRetryAfter
			}
			return c.backoff(attempt), true
		case apiErr.Code >= 500:
			return c.backoff(attempt), true
		default:
			return 0, false
		}
	}
	var se *statusError
	if errors.As(err, &se) {
		if se.Code == http.StatusTooManyRequests || se.Code >= 500 {
			return c.backoff(attempt), true
		}
		return 0, false
	}
	return c.backoff(attempt), true
}

// backoff is BaseBackoff doubled per attempt, capped at MaxBackoff, with
// jitter: a random wait between half and all of it.
func (c *Channel) backoff(attempt int) time.Duration {
	return backoff.Policy{Base: c.cfg.BaseBackoff, Max: c.cfg.MaxBackoff}.Next(attempt)
}

// isForbidden reports whether err is Telegram's 403.
func isForbidden(err error) bool {
	var apiErr *tgbotapi.Error
	return errors.As(err, &apiErr) && apiErr.Code == http.StatusForbidden
}

// isPermanent reports whether err will not go away by retrying: the Bot API
// refused the request for a reason other than load (401 bad token, 404,
// 400 bad request, 403, 409 conflict).
func isPermanent(err error) bool {
	var apiErr *tgbotapi.Error
	if errors.As(err, &apiErr) {
		return apiErr.Code != http.StatusTooManyRequests && apiErr.Code < 500
	}
	var se *statusError
	if errors.As(err, &se) {
		return se.Code != http.StatusTooManyRequests && se.Code < 500
	}
	return false
}
