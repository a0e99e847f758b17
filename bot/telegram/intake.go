package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/askpa/askpa/bot"
)

// saveUpdate writes u to the intake. Only when it returns nil may Telegram be
// told the update arrived (the webhook answered 200, or the next
// getUpdates offset moved past it). A repeat is not an error.
func (c *Channel) saveUpdate(ctx context.Context, u tgbotapi.Update) error {
	payload, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("telegram: encoding update %d: %w", u.UpdateID, err)
	}
	_, err = c.intake.Receive(ctx, bot.Inbound{
		ID:      strconv.Itoa(u.UpdateID),
		Key:     strconv.FormatInt(chatKey(u), 10),
		Payload: payload,
	})
	return err
}

// handleInbound handles one update from the intake; see handleUpdate.
func (c *Channel) handleInbound(ctx context.Context, in bot.Inbound) error {
	var u tgbotapi.Update
	if err := json.Unmarshal(in.Payload, &u); err != nil {
		c.log.Error("telegram: unreadable update in the intake; dropped", "seq", in.Seq, "error", err)
		return nil
	}
	return c.handleUpdate(ctx, u, in.Attempts == 0)
}

// giveUp tells the person that their message could not be handled, after
// the last attempt failed.
func (c *Channel) giveUp(ctx context.Context, in bot.Inbound, _ error) {
	var u tgbotapi.Update
	if json.Unmarshal(in.Payload, &u) != nil {
		return
	}
	if in, ok := c.parse(u, c.self()); ok && in.chatID != 0 {
		if err := c.sendReply(ctx, in.chatID, in.replyTo, bot.Reply{Text: failedReply}); err != nil {
			c.log.Error("telegram: reply not delivered", "update_id", u.UpdateID, "error", err)
		}
	}
}

// chatKey is the chat an update belongs to, for ordering.
func chatKey(u tgbotapi.Update) int64 {
	switch {
	case u.Message != nil && u.Message.Chat != nil:
		return u.Message.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil && u.CallbackQuery.Message.Chat != nil:
		return u.CallbackQuery.Message.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.From != nil:
		return u.CallbackQuery.From.ID
	}
	return int64(u.UpdateID)
}
