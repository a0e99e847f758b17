package support

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Event names. The first five are the webhook events of the design; a
// reopen is told only to the relay, so that the bot can tell the person.
const (
	EventCreated         = "escalation.created"
	EventClaimed         = "escalation.claimed"
	EventReplied         = "escalation.replied"
	EventResolved        = "escalation.resolved"
	EventMessageReceived = "message.received"
	EventReopened        = "escalation.reopened"
)

// WebhookEvents lists the events sent to outbound webhooks, in the design's
// order.
var WebhookEvents = []string{EventCreated, EventClaimed, EventReplied, EventResolved, EventMessageReceived}

// Event is one change to an escalation, or to a PA network listing
// (ListingEventPrefix), as told to a target.
type Event struct {
	Name       string    `json:"event"`
	DeliveryID string    `json:"delivery_id"`
	At         time.Time `json:"at"`
	// By is the member of staff who acted, ByPerson, or BySystem (for a
	// listing event: staff, "owner" or "askpa").
	By string `json:"by"`
	// Escalation is the escalation an escalation event is about; zero,
	// and left out of the JSON, in a listing event.
	Escalation Escalation `json:"escalation,omitzero"`
	// Message is the message a replied or message.received event is about.
	Message *Message `json:"message,omitempty"`
	// Listing is the listing a listing or introduction event is about, as encoded by the
	// store that recorded the change (directory.SharedListing: no contact
	// details); nil, and left out, in an escalation event.
	Listing json.RawMessage `json:"listing,omitempty"`
	// Introduction is the introduction an introduction event is about, as
	// encoded by the store that recorded the change
	// (directory.SharedIntroduction: no employer, note or contact
	// details); nil, and left out, in every other event.
	Introduction json.RawMessage `json:"introduction,omitempty"`
}

// The state machine. Every change an escalation can go through is one of the
// functions below; each checks the move is legal, changes e, records the
// audit entry and returns the events to tell. Nothing else changes an
// escalation's status.

// open builds a new escalation from n.
func open(id string, n NewEscalation, now time.Time) (Escalation, []Event) {
	p := n.Priority
	if p == "" {
		p = PriorityNormal
	}
	e := Escalation{
		ID:             id,
		Status:         StatusOpen,
		Priority:       p,
		Reason:         n.Reason,
		ConversationID: n.ConversationID,
		Address:        n.Address,
		Audience:       n.Audience,
		CreatedAt:      now,
		UpdatedAt:      now,
		Summary:        n.Summary,
		Area:           n.Area,
		Safety:         n.Safety,
		Audit:          []Action{{Who: ByPerson, What: "escalated (" + reasonOr(n.Reason) + ")", At: now}},
	}
	for _, m := range n.Messages {
		m.Seq = len(e.Messages) + 1
		if m.At.IsZero() {
			m.At = now
		}
		m.Delivery, m.DeliveryError = "", ""
		e.Messages = append(e.Messages, m)
	}
	return e, []Event{event(EventCreated, ByPerson, e, nil, now)}
}

func reasonOr(r string) string {
	if r == "" {
		return "no reason given"
	}
	return r
}

// claim gives e to who. Claiming one's own escalation again changes nothing.
func claim(e *Escalation, who string, now time.Time) ([]Event, error) {
	switch {
	case e.Status == StatusResolved:
		return nil, fmt.Errorf("claim %s: %w", e.ID, ErrResolved)
	case e.Status == StatusClaimed && e.ClaimedBy == who:
		return nil, nil
	case e.Status == StatusClaimed:
		return nil, fmt.Errorf("claim %s: %w", e.ID, ErrConflict)
	}
	e.Status, e.ClaimedBy = StatusClaimed, who
	touch(e, who, "claimed", now)
	return []Event{event(EventClaimed, who, *e, nil, now)}, nil
}

// reply adds a staff message by who. Replying to an open escalation claims
// it first; replying to one held by someone else is a conflict.
func reply(e *Escalation, who, text string, now time.Time) ([]Event, error) {
	if e.Status == StatusResolved {
		return nil, fmt.Errorf("reply to %s: %w", e.ID, ErrResolved)
	}
	evs, err := claim(e, who, now)
	if err != nil {
		return nil, fmt.Errorf("reply to %s: %w", e.ID, unwrapMove(err))
	}
	m := Message{Seq: len(e.Messages) + 1, From: FromStaff, Text: text, At: now, Author: who, Delivery: DeliveryPending}
	e.Messages = append(e.Messages, m)
	touch(e, who, fmt.Sprintf("replied (message %d)", m.Seq), now)
	return append(evs, event(EventReplied, who, *e, &m, now)), nil
}

// helpdeskReply adds a staff message by author that a helpdesk sent. The
// helpdesk is a trusted integration, so its reply is taken whoever holds
// the escalation in askpa: a claim by a colleague stays as it is (the
// audit entry says who held it), and an open escalation is claimed by
// author, as a reply through the API claims it. Only a resolved
// escalation refuses it.
func helpdeskReply(e *Escalation, author, text string, now time.Time) ([]Event, error) {
	if e.Status == StatusResolved {
		return nil, fmt.Errorf("helpdesk reply to %s: %w", e.ID, ErrResolved)
	}
	var evs []Event
	if e.Status == StatusOpen {
		claimed, err := claim(e, author, now)
		if err != nil {
			return nil, fmt.Errorf("helpdesk reply to %s: %w", e.ID, unwrapMove(err))
		}
		evs = claimed
	}
	m := Message{Seq: len(e.Messages) + 1, From: FromStaff, Text: text, At: now, Author: author, Via: ViaHelpdesk, Delivery: DeliveryPending}
	e.Messages = append(e.Messages, m)
	what := fmt.Sprintf("replied through the helpdesk (message %d)", m.Seq)
	if e.ClaimedBy != author {
		what += ", while " + e.ClaimedBy + " holds the claim"
	}
	touch(e, author, what, now)
	return append(evs, event(EventReplied, author, *e, &m, now)), nil
}

// resolve closes e on behalf of who.
func resolve(e *Escalation, who string, now time.Time) ([]Event, error) {
	switch {
	case e.Status == StatusResolved:
		return nil, fmt.Errorf("resolve %s: %w", e.ID, ErrResolved)
	case e.Status == StatusClaimed && e.ClaimedBy != who:
		return nil, fmt.Errorf("resolve %s: %w", e.ID, ErrConflict)
	}
	e.Status = StatusResolved
	touch(e, who, "resolved", now)
	return []Event{event(EventResolved, who, *e, nil, now)}, nil
}

// reopen puts a resolved escalation back in the queue, unclaimed.
func reopen(e *Escalation, who string, now time.Time) ([]Event, error) {
	if e.Status != StatusResolved {
		return nil, fmt.Errorf("reopen %s: %w", e.ID, ErrNotResolved)
	}
	e.Status, e.ClaimedBy = StatusOpen, ""
	touch(e, who, "reopened", now)
	return []Event{event(EventReopened, who, *e, nil, now)}, nil
}

// personWrote adds a message from the person while the escalation is open or
// claimed.
func personWrote(e *Escalation, text string, at time.Time) ([]Event, error) {
	if e.Status == StatusResolved {
		return nil, fmt.Errorf("message for %s: %w", e.ID, ErrResolved)
	}
	m := Message{Seq: len(e.Messages) + 1, From: FromUser, Text: text, At: at}
	e.Messages = append(e.Messages, m)
	e.UpdatedAt = at
	return []Event{event(EventMessageReceived, ByPerson, *e, &m, at)}, nil
}

// botWrote adds to e what the bot told the person while the escalation
// was open (ms, From and Seq set here), so that staff see the conversation
// as the person saw it. Nothing is told: it answers the person's message,
// which was. It returns ErrResolved once e is closed.
func botWrote(e *Escalation, ms []Message, at time.Time) error {
	if e.Status == StatusResolved {
		return fmt.Errorf("bot message for %s: %w", e.ID, ErrResolved)
	}
	for _, m := range ms {
		m.Seq, m.From, m.At = len(e.Messages)+1, FromBot, at
		e.Messages = append(e.Messages, m)
	}
	e.UpdatedAt = at
	return nil
}

// withdraw resolves e because the person cancelled. Withdrawing a resolved
// escalation changes nothing.
func withdraw(e *Escalation, note string, now time.Time) []Event {
	if e.Status == StatusResolved {
		return nil
	}
	e.Status = StatusResolved
	what := "resolved: withdrawn by the person"
	if note != "" {
		what += " (" + note + ")"
	}
	touch(e, ByPerson, what, now)
	return []Event{event(EventResolved, ByPerson, *e, nil, now)}
}

// erase replaces the text the person wrote (their messages and the
// summary, which quotes their last question) with ErasedText, and
// withdraws e if it is still open or claimed, so that staff keep the audit
// trail without the content. It returns the events to tell (a resolution
// by the person, which the relay does not pass back to the bot) and how
// many messages it erased. Erasing an erased escalation changes nothing.
func erase(e *Escalation, now time.Time) ([]Event, int) {
	n := eraseText(e)
	summary := e.Summary != "" && e.Summary != ErasedText
	if n == 0 && !summary && e.Status == StatusResolved {
		return nil, 0
	}
	if summary {
		e.Summary = ErasedText
	}
	if e.Status != StatusResolved {
		return withdraw(e, "the person's messages were erased at their request", now), n
	}
	touch(e, ByPerson, "the person's messages were erased at their request", now)
	return nil, n
}

// labelSafety records the verdict of who, a member of staff, on e's safety
// assessment, replacing any earlier one; the caller has checked kind and
// note. It works in every state and tells no one: a label changes nothing
// the person or a helpdesk sees.
func labelSafety(e *Escalation, who string, correct bool, kind, note string, now time.Time) ([]Event, error) {
	a := e.Safety
	switch {
	case a == nil:
		return nil, invalid("safety", "is missing: this escalation was not started by the safety layer")
	case correct && kind != "" && kind != a.Kind:
		return nil, invalid("kind", fmt.Sprintf("must be empty or %q, the assessment's kind, when the verdict is right", a.Kind))
	case correct && !safetyKinds[a.Kind]:
		return nil, invalid("correct", fmt.Sprintf("cannot be true: the assessment's kind %q is not a safety kind; mark it wrong with the kind it really was", a.Kind))
	case !correct && kind == a.Kind:
		return nil, invalid("kind", "must be what the conversation really was, not the kind the safety layer saw, when the verdict is wrong")
	}
	what := "safety verdict marked right"
	if correct {
		kind = a.Kind
	} else {
		what = "safety verdict marked wrong: " + kind
	}
	a.Label = &SafetyLabel{Correct: correct, Kind: kind, By: who, At: now, Note: note}
	touch(e, who, what, now)
	return nil, nil
}

// delivered records the outcome of delivering staff message seq to the
// person. It tells no one.
func delivered(e *Escalation, seq int, err error, now time.Time) {
	if seq < 1 || seq > len(e.Messages) {
		return
	}
	m := &e.Messages[seq-1]
	if err == nil {
		m.Delivery, m.DeliveryError = DeliveryDelivered, ""
		e.Audit = append(e.Audit, Action{Who: BySystem, What: fmt.Sprintf("message %d delivered to the person", seq), At: now})
		return
	}
	m.Delivery, m.DeliveryError = DeliveryFailed, err.Error()
	e.Audit = append(e.Audit, Action{Who: BySystem, What: fmt.Sprintf("message %d could not be delivered: %v", seq, err), At: now})
}

func touch(e *Escalation, who, what string, now time.Time) {
	e.UpdatedAt = now
	e.Audit = append(e.Audit, Action{Who: who, What: what, At: now})
}

func event(name, by string, e Escalation, m *Message, now time.Time) Event {
	// The snapshot must not share the slices that later changes append to.
	e.Messages = append([]Message(nil), e.Messages...)
	e.Audit = append([]Action(nil), e.Audit...)
	return Event{Name: name, At: now, By: by, Escalation: e, Message: m}
}

// unwrapMove returns the sentinel inside a state machine error, so that an
// outer operation can wrap it with its own name.
func unwrapMove(err error) error {
	for _, s := range []error{ErrResolved, ErrConflict, ErrNotResolved} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}
