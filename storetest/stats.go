package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/askpa/askpa/support"
)

// stats reads s's on-call figures at now, failing the test on an error.
func stats(t testing.TB, s Store, now time.Time) support.Stats {
	t.Helper()
	st, err := s.Stats(context.Background(), now)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st
}

// testStats checks the figures a person on call watches, as another
// process sharing the store reads them: the unresolved escalations by
// priority and status, how long the oldest unclaimed one of each priority
// has waited, the outbox backlog while a webhook receiver fails and after
// it recovers, and the intake backlog.
func testStats(t *testing.T, o Opener) {
	ctx := context.Background()
	s, watcher := open(t, o), open(t, o)
	c := newClock()
	t0 := c.Now()

	empty := stats(t, watcher, t0)
	if n := empty.Unresolved[support.PriorityUrgent][support.StatusOpen] + empty.OutboxPending + len(empty.IntakeWaiting) + len(empty.OldestUnclaimed); n != 0 || empty.OutboxOldest != 0 {
		t.Fatalf("an empty store reports %+v; want nothing waiting", empty)
	}

	r := newRig(t, s, c, "a")
	r.hook.fail = func(support.Event) error { return errors.New("503 Service Unavailable") }
	escalate(t, r, "waiting-urgent", support.PriorityUrgent) // created at t0, never claimed
	c.Add(10 * time.Minute)
	escalate(t, r, "waiting-normal", support.PriorityNormal) // t0+10m
	held := escalate(t, r, "held-urgent", support.PriorityUrgent)
	noErr(t)(r.desk.Claim(ctx, held.ID, "alex"))
	done := escalate(t, r, "done-normal", support.PriorityNormal)
	noErr(t)(r.desk.Resolve(ctx, done.ID, "alex"))
	c.Add(5 * time.Minute)
	now := c.Now() // t0+15m

	if _, err := r.disp.Pass(ctx); err != nil { // every attempt fails: the rows stay pending
		t.Fatal(err)
	}
	st := stats(t, watcher, now)
	want := map[support.Priority]map[support.Status]int{
		support.PriorityUrgent: {support.StatusOpen: 1, support.StatusClaimed: 1},
		support.PriorityNormal: {support.StatusOpen: 1, support.StatusClaimed: 0},
	}
	for p, byStatus := range want {
		for status, n := range byStatus {
			if got := st.Unresolved[p][status]; got != n {
				t.Errorf("unresolved %s escalations with status %s: %d, want %d", p, status, got, n)
			}
		}
	}
	if got := st.OldestUnclaimed[support.PriorityUrgent]; got != 15*time.Minute {
		t.Errorf("oldest unclaimed urgent escalation: %v old, want 15m0s (the claimed one does not count)", got)
	}
	if got := st.OldestUnclaimed[support.PriorityNormal]; got != 5*time.Minute {
		t.Errorf("oldest unclaimed normal escalation: %v old, want 5m0s (the resolved one does not count)", got)
	}
	// created x4, claimed, resolved: six events for the one failing target.
	if st.OutboxPending != 6 || st.OutboxOldest != 15*time.Minute {
		t.Errorf("outbox while the receiver fails: %d pending, oldest %v; want 6, 15m0s", st.OutboxPending, st.OutboxOldest)
	}

	r.hook.fail = nil
	c.Add(time.Hour) // past every retry's backoff
	drain(t, r.disp)
	if st := stats(t, watcher, c.Now()); st.OutboxPending != 0 || st.OutboxOldest != 0 {
		t.Errorf("outbox after the receiver recovered: %d pending, oldest %v; want 0, 0", st.OutboxPending, st.OutboxOldest)
	}
	es, err := s.EscalationsOf(ctx, "web", "waiting-urgent")
	if err != nil || len(es) != 1 {
		t.Fatalf("EscalationsOf(waiting-urgent) = %d, %v", len(es), err)
	}
	noErr(t)(r.desk.Claim(ctx, es[0].ID, "sam"))
	if st := stats(t, watcher, c.Now()); st.Unresolved[support.PriorityUrgent][support.StatusOpen] != 0 || st.OldestUnclaimed[support.PriorityUrgent] != 0 {
		t.Errorf("after every urgent escalation was claimed: %d open, oldest %v; want 0, 0",
			st.Unresolved[support.PriorityUrgent][support.StatusOpen], st.OldestUnclaimed[support.PriorityUrgent])
	}

	// The intake: deliveries received and not yet handled.
	in := c.Now()
	receive(t, s, "telegram", "901", "chat-1", in)
	receive(t, s, "telegram", "902", "chat-2", in.Add(time.Minute))
	receive(t, s, "slack", "Ev1", "team-1", in.Add(2*time.Minute))
	at := in.Add(7 * time.Minute)
	st = stats(t, watcher, at)
	if st.IntakeWaiting["telegram"] != 2 || st.IntakeOldest["telegram"] != 7*time.Minute ||
		st.IntakeWaiting["slack"] != 1 || st.IntakeOldest["slack"] != 5*time.Minute {
		t.Errorf("intake: waiting %v, oldest %v; want telegram 2 (7m0s), slack 1 (5m0s)", st.IntakeWaiting, st.IntakeOldest)
	}
	_, ins := leaseIDs(t, s, "telegram", "w1", at, 1)
	if len(ins) != 1 {
		t.Fatalf("leased %d telegram deliveries, want 1", len(ins))
	}
	if err := s.Done(ctx, ins[0].Seq, "w1"); err != nil {
		t.Fatal(err)
	}
	if st := stats(t, watcher, at); st.IntakeWaiting["telegram"] != 1 || st.IntakeOldest["telegram"] != 6*time.Minute {
		t.Errorf("intake after one telegram delivery was handled: %d waiting, oldest %v; want 1, 6m0s",
			st.IntakeWaiting["telegram"], st.IntakeOldest["telegram"])
	}
}
