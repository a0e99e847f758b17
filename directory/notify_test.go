package directory_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/sqlite"
	"github.com/askpa/askpa/support"
)

// recorder keeps what a Network tells its Notify hook, and the
// introduction changes its store records.
type recorder struct {
	mu     sync.Mutex
	events []string // listing events, in order
	intros []directory.IntroStatus
}

func (r *recorder) listing(_ context.Context, l directory.Listing, ev string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

// change is the store's recording of a change (SetListingEvents): it
// keeps the status of every introduction change, and writes no rows.
func (r *recorder) change(c directory.Change) ([]support.Delivery, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.Introduction == nil {
		return nil, nil
	}
	in := c.Introduction
	if in.ListingID != c.Listing.ID || c.Listing.Owner == "" || c.Event != "introduction."+string(in.Status) {
		panic("introduction recorded with another listing or event")
	}
	r.intros = append(r.intros, in.Status)
	return nil, nil
}

func (r *recorder) take() ([]string, []directory.IntroStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev, in := r.events, r.intros
	r.events, r.intros = nil, nil
	return ev, in
}

func newNotifyingNetwork(t *testing.T) (*directory.Network, *recorder, *time.Time) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "askpa.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	rec := &recorder{}
	store.SetListingEvents(rec.change)
	n, err := directory.NewNetwork(directory.Config{Store: store, Now: func() time.Time { return now },
		Notify: rec.listing})
	if err != nil {
		t.Fatal(err)
	}
	return n, rec, &now
}

func samDetails() directory.Details {
	return directory.Details{Kind: directory.KindPA, Name: "Sam Taylor", Areas: []string{"EX4"}, Services: []string{"personal care"},
		Experience: "Five years of home care.", Contact: directory.Contact{Phone: "07700 900123"}}
}

// TestCheck: Check refuses what Draft refuses, naming the same field, and
// stores nothing.
func TestCheck(t *testing.T) {
	n, rec, _ := newNotifyingNetwork(t)
	ctx := context.Background()
	if err := n.Check(samDetails()); err != nil {
		t.Fatalf("Check(valid) = %v", err)
	}
	for field, change := range map[string]func(*directory.Details){
		"experience": func(d *directory.Details) { d.Experience = "Ring me on 07700 900555" },
		"areas[1]":   func(d *directory.Details) { d.Areas = []string{"EX4", "ZZ9"} },
		"contact":    func(d *directory.Details) { d.Contact = directory.Contact{} },
		"services[0]": func(d *directory.Details) {
			d.Services = []string{"gardening"}
		},
	} {
		d := samDetails()
		change(&d)
		var checked, drafted *directory.InvalidError
		if err := n.Check(d); !errors.As(err, &checked) || checked.Field != field {
			t.Errorf("Check with a bad %s = %v", field, err)
		}
		if _, err := n.Draft(ctx, "slack:T1:U1", d); !errors.As(err, &drafted) || checked == nil || drafted.Field != checked.Field {
			t.Errorf("Draft with a bad %s = %v; Check said %v", field, err, checked)
		}
	}
	if p, _ := n.List(ctx, directory.ListRequest{}); len(p.Listings) != 0 {
		t.Errorf("Check or refused drafts stored %d listings", len(p.Listings))
	}
	if ev, _ := rec.take(); len(ev) != 0 {
		t.Errorf("refused changes were told: %v", ev)
	}
}

// TestNotifyEveryChange: every change to a listing is told to Notify once,
// after it is stored; a week before the expiry the owner is reminded once
// a period; introductions are recorded by the store as they are
// requested, answered or expire, and a refused answer records nothing.
func TestNotifyEveryChange(t *testing.T) {
	n, rec, now := newNotifyingNetwork(t)
	ctx := context.Background()
	l, err := n.Draft(ctx, "slack:T1:U1", samDetails())
	if err != nil {
		t.Fatal(err)
	}
	steps := []func() error{
		func() error { _, err := n.Submit(ctx, l.ID, directory.ByOwner); return err },
		func() error { _, err := n.Approve(ctx, l.ID, "kim"); return err },
		func() error { _, err := n.Pause(ctx, l.ID, directory.ByOwner); return err },
		func() error { _, err := n.Resume(ctx, l.ID, directory.ByOwner); return err },
		func() error { _, err := n.Approve(ctx, l.ID, "kim"); return err }, // refused: not pending
	}
	for _, step := range steps {
		_ = step()
	}
	ev, _ := rec.take()
	want := []string{directory.EventCreated, directory.EventSubmitted, directory.EventApproved, directory.EventPaused, directory.EventResumed}
	if !slices.Equal(ev, want) {
		t.Errorf("events %v, want %v", ev, want)
	}

	// The reminder: not before the last week, then once.
	*now = now.Add(directory.Lifetime - directory.ReminderBefore - time.Hour)
	if k, err := n.RemindDue(ctx); err != nil || k != 0 {
		t.Errorf("RemindDue before the last week = %d, %v", k, err)
	}
	*now = now.Add(2 * time.Hour)
	if k, err := n.RemindDue(ctx); err != nil || k != 1 {
		t.Errorf("RemindDue in the last week = %d, %v", k, err)
	}
	if k, _ := n.RemindDue(ctx); k != 0 {
		t.Errorf("reminded twice")
	}
	got, err := n.Get(ctx, l.ID)
	if err != nil || !got.Reminded() || got.Status != directory.StatusApproved {
		t.Errorf("after the reminder: %+v, %v", got, err)
	}
	// Renewed, it is reminded again in its new period.
	if _, err := n.Renew(ctx, l.ID, directory.ByOwner); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(directory.Lifetime - directory.ReminderBefore)
	if k, _ := n.RemindDue(ctx); k != 1 {
		t.Errorf("not reminded in the renewed period")
	}
	ev, _ = rec.take()
	if want := []string{directory.EventExpiring, directory.EventRenewed, directory.EventExpiring}; !slices.Equal(ev, want) {
		t.Errorf("events %v, want %v", ev, want)
	}

	// Introductions.
	contact := directory.Contact{Email: "dee@example.org"}
	in1, err := n.RequestIntroduction(ctx, l.ID, "telegram:1", "Help with shopping, please.", contact)
	if err != nil {
		t.Fatal(err)
	}
	in2, err := n.RequestIntroduction(ctx, l.ID, "telegram:2", "Help with meals, please.", contact)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.AcceptIntroduction(ctx, in1.ID, "slack:T1:U2"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("accepted by someone else: %v", err)
	}
	if _, err := n.AcceptIntroduction(ctx, in1.ID, "slack:T1:U1"); err != nil {
		t.Fatal(err)
	}
	if got, err := n.Introduction(ctx, in1.ID); err != nil || got.ListingContact.Phone != "07700 900123" {
		t.Errorf("Introduction after acceptance = %+v, %v", got, err)
	}
	*now = now.Add(directory.IntroductionWait)
	if ins, err := n.ExpireIntroductions(ctx); err != nil || len(ins) != 1 || ins[0].ID != in2.ID {
		t.Errorf("ExpireIntroductions = %+v, %v", ins, err)
	}
	_, intros := rec.take()
	if want := []directory.IntroStatus{directory.IntroRequested, directory.IntroRequested, directory.IntroAccepted, directory.IntroExpired}; !slices.Equal(intros, want) {
		t.Errorf("introductions told %v, want %v", intros, want)
	}
}
