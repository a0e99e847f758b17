package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/askpa/askpa/support"
)

// RelayConfig configures a Relay. Store is required.
type RelayConfig struct {
	Store Store
	// Channels are the channels people can be reached on, by Name.
	Channels []Channel
	Logger   *slog.Logger
	Now      func() time.Time
}

// Relay carries the support desk's news to people on their own channel: a
// staff reply, and the conversation being picked up, closed or reopened. It
// implements support.Relay; the desk drives it through its outbox, so each
// call may be repeated after a failure or a restart.
type Relay struct {
	store    Store
	channels map[string]Channel
	log      *slog.Logger
	now      func() time.Time
}

// NewRelay returns a Relay for cfg. It fails when Store is missing or two
// channels share a name.
func NewRelay(cfg RelayConfig) (*Relay, error) {
	if cfg.Store == nil {
		return nil, errors.New("bot: NewRelay needs a Store")
	}
	r := &Relay{store: cfg.Store, channels: map[string]Channel{}, log: cfg.Logger, now: cfg.Now}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	for _, c := range cfg.Channels {
		if _, dup := r.channels[c.Name()]; dup {
			return nil, fmt.Errorf("bot: two channels named %q", c.Name())
		}
		r.channels[c.Name()] = c
	}
	return r, nil
}

// AddChannel makes people on c reachable. It is for wiring only: call it
// before the desk's dispatcher runs.
func (r *Relay) AddChannel(c Channel) { r.channels[c.Name()] = c }

// DeliverReply sends staff message m of escalation e to the person, where
// they last wrote from (but never into a group or channel when the
// escalation began in private: see replyAddress), and adds it to their conversation's history. An
// unknown channel is a permanent failure; a channel's own error is retried.
func (r *Relay) DeliverReply(ctx context.Context, e support.Escalation, m support.Message) error {
	addr := e.Address
	conv, err := r.store.ConversationByID(ctx, e.ConversationID)
	switch {
	case err == nil:
		addr = replyAddress(e.Address, conv.Address)
	case !errors.Is(err, ErrNotFound):
		return fmt.Errorf("bot: relay: %w", err)
	}
	ch, ok := r.channels[addr.Channel]
	if !ok {
		return support.Permanent(fmt.Errorf("bot: relay: no channel %q is running", addr.Channel))
	}
	key := "staff:" + e.ID + "#" + strconv.Itoa(m.Seq)
	if err := ch.Send(ctx, addr, Reply{Text: m.Text, FromStaff: true, Key: key}); err != nil {
		return fmt.Errorf("bot: relay to %s: %w", addr.Channel, err)
	}
	if conv.ID != "" {
		if err := r.store.AppendTurn(ctx, conv.ID, Turn{From: FromStaff, Text: m.Text, At: m.At}); err != nil {
			// Delivered; a missing history line is not worth a second copy.
			r.log.Warn("relay: recording staff reply", "conversation", conv.ID, "err", err)
		}
	}
	return nil
}

// StatusChanged switches the person's conversation when staff claim,
// resolve or reopen escalation e, and tells the person. It does nothing when
// the conversation has already moved on (a repeat, or a newer escalation).
func (r *Relay) StatusChanged(ctx context.Context, e support.Escalation) error {
	conv, err := r.store.ConversationByID(ctx, e.ConversationID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bot: relay: %w", err)
	}
	var note string
	switch e.Status {
	case support.StatusClaimed:
		if conv.EscalationID != e.ID || conv.Mode == ModeHuman {
			return nil
		}
		conv.Mode, note = ModeHuman, msgClaimed
	case support.StatusResolved:
		if conv.EscalationID != e.ID {
			return nil
		}
		conv.Mode, conv.EscalationID, conv.ToldWaiting, conv.Misses, note = ModeBot, "", false, 0, msgResolved
	case support.StatusOpen:
		if conv.EscalationID == e.ID && conv.Mode == ModeWaiting {
			return nil
		}
		if conv.Mode != ModeBot && conv.EscalationID != e.ID {
			return nil // the person is already with a newer escalation
		}
		conv.Mode, conv.EscalationID, conv.ToldWaiting, note = ModeWaiting, e.ID, true, msgReopened
	default:
		return nil
	}
	to := replyAddress(e.Address, conv.Address)
	if ch, ok := r.channels[to.Channel]; ok {
		if err := ch.Send(ctx, to, Reply{Text: note}); err != nil {
			return fmt.Errorf("bot: relay to %s: %w", to.Channel, err)
		}
	}
	conv.UpdatedAt = r.now()
	if err := r.store.SaveConversation(ctx, conv); err != nil {
		return fmt.Errorf("bot: relay: %w", err)
	}
	if err := r.store.AppendTurn(ctx, conv.ID, Turn{From: FromBot, Text: note, At: conv.UpdatedAt}); err != nil {
		r.log.Warn("relay: recording note", "conversation", conv.ID, "err", err)
	}
	return nil
}

// replyAddress is where staff's news of an escalation begun at from goes,
// when the person last wrote at last: there, so that it follows them,
// unless the escalation began in a private chat and last is a group or a
// channel that others read. Then it goes to from, so that what staff write
// about a disclosure made in private is never posted for a group to read.
func replyAddress(from, last Address) Address {
	if isPrivate(from) && !isPrivate(last) {
		return from
	}
	return last
}

// isPrivate reports whether replies to a are seen by the person alone: the
// web channel's mailbox, a Telegram private chat (whose id is the user's
// own), a Slack direct message (a conversation id beginning with D).
func isPrivate(a Address) bool {
	switch a.Channel {
	case ChannelWeb:
		return true
	case ChannelTelegram:
		return a.ChatID != "" && a.ChatID == a.UserID
	case ChannelSlack:
		return strings.HasPrefix(a.ChatID, "D")
	}
	return false
}
