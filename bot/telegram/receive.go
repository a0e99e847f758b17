package telegram

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/askpa/askpa/bot"
)

// textOnlyReply answers a private message with nothing to read (a sticker,
// a photo without a caption, a voice note).
const textOnlyReply = "Sorry, I can only read text. Please type your question, or send /help to see what I can do."

// failedReply tells the person the engine failed on their message.
const failedReply = "Sorry, something went wrong on our side. Please try again in a moment."

// allowedUpdates are the update kinds the bot asks Telegram for.
var allowedUpdates = []string{tgbotapi.UpdateTypeMessage, tgbotapi.UpdateTypeCallbackQuery}

// incoming is an update the bot acts on.
type incoming struct {
	msg     bot.Message
	chatID  int64
	replyTo int    // in groups, the message to reply to
	query   string // callback query id to answer
	noText  bool   // a private message with nothing to read
}

// handleUpdate acts on one update from the intake: it ignores updates not
// meant for the bot, answers a callback query (on the first attempt only),
// calls the handler and sends its replies. It returns an error only when
// the handler failed, before anything was sent, so that the update is
// tried again; other failures are logged (without message text).
func (c *Channel) handleUpdate(ctx context.Context, u tgbotapi.Update, first bool) error {
	in, ok := c.parse(u, c.self())
	if !ok {
		return nil
	}
	in.msg.ID = strconv.Itoa(u.UpdateID)
	log := c.log.With("update_id", u.UpdateID)
	if first {
		c.answerQuery(ctx, log, in.query)
	}
	if in.noText {
		if err := c.sendReply(ctx, in.chatID, in.replyTo, bot.Reply{Text: textOnlyReply}); err != nil {
			log.Error("telegram: reply not delivered", "error", err)
		}
		return nil
	}
	if in.msg.Action == "" && in.msg.Text == "" {
		return nil
	}
	res, err := c.cfg.Handler.Handle(ctx, in.msg)
	if err != nil {
		return fmt.Errorf("telegram: handler: %w", err)
	}
	for i, r := range res.Replies {
		replyTo := 0
		if i == 0 {
			replyTo = in.replyTo
		}
		if err := c.sendReply(ctx, in.chatID, replyTo, r); err != nil {
			log.Error("telegram: reply not delivered", "conversation", res.ConversationID,
				"reply", i+1, "of", len(res.Replies), "error", err)
			return nil
		}
	}
	return nil
}

// answerQuery answers a callback query, so that the person's client stops
// showing it as pending. Nothing happens for an empty id.
func (c *Channel) answerQuery(ctx context.Context, log *slog.Logger, id string) {
	if id == "" {
		return
	}
	err := c.call(ctx, "answerCallbackQuery", func(api *tgbotapi.BotAPI) error {
		_, err := api.Request(tgbotapi.NewCallback(id, ""))
		return err
	})
	if err != nil {
		log.Warn("telegram: could not answer callback query", "error", err)
	}
}

// parse turns u into what the bot acts on, or reports false for an update
// it ignores: edits, channel posts, other bots, group messages not addressed
// to the bot.
func (c *Channel) parse(u tgbotapi.Update, self tgbotapi.User) (incoming, bool) {
	if q := u.CallbackQuery; q != nil {
		if q.From == nil || q.Message == nil || q.Message.Chat == nil {
			// Not from a message the bot sent in a chat: answer it (so the
			// person's client stops waiting) and do nothing else.
			return incoming{query: q.ID}, true
		}
		return incoming{
			msg: bot.Message{
				Address:  c.address(q.From.ID, q.Message.Chat.ID),
				Audience: c.cfg.Audience,
				Action:   q.Data,
				At:       c.cfg.Clock.Now(),
			},
			chatID: q.Message.Chat.ID,
			query:  q.ID,
		}, true
	}
	m := u.Message
	if m == nil || m.From == nil || m.From.IsBot || m.Chat == nil {
		return incoming{}, false
	}
	text, entities := m.Text, m.Entities
	if text == "" {
		text, entities = m.Caption, m.CaptionEntities
	}
	in := incoming{
		msg: bot.Message{
			Address:  c.address(m.From.ID, m.Chat.ID),
			Audience: c.cfg.Audience,
			At:       m.Time(),
		},
		chatID: m.Chat.ID,
	}
	switch m.Chat.Type {
	case "private":
		if strings.TrimSpace(text) == "" {
			in.noText = true
			return in, true
		}
		cmd, ok := command(text, self.UserName)
		if !ok {
			return incoming{}, false
		}
		in.msg.Text = strings.TrimSpace(cmd)
		return in, true
	case "group", "supergroup":
		text, mentioned := stripMentions(text, entities, self)
		replied := m.ReplyToMessage != nil && m.ReplyToMessage.From != nil && self.ID != 0 &&
			m.ReplyToMessage.From.ID == self.ID
		addressedCmd := strings.HasPrefix(text, "/") && commandFor(text, self.UserName)
		if !mentioned && !replied && !addressedCmd {
			return incoming{}, false
		}
		text, ok := command(text, self.UserName)
		if !ok {
			return incoming{}, false
		}
		if text = strings.TrimSpace(text); text == "" {
			if strings.TrimSpace(m.Text+m.Caption) == "" {
				return incoming{}, false // a sticker or photo in reply to the bot
			}
			text = "/help" // just "@askpa_bot"
		}
		in.msg.Text = text
		in.replyTo = m.MessageID
		return in, true
	}
	return incoming{}, false
}

func (c *Channel) address(userID, chatID int64) bot.Address {
	return bot.Address{
		Channel: Name,
		UserID:  strconv.FormatInt(userID, 10),
		ChatID:  strconv.FormatInt(chatID, 10),
	}
}

// command normalises a leading command: "/Start@askpa_bot payload" becomes
// "/start payload". It reports false for a command addressed to another bot.
// Text that is not a command is returned as it is.
func command(text, botName string) (string, bool) {
	t := strings.TrimLeft(text, " \n")
	if !strings.HasPrefix(t, "/") {
		return text, true
	}
	word, rest, _ := strings.Cut(t, " ")
	if w, r, ok := strings.Cut(word, "\n"); ok {
		word, rest = w, r+" "+rest
	}
	name, at, hasAt := strings.Cut(word, "@")
	if hasAt && !strings.EqualFold(at, botName) {
		return "", false
	}
	out := strings.ToLower(name)
	if rest = strings.TrimSpace(rest); rest != "" {
		out += " " + rest
	}
	return out, true
}

// commandFor reports whether the leading command names the bot
// ("/help@askpa_bot").
func commandFor(text, botName string) bool {
	word, _, _ := strings.Cut(strings.Fields(text)[0], "\n")
	_, at, ok := strings.Cut(word, "@")
	return ok && botName != "" && strings.EqualFold(at, botName)
}

// stripMentions removes every mention of the bot from text (entity offsets
// are in UTF-16 code units) and reports whether there was one.
func stripMentions(text string, entities []tgbotapi.MessageEntity, self tgbotapi.User) (string, bool) {
	if self.UserName == "" && self.ID == 0 {
		return text, false
	}
	units := utf16.Encode([]rune(text))
	var segs []string // the text between mentions of the bot
	pos := 0
	for _, e := range entities {
		// Written so that no offset or length, however large, overflows.
		if e.Offset < pos || e.Length <= 0 || e.Length > len(units)-e.Offset {
			continue
		}
		ours := false
		switch e.Type {
		case "mention":
			name := string(utf16.Decode(units[e.Offset : e.Offset+e.Length]))
			ours = self.UserName != "" && strings.EqualFold(name, "@"+self.UserName)
		case "text_mention":
			ours = e.User != nil && e.User.ID == self.ID
		}
		if ours {
			segs = append(segs, string(utf16.Decode(units[pos:e.Offset])))
			pos = e.Offset + e.Length
		}
	}
	if segs == nil {
		return text, false
	}
	segs = append(segs, string(utf16.Decode(units[pos:])))
	// Close the gaps the mentions leave: "hey @bot, how" -> "hey, how".
	out := segs[0]
	for _, s := range segs[1:] {
		if strings.HasSuffix(out, " ") && (s == "" || strings.ContainsAny(s[:1], " ,.;:!?")) {
			out = strings.TrimRight(out, " ")
		}
		out += s
	}
	out = strings.TrimSpace(out)
	out = strings.TrimSpace(strings.TrimLeft(out, ",:;-"))
	return out, true
}
