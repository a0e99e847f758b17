package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/knowledge"
	"github.com/askpa/askpa/support"
)

// Person is someone askpa may hold data about: one user on one channel.
// Their conversation is the one whose Address.Key() is Person.Key().
type Person struct {
	Channel string `json:"channel"` // telegram, slack or web
	UserID  string `json:"user"`
}

// PersonOf returns the person at addr.
func PersonOf(addr Address) Person { return Person{Channel: addr.Channel, UserID: addr.UserID} }

// OwnsListing reports whether owner, a PA network listing's Owner, is p:
// listings are owned on Slack as "slack:TEAM:USER".
func (p Person) OwnsListing(owner string) bool {
	rest, ok := strings.CutPrefix(owner, p.Channel+":")
	if !ok || p.Channel != ChannelSlack {
		return false
	}
	_, user, ok := strings.Cut(rest, ":")
	return ok && user == p.UserID
}

// Key returns the key of the person's conversation (Address.Key).
func (p Person) Key() string { return Address{Channel: p.Channel, UserID: p.UserID}.Key() }

// ErrInvalidPerson reports a Person that names no channel askpa serves or
// no usable user id; the wrapping *PersonError names the field.
var ErrInvalidPerson = errors.New("invalid person")

// PersonError is the ErrInvalidPerson Validate returns: the field at fault
// ("channel" or "user") and a sentence fit to show a member of staff.
type PersonError struct {
	Field, Problem string
}

func (e *PersonError) Error() string { return e.Problem }

// Is makes errors.Is(err, ErrInvalidPerson) true.
func (e *PersonError) Is(target error) bool { return target == ErrInvalidPerson }

// maxPersonID bounds a user id given to Forget or Export.
const maxPersonID = 256

// Validate returns a *PersonError when p's channel is not telegram, slack
// or web, or its user id is empty, longer than 256 bytes or holds control
// characters.
func (p Person) Validate() error {
	switch p.Channel {
	case ChannelTelegram, ChannelSlack, ChannelWeb:
	default:
		return &PersonError{"channel", `Channel must be "telegram", "slack" or "web".`}
	}
	if p.UserID == "" || len(p.UserID) > maxPersonID {
		return &PersonError{"user", fmt.Sprintf("User must be the person's user id on the channel (1 to %d bytes).", maxPersonID)}
	}
	for _, r := range p.UserID {
		if r < ' ' || r == 0x7f {
			return &PersonError{"user", "User must not hold control characters."}
		}
	}
	return nil
}

// IntakeKey names a conversation's deliveries in the intake (Inbound.Source
// and Inbound.Key).
type IntakeKey struct{ Source, Key string }

// IntakeKeys returns where the person's own deliveries wait in the intake:
// Telegram keys a private chat's updates by the chat id, which is the
// user's id; Slack keys a person's messages, commands and button presses
// by the conversation key. The web channel has no intake.
func (p Person) IntakeKeys() []IntakeKey {
	switch p.Channel {
	case ChannelTelegram:
		return []IntakeKey{{Source: ChannelTelegram, Key: p.UserID}}
	case ChannelSlack:
		return []IntakeKey{{Source: ChannelSlack, Key: p.Key()}}
	}
	return nil
}

// Forgotten counts what a PersonStore erased about a person.
type Forgotten struct {
	Conversations int64 // conversations deleted
	Turns         int64 // their messages, both sides
	Feedback      int64
	Questions     int64 // their events in the question log
	Mail          int64 // web mailbox messages
	WebSessions   int64
	Intake        int64 // deliveries not yet handled
	// Listings are the PA network listings the person owns (on Slack),
	// deleted with their search rows; Introductions the introduction
	// requests to those listings or made by the person.
	Listings      int64
	Introductions int64
}

// PersonData is what a PersonStore holds about a person, escalations
// aside.
type PersonData struct {
	Conversations []ConversationRecord
	Mailbox       []MailMessage
	WebSessions   []WebSessionRecord
	// Unhandled is how many of their deliveries wait in the intake.
	Unhandled int64
	// Listings are the PA network listings the person owns, contact
	// details and audit trail included; Introductions the requests made
	// to them or by the person.
	Listings      []directory.Listing
	Introductions []directory.Introduction
}

// ConversationRecord is a conversation as a person's export shows it.
type ConversationRecord struct {
	ID             string             `json:"id"`
	Address        Address            `json:"address"`
	Audience       knowledge.Audience `json:"audience"`
	AudienceChosen bool               `json:"audience_chosen"`
	Mode           Mode               `json:"mode"`
	EscalationID   string             `json:"escalation_id,omitempty"`
	LastQuestion   string             `json:"last_question,omitempty"`
	LastPassageID  string             `json:"last_passage_id,omitempty"`
	CreatedAt      time.Time          `json:"created_at"`
	UpdatedAt      time.Time          `json:"updated_at"`
	Turns          []Turn             `json:"turns"`
	Feedback       []FeedbackRecord   `json:"feedback"`
	// Questions is the conversation's part of the question log the
	// editors' gap report reads (see QuestionEvent), redacted as kept.
	Questions []QuestionRecord `json:"questions"`
}

// RecordOf returns c as an export shows it, without turns, feedback or
// questions.
func RecordOf(c Conversation) ConversationRecord {
	return ConversationRecord{ID: c.ID, Address: c.Address, Audience: c.Audience, AudienceChosen: c.AudienceChosen, Mode: c.Mode,
		EscalationID: c.EscalationID, LastQuestion: c.LastQuestion, LastPassageID: c.LastPassageID,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Turns: []Turn{}, Feedback: []FeedbackRecord{}, Questions: []QuestionRecord{}}
}

// QuestionRecord is one event of the question log, as an export shows it.
type QuestionRecord struct {
	At        time.Time `json:"at"`
	Outcome   string    `json:"outcome"`
	Reason    string    `json:"reason,omitempty"`
	PassageID string    `json:"passage_id,omitempty"`
	Text      string    `json:"text,omitempty"`
}

// FeedbackRecord is one verdict on an answer, as an export shows it.
type FeedbackRecord struct {
	PassageID string    `json:"passage_id"`
	Helpful   bool      `json:"helpful"`
	At        time.Time `json:"at"`
}

// WebSessionRecord is a web session as an export shows it: its times, never
// its token or the token's hash.
type WebSessionRecord struct {
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// PersonStore erases and exports what the bot's store holds about one
// person. sqlite and postgres implement it.
type PersonStore interface {
	// ForgetPerson deletes, in one transaction, everything the store holds
	// about p outside escalations: their conversation (by p.Key()) with its
	// turns, feedback and question log; on the web channel their mailbox and sessions;
	// their deliveries waiting in the intake (p.IntakeKeys()) that no
	// worker holds at now (one being handled is removed when it is done);
	// and their part in the PA network: the listings they own (see
	// Person.OwnsListing) with their search rows and introductions, and
	// the introductions they asked for (by p.Key()). It returns what it
	// deleted; a second call deletes nothing.
	ForgetPerson(ctx context.Context, p Person, now time.Time) (Forgotten, error)
	// PersonData returns what the store holds about p outside escalations:
	// their listings and introductions in the PA network,
	// their conversation with every turn, feedback and question, their mailbox and
	// sessions, and how many deliveries wait. Nothing held is not an error.
	PersonData(ctx context.Context, p Person) (PersonData, error)
}

// PersonDesk is what Privacy needs of the support desk; *support.Desk
// implements it.
type PersonDesk interface {
	ErasePerson(ctx context.Context, channel, userID string) (support.Erasure, error)
	EscalationsOf(ctx context.Context, channel, userID string) ([]support.Escalation, error)
}

// PrivacyConfig configures a Privacy. Store is required.
type PrivacyConfig struct {
	Store PersonStore
	// Desk erases and exports the person's escalations; nil when there is
	// no support desk (and so no escalations).
	Desk   PersonDesk
	Now    func() time.Time
	Logger *slog.Logger
}

// Privacy carries out people's rights over their data: erasure (Forget)
// and a copy (Export), across the bot's store and the support desk.
type Privacy struct {
	store PersonStore
	desk  PersonDesk
	now   func() time.Time
	log   *slog.Logger
}

// NewPrivacy returns a Privacy for cfg, or an error when Store is missing.
func NewPrivacy(cfg PrivacyConfig) (*Privacy, error) {
	if cfg.Store == nil {
		return nil, errors.New("bot: NewPrivacy needs a Store")
	}
	p := &Privacy{store: cfg.Store, desk: cfg.Desk, now: cfg.Now, log: cfg.Logger}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

// Erasure says what Forget erased.
type Erasure struct {
	Conversations int64 `json:"conversations"`
	Messages      int64 `json:"messages"`
	Feedback      int64 `json:"feedback"`
	Mailbox       int64 `json:"mailbox_messages"`
	WebSessions   int64 `json:"web_sessions"`
	Unhandled     int64 `json:"unhandled_messages"`
	Listings      int64 `json:"listings"`
	Introductions int64 `json:"introductions"`
	support.Erasure
}

// empty reports whether nothing at all was found.
func (e Erasure) empty() bool {
	return e.Conversations == 0 && e.Messages == 0 && e.Feedback == 0 && e.Mailbox == 0 && e.WebSessions == 0 &&
		e.Unhandled == 0 && e.Escalations == 0 && e.Listings == 0 && e.Introductions == 0
}

// Forget erases everything askpa holds about p: the text they wrote in
// their escalations (each withdrawn if still open; staff keep the audit
// trail without content, see support.Desk.ErasePerson), then their
// conversation, its turns and feedback, their web mailbox and sessions and
// their deliveries waiting in the intake (see PersonStore.ForgetPerson). It
// logs counts only. It returns a *PersonError for an invalid p, and
// ErrNotFound (wrapped) when nothing at all is held about p: never known,
// or erased before with no escalation to show for it. Repeating it is
// safe.
func (pv *Privacy) Forget(ctx context.Context, p Person) (Erasure, error) {
	if err := p.Validate(); err != nil {
		return Erasure{}, err
	}
	var er Erasure
	if pv.desk != nil {
		se, err := pv.desk.ErasePerson(ctx, p.Channel, p.UserID)
		if err != nil {
			return Erasure{}, fmt.Errorf("bot: forget: %w", err)
		}
		er.Erasure = se
	}
	f, err := pv.store.ForgetPerson(ctx, p, pv.now())
	if err != nil {
		return Erasure{}, fmt.Errorf("bot: forget: %w", err)
	}
	er.Conversations, er.Messages, er.Feedback = f.Conversations, f.Turns, f.Feedback
	er.Mailbox, er.WebSessions, er.Unhandled = f.Mail, f.WebSessions, f.Intake
	er.Listings, er.Introductions = f.Listings, f.Introductions
	if er.empty() {
		return Erasure{}, fmt.Errorf("bot: forget: nothing held about this person: %w", ErrNotFound)
	}
	pv.log.LogAttrs(ctx, slog.LevelInfo, "person's data erased", slog.String("channel", p.Channel),
		slog.Int64("conversations", er.Conversations), slog.Int64("messages", er.Messages), slog.Int64("feedback", er.Feedback),
		slog.Int64("questions", f.Questions),
		slog.Int64("mailbox", er.Mailbox), slog.Int64("web_sessions", er.WebSessions), slog.Int64("unhandled", er.Unhandled),
		slog.Int64("listings", er.Listings), slog.Int64("introductions", er.Introductions),
		slog.Int("escalations", er.Escalations), slog.Int("escalation_messages", er.Erasure.Messages))
	return er, nil
}

// Export is everything askpa holds about one person, for a subject access
// request: the JSON document of GET /api/v1/people/export.
type Export struct {
	Channel       string               `json:"channel"`
	User          string               `json:"user"`
	ExportedAt    time.Time            `json:"exported_at"`
	Conversations []ConversationRecord `json:"conversations"`
	// Escalations are the conversations handed to staff, with every
	// message, the audit trail and the safety assessment.
	Escalations []support.Escalation `json:"escalations"`
	Mailbox     []MailMessage        `json:"mailbox"`
	WebSessions []WebSessionRecord   `json:"web_sessions"`
	// UnhandledMessages counts the person's deliveries received but not
	// yet handled (they are deleted once handled).
	UnhandledMessages int64 `json:"unhandled_messages"`
	// Listings and Introductions are the person's part in the PA network.
	Listings      []directory.Listing      `json:"listings"`
	Introductions []directory.Introduction `json:"introductions"`
}

// Export returns everything askpa holds about p. It returns a
// *PersonError for an invalid p and ErrNotFound (wrapped) when nothing is
// held.
func (pv *Privacy) Export(ctx context.Context, p Person) (Export, error) {
	if err := p.Validate(); err != nil {
		return Export{}, err
	}
	d, err := pv.store.PersonData(ctx, p)
	if err != nil {
		return Export{}, fmt.Errorf("bot: export: %w", err)
	}
	x := Export{Channel: p.Channel, User: p.UserID, ExportedAt: pv.now().UTC(), Conversations: d.Conversations,
		Escalations: []support.Escalation{}, Mailbox: d.Mailbox, WebSessions: d.WebSessions, UnhandledMessages: d.Unhandled,
		Listings: d.Listings, Introductions: d.Introductions}
	if pv.desk != nil {
		es, err := pv.desk.EscalationsOf(ctx, p.Channel, p.UserID)
		if err != nil {
			return Export{}, fmt.Errorf("bot: export: %w", err)
		}
		x.Escalations = append(x.Escalations, es...)
	}
	if x.Conversations == nil {
		x.Conversations = []ConversationRecord{}
	}
	if x.Mailbox == nil {
		x.Mailbox = []MailMessage{}
	}
	if x.WebSessions == nil {
		x.WebSessions = []WebSessionRecord{}
	}
	if x.Listings == nil {
		x.Listings = []directory.Listing{}
	}
	if x.Introductions == nil {
		x.Introductions = []directory.Introduction{}
	}
	if len(x.Conversations) == 0 && len(x.Escalations) == 0 && len(x.Mailbox) == 0 && len(x.WebSessions) == 0 && x.UnhandledMessages == 0 &&
		len(x.Listings) == 0 && len(x.Introductions) == 0 {
		return Export{}, fmt.Errorf("bot: export: nothing held about this person: %w", ErrNotFound)
	}
	return x, nil
}
