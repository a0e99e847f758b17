package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/internal/httperr"
)

// maxBody bounds the request bodies the HTTP handlers read.
const maxBody = 1 << 20

// EventsHandler returns the handler for POST /webhooks/slack/events (the
// Events API's request URL). It answers Slack's URL verification, refuses
// requests without a valid, fresh signature with 401, answers at once, and
// handles each event once (by event_id) in the background.
func (c *Channel) EventsHandler() http.Handler { return http.HandlerFunc(c.serveEvents) }

// InteractionsHandler returns the handler for POST
// /webhooks/slack/interactions (the app's interactivity request URL): button
// presses, verified like events.
func (c *Channel) InteractionsHandler() http.Handler {
	return http.HandlerFunc(c.serveInteractions)
}

// CommandsHandler returns the handler for POST /webhooks/slack/commands (the
// request URL of the /askpa slash command), verified like events. The answer
// is sent privately to the person who asked.
func (c *Channel) CommandsHandler() http.Handler { return http.HandlerFunc(c.serveCommands) }

// Handlers returns the three HTTP handlers keyed by the route each belongs at.
func (c *Channel) Handlers() map[string]http.Handler {
	return map[string]http.Handler{
		PathEvents:       c.EventsHandler(),
		PathInteractions: c.InteractionsHandler(),
		PathCommands:     c.CommandsHandler(),
	}
}

// verified reads the request body and checks Slack's signature over it
// before anything else looks at it. It writes the error response and
// returns false for anything but a POST signed with the signing secret less
// than five minutes ago.
func (c *Channel) verified(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httperr.Write(w, http.StatusMethodNotAllowed, "Method not allowed.")
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		httperr.Write(w, http.StatusBadRequest, "Could not read the request.")
		return nil, false
	}
	if len(body) > maxBody {
		httperr.Write(w, http.StatusRequestEntityTooLarge, "Request too large.")
		return nil, false
	}
	sv, err := slackapi.NewSecretsVerifier(r.Header, c.cfg.SigningSecret)
	if err == nil {
		_, _ = sv.Write(body)
		err = sv.Ensure()
	}
	if err != nil {
		c.log.Warn("slack request refused", "path", r.URL.Path, "reason", verifyReason(err))
		httperr.Write(w, http.StatusUnauthorized, "Invalid signature.")
		return nil, false
	}
	return body, true
}

// verifyReason names why a signature check failed, for logs.
func verifyReason(err error) string {
	switch {
	case errors.Is(err, slackapi.ErrMissingHeaders):
		return "missing signature"
	case errors.Is(err, slackapi.ErrExpiredTimestamp):
		return "stale timestamp"
	case errors.Is(err, slackapi.ErrInvalidConfiguration):
		return "no signing secret configured"
	default:
		return "bad signature"
	}
}

func (c *Channel) serveEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := c.verified(w, r)
	if !ok {
		return
	}
	var outer struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(body, &outer); err != nil {
		httperr.Write(w, http.StatusBadRequest, "Malformed event.")
		return
	}
	switch outer.Type {
	case slackevents.URLVerification:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"challenge": outer.Challenge})
	case slackevents.CallbackEvent:
		w.WriteHeader(c.acceptCallback(r.Context(), body))
	case slackevents.AppRateLimited:
		c.log.Warn("slack is rate limiting this app's events")
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

func (c *Channel) serveInteractions(w http.ResponseWriter, r *http.Request) {
	body, ok := c.verified(w, r)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		httperr.Write(w, http.StatusBadRequest, "Malformed interaction.")
		return
	}
	w.WriteHeader(c.acceptInteraction(r.Context(), []byte(form.Get("payload"))))
}

func (c *Channel) serveCommands(w http.ResponseWriter, r *http.Request) {
	body, ok := c.verified(w, r)
	if !ok {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	cmd, err := slackapi.SlashCommandParse(r)
	if err != nil {
		httperr.Write(w, http.StatusBadRequest, "Malformed command.")
		return
	}
	w.WriteHeader(c.acceptCommand(r.Context(), cmd))
}

// job is work done after Slack has been answered.
type job func(ctx context.Context)

// accept de-duplicates a delivery by id and starts j in the background. It
// returns the HTTP status to answer Slack with: 200 when accepted or a
// repeat, 503 when closed or overloaded (Slack tries again later), 500 when
// the store could not say whether it is a repeat.
func (c *Channel) accept(ctx context.Context, kind, id string, j job) int {
	if !c.work.reserve() {
		c.log.Warn("slack delivery refused: closing or overloaded", "kind", kind)
		return http.StatusServiceUnavailable
	}
	if id != "" {
		first, err := c.cfg.Store.FirstDelivery(ctx, bot.ChannelSlack, id, c.now())
		if err != nil {
			c.work.release()
			c.log.Error("slack delivery not de-duplicated", "kind", kind, "error", err)
			return http.StatusInternalServerError
		}
		if !first {
			c.work.release()
			c.log.Info("slack delivery repeated, ignored", "kind", kind, "id", id)
			return http.StatusOK
		}
	}
	c.work.start(func() {
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.WorkTimeout)
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				c.log.Error("slack event handling panicked", "kind", kind, "panic", fmt.Sprint(p))
			}
		}()
		j(ctx)
	})
	return http.StatusOK
}

// acceptCallback handles an Events API event_callback body.
func (c *Channel) acceptCallback(ctx context.Context, body []byte) int {
	var cb slackevents.EventsAPICallbackEvent
	if err := json.Unmarshal(body, &cb); err != nil || cb.InnerEvent == nil {
		return http.StatusBadRequest
	}
	j, kind := c.eventJob(cb)
	if j == nil {
		return http.StatusOK
	}
	return c.accept(ctx, kind, "event:"+cb.EventID, j)
}

// botUserID returns the app's own bot user from an event's authorizations.
func botUserID(auths []slackapi.EventAuthorization) string {
	for _, a := range auths {
		if a.IsBot {
			return a.UserID
		}
	}
	return ""
}

// eventJob returns the work for an event and its kind for logs, or nil for
// events askpa ignores: anything from a bot (its own messages included),
// edits, joins and other non-text message subtypes, and channel messages
// that do not mention it.
func (c *Channel) eventJob(cb slackevents.EventsAPICallbackEvent) (job, string) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(*cb.InnerEvent, &head); err != nil {
		return nil, ""
	}
	self := botUserID(cb.Authorizations)
	switch head.Type {
	case "app_mention":
		var ev slackevents.AppMentionEvent
		if err := json.Unmarshal(*cb.InnerEvent, &ev); err != nil {
			return nil, ""
		}
		if ev.BotID != "" || ev.User == "" || ev.User == self || ev.Edited != nil {
			return nil, ""
		}
		if c.cfg.SupportChannel != "" && ev.Channel == c.cfg.SupportChannel {
			return nil, "" // staff talk to the person through the threads, not the bot
		}
		thread := ev.ThreadTimeStamp
		if thread == "" {
			thread = ev.TimeStamp
		}
		m := bot.Message{
			Address:  bot.Address{Channel: bot.ChannelSlack, UserID: ev.User, ChatID: ev.Channel, ThreadID: thread, Team: cb.TeamID},
			Audience: audience,
			Text:     commandText(plainText(ev.Text, self)),
		}
		return func(ctx context.Context) { c.converse(ctx, m, c.public(m.Address)) }, "mention"
	case "message":
		var ev slackevents.MessageEvent
		if err := json.Unmarshal(*cb.InnerEvent, &ev); err != nil {
			return nil, ""
		}
		if ev.BotID != "" || ev.User == "" || ev.User == self {
			return nil, ""
		}
		switch ev.SubType {
		case "", "thread_broadcast", "file_share":
		default:
			return nil, ""
		}
		if c.cfg.SupportChannel != "" && ev.Channel == c.cfg.SupportChannel {
			if ev.ThreadTimeStamp == "" || ev.ThreadTimeStamp == ev.TimeStamp {
				return nil, ""
			}
			return c.staffMessageJob(ev, self), "staff message"
		}
		if ev.ChannelType != "im" {
			return nil, "" // in channels askpa answers mentions (app_mention) only
		}
		m := bot.Message{
			Address:  bot.Address{Channel: bot.ChannelSlack, UserID: ev.User, ChatID: ev.Channel, ThreadID: ev.ThreadTimeStamp, Team: cb.TeamID},
			Audience: audience,
			Text:     commandText(plainText(ev.Text, self)),
		}
		return func(ctx context.Context) { c.converse(ctx, m, c.public(m.Address)) }, "direct message"
	}
	return nil, ""
}

// acceptCommand handles a slash command: the answer goes privately to the
// person who asked, with a button to share it.
func (c *Channel) acceptCommand(ctx context.Context, cmd slackapi.SlashCommand) int {
	if cmd.UserID == "" || cmd.ChannelID == "" {
		return http.StatusBadRequest
	}
	m := bot.Message{
		Address:  bot.Address{Channel: bot.ChannelSlack, UserID: cmd.UserID, ChatID: cmd.ChannelID, Team: cmd.TeamID},
		Audience: audience,
		Text:     commandText(plainText(cmd.Text, "")),
		Private:  true,
	}
	out := c.private(privateTarget{responseURL: cmd.ResponseURL, channel: cmd.ChannelID, user: cmd.UserID, offerShare: true})
	id := ""
	if cmd.TriggerID != "" {
		id = "command:" + cmd.TriggerID
	}
	return c.accept(ctx, "command", id, func(ctx context.Context) { c.converse(ctx, m, out) })
}

// acceptInteraction handles an interaction payload (JSON). Only button
// presses (block_actions) do anything.
func (c *Channel) acceptInteraction(ctx context.Context, payload []byte) int {
	var cb slackapi.InteractionCallback
	if err := json.Unmarshal(payload, &cb); err != nil {
		return http.StatusBadRequest
	}
	if cb.Type != slackapi.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) == 0 || cb.User.ID == "" {
		return http.StatusOK
	}
	a := *cb.ActionCallback.BlockActions[0]
	j, kind := c.actionJob(cb, a)
	if j == nil {
		return http.StatusOK
	}
	id := cb.TriggerID
	if id == "" {
		id = cb.User.ID + ":" + a.ActionTs
	}
	return c.accept(ctx, kind, "interaction:"+id, j)
}

// interactionChannel returns the conversation a pressed button is in.
func interactionChannel(cb slackapi.InteractionCallback) string {
	if cb.Channel.ID != "" {
		return cb.Channel.ID
	}
	return cb.Container.ChannelID
}

// actionJob returns the work for a pressed button: claiming an escalation in
// the support channel, sharing a private answer, or the bot action the
// button carries, answered in the same conversation.
func (c *Channel) actionJob(cb slackapi.InteractionCallback, a slackapi.BlockAction) (job, string) {
	channel := interactionChannel(cb)
	switch {
	case strings.HasPrefix(a.Value, claimPrefix):
		if c.cfg.SupportChannel == "" || channel != c.cfg.SupportChannel {
			return nil, ""
		}
		return c.claimJob(cb, strings.TrimPrefix(a.Value, claimPrefix)), "claim"
	case a.Value == bot.ActionShare || strings.HasPrefix(a.Value, sharePrefix):
		return func(ctx context.Context) { c.share(ctx, cb, a.Value) }, "share"
	case a.Value == "":
		return nil, ""
	}
	thread := cb.Container.ThreadTs
	if thread == "" {
		thread = cb.Message.ThreadTimestamp
	}
	m := bot.Message{
		Address:  bot.Address{Channel: bot.ChannelSlack, UserID: cb.User.ID, ChatID: channel, ThreadID: thread, Team: cb.Team.ID},
		Audience: audience,
		Action:   a.Value,
		Private:  cb.Container.IsEphemeral,
	}
	out := c.public(m.Address)
	if m.Private {
		out = c.private(privateTarget{responseURL: cb.ResponseURL, channel: channel, user: cb.User.ID, thread: thread, offerShare: true})
	}
	return func(ctx context.Context) {
		c.acknowledgeButton(ctx, cb, a)
		c.converse(ctx, m, out)
	}, "button"
}

// acknowledgeButton replaces the buttons of the message whose button was
// pressed with a note of the choice, so the choice shows and cannot be made
// twice. Private (ephemeral) messages are left as they are. Failure is
// logged, not fatal.
func (c *Channel) acknowledgeButton(ctx context.Context, cb slackapi.InteractionCallback, a slackapi.BlockAction) {
	if cb.Container.IsEphemeral || cb.Container.MessageTs == "" || len(cb.Message.Blocks.BlockSet) == 0 {
		return
	}
	var blocks []slackapi.Block
	for _, b := range cb.Message.Blocks.BlockSet {
		if b.BlockType() != slackapi.MBTAction {
			blocks = append(blocks, b)
		}
	}
	label := "✓"
	if a.Text.Text != "" {
		label = "✓ " + truncatePlain(a.Text.Text, 70)
	}
	blocks = append(blocks, slackapi.NewContextBlock("askpa_chosen",
		slackapi.NewTextBlockObject(slackapi.PlainTextType, label, true, false)))
	channel := interactionChannel(cb)
	err := c.retry(ctx, "chat.update", func(ctx context.Context) error {
		_, _, _, err := c.api.UpdateMessageContext(ctx, channel, cb.Container.MessageTs,
			slackapi.MsgOptionText(cb.Message.Text, false), slackapi.MsgOptionBlocks(blocks...))
		return err
	})
	if err != nil {
		c.log.Warn("pressed button not acknowledged", "error", errKind(err))
	}
}

// reply delivers one reply to a person.
type reply func(ctx context.Context, r bot.Reply) error

// public replies in the conversation (and thread) at addr, visible to all.
func (c *Channel) public(addr bot.Address) reply {
	return func(ctx context.Context, r bot.Reply) error { return c.Send(ctx, addr, r) }
}

// converse hands m to the bot and delivers its replies in order. Messages
// from one person are handled one at a time. When the bot fails, the person
// is told so; when a reply cannot be delivered the rest are not sent.
func (c *Channel) converse(ctx context.Context, m bot.Message, out reply) {
	unlock := c.locks.lock(m.Address.Key())
	defer unlock()
	m.At = c.now()
	res, err := c.cfg.Handler.Handle(ctx, m)
	if err != nil {
		c.log.Error("bot could not handle a slack message", "error", err)
		res.Replies = []bot.Reply{{Text: "Sorry, something went wrong on our side. Please try again in a few minutes."}}
	}
	for i, r := range res.Replies {
		if err := out(ctx, r); err != nil {
			c.log.Error("slack reply not delivered", "reply", i+1, "replies", len(res.Replies), "error", errKind(err))
			return
		}
	}
}

// commands are the bot's commands a person may type as a bare word (Slack
// keeps a leading "/" for its own slash commands).
var commands = map[string]bool{"start": true, "help": true, "topics": true, "human": true, "cancel": true, "feedback": true}

// commandText turns what a person typed into the bot's message text: empty
// text asks for help, and a known command word ("help", "topics",
// "/cancel") becomes the command ("/help").
func commandText(text string) string {
	text = strings.TrimSpace(text)
	if text == "" {
		return "/help"
	}
	word, rest, _ := strings.Cut(text, " ")
	w := strings.ToLower(strings.TrimPrefix(word, "/"))
	if commands[w] && (rest == "" || w == "feedback") {
		return strings.TrimSpace("/" + w + " " + strings.TrimSpace(rest))
	}
	return text
}

// slackToken matches Slack's <...> markup in message text.
var slackToken = regexp.MustCompile(`<([^<>]*)>`)

// plainText turns Slack's message encoding into plain text: mentions of
// self are removed, other mentions and links become their labels, the
// escaped &, < and > are restored, and runs of spaces and blank lines are
// collapsed.
func plainText(s, self string) string {
	s = slackToken.ReplaceAllStringFunc(s, func(tok string) string {
		inner := tok[1 : len(tok)-1]
		target, label, hasLabel := strings.Cut(inner, "|")
		switch {
		case strings.HasPrefix(target, "@"):
			if target[1:] == self {
				return ""
			}
			if hasLabel {
				return "@" + strings.TrimPrefix(label, "@")
			}
			return "@someone"
		case strings.HasPrefix(target, "#"):
			if hasLabel {
				return "#" + label
			}
			return "#channel"
		case strings.HasPrefix(target, "!"):
			if hasLabel {
				return label
			}
			return "@" + strings.SplitN(target[1:], "^", 2)[0]
		case hasLabel:
			return label
		default:
			return target
		}
	})
	s = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	s = strings.TrimSpace(strings.Join(lines, "\n"))
	return blankLines.ReplaceAllString(s, "\n\n")
}

// blankLines matches runs of blank lines.
var blankLines = regexp.MustCompile(`\n{3,}`)
