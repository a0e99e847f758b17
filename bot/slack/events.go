package slack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
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
		writeStatus(w, c.acceptCallback(r.Context(), body), "Malformed event.")
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
	writeResponse(w, c.acceptInteraction(r.Context(), []byte(form.Get("payload"))), "Malformed interaction.")
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
	writeResponse(w, c.acceptCommand(r.Context(), cmd), "Malformed command.")
}

// response is the answer to a request from Slack: its status and, for
// some, a JSON body (a view submission's errors, a command's message).
type response struct {
	status int
	body   any
}

// writeResponse answers Slack with resp: its JSON body when it has one,
// otherwise as writeStatus does.
func writeResponse(w http.ResponseWriter, resp response, malformed string) {
	if resp.body == nil || resp.status != http.StatusOK {
		writeStatus(w, resp.status, malformed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.status)
	_ = json.NewEncoder(w).Encode(resp.body)
}

// writeStatus answers Slack with status; an error with the JSON body the
// rest of the API uses, malformed saying what a 400 is about.
func writeStatus(w http.ResponseWriter, status int, malformed string) {
	switch {
	case status < 400:
		w.WriteHeader(status)
	case status == http.StatusBadRequest:
		httperr.Write(w, status, malformed)
	default:
		httperr.Write(w, status, "Not stored; try again.")
	}
}

// job is work done after Slack has been answered, when it cannot fail in
// a way worth trying again.
type job func(ctx context.Context)

// task is the work for one delivery from Slack.
type task struct {
	kind string // for logs
	// key orders the work: tasks with the same key are done one at a time,
	// in the order Slack sent them (one person's conversation, one support
	// thread).
	key string
	// run does the work. It returns an error only when the work could not
	// be done now and nothing has been said yet, to be tried again later.
	run func(ctx context.Context) error
	// out is where to apologise when run keeps failing; nil for none.
	out reply
}

// ignore returns run for a job, which never asks to be tried again.
func (j job) task(kind, key string) task {
	return task{kind: kind, key: key, run: func(ctx context.Context) error { j(ctx); return nil }}
}

// Kinds of delivery kept in the intake.
const (
	kindEvent       = "event"       // an Events API event_callback body
	kindCommand     = "command"     // a slash command, as slackapi.SlashCommand JSON
	kindInteraction = "interaction" // an interaction payload
)

// delivery is what the intake keeps of a request from Slack: enough to
// rebuild its task, in this process or another, after a restart.
type delivery struct {
	Kind string          `json:"kind"`
	Body json.RawMessage `json:"body"`
}

// taskFor returns the task for d, or false for a delivery askpa ignores.
func (c *Channel) taskFor(d delivery) (task, bool) {
	switch d.Kind {
	case kindEvent:
		var cb slackevents.EventsAPICallbackEvent
		if err := json.Unmarshal(d.Body, &cb); err != nil || cb.InnerEvent == nil {
			return task{}, false
		}
		return c.eventTask(cb)
	case kindCommand:
		var cmd slackapi.SlashCommand
		if err := json.Unmarshal(d.Body, &cmd); err != nil || cmd.UserID == "" || cmd.ChannelID == "" {
			return task{}, false
		}
		return c.commandTask(cmd), true
	case kindInteraction:
		var cb slackapi.InteractionCallback
		if err := json.Unmarshal(d.Body, &cb); err != nil {
			return task{}, false
		}
		if cb.Type == slackapi.InteractionTypeViewSubmission && cb.View.CallbackID == listingCallback {
			return c.submissionTask(cb)
		}
		if cb.Type == slackapi.InteractionTypeViewSubmission && cb.View.CallbackID == rejectCallback {
			return c.rejectTask(cb)
		}
		if cb.Type != slackapi.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) == 0 || cb.User.ID == "" {
			return task{}, false
		}
		return c.actionTask(cb, *cb.ActionCallback.BlockActions[0])
	case kindNotice:
		return c.noticeTask(d.Body)
	}
	return task{}, false
}

// accept writes a delivery Slack sent under id to the intake, unless askpa
// ignores it or has had it before. It returns the HTTP status to answer
// Slack with: 200 once the intake has it (or it is ignored or a repeat),
// 500 when the intake could not be written, so that Slack sends it again.
func (c *Channel) accept(ctx context.Context, id string, d delivery) int {
	t, ok := c.taskFor(d)
	if !ok {
		return http.StatusOK
	}
	payload, err := json.Marshal(d)
	if err != nil {
		return http.StatusBadRequest
	}
	if id == "" {
		id = d.Kind + ":" + randomID()
	}
	fresh, err := c.intake.Receive(ctx, bot.Inbound{ID: id, Key: t.key, Payload: payload})
	if err != nil {
		c.log.Error("slack delivery not written to the intake", "kind", t.kind, "error", err)
		return http.StatusInternalServerError
	}
	if !fresh {
		c.log.Info("slack delivery repeated, ignored", "kind", t.kind, "id", id)
	}
	return http.StatusOK
}

// handleInbound does the task of a delivery from the intake.
func (c *Channel) handleInbound(ctx context.Context, in bot.Inbound) error {
	var d delivery
	if err := json.Unmarshal(in.Payload, &d); err != nil {
		c.log.Error("unreadable slack delivery in the intake; dropped", "seq", in.Seq, "error", err)
		return nil
	}
	t, ok := c.taskFor(d)
	if !ok {
		return nil
	}
	return t.run(ctx)
}

// giveUp apologises for a delivery whose last attempt failed.
func (c *Channel) giveUp(ctx context.Context, in bot.Inbound, _ error) {
	var d delivery
	if json.Unmarshal(in.Payload, &d) != nil {
		return
	}
	if t, ok := c.taskFor(d); ok && t.out != nil {
		if err := t.out(ctx, bot.Reply{Text: failedReply}); err != nil {
			c.log.Error("slack reply not delivered", "error", errKind(err))
		}
	}
}

// failedReply tells a person that askpa could not handle their message.
const failedReply = "Sorry, something went wrong on our side. Please try again in a few minutes."

// acceptCallback handles an Events API event_callback body.
func (c *Channel) acceptCallback(ctx context.Context, body []byte) int {
	var cb slackevents.EventsAPICallbackEvent
	if err := json.Unmarshal(body, &cb); err != nil || cb.InnerEvent == nil {
		return http.StatusBadRequest
	}
	return c.accept(ctx, "event:"+cb.EventID, delivery{Kind: kindEvent, Body: body})
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

// eventTask returns the work for an event, or false for events askpa
// ignores: anything from a bot (its own messages included), edits, joins
// and other non-text message subtypes, and channel messages that do not
// mention it.
func (c *Channel) eventTask(cb slackevents.EventsAPICallbackEvent) (task, bool) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(*cb.InnerEvent, &head); err != nil {
		return task{}, false
	}
	self := botUserID(cb.Authorizations)
	switch head.Type {
	case "app_mention":
		var ev slackevents.AppMentionEvent
		if err := json.Unmarshal(*cb.InnerEvent, &ev); err != nil {
			return task{}, false
		}
		if ev.BotID != "" || ev.User == "" || ev.User == self || ev.Edited != nil {
			return task{}, false
		}
		if c.cfg.SupportChannel != "" && ev.Channel == c.cfg.SupportChannel {
			return task{}, false // staff talk to the person through the threads, not the bot
		}
		thread := ev.ThreadTimeStamp
		if thread == "" {
			thread = ev.TimeStamp
		}
		m := bot.Message{
			Address:  bot.Address{Channel: bot.ChannelSlack, UserID: ev.User, ChatID: ev.Channel, ThreadID: thread, Team: cb.TeamID},
			Audience: audience,
			Text:     commandText(plainText(ev.Text, self)),
			ID:       cb.EventID,
		}
		return c.conversing("mention", m, c.public(m.Address)), true
	case "message":
		var ev slackevents.MessageEvent
		if err := json.Unmarshal(*cb.InnerEvent, &ev); err != nil {
			return task{}, false
		}
		if ev.BotID != "" || ev.User == "" || ev.User == self {
			return task{}, false
		}
		switch ev.SubType {
		case "", "thread_broadcast", "file_share":
		default:
			return task{}, false
		}
		if c.cfg.SupportChannel != "" && ev.Channel == c.cfg.SupportChannel {
			if ev.ThreadTimeStamp == "" || ev.ThreadTimeStamp == ev.TimeStamp {
				return task{}, false
			}
			return c.staffMessageJob(ev, self).task("staff message", "support-thread:"+ev.ThreadTimeStamp), true
		}
		if ev.ChannelType != "im" {
			return task{}, false // in channels askpa answers mentions (app_mention) only
		}
		m := bot.Message{
			Address:  bot.Address{Channel: bot.ChannelSlack, UserID: ev.User, ChatID: ev.Channel, ThreadID: ev.ThreadTimeStamp, Team: cb.TeamID},
			Audience: audience,
			Text:     commandText(plainText(ev.Text, self)),
			ID:       cb.EventID,
		}
		if c.network() != nil && isListingWord(m.Text) {
			return c.listingWordTask(m), true // a listing, not a question
		}
		return c.conversing("direct message", m, c.public(m.Address)), true
	}
	return task{}, false
}

// acceptCommand handles a slash command: the answer goes privately to the
// person who asked, with a button to share it. "/askpa listing" opens the
// listing modal at once instead, while Slack's trigger is fresh.
func (c *Channel) acceptCommand(ctx context.Context, cmd slackapi.SlashCommand) response {
	if cmd.UserID == "" || cmd.ChannelID == "" {
		return response{status: http.StatusBadRequest}
	}
	if nw := c.network(); nw != nil && isListingWord(cmd.Text) {
		return c.listingCommand(ctx, nw, cmd.TriggerID, cmd.TeamID, cmd.UserID)
	}
	id := ""
	if cmd.TriggerID != "" {
		id = "command:" + cmd.TriggerID
	}
	cmd.Token = "" // the legacy verification token is not kept
	body, err := json.Marshal(cmd)
	if err != nil {
		return response{status: http.StatusBadRequest}
	}
	return response{status: c.accept(ctx, id, delivery{Kind: kindCommand, Body: body})}
}

// commandTask returns the work for a slash command.
func (c *Channel) commandTask(cmd slackapi.SlashCommand) task {
	m := bot.Message{
		Address:  bot.Address{Channel: bot.ChannelSlack, UserID: cmd.UserID, ChatID: cmd.ChannelID, Team: cmd.TeamID},
		Audience: audience,
		Text:     commandText(plainText(cmd.Text, "")),
		Private:  true,
		ID:       cmd.TriggerID,
	}
	out := c.private(privateTarget{responseURL: cmd.ResponseURL, channel: cmd.ChannelID, user: cmd.UserID, offerShare: true})
	return c.conversing("command", m, out)
}

// acceptInteraction handles an interaction payload (JSON): button presses
// (block_actions) and the submission of the listing modal, which is
// checked before it is accepted. "Open my listing" opens the modal at
// once, while Slack's trigger is fresh.
func (c *Channel) acceptInteraction(ctx context.Context, payload []byte) response {
	var cb slackapi.InteractionCallback
	if err := json.Unmarshal(payload, &cb); err != nil {
		return response{status: http.StatusBadRequest}
	}
	nw := c.network()
	if cb.Type == slackapi.InteractionTypeViewSubmission {
		switch {
		case nw == nil || cb.User.ID == "":
		case cb.View.CallbackID == listingCallback:
			return c.acceptListingSubmission(ctx, nw, cb, payload)
		case cb.View.CallbackID == rejectCallback:
			return c.acceptReject(ctx, cb, payload)
		}
		return response{status: http.StatusOK}
	}
	if cb.Type != slackapi.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) == 0 || cb.User.ID == "" {
		return response{status: http.StatusOK}
	}
	if nw != nil && cb.ActionCallback.BlockActions[0].Value == listingOpen {
		if !c.openListing(ctx, nw, cb.TriggerID, teamOf(cb), cb.User.ID) {
			c.accept(ctx, "", delivery{Kind: kindInteraction, Body: payload}) // to say sorry
		}
		return response{status: http.StatusOK}
	}
	if id, ok := strings.CutPrefix(cb.ActionCallback.BlockActions[0].Value, moderateRejectPrefix); ok {
		if nw != nil && c.cfg.SupportChannel != "" && interactionChannel(cb) == c.cfg.SupportChannel && !c.openReject(ctx, cb, id) {
			c.tellStaff(ctx, cb.User.ID, cb.Container.MessageTs, fmt.Sprintf(msgNotModerated, "the reason form could not be opened. Please press Reject again."))
		}
		return response{status: http.StatusOK}
	}
	id := cb.TriggerID
	if id == "" {
		id = cb.User.ID + ":" + cb.ActionCallback.BlockActions[0].ActionTs
	}
	return response{status: c.accept(ctx, "interaction:"+id, delivery{Kind: kindInteraction, Body: payload})}
}

// interactionChannel returns the conversation a pressed button is in.
func interactionChannel(cb slackapi.InteractionCallback) string {
	if cb.Channel.ID != "" {
		return cb.Channel.ID
	}
	return cb.Container.ChannelID
}

// actionTask returns the work for a pressed button: claiming an escalation
// in the support channel, sharing a private answer, or the bot action the
// button carries, answered in the same conversation.
func (c *Channel) actionTask(cb slackapi.InteractionCallback, a slackapi.BlockAction) (task, bool) {
	channel := interactionChannel(cb)
	switch {
	case strings.HasPrefix(a.Value, claimPrefix):
		if c.cfg.SupportChannel == "" || channel != c.cfg.SupportChannel {
			return task{}, false
		}
		id := strings.TrimPrefix(a.Value, claimPrefix)
		return c.claimJob(cb, id).task("claim", "escalation:"+id), true
	case a.Value == bot.ActionShare || strings.HasPrefix(a.Value, sharePrefix):
		share := job(func(ctx context.Context) { c.share(ctx, cb, a.Value) })
		return share.task("share", "share:"+cb.User.ID), true
	case a.Value == "":
		return task{}, false
	case a.Value == listingOpen:
		// The modal could not be opened when it was pressed.
		out := c.dmReply(teamOf(cb), cb.User.ID)
		return job(func(ctx context.Context) { _ = c.tell(ctx, out, msgModalFailed) }).task("listing", personKey(cb.User.ID)), true
	case strings.HasPrefix(a.Value, listingActionPrefix):
		return c.listingMoveTask(cb, a)
	case strings.HasPrefix(a.Value, introAcceptPrefix), strings.HasPrefix(a.Value, introDeclinePrefix):
		return c.introAnswerTask(cb, a)
	case strings.HasPrefix(a.Value, moderateApprovePrefix):
		return c.moderationTask(cb, a.Value)
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
		ID:       cb.TriggerID,
	}
	out := c.public(m.Address)
	if m.Private {
		out = c.private(privateTarget{responseURL: cb.ResponseURL, channel: channel, user: cb.User.ID, thread: thread, offerShare: true})
	}
	t := c.conversing("button", m, out)
	t.run = func(ctx context.Context) error {
		c.acknowledgeButton(ctx, cb, a) // the same again if this is tried again
		return c.converse(ctx, m, out)
	}
	return t, true
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

// conversing returns the task of handing m to the bot, in order with the
// person's other messages, and delivering its replies through out.
func (c *Channel) conversing(kind string, m bot.Message, out reply) task {
	return task{
		kind: kind,
		key:  m.Address.Key(),
		run:  func(ctx context.Context) error { return c.converse(ctx, m, out) },
		out:  out,
	}
}

// converse hands m to the bot and delivers its replies in order. It
// returns an error, having sent nothing, when the bot fails; when a reply
// cannot be delivered the rest are not sent (and that is logged).
func (c *Channel) converse(ctx context.Context, m bot.Message, out reply) error {
	m.At = c.now()
	res, err := c.cfg.Handler.Handle(ctx, m)
	if err != nil {
		return fmt.Errorf("slack: handler: %w", err)
	}
	for i, r := range res.Replies {
		if err := out(ctx, r); err != nil {
			c.log.Error("slack reply not delivered", "reply", i+1, "replies", len(res.Replies), "error", errKind(err))
			return nil
		}
	}
	return nil
}

// commands are the bot's commands a person may type as a bare word (Slack
// keeps a leading "/" for its own slash commands).
var commands = map[string]bool{"start": true, "help": true, "topics": true, "human": true, "cancel": true, "feedback": true,
	"privacy": true, "forget": true}

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

// randomID returns a random identifier, for deliveries Slack sends without
// one of their own.
func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
