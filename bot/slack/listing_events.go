package slack

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/support"
)

// ListingTargetName is the outbox target name of the listing notices told
// in Slack.
const ListingTargetName = "slack:listings"

// ListingTarget returns the outbox target that turns listing events
// (support.ListingEventPrefix) into what Slack is told of them: the owner's
// direct message ("approved", "rejected: reason", "expiring" ...) when the
// owner is on Slack, and the moderation card of a listing sent for
// moderation when there is a support channel. It does what NotifyListing
// does, but durably: the store writes the event's outbox row in the
// transaction of the change (sqlstore's SetListingEvents), so a change
// stored just before a crash is still told. Give it to the store's listing
// events and to the dispatcher, and leave directory.Config.Notify unset
// (else each notice is queued by both, which the intake de-duplicates).
//
// It opts in to listing events only (support.ListingFilter) and takes no
// escalation event. Deliver queues the notices in the intake under ids made
// of the listing and its audit trail's length, so a delivery repeated after
// a crash queues nothing new; the intake's worker sends them.
func (c *Channel) ListingTarget() support.Target { return listingTarget{c} }

type listingTarget struct{ c *Channel }

// Name returns "slack:listings".
func (listingTarget) Name() string { return ListingTargetName }

// Accepts takes no escalation event.
func (listingTarget) Accepts(support.Event) bool { return false }

// AcceptsListing takes the events there is something to tell in Slack of:
// those the owner hears when the owner is on Slack, and submissions when
// there is a support channel.
func (t listingTarget) AcceptsListing(ev support.Event) bool {
	if ev.Name == directory.EventSubmitted && t.c.cfg.SupportChannel != "" {
		return true
	}
	var l struct {
		Owner string `json:"owner"`
	}
	if err := json.Unmarshal(ev.Listing, &l); err != nil {
		return false
	}
	_, _, onSlack := parseOwner(l.Owner)
	return onSlack && ownerHears(ev.Name)
}

// Deliver queues the notices of ev in the intake. A listing it cannot read
// is a permanent failure.
func (t listingTarget) Deliver(ctx context.Context, ev support.Event) error {
	var l directory.Listing
	if err := json.Unmarshal(ev.Listing, &l); err != nil || l.ID == "" {
		return support.Permanent(fmt.Errorf("slack: listing event %s without a listing: %v", ev.Name, err))
	}
	return t.c.listingNotices(ctx, l, ev.Name, func(id, key string, n notice) error { return t.c.writeNotice(ctx, id, key, n) })
}
