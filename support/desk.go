package support

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
)

// Target is somewhere events go through the outbox: a webhook URL, the
// relay back to the person, a Slack support channel. Deliver is retried
// until it returns nil or the retries give up, with the same
// Event.DeliveryID every time; it must be safe to call from several
// goroutines.
type Target interface {
	// Name identifies the target in the outbox; it must be stable across
	// restarts and unique among the targets of one service.
	Name() string
	// Deliver sends ev. A nil error means the target has it.
	Deliver(ctx context.Context, ev Event) error
}

// Filter is implemented by a Target that wants only some events. A Target
// without it gets the WebhookEvents.
type Filter interface {
	Accepts(ev Event) bool
}

// Config configures a Desk. Store is required; every other field has a
// sensible zero value.
type Config struct {
	Store Store
	// Targets are told of every event they accept (webhooks, Slack).
	Targets []Target
	// Relay, when set, is driven through the outbox (target "relay") to
	// deliver staff replies and status changes to the person.
	Relay Relay
	// Notify, when set, is called after a change wrote outbox rows; serve
	// wires it to Dispatcher.Wake so deliveries start at once.
	Notify func()
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NewID makes escalation and delivery ids; nil means UUIDv7 strings.
	NewID func() string
	// Logger receives one line per change, with ids but no message text.
	Logger *slog.Logger
	// Registerer, when set, gets the desk's collectors
	// (askpa_escalations_total by reason and priority).
	Registerer prometheus.Registerer
}

// Desk is the support desk: the bot escalates through it, staff act through
// it, and it records every change with its outbox rows.
type Desk struct {
	store   Store
	targets []Target
	notify  func()
	now     func() time.Time
	newID   func() string
	log     *slog.Logger
	created *prometheus.CounterVec
}

// NewDesk returns a Desk for cfg. It fails when cfg.Store is nil, when two
// targets share a name, or when a collector cannot be registered.
func NewDesk(cfg Config) (*Desk, error) {
	if cfg.Store == nil {
		return nil, errors.New("support: NewDesk needs a Store")
	}
	d := &Desk{store: cfg.Store, notify: cfg.Notify, now: cfg.Now, newID: cfg.NewID, log: cfg.Logger}
	if d.now == nil {
		d.now = time.Now
	}
	if d.newID == nil {
		d.newID = newUUID
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.targets = append(d.targets, cfg.Targets...)
	if cfg.Relay != nil {
		d.targets = append(d.targets, RelayTarget(cfg.Relay))
	}
	seen := map[string]bool{}
	for _, t := range d.targets {
		if seen[t.Name()] {
			return nil, fmt.Errorf("support: two targets are named %q", t.Name())
		}
		seen[t.Name()] = true
	}
	d.created = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "askpa_escalations_total",
		Help: "Escalations created, by reason and priority.",
	}, []string{"reason", "priority"})
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(d.created); err != nil {
			return nil, fmt.Errorf("support: register metrics: %w", err)
		}
	}
	return d, nil
}

// Targets returns every target the desk writes outbox rows for, the relay
// included; a Dispatcher needs the same list.
func (d *Desk) Targets() []Target { return append([]Target(nil), d.targets...) }

// Escalate opens an escalation for a conversation the bot hands over and
// tells every target (escalation.created). With n.Key set it is
// idempotent: the escalation an earlier call with the same Key made is
// returned as it is now, and nothing is told again. It returns ErrInvalid
// naming the field when n is incomplete.
func (d *Desk) Escalate(ctx context.Context, n NewEscalation) (Escalation, error) {
	n.Summary = CleanText(n.Summary)
	n.Messages = append([]Message(nil), n.Messages...)
	for i := range n.Messages {
		n.Messages[i].Text = CleanText(n.Messages[i].Text)
		n.Messages[i].Sources = append([]Source(nil), n.Messages[i].Sources...)
		for j, src := range n.Messages[i].Sources {
			n.Messages[i].Sources[j] = Source{ID: CleanText(src.ID), Title: CleanText(src.Title), URL: CleanText(src.URL)}
		}
	}
	if err := n.validate(); err != nil {
		return Escalation{}, err
	}
	now := d.now().UTC()
	id := d.newID()
	if n.Key != "" {
		id = keyedID(n.Key)
		if e, err := d.store.Get(ctx, id); err == nil {
			return e, nil // escalated already
		}
	}
	e, evs := open(id, n, now)
	if err := d.store.Create(ctx, e, d.fanOut(evs, now)); err != nil {
		if n.Key != "" {
			if e, gerr := d.store.Get(ctx, id); gerr == nil {
				return e, nil // escalated at the same moment elsewhere
			}
		}
		return Escalation{}, fmt.Errorf("escalate: %w", err)
	}
	d.created.WithLabelValues(metricReason(e.Reason), string(e.Priority)).Inc()
	d.log.LogAttrs(ctx, slog.LevelInfo, "escalation created",
		slog.String("escalation", e.ID), slog.String("reason", metricReason(e.Reason)),
		slog.String("priority", string(e.Priority)), slog.String("channel", e.Address.Channel))
	d.wake()
	return e, nil
}

// AddPersonMessage adds what the person wrote while escalated and tells the
// targets (message.received). It returns ErrNotFound, ErrResolved once the
// escalation is closed, or ErrInvalid for empty or oversized text.
func (d *Desk) AddPersonMessage(ctx context.Context, escalationID, text string, at time.Time) error {
	text = CleanText(text)
	if err := checkText("text", text); err != nil {
		return err
	}
	if at.IsZero() {
		at = d.now()
	}
	_, err := d.change(ctx, escalationID, "", "person wrote", "", func(e *Escalation) ([]Event, error) {
		return personWrote(e, text, at.UTC())
	})
	return err
}

// AddBotMessages adds what the bot told the person while escalated, such
// as the crisis signposting that answers a message they sent meanwhile, so
// that staff see the conversation as the person saw it. Targets are not
// told (the person's message was). It returns ErrNotFound, ErrResolved once
// the escalation is closed, or ErrInvalid for empty or oversized text or
// sources.
func (d *Desk) AddBotMessages(ctx context.Context, escalationID string, ms []Message, at time.Time) error {
	ms = append([]Message(nil), ms...)
	for i := range ms {
		ms[i].Text = CleanText(ms[i].Text)
		if err := checkText(fmt.Sprintf("messages[%d].text", i), ms[i].Text); err != nil {
			return err
		}
		if len(ms[i].Sources) > MaxSources {
			return invalid(fmt.Sprintf("messages[%d].sources", i), "are too many")
		}
	}
	if len(ms) == 0 {
		return nil
	}
	if at.IsZero() {
		at = d.now()
	}
	_, err := d.change(ctx, escalationID, "", "bot wrote", "", func(e *Escalation) ([]Event, error) {
		return nil, botWrote(e, ms, at.UTC())
	})
	return err
}

// Withdraw resolves an escalation because the person cancelled it; the audit
// trail says the person did it, with note. Withdrawing a resolved
// escalation succeeds and changes nothing. It returns ErrNotFound for an
// unknown id.
func (d *Desk) Withdraw(ctx context.Context, escalationID, note string) error {
	now := d.now().UTC()
	_, err := d.change(ctx, escalationID, "", "withdrawn", "", func(e *Escalation) ([]Event, error) {
		return withdraw(e, note, now), nil
	})
	return err
}

// Get returns one escalation, or ErrNotFound.
func (d *Desk) Get(ctx context.Context, id string) (Escalation, error) {
	e, err := d.store.Get(ctx, id)
	if err != nil {
		return Escalation{}, fmt.Errorf("get escalation: %w", err)
	}
	return e, nil
}

// Deliveries returns the outbox rows of an escalation, oldest first, so
// that staff can see what is pending or failed.
func (d *Desk) Deliveries(ctx context.Context, id string) ([]Delivery, error) {
	ds, err := d.store.Deliveries(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	return ds, nil
}

// Claim gives an escalation to staff. Claiming one's own claim again
// succeeds; it returns ErrConflict when someone else holds it, ErrResolved
// when it is closed, ErrNotFound for an unknown id.
func (d *Desk) Claim(ctx context.Context, id, staff string) (Escalation, error) {
	if err := checkStaff(staff); err != nil {
		return Escalation{}, err
	}
	now := d.now().UTC()
	return d.change(ctx, id, "", "claimed", staff, func(e *Escalation) ([]Event, error) {
		return claim(e, staff, now)
	})
}

// Reply adds a staff message and delivers it to the person through the
// relay; replying to an open escalation claims it. It returns ErrInvalid
// for empty or oversized text, ErrConflict when someone else holds it,
// ErrResolved when it is closed, ErrNotFound for an unknown id.
func (d *Desk) Reply(ctx context.Context, id, staff, text string) (Escalation, error) {
	return d.reply(ctx, id, "", staff, text, reply)
}

// MaxIdempotencyKeyLen bounds the key ReplyOnce takes.
const MaxIdempotencyKeyLen = 200

// ReplyOnce is Reply made safe to retry: key is the caller's idempotency
// key (an API client's Idempotency-Key header, the console's reply form).
// When staff already replied to escalation id with the same key, it
// changes nothing and returns ErrDuplicate, so the person does not get the
// reply twice; keys are remembered as long as de-duplication keys are
// kept. An empty key is Reply; a key over MaxIdempotencyKeyLen bytes is
// ErrInvalid.
func (d *Desk) ReplyOnce(ctx context.Context, key, id, staff, text string) (Escalation, error) {
	if key == "" {
		return d.Reply(ctx, id, staff, text)
	}
	if len(key) > MaxIdempotencyKeyLen {
		return Escalation{}, invalid("Idempotency-Key", fmt.Sprintf("must be at most %d characters", MaxIdempotencyKeyLen))
	}
	// The stored key names no one: a digest of who replied where, with
	// which key.
	sum := sha256.Sum256([]byte(id + "\x00" + staff + "\x00" + key))
	return d.reply(ctx, id, "reply:"+hex.EncodeToString(sum[:16]), staff, text, reply)
}

// HelpdeskReply adds a staff reply that arrived by the inbound webhook,
// attributed to author, and delivers it to the person through the relay
// like any reply. The helpdesk is a trusted integration: unlike Reply, it
// is accepted when a member of staff has claimed the escalation in askpa
// (the claim stays theirs, and the audit trail records the reply as made
// through the helpdesk while they held it); an open escalation is claimed
// by author. deliveryID makes it idempotent, so a retried delivery returns
// ErrDuplicate and the person does not get the reply twice. It returns
// ErrInvalid for a bad delivery id, author or text, ErrResolved when the
// escalation is closed and ErrNotFound for an unknown id.
func (d *Desk) HelpdeskReply(ctx context.Context, deliveryID, id, author, text string) (Escalation, error) {
	if strings.TrimSpace(deliveryID) == "" || len(deliveryID) > 200 {
		return Escalation{}, invalid("delivery_id", "must be 1 to 200 characters")
	}
	return d.reply(ctx, id, "support:"+deliveryID, author, text, helpdeskReply)
}

// reply adds a staff message through move (reply or helpdeskReply).
func (d *Desk) reply(ctx context.Context, id, key, staff, text string, move func(*Escalation, string, string, time.Time) ([]Event, error)) (Escalation, error) {
	staff, text = CleanText(staff), CleanText(text)
	if err := checkStaff(staff); err != nil {
		return Escalation{}, err
	}
	if err := checkText("text", text); err != nil {
		return Escalation{}, err
	}
	now := d.now().UTC()
	return d.change(ctx, id, key, "replied", staff, func(e *Escalation) ([]Event, error) {
		return move(e, staff, text, now)
	})
}

// Resolve closes an escalation. It returns ErrConflict when someone else
// holds it, ErrResolved when it is already closed, ErrNotFound for an
// unknown id.
func (d *Desk) Resolve(ctx context.Context, id, staff string) (Escalation, error) {
	if err := checkStaff(staff); err != nil {
		return Escalation{}, err
	}
	now := d.now().UTC()
	return d.change(ctx, id, "", "resolved", staff, func(e *Escalation) ([]Event, error) {
		return resolve(e, staff, now)
	})
}

// Reopen puts a resolved escalation back in the queue, unclaimed. It returns
// ErrNotResolved when it is not resolved, ErrNotFound for an unknown id.
func (d *Desk) Reopen(ctx context.Context, id, staff string) (Escalation, error) {
	if err := checkStaff(staff); err != nil {
		return Escalation{}, err
	}
	now := d.now().UTC()
	return d.change(ctx, id, "", "reopened", staff, func(e *Escalation) ([]Event, error) {
		return reopen(e, staff, now)
	})
}

// LabelSafety records staff's verdict on the safety layer's assessment of
// escalation id: correct when the safety layer saw the conversation right,
// otherwise kind says what it really was ("ordinary" when it was nothing of
// concern). When correct, kind may be empty and the label takes the
// assessment's kind. Labelling again replaces the earlier label. It works on
// open, claimed and resolved escalations, adds an audit entry by staff and
// tells no target.
//
// It returns ErrNotFound for an unknown id, and an *InvalidError naming the
// field when the escalation has no safety assessment ("safety"), when kind
// is empty for a wrong verdict, is not one of the safety kinds, differs from
// the assessment's kind for a right verdict or equals it for a wrong one
// ("kind"), or when note is longer than MaxLabelNoteLen bytes ("note").
func (d *Desk) LabelSafety(ctx context.Context, id, staff string, correct bool, kind, note string) (Escalation, error) {
	if err := checkStaff(staff); err != nil {
		return Escalation{}, err
	}
	switch {
	case !correct && kind == "":
		return Escalation{}, invalid("kind", "is required when the verdict is wrong: say what the conversation really was")
	case kind != "" && !safetyKinds[kind]:
		return Escalation{}, invalid("kind", "must be one of "+strings.Join(safetyKindNames(), ", "))
	case len(note) > MaxLabelNoteLen:
		return Escalation{}, invalid("note", fmt.Sprintf("is longer than %d bytes", MaxLabelNoteLen))
	}
	now := d.now().UTC()
	return d.change(ctx, id, "", "safety labelled", staff, func(e *Escalation) ([]Event, error) {
		return labelSafety(e, staff, correct, kind, note, now)
	})
}

// safetyKindNames returns the safety kinds in alphabetical order.
func safetyKindNames() []string {
	return slices.Sorted(maps.Keys(safetyKinds))
}

// SafetyKinds returns the kinds a safety label may name, in alphabetical
// order: the bot's safety kinds, "ordinary" among them.
func SafetyKinds() []string { return safetyKindNames() }

// LabelledConversation is one escalation whose safety assessment staff have
// labelled, as the safety classifier's training needs it.
type LabelledConversation struct {
	EscalationID string
	Audience     string
	// Messages are the person's own messages (From == FromUser), oldest
	// first: neither the bot's answers nor staff's replies.
	Messages []string
	// Assessment is the safety layer's verdict with staff's Label (never
	// nil).
	Assessment SafetyAssessment
}

// labelPage is how many escalations SafetyLabels reads from the store at a
// time.
var labelPage = MaxListLimit

// SafetyLabels walks every escalation, whatever its status, in the queue's
// order (urgent first, then oldest first) and yields those whose safety
// assessment staff have labelled, except those whose person's messages were
// erased at their request (see ErasePerson). It reads the store a page at a time and
// holds nothing open while it yields, so the consumer may be slow; an
// escalation labelled during the walk is yielded only if the walk has not
// passed it. On a store error it yields the error once and stops.
func (d *Desk) SafetyLabels(ctx context.Context) iter.Seq2[LabelledConversation, error] {
	return func(yield func(LabelledConversation, error) bool) {
		q := ListQuery{Limit: labelPage}
		for {
			es, err := d.store.List(ctx, q)
			if err != nil {
				yield(LabelledConversation{}, fmt.Errorf("safety labels: %w", err))
				return
			}
			for _, e := range es {
				if e.Safety == nil || e.Safety.Label == nil || erased(e) {
					continue // an erased person's words are not training data
				}
				l := LabelledConversation{EscalationID: e.ID, Audience: e.Audience, Assessment: *e.Safety}
				for _, m := range e.Messages {
					if m.From == FromUser {
						l.Messages = append(l.Messages, m.Text)
					}
				}
				if !yield(l, nil) {
					return
				}
			}
			if len(es) < q.Limit {
				return
			}
			last := PositionOf(es[len(es)-1])
			q.After = &last
		}
	}
}

// change applies move to escalation id in one store transaction with the
// outbox rows for the events it returns.
func (d *Desk) change(ctx context.Context, id, key, what, staff string, move func(*Escalation) ([]Event, error)) (Escalation, error) {
	if id == "" {
		return Escalation{}, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	wrote := false
	e, err := d.store.Update(ctx, id, key, func(e *Escalation) ([]Delivery, error) {
		evs, err := move(e)
		if err != nil {
			return nil, err
		}
		out := d.fanOut(evs, d.now().UTC())
		wrote = len(out) > 0
		return out, nil
	})
	if err != nil {
		return Escalation{}, err
	}
	attrs := []slog.Attr{slog.String("escalation", e.ID), slog.String("status", string(e.Status))}
	if staff != "" {
		// Staff names are not logged; the audit trail keeps them.
		attrs = append(attrs, slog.Bool("by_staff", true))
	}
	d.log.LogAttrs(ctx, slog.LevelInfo, "escalation "+what, attrs...)
	if wrote {
		d.wake()
	}
	return e, nil
}

// fanOut turns events into one outbox row per event and accepting target.
func (d *Desk) fanOut(evs []Event, now time.Time) []Delivery {
	var out []Delivery
	for _, ev := range evs {
		for _, t := range d.targets {
			if !accepts(t, ev) {
				continue
			}
			id := d.newID()
			ev := ev
			ev.DeliveryID = id
			out = append(out, Delivery{
				ID: id, EscalationID: ev.Escalation.ID, Target: t.Name(), Event: ev,
				Status: DeliveryPending, NextAttempt: now, CreatedAt: now, UpdatedAt: now,
			})
		}
	}
	return out
}

func accepts(t Target, ev Event) bool {
	if f, ok := t.(Filter); ok {
		return f.Accepts(ev)
	}
	for _, name := range WebhookEvents {
		if ev.Name == name {
			return true
		}
	}
	return false
}

func (d *Desk) wake() {
	if d.notify != nil {
		d.notify()
	}
}

// Page is one page of the queue.
type Page struct {
	Escalations []Escalation
	// Next is the cursor of the following page, empty on the last one.
	Next string
}

// ListRequest asks for one page of the queue.
type ListRequest struct {
	Status   Status   // empty for all
	Priority Priority // empty for all
	Limit    int      // 0 means DefaultListLimit; at most MaxListLimit
	Cursor   string   // from a previous Page.Next
	// UpdatedSince, when not zero, keeps only escalations last changed at
	// or after it.
	UpdatedSince time.Time
	// Areas, when not nil, keeps only escalations from those areas (see
	// Escalation.Area): what staff limited to some areas may see.
	Areas []string
}

// Limits of one page of the queue.
const (
	DefaultListLimit = 50
	MaxListLimit     = 200
)

// List returns one page of the queue, urgent first, then oldest first. It
// returns ErrInvalid naming the field for an unknown status or priority, a
// limit out of range or a cursor it did not make.
func (d *Desk) List(ctx context.Context, r ListRequest) (Page, error) {
	switch {
	case r.Status != "" && !r.Status.Valid():
		return Page{}, invalid("status", "must be open, claimed or resolved")
	case r.Priority != "" && !r.Priority.Valid():
		return Page{}, invalid("priority", "must be urgent or normal")
	case r.Limit < 0 || r.Limit > MaxListLimit:
		return Page{}, invalid("limit", fmt.Sprintf("must be between 1 and %d", MaxListLimit))
	}
	if r.Limit == 0 {
		r.Limit = DefaultListLimit
	}
	q := ListQuery{Status: r.Status, Priority: r.Priority, Limit: r.Limit + 1, UpdatedSince: r.UpdatedSince, Areas: r.Areas}
	if r.Cursor != "" {
		p, err := decodeCursor(r.Cursor)
		if err != nil {
			return Page{}, invalid("cursor", "is not one this service made")
		}
		q.After = &p
	}
	es, err := d.store.List(ctx, q)
	if err != nil {
		return Page{}, fmt.Errorf("list escalations: %w", err)
	}
	var p Page
	if len(es) > r.Limit {
		es = es[:r.Limit]
		p.Next = encodeCursor(PositionOf(es[len(es)-1]))
	}
	p.Escalations = es
	return p, nil
}

type cursor struct {
	R int    `json:"r"`
	T int64  `json:"t"`
	I string `json:"i"`
}

func encodeCursor(p Position) string {
	b, _ := json.Marshal(cursor{p.Rank, p.CreatedAt.UnixNano(), p.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (Position, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Position{}, err
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return Position{}, err
	}
	if c.I == "" || c.R < 0 || c.R > 1 {
		return Position{}, errors.New("bad cursor")
	}
	return Position{Rank: c.R, CreatedAt: time.Unix(0, c.T).UTC(), ID: c.I}, nil
}

// metricReason keeps metric labels to a small set of short words.
func metricReason(r string) string {
	if r == "" {
		return "none"
	}
	if len(r) > 32 {
		return "other"
	}
	for _, c := range r {
		if (c < 'a' || c > 'z') && c != '_' {
			return "other"
		}
	}
	return r
}

func newUUID() string { return uuid.Must(uuid.NewV7()).String() }

// keyNamespace derives escalation ids from idempotency keys.
var keyNamespace = uuid.MustParse("6f1d7c52-4a9e-4f1b-9d3e-2a8b5c7e0f11")

// keyedID is the escalation id for an idempotency key: the same key, the
// same id.
func keyedID(key string) string { return uuid.NewSHA1(keyNamespace, []byte(key)).String() }
