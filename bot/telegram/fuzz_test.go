package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/askpa/askpa/bot"
)

// countingIntake counts the deliveries written to the intake it wraps.
type countingIntake struct {
	bot.Intake
	n atomic.Int64
}

func (c *countingIntake) Receive(ctx context.Context, in bot.Inbound) (bool, error) {
	c.n.Add(1)
	return c.Intake.Receive(ctx, in)
}

// fuzzUpdates are realistic updates: messages in private and group chats,
// commands, mentions, a button press, and updates the bot ignores.
var fuzzUpdates = []string{
	`{"update_id": 7, "message": {"message_id": 1, "date": 1700000000, "from": {"id": 501, "is_bot": false, "first_name": "A"}, "chat": {"id": 501, "type": "private"}, "text": "What is the minimum wage?"}}`,
	`{"update_id": 8, "message": {"message_id": 2, "date": 1700000000, "from": {"id": 501, "is_bot": false, "first_name": "A"}, "chat": {"id": 501, "type": "private"}, "text": "/Start@askpa_bot payload", "entities": [{"type": "bot_command", "offset": 0, "length": 16}]}}`,
	`{"update_id": 9, "message": {"message_id": 3, "date": 1700000000, "from": {"id": 501, "is_bot": false, "first_name": "A"}, "chat": {"id": 501, "type": "private"}, "text": "/help@other_bot"}}`,
	`{"update_id": 10, "message": {"message_id": 4, "date": 1700000000, "from": {"id": 502, "is_bot": false, "first_name": "B", "username": "bob_smith"}, "chat": {"id": -100, "type": "supergroup", "title": "PAs"}, "text": "hey @askpa_bot, how much holiday?", "entities": [{"type": "mention", "offset": 4, "length": 10}]}}`,
	`{"update_id": 11, "message": {"message_id": 5, "date": 1700000000, "from": {"id": 502, "is_bot": false, "first_name": "B"}, "chat": {"id": -100, "type": "group"}, "text": "thanks 🙂 Askpa", "entities": [{"type": "text_mention", "offset": 10, "length": 5, "user": {"id": 999, "is_bot": true, "first_name": "Askpa"}}]}}`,
	`{"update_id": 12, "message": {"message_id": 6, "date": 1700000000, "from": {"id": 502, "is_bot": false, "first_name": "B"}, "chat": {"id": -100, "type": "group"}, "text": "and sick pay?", "reply_to_message": {"message_id": 5, "date": 1700000000, "from": {"id": 999, "is_bot": true, "first_name": "Askpa", "username": "askpa_bot"}, "chat": {"id": -100, "type": "group"}}}}`,
	`{"update_id": 13, "message": {"message_id": 7, "date": 1700000000, "from": {"id": 502, "is_bot": false, "first_name": "B"}, "chat": {"id": -100, "type": "group"}, "text": "just chatting"}}`,
	`{"update_id": 14, "message": {"message_id": 8, "date": 1700000000, "from": {"id": 502, "is_bot": false, "first_name": "B"}, "chat": {"id": -100, "type": "group"}, "caption": "@askpa_bot", "caption_entities": [{"type": "mention", "offset": 0, "length": 10}]}}`,
	`{"update_id": 15, "message": {"message_id": 9, "date": 1700000000, "from": {"id": 501, "is_bot": false, "first_name": "A"}, "chat": {"id": 501, "type": "private"}, "sticker": {"file_id": "x", "width": 1, "height": 1}}}`,
	`{"update_id": 16, "message": {"message_id": 10, "date": 1700000000, "from": {"id": 777, "is_bot": true, "first_name": "Other"}, "chat": {"id": 501, "type": "private"}, "text": "hi"}}`,
	`{"update_id": 17, "callback_query": {"id": "q1", "from": {"id": 501, "is_bot": false, "first_name": "A"}, "message": {"message_id": 11, "date": 1700000000, "chat": {"id": 501, "type": "private"}}, "data": "human"}}`,
	`{"update_id": 18, "callback_query": {"id": "q2", "from": {"id": 501, "is_bot": false, "first_name": "A"}, "inline_message_id": "i1", "data": "x"}}`,
	`{"update_id": 19, "edited_message": {"message_id": 1, "date": 1700000000, "chat": {"id": 501, "type": "private"}, "text": "edited"}}`,
	`{"update_id": 20, "message": {"message_id": 12, "date": 1700000000, "from": {"id": 501, "is_bot": false, "first_name": "A"}, "chat": {"id": -5, "type": "channel"}, "text": "a post"}}`,
	// Entity offsets from outside: past the end, overlapping, and so large
	// that offset + length overflows.
	`{"update_id": 21, "message": {"message_id": 13, "date": 1700000000, "from": {"id": 502, "is_bot": false, "first_name": "B"}, "chat": {"id": -100, "type": "group"}, "text": "@askpa_bot hi", "entities": [{"type": "mention", "offset": 0, "length": 10}, {"type": "mention", "offset": 5, "length": 99}]}}`,
	`{"update_id": 22, "message": {"message_id": 14, "date": 1700000000, "from": {"id": 502, "is_bot": false, "first_name": "B"}, "chat": {"id": -100, "type": "group"}, "text": "@askpa_bot hi", "entities": [{"type": "mention", "offset": 9223372036854775807, "length": 2}]}}`,
	`{"update_id": 23, "message": {"message_id": 15, "date": 1700000000, "from": {"id": 502, "is_bot": false, "first_name": "B"}, "chat": {"id": -100, "type": "group"}, "text": "hi Askpa", "entities": [{"type": "text_mention", "offset": 9223372036854775800, "length": 9, "user": {"id": 999}}]}}`,
	`{"update_id": 24}`,
	`{"hello": 1}`,
	`<xml/>`,
	``,
}

// FuzzWebhook posts any body with any secret token to the webhook handler.
// Without the configured token it is 401 and nothing reaches the intake;
// with it, an update (a JSON object with an update_id) is written to the
// intake and answered 200, and anything else is a 400; only 200, 400, 401,
// 413 and 503 are ever answered, every error with a JSON body.
func FuzzWebhook(f *testing.F) {
	var intake *countingIntake
	fx := newWebhookFixture(f, func(c *Config) {
		if intake == nil {
			intake = &countingIntake{Intake: c.Intake}
		}
		c.Intake = intake
	})
	secret := fx.cfg.WebhookSecret
	h := fx.ch.WebhookHandler()
	for _, u := range fuzzUpdates {
		f.Add(secret, []byte(u))
	}
	f.Add("", []byte(fuzzUpdates[0]))
	f.Add(secret+"x", []byte(fuzzUpdates[0]))
	f.Add(secret[:len(secret)-1], []byte(fuzzUpdates[0]))
	f.Add(strings.ToUpper(secret), []byte(fuzzUpdates[0]))
	f.Add(" "+secret, []byte(fuzzUpdates[0]))
	f.Add(secret, []byte(`{"update_id": 25} trailing`))
	f.Add(secret, []byte(`{"update_id": "25"}`))
	f.Add(secret, []byte(`{"update_id": 0, "message": {}}`))
	f.Fuzz(func(t *testing.T, token string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, WebhookPath, bytes.NewReader(body))
		req.Header.Set(SecretHeader, token)
		before := intake.n.Load()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		written := intake.n.Load() - before

		switch rec.Code {
		case 200, 400, 401, 413, 503:
		default:
			t.Fatalf("answered %d %q", rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var e struct{ Error string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
				t.Fatalf("%d with %q (%s): want a JSON error like the rest of the API", rec.Code, rec.Body, rec.Header().Get("Content-Type"))
			}
		}
		if token != secret {
			if rec.Code != http.StatusUnauthorized || written != 0 {
				t.Fatalf("token %q: answered %d and wrote %d updates to the intake", token, rec.Code, written)
			}
			return
		}
		var u tgbotapi.Update
		isUpdate := json.NewDecoder(bytes.NewReader(body)).Decode(&u) == nil && u.UpdateID != 0
		if isUpdate != (rec.Code == http.StatusOK) || rec.Code == http.StatusOK && written != 1 || rec.Code != http.StatusOK && written != 0 {
			t.Fatalf("body %q (an update: %v): answered %d, wrote %d updates to the intake", body, isUpdate, rec.Code, written)
		}
	})
}

// FuzzParseUpdate parses any update as the bot does, with the bot known
// (@askpa_bot, id 999) or not yet connected. It never panics; a message it
// passes on is from a person, in a private chat or addressed to the bot in
// a group, with text that is trimmed, valid UTF-8 and not empty, and a
// command in it is lower case without a bot name; a button press carries
// its data and query id.
func FuzzParseUpdate(f *testing.F) {
	fx := newFixture(f)
	c := fx.ch
	for _, u := range fuzzUpdates {
		f.Add([]byte(u), true)
	}
	f.Add([]byte(fuzzUpdates[3]), false)
	f.Add([]byte(fuzzUpdates[4]), false)
	f.Fuzz(func(t *testing.T, data []byte, connected bool) {
		var u tgbotapi.Update
		if json.Unmarshal(data, &u) != nil {
			return
		}
		self := tgbotapi.User{}
		if connected {
			self = tgbotapi.User{ID: 999, IsBot: true, FirstName: "Askpa", UserName: "askpa_bot"}
		}
		in, ok := c.parse(u, self)
		if !ok {
			return
		}
		if q := u.CallbackQuery; q != nil {
			if in.query != q.ID {
				t.Fatalf("button press %q answered as %q", q.ID, in.query)
			}
			data := q.Data
			if q.From == nil || q.Message == nil || q.Message.Chat == nil {
				data = "" // not from a message in a chat: only answered
			}
			if in.msg.Action != data || in.msg.Text != "" {
				t.Fatalf("button data %q reached the bot as %+v", q.Data, in.msg)
			}
			return
		}
		m := u.Message
		if m == nil || m.From == nil || m.Chat == nil || m.From.IsBot {
			t.Fatalf("update %s passed on", data)
		}
		if in.msg.Address.Channel != Name || in.msg.Address.UserID != strconv.FormatInt(m.From.ID, 10) ||
			in.msg.Address.ChatID != strconv.FormatInt(m.Chat.ID, 10) || in.chatID != m.Chat.ID {
			t.Fatalf("message from %d in %d addressed %+v, chat %d", m.From.ID, m.Chat.ID, in.msg.Address, in.chatID)
		}
		text := m.Text
		if text == "" {
			text = m.Caption
		}
		switch m.Chat.Type {
		case "private":
			if in.noText {
				if strings.TrimSpace(text) != "" {
					t.Fatalf("%q taken for a message with no text", text)
				}
				return
			}
		case "group", "supergroup":
			mentioned := self.UserName != "" && containsFold(text, "@"+self.UserName)
			for _, e := range append(m.Entities, m.CaptionEntities...) {
				mentioned = mentioned || e.Type == "text_mention" && e.User != nil && e.User.ID == self.ID && (self.ID != 0 || self.UserName != "")
			}
			replied := m.ReplyToMessage != nil && m.ReplyToMessage.From != nil && self.ID != 0 && m.ReplyToMessage.From.ID == self.ID
			if !mentioned && !replied || in.noText {
				t.Fatalf("group message %q passed on (%+v) though not addressed to the bot", text, in)
			}
		default:
			t.Fatalf("message in a %q chat passed on", m.Chat.Type)
		}
		got := in.msg.Text
		if got == "" || strings.TrimSpace(got) != got || !utf8.ValidString(got) {
			t.Fatalf("%q reached the bot as %q", text, got)
		}
		if strings.HasPrefix(text, "/") && strings.HasPrefix(got, "/") {
			word, _, _ := strings.Cut(got, " ")
			if strings.Contains(word, "@") || strings.ToLower(word) != word {
				t.Fatalf("command %q reached the bot as %q", text, got)
			}
		}
	})
}

// containsFold reports whether s contains sub under Unicode case folding.
func containsFold(s, sub string) bool {
	rs, n := []rune(s), utf8.RuneCountInString(sub)
	for i := 0; i+n <= len(rs); i++ {
		if strings.EqualFold(string(rs[i:i+n]), sub) {
			return true
		}
	}
	return false
}
