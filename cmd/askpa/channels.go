package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/slack"
	"github.com/askpa/askpa/bot/telegram"
	"github.com/askpa/askpa/httpapi"
)

// chatChannels are the chat platforms switched on by the environment.
type chatChannels struct {
	telegram *telegram.Channel
	slack    *slack.Channel
}

// channelStore is what the chat channels keep: their intake, and the
// election of the one process that long-polls Telegram.
type channelStore interface {
	bot.Intake
	bot.Leader
}

// newChannels builds Telegram when TELEGRAM_BOT_TOKEN is set and Slack when
// SLACK_BOT_TOKEN is set with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN, both
// taking their deliveries into intake. ASKPA_INTAKE_LEASE sets how long a
// process holds a delivery before another takes it over after a crash. It
// fails naming the variable when a setting is wrong.
func newChannels(getenv env, h bot.Handler, store channelStore, log *slog.Logger) (chatChannels, error) {
	var cs chatChannels
	var lease time.Duration
	if v := getenv("ASKPA_INTAKE_LEASE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return cs, fmt.Errorf("ASKPA_INTAKE_LEASE: %q is not a duration of at least 1s (such as 1m)", v)
		}
		lease = d
	}
	if token := getenv("TELEGRAM_BOT_TOKEN"); token != "" {
		tg, err := telegram.New(telegram.Config{
			Token: token, APIURL: getenv("TELEGRAM_API_URL"),
			WebhookURL: getenv("TELEGRAM_WEBHOOK_URL"), WebhookSecret: getenv("TELEGRAM_WEBHOOK_SECRET"),
			Handler: h, Intake: store, Leader: store, Lease: lease, Logger: log.With(slog.String("channel", bot.ChannelTelegram)),
		})
		if err != nil {
			return cs, fmt.Errorf("TELEGRAM_*: %w", err)
		}
		cs.telegram = tg
	}
	token, secret, app := getenv("SLACK_BOT_TOKEN"), getenv("SLACK_SIGNING_SECRET"), getenv("SLACK_APP_TOKEN")
	switch {
	case token != "" && (secret != "" || app != ""):
		sl, err := slack.New(slack.Config{
			BotToken: token, SigningSecret: secret, AppToken: app, APIURL: getenv("SLACK_API_URL"),
			SupportChannel: getenv("ASKPA_SUPPORT_SLACK_CHANNEL"), InternalNotePrefix: getenv("ASKPA_SUPPORT_NOTE_PREFIX"),
			Handler: h, Intake: store, Lease: lease, Logger: log.With(slog.String("channel", bot.ChannelSlack)),
		})
		if err != nil {
			return cs, fmt.Errorf("SLACK_*: %w", err)
		}
		cs.slack = sl
	case token != "":
		return cs, fmt.Errorf("SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET (Events API) nor SLACK_APP_TOKEN (Socket Mode) is")
	case getenv("ASKPA_SUPPORT_SLACK_CHANNEL") != "":
		return cs, fmt.Errorf("ASKPA_SUPPORT_SLACK_CHANNEL is set but the Slack channel is off (set SLACK_BOT_TOKEN)")
	}
	return cs, nil
}

// all returns the channels that are on.
func (cs chatChannels) all() []bot.Channel {
	var out []bot.Channel
	if cs.telegram != nil {
		out = append(out, cs.telegram)
	}
	if cs.slack != nil {
		out = append(out, cs.slack)
	}
	return out
}

// routes returns the webhook handlers to mount on the HTTP server.
func (cs chatChannels) routes() []httpapi.Route {
	var rs []httpapi.Route
	if cs.telegram != nil {
		rs = append(rs, httpapi.Route{Method: http.MethodPost, Path: telegram.WebhookPath, Handler: cs.telegram.WebhookHandler()})
	}
	if cs.slack != nil {
		for path, h := range cs.slack.Handlers() {
			rs = append(rs, httpapi.Route{Method: http.MethodPost, Path: path, Handler: h})
		}
	}
	return rs
}

// runners returns each channel's Run, to run until the service stops.
func (cs chatChannels) runners() []func(context.Context) error {
	var rs []func(context.Context) error
	if cs.telegram != nil {
		rs = append(rs, cs.telegram.Run)
	}
	if cs.slack != nil {
		rs = append(rs, cs.slack.Run)
	}
	return rs
}
