// Package support is askpa's human side: escalations handed over by the bot,
// their states (open, claimed, resolved), the audit trail of who did what,
// the Desk service that the bot and the staff API call, and the durable
// outbox that carries every change to signed webhooks and back to the
// person's own channel.
//
// The package imports no channel, no SQL driver and no HTTP framework: the
// bot reaches it through Desk and is reached through Relay; stores live in
// sqlite and postgres; the HTTP edge is httpapi.
package support

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors returned by the Desk and by Store implementations. They are wrapped
// with %w; callers test them with errors.Is.
var (
	// ErrNotFound reports an unknown escalation.
	ErrNotFound = errors.New("escalation not found")
	// ErrConflict reports a move that clashes with the escalation's state:
	// it is claimed by someone else, or it is not resolved and so cannot be
	// reopened.
	ErrConflict = errors.New("escalation is held by someone else")
	// ErrResolved reports an action on a resolved escalation other than
	// reopening it.
	ErrResolved = errors.New("escalation is resolved")
	// ErrNotResolved reports a reopen of an escalation that is still open or
	// claimed.
	ErrNotResolved = errors.New("escalation is not resolved")
	// ErrInvalid reports input that breaks a rule (an empty reply, an unknown
	// priority); the wrapping message names the field.
	ErrInvalid = errors.New("invalid")
	// ErrDuplicate reports a change carrying an idempotency key that has
	// already been applied (an inbound helpdesk delivery seen before).
	ErrDuplicate = errors.New("already applied")
)

// Status is where an escalation is in its life.
type Status string

// The states of an escalation: open (waiting for staff), claimed (a member
// of staff owns it) and resolved (closed; it may be reopened).
const (
	StatusOpen     Status = "open"
	StatusClaimed  Status = "claimed"
	StatusResolved Status = "resolved"
)

// Valid reports whether s is open, claimed or resolved.
func (s Status) Valid() bool { return s == StatusOpen || s == StatusClaimed || s == StatusResolved }

// Priority orders the queue: urgent escalations (crisis, safeguarding) come
// before normal ones.
type Priority string

// The priorities.
const (
	PriorityUrgent Priority = "urgent"
	PriorityNormal Priority = "normal"
)

// Valid reports whether p is urgent or normal.
func (p Priority) Valid() bool { return p == PriorityUrgent || p == PriorityNormal }

// Rank returns p's place in the queue: 0 for urgent, 1 for normal.
func (p Priority) Rank() int {
	if p == PriorityUrgent {
		return 0
	}
	return 1
}

// Address says where a person is and where replies to them go: the bot's
// conversations and the escalations handed over from them share it (it is
// bot.Address), so that staff replies reach the person on their own
// channel.
type Address struct {
	Channel string `json:"channel"` // telegram, slack or web
	// UserID identifies the person on the channel (Telegram user id, Slack
	// user id, web user id). A conversation belongs to one person on one
	// channel.
	UserID string `json:"user_id"`
	// ChatID is where replies are posted: the Telegram chat, the Slack
	// conversation (DM or channel). For the web channel it equals UserID.
	ChatID string `json:"chat_id"`
	// ThreadID is the Slack thread to answer in, when there is one.
	ThreadID string `json:"thread_id,omitempty"`
	// Team is the Slack workspace, when known.
	Team string `json:"team,omitempty"`
}

// Key returns the identity of the person's conversation: channel and user.
func (a Address) Key() string { return a.Channel + ":" + a.UserID }

// Who wrote a message.
const (
	FromUser  = "user"
	FromBot   = "bot"
	FromStaff = "staff"
)

// DeliveryStatus is how far a delivery has got: a staff reply on its way to
// the person, or an outbox row on its way to a target.
type DeliveryStatus string

// Delivery states.
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Message is one turn of the conversation an escalation carries.
type Message struct {
	// Seq numbers the escalation's messages 1, 2, ... in order.
	Seq  int       `json:"seq"`
	From string    `json:"from"` // user, bot or staff
	Text string    `json:"text"`
	At   time.Time `json:"at"`
	// Author is the member of staff who wrote a staff message.
	Author string `json:"author,omitempty"`
	// Via says how a staff message came in when it did not come through
	// askpa itself: ViaHelpdesk for a reply a helpdesk sent to POST
	// /webhooks/support. Empty for the staff API, the console and Slack.
	Via string `json:"via,omitempty"`
	// Delivery says whether a staff message has reached the person; empty
	// for messages from the person or the bot. DeliveryError gives the
	// reason when it failed.
	Delivery      DeliveryStatus `json:"delivery,omitempty"`
	DeliveryError string         `json:"delivery_error,omitempty"`
	// Sources are the guides a bot message's answer came from, as the
	// person was shown them; none for other messages (and for bot
	// messages of escalations made before sources were kept).
	Sources []Source `json:"sources,omitempty"`
}

// Source is a guide in the knowledge base that a bot message drew on: its
// id, its title and where it can be read (empty when it has no page).
type Source struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	URL   string `json:"url,omitempty"`
}

// ViaHelpdesk is the Via of a staff message that a helpdesk sent.
const ViaHelpdesk = "helpdesk"

// Action is one entry of the audit trail: who did what, and when.
type Action struct {
	Who  string    `json:"who"`
	What string    `json:"what"`
	At   time.Time `json:"at"`
	// Note is the text of an internal note (What is NoteAction): written by
	// staff for staff, never sent to the person.
	Note string `json:"note,omitempty"`
}

// Who did an action that no member of staff did.
const (
	ByPerson = "person" // the person who was handed over
	BySystem = "askpa"  // the service itself (deliveries)
)

// Escalation is a conversation handed to support staff.
type Escalation struct {
	ID             string    `json:"id"`
	Status         Status    `json:"status"`
	Priority       Priority  `json:"priority"`
	Reason         string    `json:"reason"`
	ConversationID string    `json:"conversation_id"`
	Address        Address   `json:"address"`
	Audience       string    `json:"audience"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	ClaimedBy      string    `json:"claimed_by"`
	Summary        string    `json:"summary"`
	// Area is the local area (a local pack's id) the person picked, so
	// staff know whose numbers and services apply; empty when none.
	Area string `json:"area,omitempty"`
	// Safety is what the bot's safety layer made of the conversation when
	// it handed over, with staff's verdict on it; nil for an escalation the
	// safety layer did not start (a request, a dispute, repeated misses).
	Safety   *SafetyAssessment `json:"safety,omitempty"`
	Messages []Message         `json:"messages"`
	Audit    []Action          `json:"audit"`
}

// SafetyAssessment is the safety layer's verdict on the conversation an
// escalation carries, and staff's label of it.
type SafetyAssessment struct {
	// Kind is the kind the safety layer saw ("suicidal",
	// "financial-abuse"...), Level "urgent" or "caution", Probability how
	// sure it was, By which layer decided ("model", "rule",
	// "conversation").
	Kind        string  `json:"kind"`
	Level       string  `json:"level"`
	Probability float64 `json:"probability"`
	By          string  `json:"by"`
	// Label is staff's verdict, once given.
	Label *SafetyLabel `json:"label,omitempty"`
}

// SafetyLabel is a member of staff's verdict on a safety assessment: right,
// or wrong and what the conversation really was. Labels are exported for
// the next training run of the safety classifier.
type SafetyLabel struct {
	Correct bool `json:"correct"`
	// Kind is what the conversation really was: the assessment's kind when
	// Correct, otherwise another kind ("ordinary" when it was nothing of
	// concern).
	Kind string    `json:"kind"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	Note string    `json:"note,omitempty"`
}

// safetyKinds are the kinds of the bot's safety layer (bot/safety.Kinds,
// which support does not import): the kinds a SafetyLabel may name.
var safetyKinds = map[string]bool{
	"suicidal": true, "medical": true,
	"abuse": true, "domestic-abuse": true, "neglect": true, "financial-abuse": true,
	"pa-harmed": true, "exploitation": true, "medicines": true,
	"requested": true, "dispute": true, "situation": true, "offtopic": true, "ordinary": true,
}

// MaxLabelNoteLen limits the note staff may add to a safety label, in bytes.
const MaxLabelNoteLen = 500

// MarshalJSON writes e in the form of the design's contract: the fields
// above plus "channel", the person's channel.
func (e Escalation) MarshalJSON() ([]byte, error) {
	type plain Escalation
	p := plain(e)
	if p.Messages == nil {
		p.Messages = []Message{}
	}
	if p.Audit == nil {
		p.Audit = []Action{}
	}
	return json.Marshal(struct {
		plain
		Channel string `json:"channel"`
	}{p, e.Address.Channel})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Escalation) UnmarshalJSON(b []byte) error {
	type plain Escalation
	return json.Unmarshal(b, (*plain)(e))
}

// NewEscalation is what the bot knows when it hands a conversation over.
type NewEscalation struct {
	ConversationID string
	Address        Address
	Audience       string
	Reason         string
	Priority       Priority
	Summary        string
	// Area is the local area the person picked, if any (see Escalation.Area).
	Area string
	// Safety is the safety layer's verdict, when it started the hand-over.
	Safety *SafetyAssessment
	// Messages is the conversation so far, oldest first; Seq is assigned by
	// the desk.
	Messages []Message
	// Key, when set, makes escalating idempotent: a second Escalate with
	// the same Key returns the escalation the first made (the bot uses the
	// platform's id of the message that asked, so that a message handled
	// again after a crash is not handed over twice).
	Key string
}

// Limits on what an escalation holds, so that one request cannot fill the
// store.
const (
	MaxTextLen     = 4000 // bytes of one message
	MaxSummaryLen  = 2000 // bytes of the summary
	MaxNameLen     = 100  // bytes of a staff name
	MaxHistoryLen  = 200  // messages carried over at escalation
	MaxSources     = 10   // sources of one bot message
	maxReasonBytes = 64
)

// validate checks n and returns an ErrInvalid naming the first bad field.
func (n NewEscalation) validate() error {
	switch {
	case n.Address.Channel == "":
		return invalid("address.channel", "is required")
	case n.Address.UserID == "":
		return invalid("address.user_id", "is required")
	case n.Priority != "" && !n.Priority.Valid():
		return invalid("priority", "must be urgent or normal")
	case len(n.Reason) > maxReasonBytes:
		return invalid("reason", "is too long")
	case len(n.Summary) > MaxSummaryLen:
		return invalid("summary", "is too long")
	case len(n.Messages) > MaxHistoryLen:
		return invalid("messages", "are too many")
	}
	for i, m := range n.Messages {
		if m.From != FromUser && m.From != FromBot && m.From != FromStaff {
			return invalid(fmt.Sprintf("messages[%d].from", i), "must be user, bot or staff")
		}
		switch {
		case len(m.Sources) > 0 && m.From != FromBot:
			return invalid(fmt.Sprintf("messages[%d].sources", i), "are for bot messages only")
		case len(m.Sources) > MaxSources:
			return invalid(fmt.Sprintf("messages[%d].sources", i), "are too many")
		}
	}
	return nil
}

// InvalidError is the ErrInvalid the desk returns: it names the field at
// fault and says what is wrong with it, in words fit to show a user.
type InvalidError struct {
	Field   string // as in the JSON API: "text", "priority", "cursor"
	Problem string // "must not be empty"
}

func (e *InvalidError) Error() string { return "invalid " + e.Field + ": " + e.Problem }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// invalid returns an *InvalidError naming field.
func invalid(field, problem string) error {
	return &InvalidError{Field: field, Problem: problem}
}

// CleanText returns s fit to keep: invalid UTF-8 replaced with U+FFFD and
// NUL characters removed (PostgreSQL refuses them in text, and a message
// refused is a message lost). Everything that enters askpa's stores as
// text from outside goes through it first.
func CleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// checkText validates the text of a message from staff or the person.
func checkText(field, text string) error {
	switch {
	case strings.TrimSpace(text) == "":
		return invalid(field, "must not be empty")
	case len(text) > MaxTextLen:
		return invalid(field, fmt.Sprintf("is longer than %d bytes", MaxTextLen))
	}
	return nil
}

// checkStaff validates the name of a member of staff.
func checkStaff(who string) error {
	switch {
	case strings.TrimSpace(who) == "":
		return invalid("staff", "name is required")
	case len(who) > MaxNameLen:
		return invalid("staff", "name is too long")
	}
	return nil
}
