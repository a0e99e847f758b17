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
// (by the channel adapters, which call this package).

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

// IntroStore keeps introductions; it is part of Store.
type IntroStore interface {
	// CreateIntroduction inserts in, in one transaction with its checks:
	// it returns ErrRateLimited when in.Employer has made limit or more
	// requests since since, and ErrConflict when in.Employer already has a
	// request waiting for in.ListingID. Requests of one employer are
	// serialised, so concurrent requests cannot exceed the limit.
	CreateIntroduction(ctx context.Context, in Introduction, limit int, since time.Time) error
	// UpdateIntroduction changes introduction id in one transaction, like
	// UpdateListing.
	UpdateIntroduction(ctx context.Context, id string, change func(*Introduction) error) (Introduction, error)
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
	if err := is.CreateIntroduction(ctx, in, MaxIntroductionsPerDay, now.Add(-24*time.Hour)); err != nil {
		return Introduction{}, fmt.Errorf("request introduction: %w", err)
	}
	n.log.LogAttrs(ctx, slog.LevelInfo, "introduction requested", slog.String("introduction", in.ID), slog.String("listing", l.ID))
	n.introChanged(ctx, in, l)
	return in, nil
}

// introChanged tells Config.NotifyIntroduction of a change to in.
func (n *Network) introChanged(ctx context.Context, in Introduction, l Listing) {
	if n.notifyIntro != nil {
		n.notifyIntro(ctx, in, l)
	}
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
	in, err = is.UpdateIntroduction(ctx, id, func(in *Introduction) error {
		if in.Status != IntroRequested {
			return fmt.Errorf("answer introduction %s (%s): %w", in.ID, in.Status, ErrConflict)
		}
		now := n.now().UTC()
		in.UpdatedAt = now
		if accept {
			in.Status, in.ListingContact = IntroAccepted, l.Contact
			in.Audit = append(in.Audit, Action{Who: ByOwner, What: "accepted; contact details shared both ways", At: now})
		} else {
			in.Status = IntroDeclined
			in.Audit = append(in.Audit, Action{Who: ByOwner, What: "declined", At: now})
		}
		return nil
	})
	if err != nil {
		return Introduction{}, err
	}
	n.log.LogAttrs(ctx, slog.LevelInfo, "introduction answered", slog.String("introduction", in.ID), slog.String("status", string(in.Status)))
	n.introChanged(ctx, in, l)
	return in, nil
}

// ExpireIntroductions marks every request unanswered after
// IntroductionWait expired and returns them; each is told to
// Config.NotifyIntroduction, for the adapters to tell the employer. A
// request answered meanwhile is left alone.
func (n *Network) ExpireIntroductions(ctx context.Context) ([]Introduction, error) {
	is := n.store
	var out []Introduction
	now := n.now().UTC()
	ids, err := is.IntroductionsDue(ctx, now, 500)
	if err != nil {
		return nil, fmt.Errorf("expire introductions: %w", err)
	}
	for _, id := range ids {
		in, err := is.UpdateIntroduction(ctx, id, func(in *Introduction) error {
			if in.Status != IntroRequested || now.Before(in.ExpiresAt) {
				return ErrConflict
			}
			in.Status, in.UpdatedAt = IntroExpired, now
			in.Audit = append(in.Audit, Action{Who: BySystem, What: "expired: no answer in 7 days", At: now})
			return nil
		})
		switch {
		case err == nil:
			out = append(out, in)
			if n.notifyIntro != nil {
				// The employer is told even when the listing cannot be read
				// now: without its name rather than not at all.
				l, lerr := n.store.GetListing(ctx, in.ListingID)
				if lerr != nil {
					n.log.WarnContext(ctx, "introduction expired; its listing could not be read", slog.String("introduction", in.ID), slog.String("error", lerr.Error()))
					l = Listing{ID: in.ListingID}
				}
				n.notifyIntro(ctx, in, l)
			}
		case errors.Is(err, ErrConflict), errors.Is(err, ErrNotFound):
		default:
			return out, err
		}
	}
	return out, nil
}
