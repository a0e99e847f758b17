package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/askpa/askpa/knowledge"
)

// Areas: a deployment may answer for several councils, each with its own
// local pack (its numbers, its support service, its own documents). A
// person picks their area once, after saying whether they employ a PA or
// are one, by postcode district or council name, and can change it with
// /area; it is kept with their conversation, and their answers, safety
// scripts and hand-overs use that area's pack. Until they pick one, the
// national wording is used.

// AreaEngine is one area a Service answers for: the local pack's council
// and the engine answering with that pack's content and details.
type AreaEngine struct {
	Area   *knowledge.Area
	Engine *Engine
}

// maxAreaButtons bounds the areas offered as buttons; with more, people
// type their postcode district or council.
const maxAreaButtons = 8

// engineFor returns the engine for the conversation's area: the area's own
// when the person has picked one the service answers for, the service's
// Engine otherwise.
func (s *Service) engineFor(t *turn) *Engine {
	if a := s.area(t.conv.Area); a != nil {
		return a.Engine
	}
	return s.engine
}

// area returns the AreaEngine with id, or nil.
func (s *Service) area(id string) *AreaEngine {
	if id == "" {
		return nil
	}
	for i := range s.cfg.Areas {
		if s.cfg.Areas[i].Area.ID == id {
			return &s.cfg.Areas[i]
		}
	}
	return nil
}

// pickArea returns the area text names (an id, a council's name, a
// postcode or district it covers; see knowledge.PickArea), or nil.
func (s *Service) pickArea(text string) *AreaEngine {
	areas := make([]*knowledge.Area, len(s.cfg.Areas))
	for i := range s.cfg.Areas {
		areas[i] = s.cfg.Areas[i].Area
	}
	if a := knowledge.PickArea(areas, text); a != nil {
		return s.area(a.ID)
	}
	return nil
}

// chooseArea handles "/area": with a district or a council's name it sets
// the person's area; without, it asks, with a button for each area.
func (s *Service) chooseArea(_ context.Context, t *turn, text string) error {
	if len(s.cfg.Areas) == 0 {
		t.reply(Reply{Text: msgOneArea})
		return nil
	}
	if strings.TrimSpace(text) == "" {
		t.conv.Awaiting = awaitAreaChoice
		t.reply(s.areaQuestion(t))
		return nil
	}
	a := s.pickArea(text)
	if a == nil {
		t.conv.Awaiting = awaitAreaChoice
		r := s.areaQuestion(t)
		r.Text = fmt.Sprintf(msgAreaUnknown, strings.TrimSpace(text)) + "\n\n" + r.Text
		t.reply(r)
		return nil
	}
	s.setArea(t, a)
	return nil
}

// setArea keeps a as the person's area and says so.
func (s *Service) setArea(t *turn, a *AreaEngine) {
	t.conv.Area, t.conv.Awaiting = a.Area.ID, ""
	t.reply(Reply{Text: fmt.Sprintf(msgAreaSet, a.Area.Name)})
}

// areaQuestion asks which area the person lives in, with their current
// one named and a button for each area (when there are few enough).
func (s *Service) areaQuestion(t *turn) Reply {
	text := msgAreaAsk
	if a := s.area(t.conv.Area); a != nil {
		text = fmt.Sprintf(msgAreaNow, a.Area.Name) + " " + text
	}
	r := Reply{Text: text}
	if len(s.cfg.Areas) <= maxAreaButtons {
		var row []Button
		for _, a := range s.cfg.Areas {
			row = append(row, Button{Label: buttonLabel(a.Area.Name), Action: ActionArea + a.Area.ID})
			if len(row) == 2 {
				r.Buttons, row = append(r.Buttons, row), nil
			}
		}
		if len(row) > 0 {
			r.Buttons = append(r.Buttons, row)
		}
	}
	r.Buttons = append(r.Buttons, []Button{{Label: labelNotListed, Action: ActionArea}})
	return r
}

// areaAction handles a pressed area button: an area's id, or none ("my
// council is not listed"), which keeps the national wording.
func (s *Service) areaAction(t *turn, id string) {
	if a := s.area(id); a != nil {
		s.setArea(t, a)
		return
	}
	t.conv.Area, t.conv.Awaiting = "", ""
	t.reply(Reply{Text: msgAreaNone})
}

// askAreaAfterAudience adds the area question after someone said who they
// are, when the service answers for several areas and they have not
// picked one.
func (s *Service) askAreaAfterAudience(t *turn) {
	if len(s.cfg.Areas) == 0 || s.area(t.conv.Area) != nil {
		return
	}
	t.conv.Awaiting = awaitAreaChoice
	t.reply(s.areaQuestion(t))
}

// supportOpenFor and noDeskFor are the hand-over's words for the
// person's area: the service's own (worked out once) unless they picked
// an area of their own.
func (s *Service) supportOpenFor(t *turn) string {
	if a := s.area(t.conv.Area); a != nil {
		return supportOpen(a.Area)
	}
	return s.supportOpen
}

func (s *Service) noDeskFor(t *turn) string {
	if a := s.area(t.conv.Area); a != nil {
		return a.Area.Expand(msgNoDesk)
	}
	return s.noDesk
}

// ErrUnknownArea reports a Message.Area the service does not answer for.
var ErrUnknownArea = errors.New("bot: no local area with that id")

// messageArea applies m.Area, when set, to the conversation: the area of
// that id becomes the person's. The area of a service with one pack is
// accepted and changes nothing. It returns ErrUnknownArea otherwise.
func (s *Service) messageArea(t *turn) error {
	id := t.msg.Area
	if id == "" {
		return nil
	}
	if a := s.area(id); a != nil {
		t.conv.Area = a.Area.ID
		return nil
	}
	if a := s.engine.Area(); a != nil && a.ID == id && len(s.cfg.Areas) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %q", ErrUnknownArea, id)
}
