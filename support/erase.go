package support

import (
	"context"
	"fmt"
	"log/slog"
)

// ErasedText stands in an escalation for each message of the person's
// erased at their request (and for the summary, which quotes them).
const ErasedText = "[erased at the person's request]"

// Erasure counts what ErasePerson did.
type Erasure struct {
	// Escalations is how many escalations the person has, erased before
	// or now.
	Escalations int `json:"escalations"`
	// Messages is how many of the person's messages were erased now.
	Messages int `json:"escalation_messages_erased"`
	// Withdrawn is how many open or claimed escalations were withdrawn.
	Withdrawn int `json:"escalations_withdrawn"`
	// Deliveries is how many outbox rows had the person's text taken out
	// of the copy of the escalation they carry.
	Deliveries int `json:"deliveries_rewritten"`
}

// EscalationsOf returns every escalation of the person at channel with
// userID, oldest first, whatever its status (for a subject access
// request).
func (d *Desk) EscalationsOf(ctx context.Context, channel, userID string) ([]Escalation, error) {
	es, err := d.store.EscalationsOf(ctx, channel, userID)
	if err != nil {
		return nil, fmt.Errorf("escalations of a person: %w", err)
	}
	return es, nil
}

// ErasePerson erases, from every escalation of the person at channel with
// userID, the text they wrote: each of their messages becomes ErasedText,
// and so does the summary; an escalation still open or claimed is
// withdrawn (resolved by the person, told to the webhooks as
// escalation.resolved, not to the bot). Staff keep the rest: the audit
// trail, with a line saying the messages were erased, their own replies,
// the bot's answers and the safety assessment. The copies of the
// escalation in its outbox rows are erased too. It is idempotent: a second
// call finds the escalations and changes nothing. It stops at the first
// store error and returns what it did until then.
func (d *Desk) ErasePerson(ctx context.Context, channel, userID string) (Erasure, error) {
	es, err := d.store.EscalationsOf(ctx, channel, userID)
	if err != nil {
		return Erasure{}, fmt.Errorf("erase: %w", err)
	}
	er := Erasure{Escalations: len(es)}
	for _, e := range es {
		if needsErasure(e) {
			now := d.now().UTC()
			var n int
			var withdrawn bool
			_, err := d.change(ctx, e.ID, "", "erased", "", func(e *Escalation) ([]Event, error) {
				was := e.Status
				evs, k := erase(e, now)
				n, withdrawn = k, was != StatusResolved && e.Status == StatusResolved
				return evs, nil
			})
			if err != nil {
				return er, fmt.Errorf("erase %s: %w", e.ID, err)
			}
			er.Messages += n
			if withdrawn {
				er.Withdrawn++
			}
		}
		k, err := d.store.RewriteDeliveries(ctx, e.ID, func(ev *Event) bool {
			changed := eraseText(&ev.Escalation) > 0
			if s := ev.Escalation.Summary; s != "" && s != ErasedText {
				ev.Escalation.Summary, changed = ErasedText, true
			}
			if m := ev.Message; m != nil && m.From == FromUser && m.Text != ErasedText {
				m.Text, changed = ErasedText, true
			}
			return changed
		})
		if err != nil {
			return er, fmt.Errorf("erase %s: deliveries: %w", e.ID, err)
		}
		er.Deliveries += k
	}
	d.log.LogAttrs(ctx, slog.LevelInfo, "person's escalations erased", slog.Int("escalations", er.Escalations),
		slog.Int("messages", er.Messages), slog.Int("withdrawn", er.Withdrawn), slog.Int("deliveries", er.Deliveries))
	return er, nil
}

// needsErasure reports whether e still holds text of the person's or is
// still open.
func needsErasure(e Escalation) bool {
	if e.Status != StatusResolved || (e.Summary != "" && e.Summary != ErasedText) {
		return true
	}
	for _, m := range e.Messages {
		if m.From == FromUser && m.Text != ErasedText {
			return true
		}
	}
	return false
}

// eraseText replaces the text of the person's messages in e with
// ErasedText and returns how many it changed.
func eraseText(e *Escalation) int {
	n := 0
	for i := range e.Messages {
		if m := &e.Messages[i]; m.From == FromUser && m.Text != ErasedText {
			m.Text = ErasedText
			n++
		}
	}
	return n
}

// erased reports whether e's person had their messages erased.
func erased(e Escalation) bool {
	for _, m := range e.Messages {
		if m.From == FromUser && m.Text == ErasedText {
			return true
		}
	}
	return false
}
