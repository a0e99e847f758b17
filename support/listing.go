package support

import (
	"slices"
	"strings"
	"time"
)

// Listing events. Every change to a PA network listing (package directory)
// is a signed webhook event named "listing." and the change
// (listing.created, listing.submitted, listing.approved, listing.rejected,
// listing.paused, listing.resumed, listing.renewed, listing.expired,
// listing.withdrawn, listing.edited, and listing.expiring when the owner is
// reminded that it expires within a week). Its body has the same envelope
// as an escalation event, with "listing" (the listing as staff see it,
// without its contact details) in place of "escalation":
//
//	{"event": "listing.approved", "delivery_id": "...", "at": "...", "by": "...", "listing": {...}}
//
// It goes through the outbox like any event: same headers, signature,
// retries and backoff. The store writes its rows in the transaction that
// changes the listing (see sqlstore's SetListingEvents), keyed
// ListingKey(id), so each target gets one listing's events in order.
//
// Which targets: a *Webhook without an area restriction gets every listing
// event; an area-restricted webhook (ForAreas) gets none, since its areas
// are escalation areas (local packs), not the postcode districts a listing
// covers; every other target (the relay, the Slack support channel) gets
// none unless it opts in by implementing ListingFilter.

// ListingEventPrefix starts the name of every listing event.
const ListingEventPrefix = "listing."

// ListingKey returns the outbox key (Delivery.EscalationID) of the events
// of listing id: "listing:" and the id. No escalation id has that form.
func ListingKey(id string) string { return "listing:" + id }

// IsListingKey reports whether an outbox key is a listing's.
func IsListingKey(key string) bool { return strings.HasPrefix(key, "listing:") }

// ListingFilter is implemented by a Target that takes listing events other
// than a plain webhook: AcceptsListing reports whether it wants ev. A
// webhook may implement it too, to take fewer. It is called while the
// store's transaction is open: it must be quick and do no I/O.
type ListingFilter interface {
	AcceptsListing(ev Event) bool
}

// AcceptsListing reports whether target t is told of listing event ev: by
// its ListingFilter when it has one, otherwise when it is a *Webhook (with
// no area restriction).
func AcceptsListing(t Target, ev Event) bool {
	if !strings.HasPrefix(ev.Name, ListingEventPrefix) {
		return false
	}
	if f, ok := t.(ListingFilter); ok {
		return f.AcceptsListing(ev)
	}
	_, ok := t.(*Webhook)
	return ok
}

// ListingDeliveries returns the outbox rows of listing event ev about
// listing id: one for each of targets that accepts it (AcceptsListing),
// each with its own delivery id from newID, keyed ListingKey(id), due at
// ev.At. It returns none when no target accepts ev.
func ListingDeliveries(targets []Target, id string, ev Event, newID func() string) []Delivery {
	return networkDeliveries(targets, id, ev, newID, AcceptsListing)
}

// Introduction events. Every change to an introduction between an
// employer and a listing's PA (package directory) is an event named
// "introduction." and the change: introduction.requested,
// introduction.accepted, introduction.declined, introduction.expired. Its
// body has the envelope of a listing event, with the listing (without its
// contact details) and "introduction": the introduction's id, listing_id,
// status, created_at, updated_at and expires_at, never the employer, their
// note or anyone's contact details (directory.SharedIntroduction):
//
//	{"event": "introduction.requested", "delivery_id": "...", "at": "...", "by": "employer",
//	 "listing": {...}, "introduction": {...}}
//
// The store writes its rows in the transaction that changes the
// introduction, keyed ListingKey of its listing, so that each target gets
// a listing's events and those of the introductions to it in order, and
// forgetting the listing's owner removes them with the listing's.
//
// Which targets: as for listing events, a *Webhook without an area
// restriction gets every introduction event, so that the council sees how
// its network is used; every other target gets none unless it opts in by
// implementing IntroductionFilter (Slack's notices to the PA, the
// employer's own channel). Those that tell people the contact details read
// them from the store when they deliver: they are never in the outbox.

// IntroductionEventPrefix starts the name of every introduction event.
const IntroductionEventPrefix = "introduction."

// IntroductionFilter is implemented by a Target that takes introduction
// events other than a plain webhook: AcceptsIntroduction reports whether
// it wants ev. It is called while the store's transaction is open: it
// must be quick and do no I/O.
type IntroductionFilter interface {
	AcceptsIntroduction(ev Event) bool
}

// AcceptsIntroduction reports whether target t is told of introduction
// event ev: by its IntroductionFilter when it has one, otherwise when it
// is a *Webhook (with no area restriction).
func AcceptsIntroduction(t Target, ev Event) bool {
	if !strings.HasPrefix(ev.Name, IntroductionEventPrefix) {
		return false
	}
	if f, ok := t.(IntroductionFilter); ok {
		return f.AcceptsIntroduction(ev)
	}
	_, ok := t.(*Webhook)
	return ok
}

// IntroductionDeliveries returns the outbox rows of introduction event ev
// about an introduction to listing listingID: one for each of targets
// that accepts it (AcceptsIntroduction), each with its own delivery id
// from newID, keyed ListingKey(listingID), due at ev.At.
func IntroductionDeliveries(targets []Target, listingID string, ev Event, newID func() string) []Delivery {
	return networkDeliveries(targets, listingID, ev, newID, AcceptsIntroduction)
}

// networkDeliveries returns the rows of PA network event ev about listing
// id for the targets accepts takes.
func networkDeliveries(targets []Target, id string, ev Event, newID func() string, accepts func(Target, Event) bool) []Delivery {
	if newID == nil {
		newID = newUUID
	}
	now := ev.At
	if now.IsZero() {
		now = time.Now().UTC()
	}
	var out []Delivery
	for _, t := range targets {
		if !accepts(t, ev) {
			continue
		}
		d := ev
		d.DeliveryID = newID()
		d.Listing, d.Introduction = slices.Clone(ev.Listing), slices.Clone(ev.Introduction)
		out = append(out, Delivery{
			ID: d.DeliveryID, EscalationID: ListingKey(id), Target: t.Name(), Event: d,
			Status: DeliveryPending, NextAttempt: now, CreatedAt: now, UpdatedAt: now,
		})
	}
	return out
}
