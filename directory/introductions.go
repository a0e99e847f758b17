package directory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Introductions: an employer who found a listing asks to be introduced,
// with a short note; the listing's owner accepts or declines. Only on
// acceptance does either side get the other's contact details. A request
// not answered in IntroductionWait expires, and the employer is told kindly
// (by the channel adapters, which call this package). Each change is told
// through the Change its store records with it (see Change): the request
// reaches the owner, and the outcome the employer, even across a crash.

// ErrRateLimited reports an employer who has asked for MaxIntroductionsPerDay
// introductions in the last 24 hours.
var ErrRateLimited = errors.New("too many introduction requests today")

// IntroStatus is where an introduction request is.
type IntroStatus string

// The states of an introduction: requested (waiting for the PA), then
// accepted, declined, or expired (no answer in IntroductionWait).
const (
	IntroRequested IntroStatus = "requested"
	IntroAccepted  IntroStatus = "accepted"
	IntroDeclined  IntroStatus = "declined"
	IntroExpired   IntroStatus = "expired"
)

// Limits of introductions.
const (
	// MaxIntroductionsPerDay is how many introductions one employer may ask
	// for in 24 hours.
	MaxIntroductionsPerDay = 5
	// IntroductionWait is how long a request waits for an answer.
	IntroductionWait = 7 * 24 * time.Hour
	// MaxNoteLen limits the employer's note, in bytes.
	MaxNoteLen = 1000
)

// Introduction events.
const (
	EventIntroRequested = "introduction.requested"
	EventIntroAccepted  = "introduction.accepted"
	EventIntroDeclined  = "introduction.declined"
	EventIntroExpired   = "introduction.expired"
)

// ByEmployer is who asked for an introduction (Change.By of
// EventIntroRequested).
const ByEmployer = "employer"

// Introduction is an employer's request to be introduced to a listing's PA
// or micro-provider.
type Introduction struct {
	ID        string      `json:"id"`
	ListingID string      `json:"listing_id"`
	Status    IntroStatus `json:"status"`
	// Employer identifies the employer on their channel ("telegram:12345").
	Employer string `json:"employer"`
	// Note is what the employer wrote to the PA: no contact details.
	Note string `json:"note"`
	// EmployerContact is what the employer chose to share, given to the PA
	// only on acceptance.
	EmployerContact Contact `json:"employer_contact"`
	// ListingContact is what the PA shares, filled in on acceptance.
	ListingContact Contact   `json:"listing_contact,omitzero"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	// ExpiresAt is when an unanswered request expires.
	ExpiresAt time.Time `json:"expires_at"`
	Audit     []Action  `json:"audit"`
}

// SharedIntroduction is an introduction as askpa tells it to other
// systems (signed webhooks): what happened and when, never who the
// employer is, what they wrote or the contact details of either side.
type SharedIntroduction struct {
	ID        string      `json:"id"`
	ListingID string      `json:"listing_id"`
	Status    IntroStatus `json:"status"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
	ExpiresAt time.Time   `json:"expires_at"`
}

// Shared returns in without the employer, the note and the contact
// details, for other systems.
func (in Introduction) Shared() SharedIntroduction {
	return SharedIntroduction{ID: in.ID, ListingID: in.ListingID, Status: in.Status,
		CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt, ExpiresAt: in.ExpiresAt}
}

// IntroStore keeps introductions; it is part of Store.
type IntroStore interface {
	// CreateIntroduction inserts *c.Introduction, in one transaction with
	// its checks, and records c (see Change) in the same transaction, with
	// Listing set to the listing asked about as read in it: it returns
	// ErrRateLimited when the employer has made limit or more requests
	// since since, and ErrConflict when the employer already has a
	// request waiting for the listing, and then stores and records
	// nothing. Requests of one employer are serialised, so concurrent
	// requests cannot exceed the limit.
	CreateIntroduction(ctx context.Context, c Change, limit int, since time.Time) error
	// UpdateIntroduction changes introduction id in one transaction, like
	// UpdateListing: when change returns nil it saves the introduction and
	// records the Change that change returned, with Introduction set to
	// the introduction as saved and Listing to its listing as read in the
	// transaction. On an error it stores and records nothing.
	UpdateIntroduction(ctx context.Context, id string, change func(*Introduction) (Change, error)) (Introduction, error)
	// GetIntroduction returns introduction id, or ErrNotFound.
	GetIntroduction(ctx context.Context, id string) (Introduction, error)
	// IntroductionsDue returns the ids of up to limit requests still
	// waiting whose ExpiresAt is at or before now.
	IntroductionsDue(ctx context.Context, now time.Time, limit int) ([]string, error)
}

// RequestIntroduction records employer's request to be introduced to the
// PA or micro-provider of listing id, with note for them and the contact
// details the employer will share if the request is accepted. It returns
// ErrNotFound for an unknown listing, ErrConflict when the listing is not
// approved (or has expired) or the employer already has a request waiting
// for it, ErrRateLimited after MaxIntroductionsPerDay requests in 24 hours,
// and an *InvalidError for a missing employer or contact ("employer",
// "contact") or a note that is empty, too long or carries contact details
// ("note").
func (n *Network) RequestIntroduction(ctx context.Context, listingID, employer, note string, contact Contact) (Introduction, error) {
	is := n.store
	note = cleanLong(note)
	contact = Contact{Phone: clean(contact.Phone), Email: clean(contact.Email), Note: clean(contact.Note)}
	if strings.TrimSpace(employer) == "" || len(employer) > 200 {
		return Introduction{}, invalid("employer", "is required")
	}
	if err := CheckNote(note); err != nil {
		return Introduction{}, err
	}
	if contact.IsZero() {
		return Introduction{}, invalid("contact", "is required: say how the PA can reach you if they accept")
	}
	l, err := n.Get(ctx, listingID)
	if err != nil {
		return Introduction{}, err
	}
	now := n.now().UTC()
	if l.Status != StatusApproved || !now.Before(l.ExpiresAt) {
		return Introduction{}, fmt.Errorf("introduction to listing %s (%s): %w", l.ID, l.Status, ErrConflict)
	}
	in := Introduction{ID: n.newID(), ListingID: l.ID, Status: IntroRequested, Employer: employer, Note: note,
		EmployerContact: contact, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(IntroductionWait),
		Audit: []Action{{Who: "employer", What: "asked to be introduced", At: now}}}
	c := Change{Event: EventIntroRequested, By: ByEmployer, At: now, Introduction: &in}
	if err := is.CreateIntroduction(ctx, c, MaxIntroductionsPerDay, now.Add(-24*time.Hour)); err != nil {
		return Introduction{}, fmt.Errorf("request introduction: %w", err)
	}
	n.log.LogAttrs(ctx, slog.LevelInfo, "introduction requested", slog.String("introduction", in.ID), slog.String("listing", l.ID))
	return in, nil
}

// Introduction returns introduction id, the contact details of both sides
// included (for its listing's owner, staff and the channels delivering
// it), or ErrNotFound.
func (n *Network) Introduction(ctx context.Context, id string) (Introduction, error) {
	in, err := n.store.GetIntroduction(ctx, id)
	if err != nil {
		return Introduction{}, fmt.Errorf("get introduction: %w", err)
	}
	return in, nil
}

// CheckNote checks an employer's note to a PA as RequestIntroduction
// will, so that a channel can ask again at once: it returns an
// *InvalidError for the field "note" when note is empty, longer than
// MaxNoteLen or carries contact details, and nil otherwise.
func CheckNote(note string) error {
	note = cleanLong(note)
	switch {
	case note == "":
		return invalid("note", "is required: say briefly what help you are looking for")
	case len(note) > MaxNoteLen:
		return invalid("note", fmt.Sprintf("is longer than %d characters", MaxNoteLen))
	}
	if what := contactIn(note); what != "" {
		return invalid("note", "seems to contain "+what+"; your contact details are shared only if the PA accepts, so please take it out")
	}
	return nil
}

// AcceptIntroduction records that owner, the listing's owner, accepts
// request id, and fills in ListingContact with the listing's contact
// details: the returned Introduction carries both sides' contacts, for the
// adapters to deliver. It returns ErrNotFound for an unknown request or
// one on a listing owner does not own, and ErrConflict when it is not
// waiting any more.
func (n *Network) AcceptIntroduction(ctx context.Context, id, owner string) (Introduction, error) {
	return n.answer(ctx, id, owner, true)
}

// DeclineIntroduction records that owner declines request id. Errors as
// for AcceptIntroduction.
func (n *Network) DeclineIntroduction(ctx context.Context, id, owner string) (Introduction, error) {
	return n.answer(ctx, id, owner, false)
}

func (n *Network) answer(ctx context.Context, id, owner string, accept bool) (Introduction, error) {
	is := n.store
	in, err := is.GetIntroduction(ctx, id)
	if err != nil {
		return Introduction{}, fmt.Errorf("answer introduction: %w", err)
	}
	l, err := n.Get(ctx, in.ListingID)
	if err != nil {
		return Introduction{}, err
	}
	if owner == "" || l.Owner != owner {
		return Introduction{}, fmt.Errorf("introduction %q for this owner: %w", id, ErrNotFound)
	}
	in, err = is.UpdateIntroduction(ctx, id, func(in *Introduction) (Change, error) {
		if in.Status != IntroRequested {
			return Change{}, fmt.Errorf("answer introduction %s (%s): %w", in.ID, in.Status, ErrConflict)
		}
		now := n.now().UTC()
		in.UpdatedAt = now
		ev := EventIntroAccepted
		if accept {
			in.Status, in.ListingContact = IntroAccepted, l.Contact
			in.Audit = append(in.Audit, Action{Who: ByOwner, What: "accepted; contact details shared both ways", At: now})
		} else {
			in.Status, ev = IntroDeclined, EventIntroDeclined
			in.Audit = append(in.Audit, Action{Who: ByOwner, What: "declined", At: now})
		}
		return Change{Event: ev, By: ByOwner, At: now}, nil
	})
	if err != nil {
		return Introduction{}, err
	}
	n.log.LogAttrs(ctx, slog.LevelInfo, "introduction answered", slog.String("introduction", in.ID), slog.String("status", string(in.Status)))
	return in, nil
}

// ExpireIntroductions marks every request unanswered after
// IntroductionWait expired and returns them; each expiry is recorded with
// it (EventIntroExpired), so that the employer is told. A request answered
// meanwhile is left alone.
func (n *Network) ExpireIntroductions(ctx context.Context) ([]Introduction, error) {
	is := n.store
	var out []Introduction
	now := n.now().UTC()
	ids, err := is.IntroductionsDue(ctx, now, 500)
	if err != nil {
		return nil, fmt.Errorf("expire introductions: %w", err)
	}
	for _, id := range ids {
		in, err := is.UpdateIntroduction(ctx, id, func(in *Introduction) (Change, error) {
			if in.Status != IntroRequested || now.Before(in.ExpiresAt) {
				return Change{}, ErrConflict
			}
			in.Status, in.UpdatedAt = IntroExpired, now
			in.Audit = append(in.Audit, Action{Who: BySystem, What: "expired: no answer in 7 days", At: now})
			return Change{Event: EventIntroExpired, By: BySystem, At: now}, nil
		})
		switch {
		case err == nil:
			out = append(out, in)
		case errors.Is(err, ErrConflict), errors.Is(err, ErrNotFound):
		default:
			return out, err
		}
	}
	return out, nil
}
