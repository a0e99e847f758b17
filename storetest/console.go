package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/askpa/askpa/retention"
	"github.com/askpa/askpa/support"
)

// testStaffSessions checks the console's session store: a session made on
// one handle is found on another until it expires, a use slides its expiry
// (never backwards) but cannot revive it, a deleted session is gone at
// once, and expired ones are pruned while live ones stay.
func testStaffSessions(t *testing.T, o Opener) {
	ctx := context.Background()
	a, b := open(t, o), open(t, o)
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 123456789, time.UTC)
	mk := func(hash, staff string, expires time.Time) support.StaffSession {
		t.Helper()
		ss := support.StaffSession{IDHash: hash, Staff: staff, CreatedAt: t0, LastUsedAt: t0, ExpiresAt: expires}
		if err := a.CreateStaffSession(ctx, ss); err != nil {
			t.Fatalf("create %s: %v", staff, err)
		}
		return ss
	}
	alex := mk("hash-alex", "alex", t0.Add(8*time.Hour))
	sam := mk("hash-sam", "sam", t0.Add(time.Hour))

	if err := b.CreateStaffSession(ctx, alex); err == nil {
		t.Error("a second session with the same id hash was stored")
	}
	for _, bad := range []support.StaffSession{{Staff: "x", ExpiresAt: t0.Add(time.Hour)}, {IDHash: "hash-x", ExpiresAt: t0.Add(time.Hour)}} {
		if err := a.CreateStaffSession(ctx, bad); err == nil {
			t.Errorf("a session without an id hash or staff name was stored: %+v", bad)
		}
	}
	got, err := b.StaffSession(ctx, alex.IDHash, t0.Add(time.Minute))
	if err != nil || !sameStaffSession(got, alex) {
		t.Fatalf("alex's session on another handle: %+v, %v; want %+v", got, err, alex)
	}
	for _, tc := range []struct {
		name string
		hash string
		at   time.Time
	}{
		{"unknown id", "hash-nobody", t0},
		{"at the moment it expires", sam.IDHash, sam.ExpiresAt},
		{"after it expired", sam.IDHash, sam.ExpiresAt.Add(time.Second)},
	} {
		if _, err := b.StaffSession(ctx, tc.hash, tc.at); !errors.Is(err, support.ErrNoSession) {
			t.Errorf("%s: %v, want support.ErrNoSession", tc.name, err)
		}
	}

	// Sliding: a use moves the expiry on; a late use moves nothing back.
	used, slid := t0.Add(7*time.Hour), t0.Add(15*time.Hour)
	if err := b.TouchStaffSession(ctx, alex.IDHash, used, slid); err != nil {
		t.Fatal(err)
	}
	if err := a.TouchStaffSession(ctx, alex.IDHash, t0.Add(2*time.Hour), t0.Add(10*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err = a.StaffSession(ctx, alex.IDHash, t0.Add(14*time.Hour))
	if err != nil || !got.LastUsedAt.Equal(used) || !got.ExpiresAt.Equal(slid) || !got.CreatedAt.Equal(t0) || got.Staff != "alex" {
		t.Errorf("after two uses: %+v, %v; want last used %v, expiring %v", got, err, used, slid)
	}
	if err := a.TouchStaffSession(ctx, sam.IDHash, sam.ExpiresAt.Add(time.Minute), t0.Add(24*time.Hour)); !errors.Is(err, support.ErrNoSession) {
		t.Errorf("touching an expired session: %v, want support.ErrNoSession", err)
	}
	if _, err := a.StaffSession(ctx, sam.IDHash, sam.ExpiresAt.Add(2*time.Minute)); !errors.Is(err, support.ErrNoSession) {
		t.Errorf("an expired session was revived by a touch: %v", err)
	}

	// Signing out ends it at once, on every handle.
	kim := mk("hash-kim", "kim", t0.Add(8*time.Hour))
	if err := a.DeleteStaffSession(ctx, kim.IDHash); err != nil {
		t.Fatal(err)
	}
	if _, err := b.StaffSession(ctx, kim.IDHash, t0); !errors.Is(err, support.ErrNoSession) {
		t.Errorf("a deleted session is still found: %v", err)
	}
	if err := b.DeleteStaffSession(ctx, kim.IDHash); !errors.Is(err, support.ErrNoSession) {
		t.Errorf("deleting twice: %v, want support.ErrNoSession", err)
	}

	// Pruning removes what has expired (sam) and keeps the rest (alex).
	if n, err := b.DeleteExpiredStaffSessions(ctx, sam.ExpiresAt); err != nil || n != 1 {
		t.Errorf("pruning at sam's expiry removed %d, %v; want 1", n, err)
	}
	if n, _ := b.DeleteExpiredStaffSessions(ctx, sam.ExpiresAt); n != 0 {
		t.Errorf("pruning again removed %d", n)
	}
	if _, err := a.StaffSession(ctx, alex.IDHash, t0.Add(14*time.Hour)); err != nil {
		t.Errorf("pruning removed a live session: %v", err)
	}

	// Sessions made at once from two handles are all kept.
	var wg sync.WaitGroup
	for i := range 20 {
		h := []Store{a, b}[i%2]
		wg.Go(func() {
			ss := support.StaffSession{IDHash: fmt.Sprint("hash-many-", i), Staff: fmt.Sprint("staff-", i), CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour)}
			if err := h.CreateStaffSession(ctx, ss); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range 20 {
		if got, err := a.StaffSession(ctx, fmt.Sprint("hash-many-", i), t0); err != nil || got.Staff != fmt.Sprint("staff-", i) {
			t.Errorf("concurrent session %d: %+v, %v", i, got, err)
		}
	}
}

func sameStaffSession(x, y support.StaffSession) bool {
	return x.IDHash == y.IDHash && x.Staff == y.Staff && x.CreatedAt.Equal(y.CreatedAt) &&
		x.LastUsedAt.Equal(y.LastUsedAt) && x.ExpiresAt.Equal(y.ExpiresAt)
}

// testRevisions checks what the console's live pages poll: every change to
// an escalation made through one handle (as by another askpa process)
// changes the mark of all escalations and of that escalation seen through
// another handle, a change to another escalation leaves the latter alone,
// and nothing changes while nothing happens.
func testRevisions(t *testing.T, o Opener) {
	ctx := context.Background()
	a, b := open(t, o), open(t, o)
	c := newClock()
	r := newRig(t, a, c, "a")
	mark := func(id string) string {
		t.Helper()
		m, err := b.Revision(ctx, id)
		if err != nil {
			t.Fatalf("Revision(%q): %v", id, err)
		}
		return m
	}
	if m := mark("no-such-escalation"); m != "" {
		t.Errorf("the mark of an unknown escalation is %q, want empty", m)
	}
	all := mark("")
	if again := mark(""); again != all {
		t.Errorf("the mark changed with nothing done: %q then %q", all, again)
	}
	e := escalate(t, r, "rev-1", support.PriorityNormal)
	other := escalate(t, r, "rev-2", support.PriorityUrgent)
	if m := mark(""); m == all {
		t.Fatal("creating escalations left the mark unchanged")
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"claim", func() error { _, err := r.desk.Claim(ctx, e.ID, "alex"); return err }},
		{"reply", func() error { _, err := r.desk.Reply(ctx, e.ID, "alex", "hello"); return err }},
		{"delivery settled", func() error { drain(t, r.disp); return nil }},
		{"person wrote (with an earlier time)", func() error {
			return r.desk.AddPersonMessage(ctx, e.ID, "thanks", c.Now().Add(-time.Hour))
		}},
		{"note", func() error { _, err := r.desk.Note(ctx, e.ID, "sam", "rang them back"); return err }},
		{"resolve", func() error { _, err := r.desk.Resolve(ctx, e.ID, "alex"); return err }},
		{"reopen", func() error { _, err := r.desk.Reopen(ctx, e.ID, "alex"); return err }},
	}
	for _, st := range steps {
		all, one := mark(""), mark(e.ID)
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if mark("") == all {
			t.Errorf("%s: the mark of all escalations did not change", st.name)
		}
		if mark(e.ID) == one {
			t.Errorf("%s: the escalation's mark did not change", st.name)
		}
	}
	one := mark(e.ID)
	if _, err := r.desk.Claim(ctx, other.ID, "sam"); err != nil {
		t.Fatal(err)
	}
	if mark(e.ID) != one {
		t.Error("a change to another escalation changed this one's mark")
	}

	// Deleting (the retention purge) changes the mark too.
	if _, err := r.desk.Resolve(ctx, other.ID, "sam"); err != nil {
		t.Fatal(err)
	}
	drain(t, r.disp)
	all = mark("")
	long := time.Unix(0, 0)
	n, err := a.Purge(ctx, retention.Cutoffs{Conversations: long, Escalations: c.Now().Add(time.Hour), Payloads: long, Seen: long, Mail: long, WebSessions: long}, 100)
	if err != nil || n.Escalations != 1 {
		t.Fatalf("purge: %+v, %v; want one escalation deleted", n, err)
	}
	if mark("") == all {
		t.Error("deleting an escalation left the mark unchanged")
	}
	if m := mark(other.ID); m != "" {
		t.Errorf("the mark of a deleted escalation is %q, want empty", m)
	}
}

// noteRelay records everything the relay is handed, as JSON.
type noteRelay struct {
	mu  sync.Mutex
	got []string
}

func (n *noteRelay) record(v any) {
	b, _ := json.Marshal(v)
	n.mu.Lock()
	n.got = append(n.got, string(b))
	n.mu.Unlock()
}

func (n *noteRelay) DeliverReply(_ context.Context, e support.Escalation, m support.Message) error {
	n.record([]any{e, m})
	return nil
}

func (n *noteRelay) StatusChanged(_ context.Context, e support.Escalation) error {
	n.record(e)
	return nil
}

// testNotes checks internal notes: kept in the audit trail with their text
// and author across handles, allowed in every state and whoever holds the
// escalation, telling no target, and never handed to the relay (the way to
// the person), not even inside a later event's copy of the escalation.
func testNotes(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	c := newClock()
	hook, rel := &recorder{name: "webhook:test"}, &noteRelay{}
	desk, err := support.NewDesk(support.Config{Store: s, Targets: []support.Target{hook}, Relay: rel, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	disp, err := support.NewDispatcher(support.DispatcherConfig{Store: s, Targets: desk.Targets(), Owner: "a", Now: c.Now,
		Rand: func() float64 { return 0.5 }, Timeout: time.Second, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	e, err := desk.Escalate(ctx, newEscalation("notes", support.PriorityNormal))
	if err != nil {
		t.Fatal(err)
	}
	const secret = "SECRET-NOTE: she sounded worried about her PA's back pay"
	for _, step := range []func() error{
		func() error { _, err := desk.Claim(ctx, e.ID, "alex"); return err },
		func() error { _, err := desk.Note(ctx, e.ID, "sam", secret+" (sam, on alex's claim)"); return err },
		func() error { _, err := desk.Reply(ctx, e.ID, "alex", "We are looking into it."); return err },
		func() error { _, err := desk.Resolve(ctx, e.ID, "alex"); return err },
		func() error { _, err := desk.Note(ctx, e.ID, "alex", secret+" (after resolving)"); return err },
		func() error { _, err := desk.Reopen(ctx, e.ID, "alex"); return err },
		func() error { _, err := desk.Claim(ctx, e.ID, "alex"); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Minute)
	}
	drain(t, disp)
	before := len(deliveriesFor(t, s, e.ID, "webhook:test"))
	if _, err := desk.Note(ctx, e.ID, "kim", "one more"); err != nil {
		t.Fatal(err)
	}
	if after := len(deliveriesFor(t, s, e.ID, "webhook:test")); after != before {
		t.Errorf("a note wrote %d outbox rows; it must tell no one", after-before)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", support.MaxTextLen+1)} {
		if _, err := desk.Note(ctx, e.ID, "alex", bad); !errors.Is(err, support.ErrInvalid) {
			t.Errorf("a note of %d bytes: %v, want ErrInvalid", len(bad), err)
		}
	}
	if _, err := desk.Note(ctx, "no-such-id", "alex", "x"); !errors.Is(err, support.ErrNotFound) {
		t.Errorf("a note on an unknown escalation: %v, want ErrNotFound", err)
	}

	got, err := open(t, o).Get(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	var notes []support.Action
	for _, a := range got.Audit {
		if a.What == support.NoteAction {
			notes = append(notes, a)
		}
	}
	if len(notes) != 3 || notes[0].Who != "sam" || !strings.HasPrefix(notes[0].Note, secret) || notes[2].Note != "one more" {
		t.Errorf("the notes kept: %+v", notes)
	}
	rel.mu.Lock()
	defer rel.mu.Unlock()
	if len(rel.got) < 4 {
		t.Fatalf("the relay was handed %d events; want the claims, the reply, the resolution and the reopen", len(rel.got))
	}
	for _, g := range rel.got {
		if strings.Contains(g, "SECRET-NOTE") || strings.Contains(g, "one more") {
			t.Fatalf("the relay was handed a note's text: %s", g)
		}
	}
}

// testListUpdatedSince checks the filter behind "resolved today": only
// escalations last changed at or after the time are listed, in the queue's
// order, combined with the status.
func testListUpdatedSince(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	c := newClock()
	r := newRig(t, s, c, "a")
	old := escalate(t, r, "since-old", support.PriorityNormal)
	noErr(t)(r.desk.Resolve(ctx, old.ID, "alex"))
	c.Add(24 * time.Hour)
	midnight := c.Now()
	early := escalate(t, r, "since-early", support.PriorityNormal) // created before today, resolved today
	_ = early
	c.Add(time.Hour)
	noErr(t)(r.desk.Resolve(ctx, early.ID, "alex"))
	urgent := escalate(t, r, "since-urgent", support.PriorityUrgent)
	noErr(t)(r.desk.Resolve(ctx, urgent.ID, "sam"))
	open := escalate(t, r, "since-open", support.PriorityNormal)
	_ = open
	got, err := s.List(ctx, support.ListQuery{Status: support.StatusResolved, UpdatedSince: midnight, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	if want := []string{urgent.ID, early.ID}; fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("resolved since midnight: %v, want %v (urgent first, then oldest)", ids, want)
	}
	all, err := s.List(ctx, support.ListQuery{UpdatedSince: midnight, Limit: 10})
	if err != nil || len(all) != 3 {
		t.Errorf("changed since midnight, any status: %d escalations, %v; want 3", len(all), err)
	}
}
