package slack

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/askpa/askpa/bot"
)

// privateTarget is where a private (ephemeral) reply goes: through the
// response URL Slack gave with a command or button press, or else
// chat.postEphemeral to user in channel.
type privateTarget struct {
	responseURL   string
	channel, user string
	thread        string
	offerShare    bool // add a "Share in channel" button to answers
}

// private replies so that only the person sees it.
func (c *Channel) private(p privateTarget) reply {
	return func(ctx context.Context, r bot.Reply) error {
		if p.offerShare {
			r = withShareButton(r)
		}
		for i, m := range render(r) {
			if err := c.postPrivate(ctx, p, m); err != nil {
				return fmt.Errorf("slack: private reply part %d: %w", i+1, err)
			}
		}
		return nil
	}
}

// postPrivate sends one message privately: through the response URL when
// there is one, falling back to chat.postEphemeral when the URL has expired
// or been used up.
func (c *Channel) postPrivate(ctx context.Context, p privateTarget, m message) error {
	if p.responseURL != "" {
		err := c.retry(ctx, "response_url", func(ctx context.Context) error {
			_, _, err := c.api.PostMessageContext(ctx, p.channel,
				slackapi.MsgOptionResponseURL(p.responseURL, slackapi.ResponseTypeEphemeral),
				slackapi.MsgOptionText(m.Text, false), slackapi.MsgOptionBlocks(m.Blocks...))
			return err
		})
		if err == nil || ctx.Err() != nil {
			return err
		}
	}
	opts := []slackapi.MsgOption{slackapi.MsgOptionText(m.Text, false), slackapi.MsgOptionBlocks(m.Blocks...)}
	if p.thread != "" {
		opts = append(opts, slackapi.MsgOptionTS(p.thread))
	}
	return c.retry(ctx, "chat.postEphemeral", func(ctx context.Context) error {
		_, err := c.api.PostEphemeralContext(ctx, p.channel, p.user, opts...)
		return err
	})
}

// sharePrefix starts the value of a "Share in channel" button; the rest is
// the answer itself, compressed, so any askpa process can share it later.
const sharePrefix = bot.ActionShare + ":"

// shared is the content of a private answer that may be shared.
type shared struct {
	Text    string       `json:"t"`
	Sources []bot.Source `json:"s,omitempty"`
}

// withShareButton adds a "Share in channel" button to an answer (a reply
// that carries an answer or sources). A share button the bot put there
// itself gets the answer as its value.
func withShareButton(r bot.Reply) bot.Reply {
	if r.FromStaff || ((r.Answer == nil || !r.Answer.Answered) && len(r.Sources) == 0) {
		return r
	}
	value := encodeShare(r)
	if value == "" {
		return r
	}
	btn := bot.Button{Label: "Share in channel", Action: value}
	rows := make([][]bot.Button, 0, len(r.Buttons)+1)
	found := false
	for _, row := range r.Buttons {
		nr := make([]bot.Button, 0, len(row))
		for _, b := range row {
			if b.Action == bot.ActionShare {
				b.Action, found = value, true
			}
			nr = append(nr, b)
		}
		rows = append(rows, nr)
	}
	if !found {
		rows = append(rows, []bot.Button{btn})
	}
	r.Buttons = rows
	return r
}

// encodeShare packs r's text and sources into a button value of at most
// Slack's 2,000 characters, shortening the text when it must. It returns ""
// when even the sources alone do not fit.
func encodeShare(r bot.Reply) string {
	var sources []bot.Source
	for _, s := range r.Sources[:min(len(r.Sources), 5)] {
		sources = append(sources, bot.Source{ID: s.ID, Title: s.Title, URL: s.URL})
	}
	text := []rune(r.Text)
	enc := func(n int) string {
		t := string(text[:n])
		if n < len(text) {
			t = strings.TrimRight(t, " \n") + "…"
		}
		return packShare(shared{Text: t, Sources: sources})
	}
	if v := enc(len(text)); len(v) <= maxButtonValue {
		return v
	}
	lo, hi := 0, len(text) // enc(lo) fits, enc(hi) does not
	if len(enc(0)) > maxButtonValue {
		return ""
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if len(enc(mid)) <= maxButtonValue {
			lo = mid
		} else {
			hi = mid
		}
	}
	return enc(lo)
}

func packShare(s shared) string {
	js, _ := json.Marshal(s)
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	_, _ = w.Write(js)
	_ = w.Close()
	return sharePrefix + base64.RawURLEncoding.EncodeToString(buf.Bytes())
}

// decodeShare reverses encodeShare.
func decodeShare(value string) (shared, error) {
	var s shared
	data, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(value, sharePrefix))
	if err != nil {
		return s, err
	}
	js, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(data)), 64<<10))
	if err != nil {
		return s, err
	}
	err = json.Unmarshal(js, &s)
	return s, err
}

// slackUserID matches a Slack user ID, the only thing askpa ever mentions.
var slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]{1,20}$`)

// share posts a privately answered question visibly in the conversation
// where it was asked, saying who shared it, then removes the private copy.
func (c *Channel) share(ctx context.Context, cb slackapi.InteractionCallback, value string) {
	s, err := decodeShare(value)
	channel := interactionChannel(cb)
	if err != nil || !strings.HasPrefix(value, sharePrefix) {
		c.log.Warn("share button without a shareable answer")
		_ = c.postPrivate(ctx, privateTarget{responseURL: cb.ResponseURL, channel: channel, user: cb.User.ID},
			message{Text: "Sorry, that answer can no longer be shared. Please ask again."})
		return
	}
	msgs := render(bot.Reply{Text: s.Text, Sources: s.Sources})
	if len(msgs) == 0 {
		return
	}
	by := "Shared from askpa"
	if slackUserID.MatchString(cb.User.ID) {
		by = "Shared from askpa by <@" + cb.User.ID + ">"
	}
	first := msgs[0]
	first.Blocks = append([]slackapi.Block{slackapi.NewContextBlock("askpa_shared",
		slackapi.NewTextBlockObject(slackapi.MarkdownType, by, false, false))}, first.Blocks...)
	if len(first.Blocks) > maxBlocks {
		msgs = append([]message{{Text: first.Text, Blocks: first.Blocks[:1]}}, msgs...)
	} else {
		msgs[0] = first
	}
	thread := cb.Container.ThreadTs
	for i, m := range msgs {
		err := c.postVisible(ctx, channel, thread, cb.ResponseURL, m)
		if err != nil {
			c.log.Error("answer not shared", "part", i+1, "error", errKind(err))
			_ = c.postPrivate(ctx, privateTarget{responseURL: cb.ResponseURL, channel: channel, user: cb.User.ID},
				message{Text: "Sorry, I could not share that answer here."})
			return
		}
	}
	if cb.ResponseURL != "" {
		err := c.retry(ctx, "response_url", func(ctx context.Context) error {
			_, _, err := c.api.PostMessageContext(ctx, channel, slackapi.MsgOptionDeleteOriginal(cb.ResponseURL))
			return err
		})
		if err != nil {
			c.log.Warn("private answer not removed after sharing", "error", errKind(err))
		}
	}
}

// postVisible posts m in channel as the bot; where the bot is not a member
// of the channel it posts through the response URL instead.
func (c *Channel) postVisible(ctx context.Context, channel, thread, responseURL string, m message) error {
	opts := []slackapi.MsgOption{slackapi.MsgOptionText(m.Text, false), slackapi.MsgOptionBlocks(m.Blocks...)}
	if thread != "" {
		opts = append(opts, slackapi.MsgOptionTS(thread))
	}
	err := c.retry(ctx, "chat.postMessage", func(ctx context.Context) error {
		_, _, err := c.api.PostMessageContext(ctx, channel, opts...)
		return err
	})
	se, ok := errors.AsType[slackapi.SlackErrorResponse](err)
	if err == nil || responseURL == "" || !ok || (se.Err != "not_in_channel" && se.Err != "channel_not_found") {
		return err
	}
	return c.retry(ctx, "response_url", func(ctx context.Context) error {
		_, _, err := c.api.PostMessageContext(ctx, channel,
			slackapi.MsgOptionResponseURL(responseURL, slackapi.ResponseTypeInChannel),
			slackapi.MsgOptionText(m.Text, false), slackapi.MsgOptionBlocks(m.Blocks...))
		return err
	})
}
