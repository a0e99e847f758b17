package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/askpa/askpa/retention"
	"github.com/askpa/askpa/support"
)

// askForget answers /forget: what erasing would remove, and the buttons to
// confirm or keep it.
func (s *Service) askForget(ctx context.Context, t *turn) error {
	if s.cfg.Privacy == nil {
		t.reply(Reply{Text: msgNoForget})
		return nil
	}
	x, err := s.cfg.Privacy.Export(ctx, PersonOf(t.msg.Address))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("bot: looking up what is held: %w", err)
	}
	mine := 0
	for _, c := range x.Conversations {
		for _, tn := range c.Turns {
			if tn.From == FromUser {
				mine++
			}
		}
	}
	open := 0
	for _, e := range x.Escalations {
		if e.Status != support.StatusResolved {
			open++
		}
	}
	var b strings.Builder
	b.WriteString(msgForgetIntro)
	fmt.Fprintf(&b, "\n• "+msgForgetConversation, plural(mine, "message"))
	if n := len(x.Escalations); n > 0 {
		fmt.Fprintf(&b, "\n• "+msgForgetEscalations, plural(n, "conversation"))
		if open > 0 {
			b.WriteString(" " + msgForgetWithdraw)
		}
	}
	if len(x.Mailbox) > 0 {
		fmt.Fprintf(&b, "\n• "+msgForgetMailbox, plural(len(x.Mailbox), "message"))
	}
	b.WriteString("\n\n" + msgForgetApp)
	if t.msg.Address.Channel == ChannelWeb {
		b.WriteString(" " + msgForgetTyped) // the web channel has no buttons to press
	}
	t.reply(Reply{Text: b.String(), Buttons: [][]Button{{
		{Label: labelErase, Action: ActionErase},
		{Label: labelKeepData, Action: ActionKeepData},
	}}})
	return nil
}

// forget erases the person's data once they confirmed. Nothing of this
// exchange is kept afterwards: their next message starts a new
// conversation.
func (s *Service) forget(ctx context.Context, t *turn) error {
	if s.cfg.Privacy == nil {
		t.reply(Reply{Text: msgNoForget})
		return nil
	}
	_, err := s.cfg.Privacy.Forget(ctx, PersonOf(t.msg.Address))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("bot: erasing: %w", err)
	}
	t.forgotten = true
	t.reply(Reply{Text: msgForgotten})
	return nil
}

// Forget erases everything askpa holds about p, in order with the
// person's own messages (see Privacy.Forget, whose errors it returns). It
// fails when the service has no Privacy.
func (s *Service) Forget(ctx context.Context, p Person) (Erasure, error) {
	if s.cfg.Privacy == nil {
		return Erasure{}, errors.New("bot: erasure is not set up (ServiceConfig.Privacy)")
	}
	if err := p.Validate(); err != nil {
		return Erasure{}, err
	}
	defer s.convs.lock(p.Key())()
	return s.cfg.Privacy.Forget(ctx, p)
}

// Export returns everything askpa holds about p (see Privacy.Export, whose
// errors it returns). It fails when the service has no Privacy.
func (s *Service) Export(ctx context.Context, p Person) (Export, error) {
	if s.cfg.Privacy == nil {
		return Export{}, errors.New("bot: export is not set up (ServiceConfig.Privacy)")
	}
	return s.cfg.Privacy.Export(ctx, p)
}

// privacyNotice is the reply to /privacy, with the periods of p.
func privacyNotice(p retention.Policy) string {
	p = p.WithDefaults()
	return fmt.Sprintf(msgPrivacy, retention.Words(p.Conversations), retention.Words(p.Escalations), retention.Words(p.Mail), retention.Words(p.Introductions))
}

// plural says "1 message", "3 messages", "no messages".
func plural(n int, noun string) string {
	switch n {
	case 0:
		return "no " + noun + "s"
	case 1:
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
