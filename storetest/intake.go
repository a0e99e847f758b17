package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
)

// receive writes a delivery and fails the test unless it is new.
func receive(t testing.TB, s Store, source, id, key string, at time.Time) {
	t.Helper()
	fresh, err := s.Receive(context.Background(), bot.Inbound{Source: source, ID: id, Key: key, Payload: []byte(id), Received: at})
	if err != nil || !fresh {
		t.Fatalf("Receive(%s/%s) = %v, %v; want a new delivery", source, id, fresh, err)
	}
}

// leaseIDs leases for owner and returns the ids leased, in order.
func leaseIDs(t testing.TB, s Store, source, owner string, now time.Time, limit int) ([]string, []bot.Inbound) {
	t.Helper()
	ins, err := s.Lease(context.Background(), source, owner, now, now.Add(time.Minute), limit)
	if err != nil {
		t.Fatalf("Lease: %v", err)
	}
	var ids []string
	for _, in := range ins {
		ids = append(ids, in.ID)
	}
	return ids, ins
}

// testIntakeDeduplicates checks that a delivery received twice, through
// any handle, is written once.
func testIntakeDeduplicates(t *testing.T, o Opener) {
	ctx := context.Background()
	a, b := open(t, o), open(t, o)
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	receive(t, a, "telegram", "501", "chat-1", now)
	for _, h := range []Store{a, b} {
		fresh, err := h.Receive(ctx, bot.Inbound{Source: "telegram", ID: "501", Key: "chat-1", Payload: []byte("again"), Received: now})
		if err != nil || fresh {
			t.Errorf("a repeated delivery was received as new (%v, %v)", fresh, err)
		}
	}
	receive(t, b, "slack", "501", "chat-1", now) // another platform's id space
	ids, ins := leaseIDs(t, b, "telegram", "w1", now, 10)
	if !slices.Equal(ids, []string{"501"}) || string(ins[0].Payload) != "501" {
		t.Fatalf("leased %v; want the first delivery 501 only, with its own payload", ids)
	}
	if first, _ := a.FirstDelivery(ctx, "telegram", "501", now); first {
		t.Error("a delivery received into the intake was not recorded as seen")
	}
}

// testIntakeOrderPerConversation checks that a conversation's deliveries
// are leased one at a time, oldest first, while other conversations go on.
func testIntakeOrderPerConversation(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for _, d := range []struct{ id, key string }{{"a1", "A"}, {"b1", "B"}, {"a2", "A"}, {"a3", "A"}, {"b2", "B"}} {
		receive(t, s, "slack", d.id, d.key, now)
	}
	ids, ins := leaseIDs(t, s, "slack", "w1", now, 10)
	if !slices.Equal(ids, []string{"a1", "b1"}) {
		t.Fatalf("first lease = %v; want [a1 b1]: one delivery per conversation, oldest first", ids)
	}
	if ids, _ := leaseIDs(t, s, "slack", "w2", now, 10); len(ids) != 0 {
		t.Fatalf("a second worker leased %v while each conversation's oldest delivery was held", ids)
	}
	if err := s.Done(ctx, ins[0].Seq, "w1"); err != nil {
		t.Fatal(err)
	}
	if ids, _ := leaseIDs(t, s, "slack", "w2", now, 10); !slices.Equal(ids, []string{"a2"}) {
		t.Fatalf("after a1 was done, leased %v; want [a2]", ids)
	}
}

// testIntakeLeaseRunsOut checks that a crashed worker's delivery is taken
// over when its lease runs out, and that the crashed worker can then no
// longer settle it.
func testIntakeLeaseRunsOut(t *testing.T, o Opener) {
	ctx := context.Background()
	a, b := open(t, o), open(t, o)
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	receive(t, a, "telegram", "7", "chat-7", now)
	_, ins := leaseIDs(t, a, "telegram", "dead", now, 1)
	if len(ins) != 1 {
		t.Fatal("nothing leased")
	}
	if ids, _ := leaseIDs(t, b, "telegram", "alive", now.Add(30*time.Second), 1); len(ids) != 0 {
		t.Fatalf("leased %v before the lease ran out", ids)
	}
	ids, again := leaseIDs(t, b, "telegram", "alive", now.Add(61*time.Second), 1)
	if !slices.Equal(ids, []string{"7"}) {
		t.Fatalf("after the lease ran out, leased %v; want [7]", ids)
	}
	if err := a.Done(ctx, ins[0].Seq, "dead"); !errors.Is(err, bot.ErrLeaseLost) {
		t.Errorf("Done by the worker that lost its lease = %v; want ErrLeaseLost", err)
	}
	if err := b.Done(ctx, again[0].Seq, "alive"); err != nil {
		t.Errorf("Done by the lease holder: %v", err)
	}
	if ids, _ := leaseIDs(t, a, "telegram", "any", now.Add(time.Hour), 10); len(ids) != 0 {
		t.Errorf("a delivery that was done was leased again: %v", ids)
	}
}

// testIntakeRetry checks that a delivery given back is counted, waits until
// it is due, and keeps its conversation's later deliveries waiting.
func testIntakeRetry(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	receive(t, s, "telegram", "1", "chat", now)
	receive(t, s, "telegram", "2", "chat", now)
	_, ins := leaseIDs(t, s, "telegram", "w", now, 10)
	if err := s.Retry(ctx, ins[0].Seq, "other", now.Add(time.Minute)); !errors.Is(err, bot.ErrLeaseLost) {
		t.Errorf("Retry by a worker without the lease = %v; want ErrLeaseLost", err)
	}
	if err := s.Retry(ctx, ins[0].Seq, "w", now.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if ids, _ := leaseIDs(t, s, "telegram", "w", now.Add(5*time.Second), 10); len(ids) != 0 {
		t.Fatalf("leased %v before the retry was due; the later delivery must wait too", ids)
	}
	_, ins = leaseIDs(t, s, "telegram", "w", now.Add(10*time.Second), 10)
	if len(ins) != 1 || ins[0].ID != "1" || ins[0].Attempts != 1 {
		t.Fatalf("after the wait, leased %+v; want delivery 1 with 1 attempt counted", ins)
	}
}

// testIntakeSurvivesReopen checks that what was received is there for a
// new process, byte for byte, whatever the bytes.
func testIntakeSurvivesReopen(t *testing.T, o Opener) {
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	payload := []byte("{\"text\":\"help \x00 me \xff\xfe\"}")
	a := o(t)
	if _, err := a.Receive(ctx, bot.Inbound{Source: "telegram", ID: "9", Key: "c", Payload: payload, Received: now}); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b := open(t, o)
	_, ins := leaseIDs(t, b, "telegram", "w", now, 10)
	if len(ins) != 1 || !bytes.Equal(ins[0].Payload, payload) || !ins[0].Received.Equal(now) || ins[0].Key != "c" {
		t.Fatalf("after reopening, leased %+v; want the delivery with its payload intact", ins)
	}
}

// testIntakeConcurrentWorkers runs several workers on several handles and
// checks that every delivery is handled exactly once, each conversation's
// in the order received.
func testIntakeConcurrentWorkers(t *testing.T, o Opener) {
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	const convs, per = 8, 12
	s := open(t, o)
	for i := range per {
		for c := range convs {
			receive(t, s, "slack", fmt.Sprintf("%d-%02d", c, i), fmt.Sprint(c), now)
		}
	}
	var (
		mu      sync.Mutex
		handled = map[string][]string{}
		wg      sync.WaitGroup
	)
	for w := range 4 {
		h := open(t, o)
		owner := fmt.Sprint("worker-", w)
		wg.Go(func() {
			for idle := 0; idle < 3; {
				ins, err := h.Lease(ctx, "slack", owner, now, now.Add(time.Minute), 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ins) == 0 {
					idle++
					time.Sleep(10 * time.Millisecond)
					continue
				}
				idle = 0
				for _, in := range ins {
					mu.Lock()
					handled[in.Key] = append(handled[in.Key], in.ID)
					mu.Unlock()
					if err := h.Done(ctx, in.Seq, owner); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	for c := range convs {
		got := handled[fmt.Sprint(c)]
		var want []string
		for i := range per {
			want = append(want, fmt.Sprintf("%d-%02d", c, i))
		}
		if !slices.Equal(got, want) {
			t.Errorf("conversation %d handled %v; want each delivery once, in order %v", c, got, want)
		}
	}
}

// testIntakeReceivedTogether receives many deliveries at once, each sent
// twice, as webhooks arriving together are, and among them one that a
// store may refuse (a NUL byte in its id): each good delivery must be new
// exactly once and there to lease, whatever became of the bad one.
func testIntakeReceivedTogether(t *testing.T, o Opener) {
	s := open(t, o)
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	const n = 150 // more than one group's worth (maxGroup) when all arrive at once
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh := map[string]int{}
	badStored := 0
	for g := range 2*n + 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint(g % n)
			if g == 2*n {
				id = "bad\x00id"
			}
			ok, err := s.Receive(context.Background(), bot.Inbound{Source: "telegram", ID: id, Key: "chat-" + fmt.Sprint(g%7), Payload: []byte(id), Received: now})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case g == 2*n:
				if ok {
					badStored++
				}
			case err != nil:
				t.Errorf("Receive(%s): %v", id, err)
			case ok:
				fresh[id]++
			}
		}()
	}
	wg.Wait()
	t.Logf("the delivery with a NUL byte in its id was stored: %t", badStored == 1)
	for i := range n {
		if got := fresh[fmt.Sprint(i)]; got != 1 {
			t.Errorf("delivery %d was new %d times, want once", i, got)
		}
	}
	leased := 0
	for round := 0; round < 3*n; round++ {
		_, ins := leaseIDs(t, s, "telegram", "w1", now, 100)
		if len(ins) == 0 {
			break
		}
		for _, in := range ins {
			leased++
			if err := s.Done(context.Background(), in.Seq, "w1"); err != nil {
				t.Fatalf("Done: %v", err)
			}
		}
	}
	if leased != n+badStored {
		t.Errorf("leased %d deliveries, want %d", leased, n+badStored)
	}
}
