package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/knowledge"
)

// WebChannel is the bot.Channel of the web channel: what the bot sends a
// web user outside a request (staff replies above all) waits in the
// Mailbox until GET /v1/messages fetches it.
type WebChannel struct {
	Mailbox bot.Mailbox
	Now     func() time.Time // nil means time.Now
}

// Name returns bot.ChannelWeb.
func (w WebChannel) Name() string { return bot.ChannelWeb }

// Send posts r to the mailbox of the web user at to. It fails only when
// the mailbox does.
func (w WebChannel) Send(ctx context.Context, to bot.Address, r bot.Reply) error {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	from := bot.FromBot
	if r.FromStaff {
		from = bot.FromStaff
	}
	_, err := w.Mailbox.Post(ctx, to.UserID, bot.MailMessage{From: from, Text: r.Text, Sources: r.Sources, At: now().UTC(), Key: r.Key})
	return err
}

// messageIn is the body of POST /v1/messages. User is optional: the user
// comes from the session or assertion, and a different one is refused.
type messageIn struct {
	User     string `json:"user"`
	Audience string `json:"audience"`
	Text     string `json:"text"`
	// Area is the local area (a pack's id) the person is in, for a
	// council's own page on a service answering for several.
	Area string `json:"area"`
}

// messageOut is the answer to POST /v1/messages: the JSON answer of the
// design plus the conversation, the escalation and every reply in order.
type messageOut struct {
	bot.Answer
	ConversationID string      `json:"conversation_id"`
	EscalationID   string      `json:"escalation_id"`
	Replies        []bot.Reply `json:"replies"`
}

// Limits of the web channel.
const (
	maxUserLen = 128
	maxTextLen = 4000
)

func badField(c *gin.Context, field, msg string) {
	c.AbortWithStatusJSON(http.StatusBadRequest, errorBody{Error: msg, Field: field})
}

// validUser reports whether u is usable as a web user id (as a site's
// asserted user is, with SiteUserPrefix).
func validUser(u string) bool {
	if u == "" || len(u) > maxUserLen {
		return false
	}
	for _, r := range u {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// postMessage sends one message from the user webAuth found: a "user" in
// the body that is not that user is answered 403.
func (s *server) postMessage(c *gin.Context) {
	var in messageIn
	if !s.decode(c, &in) || !sameUser(c, in.User) {
		return
	}
	user := webUserOf(c)
	aud := knowledge.Employer
	switch {
	case in.Audience == "employer", in.Audience == "":
	case in.Audience == "pa":
		aud = knowledge.PA
	default:
		badField(c, "audience", `Audience must be "employer" or "pa".`)
		return
	}
	if strings.TrimSpace(in.Text) == "" || len(in.Text) > maxTextLen || !utf8.ValidString(in.Text) {
		badField(c, "text", "Text must be 1 to 4000 bytes of UTF-8 and not only spaces.")
		return
	}
	if s.cfg.Handler == nil {
		fail(c, http.StatusServiceUnavailable, "The web channel is not running.")
		return
	}
	addr := bot.Address{Channel: bot.ChannelWeb, UserID: user, ChatID: user}
	res, err := s.cfg.Handler.Handle(c.Request.Context(), bot.Message{Address: addr, Audience: aud, Text: in.Text, Area: in.Area, At: s.cfg.Now().UTC()})
	if errors.Is(err, bot.ErrUnknownArea) {
		badField(c, "area", "Area must be the id of a local area this service answers for.")
		return
	}
	if err != nil {
		s.failErr(c, err)
		return
	}
	out := messageOut{ConversationID: res.ConversationID, EscalationID: res.EscalationID, Replies: res.Replies}
	if res.Answer != nil {
		out.Answer = *res.Answer
	} else {
		// A command or a message relayed to staff: no search answer, so the
		// replies say what happened.
		var texts []string
		for _, r := range res.Replies {
			texts = append(texts, r.Text)
		}
		out.Answer = bot.Answer{Question: in.Text, Audience: aud, Text: strings.Join(texts, "\n\n"), Escalate: res.EscalationID != ""}
	}
	if out.Audience == "" {
		out.Audience = aud
	}
	if out.Sources == nil {
		out.Sources = []bot.Source{}
	}
	if out.Suggestions == nil {
		out.Suggestions = []string{}
	}
	if out.Replies == nil {
		out.Replies = []bot.Reply{}
	}
	c.JSON(http.StatusOK, out)
}

// mailbox is the body of GET /v1/messages.
type mailbox struct {
	User     string            `json:"user"`
	Messages []bot.MailMessage `json:"messages"`
}

// getMessages returns the mailbox of the user webAuth found: a "user" in
// the query that is not that user is answered 403.
func (s *server) getMessages(c *gin.Context) {
	if !sameUser(c, c.Query("user")) {
		return
	}
	user := webUserOf(c)
	var after int64
	if a := c.Query("after"); a != "" {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n < 0 {
			badField(c, "after", "After must be a sequence number (0 or more).")
			return
		}
		after = n
	}
	if s.cfg.Mailbox == nil {
		fail(c, http.StatusServiceUnavailable, "The web channel is not running.")
		return
	}
	ms, err := s.cfg.Mailbox.Since(c.Request.Context(), user, after, 100)
	if err != nil {
		s.failErr(c, err)
		return
	}
	if ms == nil {
		ms = []bot.MailMessage{}
	}
	c.JSON(http.StatusOK, mailbox{User: user, Messages: ms})
}
