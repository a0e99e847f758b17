package slack

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/askpa/askpa/support"
)

// Staff in Slack. Each escalation gets a message in the support channel
// (its "card"): priority, reason, summary, the conversation so far, its
// state and, while nobody holds it, a Claim button. Everything that happens
// to the escalation afterwards is told in the card's thread, and the card is
// updated. A member of staff who writes in the thread replies to the person
// through the desk, exactly as the staff API does, unless the message starts
// with the internal note prefix.
//
// The card's first block has the block_id "askpa_escalation:<id>", so any
// askpa process can tell which escalation a thread belongs to by reading the
// thread's parent from Slack; nothing else needs storing.

const (
	// claimPrefix starts the value of a card's Claim button; the escalation
	// ID follows.
	claimPrefix = "claim:"
	// cardBlockPrefix starts the block_id of a card's first block.
	cardBlockPrefix = "askpa_escalation:"
	// SupportTargetName is the outbox target name of the support channel.
	SupportTargetName = "slack:support"
	// maxCardSections bounds the sections of the conversation on a card.
	maxCardSections = 8
	// maxCacheEntries bounds the in-memory thread and name caches.
	maxCacheEntries = 10000
)

// SetDesk connects the support desk on which staff in the support channel
// claim and reply. The desk is created with SupportTarget among its
// targets, so it usually exists only after the Channel; call SetDesk before
// serving. Until then, staff actions in Slack are answered with an apology.
func (c *Channel) SetDesk(d *support.Desk) { c.desk.Store(d) }

// SupportTarget returns the outbox target that posts escalations to the
// support channel and keeps their cards and threads up to date. Give it to
// support.NewDesk in Config.Targets. Without a SupportChannel it accepts no
// events.
func (c *Channel) SupportTarget() support.Target { return supportTarget{c} }

type supportTarget struct{ c *Channel }

// Name returns "slack:support".
func (supportTarget) Name() string { return SupportTargetName }

// Accepts reports the events the support channel is told of: every change
// to an escalation, when a support channel is configured.
func (t supportTarget) Accepts(ev support.Event) bool {
	if t.c.cfg.SupportChannel == "" {
		return false
	}
	switch ev.Name {
	case support.EventCreated, support.EventClaimed, support.EventReplied, support.EventResolved,
		support.EventReopened, support.EventMessageReceived:
		return true
	}
	return false
}

// Deliver posts or updates the escalation's card and tells the event in its
// thread. Delivering the same event twice does not post a second card. An
// error the outbox cannot mend by retrying (the channel is gone, the token
// is refused) is marked support.Permanent.
func (t supportTarget) Deliver(ctx context.Context, ev support.Event) error {
	c := t.c
	e := ev.Escalation
	ts, err := c.findCard(ctx, e)
	if err != nil {
		return classify(err)
	}
	if ts == "" {
		if ts, err = c.postCard(ctx, e); err != nil {
			return classify(err)
		}
		if ev.Name == support.EventCreated {
			return nil
		}
	} else if ev.Name != support.EventCreated {
		if err := c.updateCard(ctx, ts, e); err != nil {
			return classify(err)
		}
	}
	note := c.threadNote(ev)
	if note == "" {
		return nil
	}
	return classify(c.postInThread(ctx, ts, note))
}

// classify marks errors that retrying cannot mend as permanent.
func classify(err error) error {
	if se, ok := errors.AsType[slackapi.SlackErrorResponse](err); ok {
		switch se.Err {
		case "channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "account_inactive", "user_not_found",
			"token_revoked", "missing_scope", "not_authed", "invalid_blocks", "msg_too_long":
			return support.Permanent(err)
		}
	}
	return err
}

// threadNote returns what to say in the card's thread about ev, in mrkdwn.
func (c *Channel) threadNote(ev support.Event) string {
	e := ev.Escalation
	who := escapeText(ev.By)
	switch ev.Name {
	case support.EventClaimed:
		return "*" + who + "* claimed this escalation."
	case support.EventReopened:
		return "*" + who + "* reopened this escalation. It is waiting to be claimed."
	case support.EventResolved:
		if ev.By == support.ByPerson {
			return "The person cancelled and went back to the bot. The escalation is resolved."
		}
		return "*" + who + "* resolved this escalation. The person is back with the bot."
	case support.EventMessageReceived:
		if ev.Message == nil {
			return ""
		}
		return "*The person wrote:*\n" + quote(ev.Message.Text)
	case support.EventReplied:
		if ev.Message == nil || c.fromThread(e.ID, ev.Message.Seq) {
			return "" // written in this thread: it is there already
		}
		return "*" + escapeText(ev.Message.Author) + "* replied (outside Slack):\n" + quote(ev.Message.Text)
	}
	return ""
}

// quote renders text as an escaped mrkdwn block quote, cut to fit a section.
func quote(text string) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for i, l := range lines {
		lines[i] = "&gt; " + escapeText(l)
	}
	return truncate(strings.Join(lines, "\n"), maxSectionText-200)
}

// card renders an escalation's card.
func card(e support.Escalation) message {
	title := "New escalation"
	if e.Priority == support.PriorityUrgent {
		title = ":rotating_light: URGENT escalation"
	}
	head := fmt.Sprintf("*%s* · reason: %s · from %s (%s)", title, escapeText(orDash(e.Reason)),
		escapeText(orDash(e.Address.Channel)), escapeText(orDash(e.Audience)))
	blocks := []slackapi.Block{slackapi.NewSectionBlock(
		slackapi.NewTextBlockObject(slackapi.MarkdownType, truncate(head, maxSectionText), false, true), nil, nil,
		slackapi.SectionBlockOptionBlockID(cardBlockPrefix+e.ID))}
	if strings.TrimSpace(e.Summary) != "" {
		blocks = append(blocks, section(truncate("*Summary*\n"+escapeText(e.Summary), maxSectionText)))
	}
	for _, s := range conversationSections(e.Messages) {
		blocks = append(blocks, section(s))
	}
	status := "Open: waiting for someone to claim it. Claim it, then write in the thread to reply to the person."
	switch e.Status {
	case support.StatusClaimed:
		status = "Claimed by " + escapeText(e.ClaimedBy) + ". Their messages in the thread go to the person."
	case support.StatusResolved:
		status = "Resolved."
	}
	blocks = append(blocks, slackapi.NewContextBlock("askpa_status",
		slackapi.NewTextBlockObject(slackapi.MarkdownType, status+" · Escalation "+escapeText(e.ID), false, true)))
	if e.Status == support.StatusOpen {
		btn := slackapi.NewButtonBlockElement("askpa_claim", claimPrefix+e.ID,
			slackapi.NewTextBlockObject(slackapi.PlainTextType, "Claim", false, false))
		btn.Style = slackapi.StylePrimary
		blocks = append(blocks, slackapi.NewActionBlock("askpa_claim_actions", btn))
	}
	fallback := title + ": " + orDash(e.Reason)
	return message{Text: escapeText(fallback), Blocks: blocks}
}

// conversationSections renders the conversation so far, newest kept when it
// does not all fit.
func conversationSections(msgs []support.Message) []string {
	if len(msgs) == 0 {
		return nil
	}
	var lines []unit
	for _, m := range msgs {
		who := "Person"
		switch m.From {
		case support.FromBot:
			who = "askpa"
		case support.FromStaff:
			who = "Staff"
			if m.Author != "" {
				who = "Staff (" + escapeText(m.Author) + ")"
			}
		}
		text := strings.ReplaceAll(strings.TrimSpace(m.Text), "\n", " ")
		lines = append(lines, unit{"\n", "*" + who + ":* " + truncate(escapeText(text), 600)})
	}
	chunks := pack(append([]unit{{"", "*Conversation so far*"}}, lines...), maxSectionText)
	for len(chunks) > maxCardSections && len(lines) > 1 {
		lines = lines[1:]
		head := fmt.Sprintf("*Conversation so far* (earlier messages: %d not shown)", len(msgs)-len(lines))
		chunks = pack(append([]unit{{"", head}}, lines...), maxSectionText)
	}
	return chunks
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "–"
	}
	return s
}

// postCard posts e's card and returns its ts.
func (c *Channel) postCard(ctx context.Context, e support.Escalation) (string, error) {
	m := card(e)
	var ts string
	err := c.retry(ctx, "chat.postMessage", func(ctx context.Context) error {
		var err error
		_, ts, err = c.api.PostMessageContext(ctx, c.cfg.SupportChannel,
			slackapi.MsgOptionText(m.Text, false), slackapi.MsgOptionBlocks(m.Blocks...))
		return err
	})
	if err != nil {
		return "", err
	}
	c.rememberCard(e.ID, ts)
	return ts, nil
}

// updateCard replaces the card at ts with e's current state.
func (c *Channel) updateCard(ctx context.Context, ts string, e support.Escalation) error {
	m := card(e)
	return c.retry(ctx, "chat.update", func(ctx context.Context) error {
		_, _, _, err := c.api.UpdateMessageContext(ctx, c.cfg.SupportChannel, ts,
			slackapi.MsgOptionText(m.Text, false), slackapi.MsgOptionBlocks(m.Blocks...))
		return err
	})
}

// postInThread posts mrkdwn text in the thread of the card at ts.
func (c *Channel) postInThread(ctx context.Context, ts, mrkdwn string) error {
	return c.retry(ctx, "chat.postMessage", func(ctx context.Context) error {
		_, _, err := c.api.PostMessageContext(ctx, c.cfg.SupportChannel, slackapi.MsgOptionTS(ts),
			slackapi.MsgOptionText(truncate(mrkdwn, maxFallbackText), false),
			slackapi.MsgOptionBlocks(section(mrkdwn)))
		return err
	})
}

// findCard returns the ts of e's card: from memory, or else by reading the
// support channel's history since just before e was created. It returns ""
// when there is none.
func (c *Channel) findCard(ctx context.Context, e support.Escalation) (string, error) {
	c.threadsMu.Lock()
	ts := c.cards[e.ID]
	c.threadsMu.Unlock()
	if ts != "" {
		return ts, nil
	}
	params := &slackapi.GetConversationHistoryParameters{ChannelID: c.cfg.SupportChannel, Limit: 200}
	if !e.CreatedAt.IsZero() {
		params.Oldest = strconv.FormatInt(e.CreatedAt.Add(-time.Minute).Unix(), 10)
	}
	for page := 0; page < 10; page++ {
		var resp *slackapi.GetConversationHistoryResponse
		err := c.retry(ctx, "conversations.history", func(ctx context.Context) error {
			var err error
			resp, err = c.api.GetConversationHistoryContext(ctx, params)
			return err
		})
		if err != nil {
			return "", err
		}
		for _, m := range resp.Messages {
			if id := cardID(m, c.self()); id == e.ID {
				c.rememberCard(id, m.Timestamp)
				return m.Timestamp, nil
			}
		}
		if !resp.HasMore || resp.ResponseMetaData.NextCursor == "" {
			break
		}
		params.Cursor = resp.ResponseMetaData.NextCursor
	}
	return "", nil
}

// cardID returns the escalation ID of a card, or "" for any other message.
// self is askpa's own bot user when known: a message another app posted
// with a card's block id is not a card, so that no app in the support
// channel can route staff replies to an escalation it names.
func cardID(m slackapi.Message, self string) string {
	if m.BotID == "" && m.SubType != "bot_message" {
		return "" // cards are posted by askpa, never by a person
	}
	if self != "" && m.User != self {
		return ""
	}
	for _, b := range m.Blocks.BlockSet {
		if id, ok := strings.CutPrefix(b.ID(), cardBlockPrefix); ok {
			return id
		}
	}
	return ""
}

// escalationOfThread returns the escalation whose card starts the thread
// at ts in the support channel, or "" when it is not an escalation thread
// (nor one whose first message askpa, bot user self, posted).
func (c *Channel) escalationOfThread(ctx context.Context, ts, self string) (string, error) {
	c.threadsMu.Lock()
	id, known := c.threads[ts]
	c.threadsMu.Unlock()
	if known {
		return id, nil
	}
	var msgs []slackapi.Message
	err := c.retry(ctx, "conversations.replies", func(ctx context.Context) error {
		var err error
		msgs, _, _, err = c.api.GetConversationRepliesContext(ctx, &slackapi.GetConversationRepliesParameters{
			ChannelID: c.cfg.SupportChannel, Timestamp: ts, Limit: 1, Inclusive: true})
		return err
	})
	if err != nil {
		return "", err
	}
	for _, m := range msgs {
		if m.Timestamp == ts {
			id = cardID(m, self)
		}
	}
	c.threadsMu.Lock()
	c.rememberLocked(id, ts)
	c.threadsMu.Unlock()
	return id, nil
}

func (c *Channel) rememberCard(id, ts string) {
	c.threadsMu.Lock()
	defer c.threadsMu.Unlock()
	c.rememberLocked(id, ts)
}

func (c *Channel) rememberLocked(id, ts string) {
	if len(c.threads) > maxCacheEntries || len(c.cards) > maxCacheEntries {
		c.threads, c.cards = map[string]string{}, map[string]string{}
	}
	c.threads[ts] = id
	if id != "" {
		c.cards[id] = ts
	}
}

// fromThread reports whether staff message seq of escalation id was
// written in its Slack thread (by this process), and forgets it.
func (c *Channel) fromThread(id string, seq int) bool {
	key := id + "#" + strconv.Itoa(seq)
	c.threadsMu.Lock()
	defer c.threadsMu.Unlock()
	if c.echoes[key] {
		delete(c.echoes, key)
		return true
	}
	return false
}

func (c *Channel) rememberFromThread(id string, seq int) {
	c.threadsMu.Lock()
	defer c.threadsMu.Unlock()
	if len(c.echoes) > maxCacheEntries {
		c.echoes = map[string]bool{}
	}
	c.echoes[id+"#"+strconv.Itoa(seq)] = true
}

// staffName returns the name staff are known by in the desk: their Slack
// display name, else real name, else user name, else hint, else the ID.
func (c *Channel) staffName(ctx context.Context, userID, hint string) string {
	c.namesMu.Lock()
	name, ok := c.names[userID]
	c.namesMu.Unlock()
	if ok {
		return name
	}
	var u *slackapi.User
	err := c.retry(ctx, "users.info", func(ctx context.Context) error {
		var err error
		u, err = c.api.GetUserInfoContext(ctx, userID)
		return err
	})
	name = hint
	if err == nil && u != nil {
		for _, n := range []string{u.Profile.DisplayName, u.Profile.RealName, u.RealName, u.Name} {
			if strings.TrimSpace(n) != "" {
				name = n
				break
			}
		}
	}
	if strings.TrimSpace(name) == "" {
		name = userID
	}
	name = truncatePlain(strings.TrimSpace(stripControls(name)), support.MaxNameLen/4)
	if err == nil {
		c.namesMu.Lock()
		if len(c.names) > maxCacheEntries {
			c.names = map[string]string{}
		}
		c.names[userID] = name
		c.namesMu.Unlock()
	}
	return name
}

// tellStaff shows a member of staff a private note in the thread at ts.
func (c *Channel) tellStaff(ctx context.Context, user, ts, text string) {
	err := c.retry(ctx, "chat.postEphemeral", func(ctx context.Context) error {
		_, err := c.api.PostEphemeralContext(ctx, c.cfg.SupportChannel, user,
			slackapi.MsgOptionTS(ts), slackapi.MsgOptionText(text, false))
		return err
	})
	if err != nil {
		c.log.Warn("note to staff not delivered", "error", errKind(err))
	}
}

// staffMessageJob returns the work for a message in a thread of the support
// channel: a reply to the person through the desk, unless it is an
// internal note or the thread is not an escalation's.
func (c *Channel) staffMessageJob(ev slackevents.MessageEvent, self string) job {
	return func(ctx context.Context) {
		c.learnSelf(self)
		id, err := c.escalationOfThread(ctx, ev.ThreadTimeStamp, self)
		if err != nil {
			c.log.Error("support thread not identified", "error", errKind(err))
			c.tellStaff(ctx, ev.User, ev.ThreadTimeStamp, "Not sent: askpa could not reach Slack to check this thread. Please try again.")
			return
		}
		if id == "" {
			return // a thread about something else
		}
		text := plainText(ev.Text, self)
		if text == "" || hasPrefixFold(text, c.cfg.InternalNotePrefix) {
			return // internal note: stays among staff
		}
		desk := c.desk.Load()
		if desk == nil {
			c.log.Error("staff reply in slack but no desk is connected")
			c.tellStaff(ctx, ev.User, ev.ThreadTimeStamp, "Not sent: askpa's support desk is not connected.")
			return
		}
		name := c.staffName(ctx, ev.User, "")
		e, err := desk.Reply(ctx, id, name, text)
		if err == nil {
			if n := len(e.Messages); n > 0 {
				c.rememberFromThread(id, e.Messages[n-1].Seq)
			}
			return
		}
		c.tellStaff(ctx, ev.User, ev.ThreadTimeStamp, "Not sent to the person: "+c.deskProblem(ctx, desk, id, err))
	}
}

// claimJob returns the work for a Claim button pressed on a card.
func (c *Channel) claimJob(cb slackapi.InteractionCallback, id string) job {
	return func(ctx context.Context) {
		ts := cb.Container.MessageTs
		if ts != "" {
			c.rememberCard(id, ts)
		}
		desk := c.desk.Load()
		if desk == nil {
			c.log.Error("claim in slack but no desk is connected")
			c.tellStaff(ctx, cb.User.ID, ts, "Not claimed: askpa's support desk is not connected.")
			return
		}
		name := c.staffName(ctx, cb.User.ID, cb.User.Name)
		if _, err := desk.Claim(ctx, id, name); err != nil {
			c.tellStaff(ctx, cb.User.ID, ts, "Not claimed: "+c.deskProblem(ctx, desk, id, err))
			return
		}
		c.tellStaff(ctx, cb.User.ID, ts, "You have claimed this escalation. Write in this thread to reply to the person; start a message with "+
			escapeText(c.cfg.InternalNotePrefix)+" to keep it among staff.")
	}
}

// deskProblem explains a desk error to staff.
func (c *Channel) deskProblem(ctx context.Context, desk *support.Desk, id string, err error) string {
	switch {
	case errors.Is(err, support.ErrConflict):
		if e, gerr := desk.Get(ctx, id); gerr == nil && e.ClaimedBy != "" {
			return escapeText(e.ClaimedBy) + " has claimed this escalation."
		}
		return "someone else has claimed this escalation."
	case errors.Is(err, support.ErrResolved):
		return "this escalation is resolved. Reopen it through the staff API first."
	case errors.Is(err, support.ErrNotFound):
		return "askpa does not know this escalation."
	case errors.Is(err, support.ErrInvalid):
		return fmt.Sprintf("the message is empty or longer than %d characters.", support.MaxTextLen)
	}
	c.log.Error("support desk failed", "escalation", id, "error", err)
	return "something went wrong on askpa's side. Please try again."
}

func hasPrefixFold(s, prefix string) bool {
	s = strings.TrimSpace(s)
	return prefix != "" && len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
