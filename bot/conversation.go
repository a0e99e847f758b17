package bot

import (
	"context"
	"errors"
	"time"

	"github.com/askpa/askpa/bot/safety"
	"github.com/askpa/askpa/knowledge"
)

// ErrNotFound is returned by a Store for an unknown conversation.
var ErrNotFound = errors.New("not found")

// Answer is the engine's answer to one question; its JSON form is the
// contract of "askpa ask --json" and of POST /v1/messages.
type Answer struct {
	Question string             `json:"question"`
	Audience knowledge.Audience `json:"audience"`
	Answered bool               `json:"answered"`
	Text     string             `json:"answer"`
	// More is the rest of the section, shown behind a "More" button.
	More        string   `json:"more"`
	Sources     []Source `json:"sources"`
	Confidence  float64  `json:"confidence"`
	Escalate    bool     `json:"escalate"`
	Urgent      bool     `json:"urgent"`
	Reason      string   `json:"reason"`
	Suggestions []string `json:"suggestions"`
	// Situation is true when the person described their situation of need
	// rather than asked a question: the answer opens with an
	// acknowledgement and the first steps, and offers a person.
	Situation bool `json:"situation,omitempty"`
	// Concern is the crisis or safeguarding kind the safety layer saw
	// ("suicidal", "financial-abuse"...): with Urgent, the script sent;
	// without, a caution whose signposting line opens the answer.
	Concern string `json:"concern,omitempty"`
	// PassageID is the passage the answer was drawn from ("doc#anchor").
	PassageID string `json:"passage_id,omitempty"`

	suggestionIDs []string // the passages behind Suggestions, in order
	// safety is the safety layer's verdict when it decided the answer (an
	// urgent hand-over or a caution); an escalation carries it for staff
	// to mark right or wrong.
	safety *safety.Verdict
}

// Reasons for escalating a conversation.
const (
	ReasonRequested     = "requested"
	ReasonLowConfidence = "low_confidence"
	ReasonSafeguarding  = "safeguarding"
	ReasonCrisis        = "crisis"
	ReasonDispute       = "dispute"
	ReasonNotHelpful    = "not_helpful"
	// ReasonNeedsSupport: someone who described their situation accepted
	// the offer of a person.
	ReasonNeedsSupport = "needs-support"
	// ReasonQuietAfterSignpost: shown a crisis signposting line, the person
	// went quiet (see Service.FollowUpQuiet).
	ReasonQuietAfterSignpost = "quiet_after_signpost"
)

// Mode says who is answering a conversation.
type Mode string

// Conversation modes.
const (
	ModeBot     Mode = "bot"     // the bot answers
	ModeWaiting Mode = "waiting" // escalated; no one has claimed it yet
	ModeHuman   Mode = "human"   // a member of staff has claimed it
)

// Conversation is one person's conversation on one channel.
type Conversation struct {
	ID      string
	Address Address // where replies go now (the latest chat or thread)
	// Audience is who the person is (employer or PA); AudienceChosen is set
	// once the person has said so themselves.
	Audience       knowledge.Audience
	AudienceChosen bool
	Mode           Mode
	EscalationID   string // the open escalation, while Mode is not bot
	LastPassageID  string // the passage shown in the last answer, for feedback
	LastQuestion   string
	Misses         int  // consecutive questions the bot could not answer
	ToldWaiting    bool // the person has been told a person will reply
	// Caution is the crisis kind (suicidal, medical) whose signposting
	// line the bot showed in its last answer, and CautionAt when; both are
	// cleared when the person writes again. A conversation that stays
	// quiet after one is followed up (see Service.FollowUpQuiet).
	Caution   string
	CautionAt time.Time
	// LastMessageID is the platform's id (Message.ID) of the last message
	// handled, saved with the rest: the same message handled again (after
	// a crash) is recognised.
	LastMessageID string
	// Awaiting is what the bot asked the person for and takes their next
	// message as (an area for /findpa, an introduction's note or contact
	// details); empty when the bot asked nothing. Draft is an
	// introduction's note while its contact details are asked for, and
	// Search the last /findpa search, for "More".
	Awaiting string
	Draft    string
	Search   string
	// Area is the id of the local area the person picked (see AreaEngine);
	// empty until they pick one.
	Area      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Turn is one message in a conversation.
type Turn struct {
	From string `json:"from"` // "user", "bot" or "staff"
	Text string `json:"text"`
	// Sources are the guides a bot reply's answer came from (see
	// Reply.Sources); none for the person's and staff's messages. They
	// name guidance, never what the person wrote.
	Sources []Source  `json:"sources,omitempty"`
	At      time.Time `json:"at"`
}

// Who wrote a turn.
const (
	FromUser  = "user"
	FromBot   = "bot"
	FromStaff = "staff"
)

// Feedback is a person's verdict on a passage they were shown.
type Feedback struct {
	ConversationID string
	PassageID      string
	Helpful        bool
	At             time.Time
}

// Store keeps conversations so that several askpa processes can serve one
// bot. Implementations live in sqlite and postgres.
type Store interface {
	// Conversation returns the conversation of the person at addr (by
	// addr.Key()), creating it in ModeBot with audience def when there is
	// none. An existing conversation's Address is updated to addr.
	Conversation(ctx context.Context, addr Address, def knowledge.Audience, now time.Time) (Conversation, error)
	// ConversationByID returns the conversation with the given id, or
	// ErrNotFound.
	ConversationByID(ctx context.Context, id string) (Conversation, error)
	// SaveConversation stores c's mutable fields (everything but ID and
	// CreatedAt). It returns ErrNotFound for an unknown id.
	SaveConversation(ctx context.Context, c Conversation) error
	// AppendTurn adds a turn to a conversation's history.
	AppendTurn(ctx context.Context, conversationID string, t Turn) error
	// Turns returns the last limit turns of a conversation, oldest first.
	Turns(ctx context.Context, conversationID string, limit int) ([]Turn, error)
	// RecordFeedback stores a person's feedback on a passage.
	RecordFeedback(ctx context.Context, f Feedback) error
	// FirstDelivery records that the event id from source (for example
	// "telegram" and an update_id, or "slack" and an event_id) has been
	// seen. It returns true the first time and false for every repeat, across
	// processes.
	FirstDelivery(ctx context.Context, source, id string, now time.Time) (bool, error)
	// TakeQuietCautions returns up to limit conversations whose Caution
	// was shown at or before before (and so not written in since), oldest
	// first, with their Caution as it was, and clears it in the store in
	// the same transaction: each is returned once, across processes.
	TakeQuietCautions(ctx context.Context, before time.Time, limit int) ([]Conversation, error)
}

// ExchangeStore is a Store that records one exchange (the person's
// message, the replies and the conversation as it ends) in one
// transaction, so that a message costs one commit rather than one per
// write. The Service uses it when its Store has it; the stores in sqlite
// and postgres do.
type ExchangeStore interface {
	// SaveExchange appends turns to the history of conversation c, in
	// order, and stores c's mutable fields as SaveConversation does, all
	// or nothing. It returns ErrNotFound for an unknown conversation.
	SaveExchange(ctx context.Context, c Conversation, turns []Turn) error
}

// MailMessage is a message waiting for a web-channel user to fetch it.
type MailMessage struct {
	Seq     int64     `json:"seq"`
	From    string    `json:"from"` // "bot" or "staff"
	Text    string    `json:"text"`
	Sources []Source  `json:"sources,omitempty"`
	At      time.Time `json:"at"`
	// Key, when not empty, names what the message delivers (Reply.Key), so
	// that posting it again adds nothing.
	Key string `json:"-"`
}

// Mailbox keeps the messages sent to web-channel users, numbered in order
// per user, for GET /v1/messages.
type Mailbox interface {
	// Post appends m for user and returns its sequence number (1, 2, ...
	// per user). When m.Key is not empty and user's mailbox already holds
	// a message with that key, it adds nothing and returns that message's
	// number.
	Post(ctx context.Context, user string, m MailMessage) (int64, error)
	// Since returns up to limit messages for user with Seq > after, in order.
	Since(ctx context.Context, user string, after int64, limit int) ([]MailMessage, error)
}

// Result is what handling one message produced.
type Result struct {
	ConversationID string
	EscalationID   string  // set when this message escalated or the conversation is escalated
	Answer         *Answer // the answer to a question, when the message was one
	Replies        []Reply // what to send the person, in order
}

// Handler handles messages from people. Channels call it with each message
// and send the replies it returns.
type Handler interface {
	Handle(ctx context.Context, m Message) (Result, error)
}

// HandlerFunc adapts a function to a Handler, for example to give a channel
// a handler that is built after it.
type HandlerFunc func(ctx context.Context, m Message) (Result, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, m Message) (Result, error) { return f(ctx, m) }
