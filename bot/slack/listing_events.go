package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

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
// It also takes the introduction events of listings whose owner is on
// Slack (support.IntroductionFilter): a request reaches the owner as a DM
// with Accept and Decline, and their answer is confirmed to them, with the
// employer's contact details when they accepted; the employer hears of the
// outcome through the relay's target (bot.Relay.IntroductionTarget), not
// this one. The contact details are not in the event: the intake's worker
// reads them from the network when it sends the DM.
//
// It opts in to listing and introduction events only and takes no
// escalation event. Deliver queues the notices in the intake under ids made
// of the listing and its audit trail's length, or of the introduction and
// its status, so a delivery repeated after a crash queues nothing new; the
// intake's worker sends them.
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

// AcceptsIntroduction takes the introduction events the owner of the
// listing is told of, when the owner is on Slack: a request, and their own
// answer (not an expiry).
func (t listingTarget) AcceptsIntroduction(ev support.Event) bool {
	if ev.Name == directory.EventIntroExpired {
		return false
	}
	var l struct {
		Owner string `json:"owner"`
	}
	if err := json.Unmarshal(ev.Listing, &l); err != nil {
		return false
	}
	_, _, onSlack := parseOwner(l.Owner)
	return onSlack
}

// Deliver queues the notices of ev in the intake. A listing (or an
// introduction) it cannot read is a permanent failure.
func (t listingTarget) Deliver(ctx context.Context, ev support.Event) error {
	if strings.HasPrefix(ev.Name, support.IntroductionEventPrefix) {
		return t.deliverIntroduction(ctx, ev)
	}
	var l directory.Listing
	if err := json.Unmarshal(ev.Listing, &l); err != nil || l.ID == "" {
		return support.Permanent(fmt.Errorf("slack: listing event %s without a listing: %v", ev.Name, err))
	}
	return t.c.listingNotices(ctx, l, ev.Name, func(id, key string, n notice) error { return t.c.writeNotice(ctx, id, key, n) })
}

// deliverIntroduction queues the owner's notice of introduction event ev.
func (t listingTarget) deliverIntroduction(ctx context.Context, ev support.Event) error {
	var l directory.Listing
	var in directory.SharedIntroduction
	if err := json.Unmarshal(ev.Listing, &l); err != nil || l.ID == "" {
		return support.Permanent(fmt.Errorf("slack: introduction event %s without a listing: %v", ev.Name, err))
	}
	if err := json.Unmarshal(ev.Introduction, &in); err != nil || in.ID == "" || in.Status == "" {
		return support.Permanent(fmt.Errorf("slack: introduction event %s without an introduction: %v", ev.Name, err))
	}
	return t.c.introNotices(l, in.ID, in.Status, func(id, key string, n notice) error { return t.c.writeNotice(ctx, id, key, n) })
}
