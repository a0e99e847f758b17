package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/retention"
	"github.com/askpa/askpa/support"
)

// This file checks that a store records every change to an introduction
// (directory.Change with an Introduction) with the change: the outbox
// rows of its events are written in the change's own transaction, keyed
// by its listing, carry no contact details, employer or note, survive a
// crash, and lose their payload to the retention purge like any other.

// introHook is a recording target that takes every introduction event,
// as the notices to the PA and the employer do.
type introHook struct{ *recorder }

func (introHook) AcceptsIntroduction(support.Event) bool { return true }

// introNetwork returns a network on s with an approved listing whose owner
// is on Slack, and that listing.
func introNetwork(t *testing.T, s directory.Store, c *clock) (*directory.Network, directory.Listing) {
	t.Helper()
	ctx := context.Background()
	n := newNetwork(t, s, c)
	l, err := n.Draft(ctx, "slack:T1:UPA1", paDetails("Sam Taylor", []string{"EX4"}, "personal-care"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Submit(ctx, l.ID, directory.ByOwner); err != nil {
		t.Fatal(err)
	}
	if l, err = n.Approve(ctx, l.ID, "alex"); err != nil {
		t.Fatal(err)
	}
	return n, l
}

// Secrets of the introductions below, which no outbox row may carry.
const (
	introNote    = "Help with personal care, three mornings a week."
	introEmail   = "dee@example.org"
	introPhone   = "07700 900456"
	introAddress = "telegram:4201"
)

// testIntroductionEventsCommit: each change to an introduction (request,
// acceptance, refusal, expiry) writes, in its own transaction, one event
// for each target that takes introduction events (an opted-in target, a
// webhook without an area restriction), keyed by the listing, in order;
// the event carries the listing without contact details and the
// introduction without the employer, note or contact details. A request
// or an answer the network refuses writes nothing.
func testIntroductionEventsCommit(t *testing.T, o Opener) {
	ctx := context.Background()
	c := newClock()
	s := open(t, o)
	hook := introHook{&recorder{name: "relay:introductions-like"}}
	plain := &recorder{name: "relay-like"}
	wh, err := support.NewWebhook("http://127.0.0.1:1/council", []byte("k"), nil)
	if err != nil {
		t.Fatal(err)
	}
	devon := support.ForAreas(wh, []string{"devon"})
	listingOnly := listingHook{&recorder{name: "slack:listings-like"}}
	s.SetListingEvents(listingEvents([]support.Target{hook, plain, wh, devon, listingOnly}, nil))
	n, l := introNetwork(t, s, c)
	key := support.ListingKey(l.ID)

	me := directory.Contact{Phone: introPhone, Email: introEmail}
	c.Add(time.Minute)
	acc, err := n.RequestIntroduction(ctx, l.ID, introAddress, introNote, me)
	if err != nil {
		t.Fatal(err)
	}
	// Refused: a second request waiting for the same listing, an answer by
	// someone who does not own it.
	if _, err := n.RequestIntroduction(ctx, l.ID, introAddress, introNote, me); !errors.Is(err, directory.ErrConflict) {
		t.Fatalf("a second waiting request: %v", err)
	}
	if _, err := n.AcceptIntroduction(ctx, acc.ID, "slack:T1:USOMEONE"); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("accepted by someone else: %v", err)
	}
	c.Add(time.Minute)
	if _, err := n.AcceptIntroduction(ctx, acc.ID, l.Owner); err != nil {
		t.Fatal(err)
	}
	if _, err := n.DeclineIntroduction(ctx, acc.ID, l.Owner); !errors.Is(err, directory.ErrConflict) {
		t.Fatalf("declining an accepted request: %v", err)
	}
	dec, err := n.RequestIntroduction(ctx, l.ID, "telegram:4202", "Shopping on Saturdays, please.", me)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.DeclineIntroduction(ctx, dec.ID, l.Owner); err != nil {
		t.Fatal(err)
	}
	exp, err := n.RequestIntroduction(ctx, l.ID, "telegram:4203", "Meals in the evenings, please.", me)
	if err != nil {
		t.Fatal(err)
	}
	c.Add(directory.IntroductionWait)
	if got, err := n.ExpireIntroductions(ctx); err != nil || len(got) != 1 {
		t.Fatalf("ExpireIntroductions = %d, %v", len(got), err)
	}

	// Another handle sees the rows: they were committed with the changes.
	other := open(t, o)
	want := []string{directory.EventIntroRequested, directory.EventIntroAccepted, directory.EventIntroRequested,
		directory.EventIntroDeclined, directory.EventIntroRequested, directory.EventIntroExpired}
	wantIntro := []string{acc.ID, acc.ID, dec.ID, dec.ID, exp.ID, exp.ID}
	wantBy := []string{directory.ByEmployer, directory.ByOwner, directory.ByEmployer, directory.ByOwner, directory.ByEmployer, directory.BySystem}
	for _, name := range []string{hook.name, wh.Name()} {
		got := slices.DeleteFunc(deliveriesFor(t, other, key, name), func(ev string) bool {
			return !strings.HasPrefix(ev, support.IntroductionEventPrefix)
		})
		if !slices.Equal(got, want) {
			t.Errorf("%s was given %q; want %q", name, got, want)
		}
	}
	for _, name := range []string{plain.name, devon.Name(), listingOnly.name} {
		for _, ev := range deliveriesFor(t, other, key, name) {
			if strings.HasPrefix(ev, support.IntroductionEventPrefix) {
				t.Errorf("%s, which does not take introduction events, was given %s", name, ev)
			}
		}
	}
	ds, err := other.Deliveries(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for _, d := range ds {
		ev := d.Event
		if d.Target != hook.name || !strings.HasPrefix(ev.Name, support.IntroductionEventPrefix) {
			continue
		}
		var in directory.SharedIntroduction
		if err := json.Unmarshal(ev.Introduction, &in); err != nil {
			t.Fatalf("%s carries no introduction: %v", ev.Name, err)
		}
		if i < len(want) && (in.ID != wantIntro[i] || ev.By != wantBy[i] || "introduction."+string(in.Status) != ev.Name ||
			in.ListingID != l.ID || !ev.At.Equal(in.UpdatedAt) || listingOf(t, ev).ID != l.ID || d.ID != ev.DeliveryID) {
			t.Errorf("row %d (%s): introduction %+v by %q at %v", i, ev.Name, in, ev.By, ev.At)
		}
		i++
		payload, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{"07700", introEmail, "three mornings", "Saturdays", "telegram:", `"contact"`, `"note"`, `"employer":`, `"employer_contact"`} {
			if strings.Contains(string(payload), secret) {
				t.Errorf("%s carries %q: %s", ev.Name, secret, payload)
			}
		}
		var keys, inKeys map[string]json.RawMessage
		if err := json.Unmarshal(payload, &keys); err != nil {
			t.Fatal(err)
		}
		if k := slices.Sorted(maps.Keys(keys)); !slices.Equal(k, []string{"at", "by", "delivery_id", "event", "introduction", "listing"}) {
			t.Errorf("%s: webhook body has keys %q", ev.Name, k)
		}
		if err := json.Unmarshal(ev.Introduction, &inKeys); err != nil {
			t.Fatal(err)
		}
		if k := slices.Sorted(maps.Keys(inKeys)); !slices.Equal(k, []string{"created_at", "expires_at", "id", "listing_id", "status", "updated_at"}) {
			t.Errorf("%s: introduction has keys %q", ev.Name, k)
		}
	}
	if i != len(want) {
		t.Errorf("%d introduction rows for the hook; want %d", i, len(want))
	}
	// No rows under the introduction's own id or anywhere else.
	if ds, err := other.Deliveries(ctx, acc.ID); err != nil || len(ds) != 0 {
		t.Errorf("rows under the bare introduction id: %d, %v", len(ds), err)
	}
}

// testIntroductionEventsFailedChange: when the events of a change cannot
// be written, the change is not stored either: no request is made, no
// answer or expiry recorded; once they can, the same changes go through.
func testIntroductionEventsFailedChange(t *testing.T, o Opener) {
	ctx := context.Background()
	c := newClock()
	s := open(t, o)
	hook := introHook{&recorder{name: "relay:introductions-like"}}
	var fail atomic.Bool
	s.SetListingEvents(listingEvents([]support.Target{hook}, &fail))
	n, l := introNetwork(t, s, c)
	rows := func() []string { return deliveriesFor(t, s, support.ListingKey(l.ID), hook.name) }
	me := directory.Contact{Email: introEmail}

	fail.Store(true)
	if _, err := n.RequestIntroduction(ctx, l.ID, introAddress, introNote, me); !errors.Is(err, errEventsDown) {
		t.Fatalf("a request while events fail: %v", err)
	}
	if due, err := s.IntroductionsDue(ctx, c.Now().Add(2*directory.IntroductionWait), 10); err != nil || len(due) != 0 {
		t.Errorf("introductions stored by a failed request: %v, %v", due, err)
	}
	if got := rows(); len(got) != 0 {
		t.Errorf("rows after a failed request: %q", got)
	}
	fail.Store(false)
	in, err := n.RequestIntroduction(ctx, l.ID, introAddress, introNote, me) // not "one is waiting already"
	if err != nil {
		t.Fatal(err)
	}
	fail.Store(true)
	if _, err := n.AcceptIntroduction(ctx, in.ID, l.Owner); !errors.Is(err, errEventsDown) {
		t.Fatalf("an acceptance while events fail: %v", err)
	}
	c.Add(directory.IntroductionWait)
	if _, err := n.ExpireIntroductions(ctx); !errors.Is(err, errEventsDown) {
		t.Fatalf("an expiry while events fail: %v", err)
	}
	if got, err := s.GetIntroduction(ctx, in.ID); err != nil || got.Status != directory.IntroRequested || !got.ListingContact.IsZero() || len(got.Audit) != 1 {
		t.Errorf("the request after a failed acceptance and expiry: %s, %d audit entries, %v", got.Status, len(got.Audit), err)
	}
	if got := rows(); !slices.Equal(got, []string{directory.EventIntroRequested}) {
		t.Errorf("rows after failed changes: %q", got)
	}
	fail.Store(false)
	if got, err := n.ExpireIntroductions(ctx); err != nil || len(got) != 1 {
		t.Fatalf("ExpireIntroductions = %d, %v", len(got), err)
	}
	if got := rows(); !slices.Equal(got, []string{directory.EventIntroRequested, directory.EventIntroExpired}) {
		t.Errorf("rows after the expiry: %q", got)
	}
}

// testIntroductionEventsSurviveCrash: an employer asks, the PA accepts,
// and the process dies holding the deliveries; a new process on the same
// database delivers each event exactly once per target, in order, and a
// third finds nothing to do. The purge then clears the rows' payloads
// (ASKPA_RETAIN_PAYLOADS) like any delivered row's, and forgetting the PA
// removes them with their listing's.
func testIntroductionEventsSurviveCrash(t *testing.T, o Opener) {
	ctx := context.Background()
	c := newClock()
	names := []string{"slack:listings-like", "relay:introductions-like"}
	first := o(t)
	var dead []support.Target
	for _, name := range names {
		dead = append(dead, introHook{&recorder{name: name}})
	}
	first.SetListingEvents(listingEvents(dead, nil))
	n, l := introNetwork(t, first, c)
	in, err := n.RequestIntroduction(ctx, l.ID, introAddress, introNote, directory.Contact{Phone: introPhone})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.AcceptIntroduction(ctx, in.ID, l.Owner); err != nil {
		t.Fatal(err)
	}
	s := redeliverAfterCrash(t, o, c, first, names, func(r *recorder) support.Target { return introHook{r} },
		[]string{directory.EventIntroRequested, directory.EventIntroAccepted})
	key := support.ListingKey(l.ID)
	ds, err := s.Deliveries(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if strings.HasPrefix(d.Event.Name, support.IntroductionEventPrefix) && (d.Status != support.DeliveryDelivered || d.Attempts != 1) {
			t.Errorf("row %s (%s to %s): %s after %d attempts", d.ID, d.Event.Name, d.Target, d.Status, d.Attempts)
		}
	}

	// The purge clears the payloads of delivered rows past the retention.
	long := time.Unix(0, 0)
	if _, err := s.Purge(ctx, retention.Cutoffs{Conversations: long, Escalations: long, Payloads: c.Now().Add(time.Minute),
		Seen: long, Mail: long, WebSessions: long}, 100); err != nil {
		t.Fatal(err)
	}
	if ds, err = s.Deliveries(ctx, key); err != nil || len(ds) == 0 {
		t.Fatalf("rows after the purge: %d, %v", len(ds), err)
	}
	for _, d := range ds {
		if len(d.Event.Listing) != 0 || len(d.Event.Introduction) != 0 || d.Event.Name == "" || d.Event.DeliveryID != d.ID {
			t.Errorf("row %s (%s) after the purge: %+v; want its name and delivery id only", d.ID, d.Event.Name, d.Event)
		}
	}
	// Forgetting the PA removes the rows with the listing.
	if _, err := s.ForgetPerson(ctx, bot.Person{Channel: bot.ChannelSlack, UserID: "UPA1"}, c.Now()); err != nil {
		t.Fatal(err)
	}
	if ds, err = s.Deliveries(ctx, key); err != nil || len(ds) != 0 {
		t.Errorf("rows after the PA was forgotten: %d, %v", len(ds), err)
	}
}
