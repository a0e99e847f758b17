package support

import (
	"context"
	"time"
)

// NoteAction is the What of an audit entry that carries an internal note.
const NoteAction = "internal note"

// Note adds an internal note by staff to escalation id: an audit entry
// (What NoteAction, the text in Note) that other staff see and the person
// never does. It works on open, claimed and resolved escalations, whoever
// holds them, and tells no target: no webhook, no Slack message, nothing
// relayed to the person. It returns ErrInvalid for empty or oversized text
// (naming the field "text") or a bad staff name, ErrNotFound for an
// unknown id.
func (d *Desk) Note(ctx context.Context, id, staff, text string) (Escalation, error) {
	staff, text = CleanText(staff), CleanText(text)
	if err := checkStaff(staff); err != nil {
		return Escalation{}, err
	}
	if err := checkText("text", text); err != nil {
		return Escalation{}, err
	}
	now := d.now().UTC()
	return d.change(ctx, id, "", "noted", staff, func(e *Escalation) ([]Event, error) {
		return note(e, staff, text, now), nil
	})
}

// note records an internal note by who. It tells no one.
func note(e *Escalation, who, text string, now time.Time) []Event {
	e.UpdatedAt = now
	e.Audit = append(e.Audit, Action{Who: who, What: NoteAction, At: now, Note: text})
	return nil
}

// WithoutNotes returns e with the text of its internal notes taken out of
// the audit trail (the entries stay, saying a note was made), for anything
// that talks to the person. e itself is not changed.
func WithoutNotes(e Escalation) Escalation {
	for i, a := range e.Audit {
		if a.Note == "" {
			continue
		}
		audit := make([]Action, len(e.Audit))
		copy(audit, e.Audit)
		for j := i; j < len(audit); j++ {
			audit[j].Note = ""
		}
		e.Audit = audit
		return e
	}
	return e
}
