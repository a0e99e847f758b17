package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/support"
)

// This file checks that a store records every listing change
// (directory.Change) with the change: the outbox rows of its signed
// webhook events are written in the change's own transaction, come out in
// order per listing and target, and survive a crash.

// listingHook is a recording target that takes every listing event, as a
// webhook does.
type listingHook struct{ *recorder }

func (listingHook) AcceptsListing(support.Event) bool { return true }

// listingEvents is what askpa serve gives the store (sqlstore's
// WebhookListingEvents): each change becomes one listing event for every
// target that takes it, with the listing without its contact details, or
// for a change to an introduction one introduction event, with the
// introduction without the employer, note or contact details. It fails
// while fail is set.
func listingEvents(targets []support.Target, fail *atomic.Bool) func(directory.Change) ([]support.Delivery, error) {
	return func(c directory.Change) ([]support.Delivery, error) {
		if fail != nil && fail.Load() {
			return nil, errEventsDown
		}
		body, err := json.Marshal(c.Listing.Shared())
		if err != nil {
			return nil, err
		}
		ev := support.Event{Name: c.Event, At: c.At, By: c.By, Listing: body}
		if c.Introduction != nil {
			if ev.Introduction, err = json.Marshal(c.Introduction.Shared()); err != nil {
				return nil, err
			}
			return support.IntroductionDeliveries(targets, c.Introduction.ListingID, ev, nil), nil
		}
		return support.ListingDeliveries(targets, c.Listing.ID, ev, nil), nil
	}
}

var errEventsDown = errors.New("listing events cannot be made")

// listingOf decodes the listing a listing event carries.
func listingOf(t testing.TB, ev support.Event) directory.Listing {
	t.Helper()
	var l directory.Listing
	if err := json.Unmarshal(ev.Listing, &l); err != nil {
		t.Fatalf("%s carries no listing: %v (%s)", ev.Name, err, ev.Listing)
	}
	return l
}

// testListingEventsCommit: each change to a listing writes, in its own
// transaction, one event for each target that takes listing events (a
// webhook without an area restriction, or an opted-in target), in order,
// without the listing's contact details and with no escalation.
func testListingEventsCommit(t *testing.T, o Opener) {
	ctx := context.Background()
	c := newClock()
	s := open(t, o)
	hook := listingHook{&recorder{name: "webhook:opted-in"}}
	plain := &recorder{name: "relay-like"} // neither a webhook nor opted in
	wh, err := support.NewWebhook("http://127.0.0.1:1/helpdesk", []byte("k"), nil)
	if err != nil {
		t.Fatal(err)
	}
	devon := support.ForAreas(wh, []string{"devon"})
	s.SetListingEvents(listingEvents([]support.Target{hook, plain, wh, devon}, nil))
	n := newNetwork(t, s, c)

	l, err := n.Draft(ctx, "slack:T1:U1", paDetails("Sam Taylor", []string{"EX4"}, "personal-care"))
	if err != nil {
		t.Fatal(err)
	}
	c.Add(time.Minute)
	if _, err := n.Submit(ctx, l.ID, directory.ByOwner); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Minute)
	if _, err := n.Approve(ctx, l.ID, "alex"); err != nil {
		t.Fatal(err)
	}
	staffMade := approved(t, n, paDetails("Ann Lee", []string{"EX1"}, "shopping"))

	// Another handle sees the rows: they were committed with the changes.
	other := open(t, o)
	ds, err := other.Deliveries(ctx, support.ListingKey(l.ID))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.Target+" "+d.Event.Name)
	}
	want := []string{
		hook.name + " " + directory.EventCreated, wh.Name() + " " + directory.EventCreated,
		hook.name + " " + directory.EventSubmitted, wh.Name() + " " + directory.EventSubmitted,
		hook.name + " " + directory.EventApproved, wh.Name() + " " + directory.EventApproved,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("outbox of a listing after draft, submit, approve:\n got %q\nwant %q", got, want)
	}
	wantBy := []string{directory.ByOwner, directory.ByOwner, "alex"}
	wantStatus := []directory.Status{directory.StatusDraft, directory.StatusPending, directory.StatusApproved}
	ids := map[string]bool{}
	for i, d := range ds {
		ev := d.Event
		if d.EscalationID != support.ListingKey(l.ID) || d.Status != support.DeliveryPending || ev.DeliveryID != d.ID || ids[d.ID] {
			t.Errorf("row %d: key %q, status %s, delivery id %q (row %q)", i, d.EscalationID, d.Status, ev.DeliveryID, d.ID)
		}
		ids[d.ID] = true
		got := listingOf(t, ev)
		if got.ID != l.ID || got.Status != wantStatus[i/2] || ev.By != wantBy[i/2] || !ev.At.Equal(got.UpdatedAt) {
			t.Errorf("row %d (%s): listing %s %s by %q at %v (updated %v)", i, ev.Name, got.ID, got.Status, ev.By, ev.At, got.UpdatedAt)
		}
		if !got.Contact.IsZero() || strings.Contains(string(ev.Listing), "07700") || strings.Contains(string(ev.Listing), `"contact"`) {
			t.Errorf("row %d (%s) carries contact details: %s", i, ev.Name, ev.Listing)
		}
		body, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(body, &keys); err != nil {
			t.Fatal(err)
		}
		if k := slices.Sorted(maps.Keys(keys)); !slices.Equal(k, []string{"at", "by", "delivery_id", "event", "listing"}) {
			t.Errorf("row %d: webhook body has keys %q; want event, delivery_id, at, by, listing", i, k)
		}
	}
	// A listing staff enter starts approved, and says so.
	if got := deliveriesFor(t, other, support.ListingKey(staffMade.ID), wh.Name()); !slices.Equal(got, []string{directory.EventApproved}) {
		t.Errorf("a listing staff entered: %q", got)
	}
	// Neither the plain target nor the area-restricted webhook took any.
	for _, key := range []string{support.ListingKey(l.ID), support.ListingKey(staffMade.ID)} {
		for _, name := range []string{plain.name, devon.Name()} {
			if got := deliveriesFor(t, other, key, name); len(got) != 0 {
				t.Errorf("%s was given listing events: %q", name, got)
			}
		}
	}
	// An escalation's outbox is untouched by listing events, and the other
	// way round.
	if ds, err := other.Deliveries(ctx, l.ID); err != nil || len(ds) != 0 {
		t.Errorf("rows under the bare listing id: %d, %v", len(ds), err)
	}
}

// testListingEventsFailedChange: a change that fails writes no rows, and
// when the events cannot be written the change is not stored either.
func testListingEventsFailedChange(t *testing.T, o Opener) {
	ctx := context.Background()
	c := newClock()
	s := open(t, o)
	hook := listingHook{&recorder{name: "webhook:test"}}
	var fail atomic.Bool
	s.SetListingEvents(listingEvents([]support.Target{hook}, &fail))
	n := newNetwork(t, s, c)
	rows := func(id string) []string { return deliveriesFor(t, s, support.ListingKey(id), hook.name) }

	l, err := n.Draft(ctx, "slack:T1:U1", paDetails("Sam Taylor", []string{"EX4"}, "personal-care"))
	if err != nil {
		t.Fatal(err)
	}
	// The network's own change fails: approving a draft.
	if _, err := n.Approve(ctx, l.ID, "alex"); !errors.Is(err, directory.ErrConflict) {
		t.Fatalf("approving a draft: %v", err)
	}
	if got := rows(l.ID); !slices.Equal(got, []string{directory.EventCreated}) {
		t.Errorf("after a refused approval: %q", got)
	}
	// The events cannot be written: nothing is stored.
	fail.Store(true)
	if _, err := n.Submit(ctx, l.ID, directory.ByOwner); !errors.Is(err, errEventsDown) {
		t.Fatalf("submit while events fail: %v", err)
	}
	if got, err := s.GetListing(ctx, l.ID); err != nil || got.Status != directory.StatusDraft || len(got.Audit) != 1 {
		t.Errorf("listing after a submit whose events failed: %s, %d audit entries, %v", got.Status, len(got.Audit), err)
	}
	if _, err := n.Draft(ctx, "slack:T1:U2", paDetails("Ann Lee", []string{"EX4"}, "shopping")); !errors.Is(err, errEventsDown) {
		t.Fatalf("draft while events fail: %v", err)
	}
	if _, err := n.AddByStaff(ctx, "alex", paDetails("Olu Ade", []string{"EX4"}, "shopping")); !errors.Is(err, errEventsDown) {
		t.Fatalf("staff listing while events fail: %v", err)
	}
	page, err := n.List(ctx, directory.ListRequest{})
	if err != nil || len(page.Listings) != 1 {
		t.Errorf("listings after failed creations: %d, %v; want only the first draft", len(page.Listings), err)
	}
	if got := searchIDs(t, n, directory.SearchRequest{Area: "EX4"}); len(got) != 0 {
		t.Errorf("search finds %v after failed changes", got)
	}
	if got := rows(l.ID); !slices.Equal(got, []string{directory.EventCreated}) {
		t.Errorf("rows after failed changes: %q", got)
	}
	// Once events can be written again, so can changes.
	fail.Store(false)
	if _, err := n.Submit(ctx, l.ID, directory.ByOwner); err != nil {
		t.Fatal(err)
	}
	if got := rows(l.ID); !slices.Equal(got, []string{directory.EventCreated, directory.EventSubmitted}) {
		t.Errorf("rows after the submit: %q", got)
	}
}

// testListingEventsOrder: each target gets one listing's events in the
// order of the changes; a failing delivery holds back the later events of
// that listing for that target only.
func testListingEventsOrder(t *testing.T, o Opener) {
	ctx := context.Background()
	c := newClock()
	s := open(t, o)
	var failed atomic.Bool
	flaky := listingHook{&recorder{name: "webhook:flaky"}}
	steady := listingHook{&recorder{name: "webhook:steady"}}
	targets := []support.Target{flaky, steady}
	s.SetListingEvents(listingEvents(targets, nil))
	n := newNetwork(t, s, c)
	a, err := n.Draft(ctx, "slack:T1:UA", paDetails("Sam Taylor", []string{"EX4"}, "personal-care"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.Draft(ctx, "slack:T1:UB", paDetails("Ann Lee", []string{"EX4"}, "shopping"))
	if err != nil {
		t.Fatal(err)
	}
	// The first delivery of a's submission to flaky fails once.
	flaky.fail = func(ev support.Event) error {
		if ev.Name == directory.EventSubmitted && strings.Contains(string(ev.Listing), a.ID) && !failed.Swap(true) {
			return fmt.Errorf("helpdesk down")
		}
		return nil
	}
	for _, id := range []string{a.ID, b.ID} {
		if _, err := n.Submit(ctx, id, directory.ByOwner); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{b.ID, a.ID} {
		if _, err := n.Approve(ctx, id, "alex"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.Pause(ctx, a.ID, directory.ByOwner); err != nil {
		t.Fatal(err)
	}
	disp, err := support.NewDispatcher(support.DispatcherConfig{Store: s, Targets: targets, Owner: "a", Now: c.Now,
		Rand: func() float64 { return 0.5 }, Timeout: time.Second, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	of := func(r *recorder, id string) []string {
		r.mu.Lock()
		defer r.mu.Unlock()
		var ns []string
		for _, ev := range r.got {
			if listingOf(t, ev).ID == id {
				ns = append(ns, ev.Name)
			}
		}
		return ns
	}
	wantA := []string{directory.EventCreated, directory.EventSubmitted, directory.EventApproved, directory.EventPaused}
	wantB := []string{directory.EventCreated, directory.EventSubmitted, directory.EventApproved}
	drain(t, disp)
	if got := of(flaky.recorder, a.ID); !slices.Equal(got, wantA[:1]) {
		t.Errorf("flaky got %q of a while its submission waits for a retry; want only the creation", got)
	}
	if got := of(flaky.recorder, b.ID); !slices.Equal(got, wantB) {
		t.Errorf("flaky got %q of b: another listing's failure held it back", got)
	}
	if got := of(steady.recorder, a.ID); !slices.Equal(got, wantA) {
		t.Errorf("steady got %q of a: another target's failure held it back", got)
	}
	c.Add(time.Minute) // past the retry
	drain(t, disp)
	if got := of(flaky.recorder, a.ID); !slices.Equal(got, wantA) {
		t.Errorf("flaky got %q of a after the retry; want %q", got, wantA)
	}
	for _, r := range []*recorder{flaky.recorder, steady.recorder} {
		if got := of(r, b.ID); !slices.Equal(got, wantB) {
			t.Errorf("%s got %q of b; want %q", r.name, got, wantB)
		}
	}
}

// testListingEventsSurviveCrash: a change is stored, and the process dies
// before its events are delivered (one of them leased mid-delivery); a new
// process on the same database delivers each event exactly once per
// target, in order.
func testListingEventsSurviveCrash(t *testing.T, o Opener) {
	ctx := context.Background()
	c := newClock()
	names := []string{"webhook:one", "webhook:two"}
	first := o(t)
	var dead []support.Target
	for _, name := range names {
		dead = append(dead, listingHook{&recorder{name: name}})
	}
	first.SetListingEvents(listingEvents(dead, nil))
	n := newNetwork(t, first, c)
	l := approved(t, n, paDetails("Sam Taylor", []string{"EX4"}, "personal-care"))
	if _, err := n.Withdraw(ctx, l.ID, "alex", "moved away"); err != nil {
		t.Fatal(err)
	}
	s := redeliverAfterCrash(t, o, c, first, names, func(r *recorder) support.Target { return listingHook{r} },
		[]string{directory.EventApproved, directory.EventWithdrawn})
	ds, err := s.Deliveries(ctx, support.ListingKey(l.ID))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Status != support.DeliveryDelivered || d.Attempts != 1 {
			t.Errorf("row %s (%s to %s): %s after %d attempts", d.ID, d.Event.Name, d.Target, d.Status, d.Attempts)
		}
	}
}

// redeliverAfterCrash checks what a process that died holding deliveries
// leaves behind. first is its store, where a change has been made whose
// events go to targets named names (wrap makes each target from a
// recorder); it leases two of them as "dead" and closes. A new process on
// the same database delivers nothing while that lease holds, then each of
// want exactly once per target, in order; a third process finds nothing
// left to do. It returns the new process's store.
func redeliverAfterCrash(t *testing.T, o Opener, c *clock, first Store, names []string, wrap func(*recorder) support.Target, want []string) Store {
	t.Helper()
	ctx := context.Background()
	leased, err := first.ClaimDeliveries(ctx, names, "dead", c.Now(), c.Now().Add(time.Minute), 10)
	if err != nil || len(leased) != 2 {
		t.Fatalf("leasing before the crash: %d rows, %v", len(leased), err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	s := open(t, o)
	var live []*recorder
	var targets []support.Target
	for _, name := range names {
		r := &recorder{name: name}
		live = append(live, r)
		targets = append(targets, wrap(r))
	}
	disp, err := support.NewDispatcher(support.DispatcherConfig{Store: s, Targets: targets, Owner: "b", Now: c.Now,
		Rand: func() float64 { return 0.5 }, Timeout: time.Second, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	drain(t, disp)
	for _, r := range live {
		if got := r.names(); len(got) != 0 {
			t.Errorf("%s got %q while the dead process's lease held", r.name, got)
		}
	}
	c.Add(2 * time.Minute) // the lease runs out
	drain(t, disp)
	for _, r := range live {
		if got := r.names(); !slices.Equal(got, want) {
			t.Errorf("%s got %q after the restart; want %q exactly once each", r.name, got, want)
		}
	}
	again, err := support.NewDispatcher(support.DispatcherConfig{Store: open(t, o), Targets: targets, Owner: "c", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	c.Add(time.Hour)
	drain(t, again)
	for _, r := range live {
		if got := r.names(); len(got) != len(want) {
			t.Errorf("%s got %q in all; want each event once", r.name, got)
		}
	}
	return s
}
