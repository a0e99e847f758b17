package bot

import (
	"context"
	"errors"
	"strings"

	"github.com/askpa/askpa/bot/safety"
	"github.com/askpa/askpa/directory"
)

// Some answers the bot asks for itself: an area to search the PA network
// in, an introduction's note and contact details, the person's local
// area. Conversation.Awaiting says which; the person's next typed message
// is taken as the answer unless it is a message of its own (see awaited).

// What the bot waits for after asking a question of its own
// (Conversation.Awaiting); the introduction steps carry the listing id
// after the colon.
const (
	awaitArea         = "findpa"
	awaitIntroNote    = "intro-note:"
	awaitIntroContact = "intro-contact:"
	awaitAreaChoice   = "area"
)

// awaited handles typed text the bot asked for: the person's area, an
// area to search the PA network in, or an introduction's note or contact
// details. It reports false when the text is not an answer to that
// question but a message of its own (one the safety layer would hand over,
// a request for a person other than contact details, or not an area the
// service knows), and then forgets the question. A message the safety
// layer is moderately worried by is taken as the answer, with its
// signposting line above the reply.
func (s *Service) awaited(ctx context.Context, t *turn) (bool, error) {
	waiting := t.conv.Awaiting
	v := s.engineFor(t).Safety().CheckConversation(ctx, s.recent(t), t.conv.Audience)
	// Contact details ("call me on ...") read like a request for a person.
	requested := v.Kind == safety.Requested && !strings.HasPrefix(waiting, awaitIntroContact)
	if waiting == awaitAreaChoice && v.Level != safety.LevelUrgent && !requested {
		if a := s.pickArea(t.msg.Text); a != nil {
			s.setArea(t, a)
			return true, nil
		}
	}
	if v.Level == safety.LevelUrgent || requested || s.cfg.Network == nil {
		t.conv.Awaiting, t.conv.Draft = "", ""
		return false, nil
	}
	var err error
	switch {
	case waiting == awaitArea:
		err = s.findPA(ctx, t, t.msg.Text)
	case strings.HasPrefix(waiting, awaitIntroNote):
		id := strings.TrimPrefix(waiting, awaitIntroNote)
		var inv *directory.InvalidError
		if errors.As(directory.CheckNote(t.msg.Text), &inv) {
			t.reply(Reply{Text: "Your note " + inv.Problem + ". " + msgIntroAskNote, Buttons: cancelIntroRow()})
			break
		}
		t.conv.Awaiting, t.conv.Draft = awaitIntroContact+id, t.msg.Text
		t.reply(Reply{Text: msgIntroAskContact, Buttons: cancelIntroRow()})
	case strings.HasPrefix(waiting, awaitIntroContact):
		err = s.requestIntro(ctx, t, strings.TrimPrefix(waiting, awaitIntroContact))
	default:
		t.conv.Awaiting, t.conv.Draft = "", ""
		return false, nil
	}
	if v.Level == safety.LevelCaution && err == nil && len(t.res.Replies) > 0 {
		if r, ok := s.engineFor(t).Safety().Reply(v.Kind); ok {
			first := &t.res.Replies[0]
			first.Text = r.Line + "\n\n" + first.Text
			first.Buttons = append([][]Button{{{Label: labelHuman, Action: ActionHuman}}}, first.Buttons...)
		}
	}
	return true, err
}
