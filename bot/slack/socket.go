package slack

import (
	"context"
	"net/http"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// runSocketMode connects over Socket Mode and routes events, commands and
// button presses exactly as the HTTP handlers do, acknowledging each
// envelope once it is accepted. It blocks until ctx is done or the
// connection fails for good.
func (c *Channel) runSocketMode(ctx context.Context) error {
	sm := socketmode.New(c.api, socketmode.OptionLog(socketLog{c}))
	h := socketmode.NewSocketmodeHandler(sm)
	h.Handle(socketmode.EventTypeEventsAPI, func(e *socketmode.Event, cl *socketmode.Client) {
		c.socketAck(ctx, cl, e, func() response { return response{status: c.acceptCallback(ctx, e.Request.Payload)} })
	})
	h.Handle(socketmode.EventTypeInteractive, func(e *socketmode.Event, cl *socketmode.Client) {
		c.socketAck(ctx, cl, e, func() response { return c.acceptInteraction(ctx, e.Request.Payload) })
	})
	h.Handle(socketmode.EventTypeSlashCommand, func(e *socketmode.Event, cl *socketmode.Client) {
		cmd, ok := e.Data.(slackapi.SlashCommand)
		c.socketAck(ctx, cl, e, func() response {
			if !ok {
				return response{status: http.StatusBadRequest}
			}
			return c.acceptCommand(ctx, cmd)
		})
	})
	h.Handle(socketmode.EventTypeInvalidAuth, func(*socketmode.Event, *socketmode.Client) {
		c.log.Error("slack socket mode: the app token was refused")
	})
	h.Handle(socketmode.EventTypeConnected, func(*socketmode.Event, *socketmode.Client) {
		c.log.Info("slack socket mode connected")
	})
	h.HandleDefault(func(*socketmode.Event, *socketmode.Client) {})
	return h.RunEventLoopContext(ctx)
}

// socketAck accepts an envelope and acknowledges it, with the answer's
// body as the acknowledgement's payload (a view submission's errors),
// unless accepting failed in a way that Slack should retry (overloaded,
// store unavailable).
func (c *Channel) socketAck(ctx context.Context, cl *socketmode.Client, e *socketmode.Event, accept func() response) {
	if e.Request == nil {
		return
	}
	resp := accept()
	if resp.status >= http.StatusInternalServerError {
		return
	}
	if err := cl.AckCtx(ctx, e.Request.EnvelopeID, resp.body); err != nil {
		c.log.Warn("slack socket mode: acknowledgement not sent", "error", errKind(err))
	}
}

// socketLog passes the Socket Mode client's own log lines to the debug log.
type socketLog struct{ c *Channel }

func (l socketLog) Output(_ int, s string) error {
	l.c.log.Debug("slack socket mode", "detail", s)
	return nil
}
