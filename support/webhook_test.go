package support_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/askpa/askpa/sqlite"
	"github.com/askpa/askpa/support"
)

func TestVerify(t *testing.T) {
	secret := []byte("s3cret")
	body := []byte(`{"event":"escalation.created"}`)
	now := time.Unix(1_800_000_000, 0)
	ts := now.Unix()
	good := support.Sign(secret, ts, body)
	for _, tc := range []struct {
		name      string
		ts        string
		sig       string
		body      []byte
		at        time.Time
		want      error
		wantValid bool
	}{
		{"signed now", strconv.FormatInt(ts, 10), good, body, now, nil, true},
		{"4 minutes late", strconv.FormatInt(ts, 10), good, body, now.Add(4 * time.Minute), nil, true},
		{"6 minutes late", strconv.FormatInt(ts, 10), good, body, now.Add(6 * time.Minute), support.ErrStale, false},
		{"6 minutes early", strconv.FormatInt(ts, 10), good, body, now.Add(-6 * time.Minute), support.ErrStale, false},
		{"other secret", strconv.FormatInt(ts, 10), support.Sign([]byte("guess"), ts, body), body, now, support.ErrBadSignature, false},
		{"body changed", strconv.FormatInt(ts, 10), good, []byte(`{"event":"escalation.resolved"}`), now, support.ErrBadSignature, false},
		{"timestamp changed", strconv.FormatInt(ts+1, 10), good, body, now, support.ErrBadSignature, false},
		{"no signature", strconv.FormatInt(ts, 10), "", body, now, support.ErrBadSignature, false},
		{"bare hex", strconv.FormatInt(ts, 10), good[len("sha256="):], body, now, support.ErrBadSignature, false},
		{"no timestamp", "", good, body, now, support.ErrBadSignature, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := support.Verify(secret, tc.ts, tc.sig, tc.body, tc.at)
			if (err == nil) != tc.wantValid || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("Verify: %v, want %v", err, tc.want)
			}
		})
	}
	// The signature is the design's: hex HMAC-SHA256 of "ts.body" (value computed independently with Python's hmac).
	if got := support.Sign([]byte("key"), 1, []byte("x")); got != "sha256=fc4913c41a7bf793267e2a384f3261c9436ec2cd097bd745e7b0d99113f510ec" {
		t.Errorf("Sign = %s", got)
	}
}

// flakyReceiver verifies each webhook and answers 503 while down.
type flakyReceiver struct {
	mu        sync.Mutex
	down      bool
	secret    []byte
	attempts  map[string]int // delivery id -> attempts
	delivered []support.Event
	bad       int
}

func (f *flakyReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	id := r.Header.Get(support.HeaderDelivery)
	f.attempts[id]++
	if err := support.Verify(f.secret, r.Header.Get(support.HeaderTimestamp), r.Header.Get(support.HeaderSignature), body, time.Now()); err != nil {
		f.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if f.down {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	}
	var ev support.Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.DeliveryID != id || ev.Name != r.Header.Get(support.HeaderEvent) {
		f.bad++
		http.Error(w, "inconsistent", http.StatusBadRequest)
		return
	}
	f.delivered = append(f.delivered, ev)
}

// TestReceiverFailsThenRecovers runs the real webhook sender and dispatcher
// against a receiver that is down for a while: nothing is delivered while
// it is down, everything arrives once it is back, in order per escalation,
// each delivery with the same X-Askpa-Delivery on every attempt and a
// signature that verifies.
func TestReceiverFailsThenRecovers(t *testing.T) {
	ctx := context.Background()
	secret := []byte("webhook-secret")
	rcv := &flakyReceiver{down: true, secret: secret, attempts: map[string]int{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	hook, err := support.NewWebhook(srv.URL+"/hooks?token=abc", secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	if hook.Name() != "webhook:"+srv.URL+"/hooks" {
		t.Errorf("target name %q shows the query", hook.Name())
	}
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	desk, _ := support.NewDesk(support.Config{Store: store, Targets: []support.Target{hook}, Now: clock})
	disp, err := support.NewDispatcher(support.DispatcherConfig{Store: store, Targets: desk.Targets(), Now: clock, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 3 {
		e, err := desk.Escalate(ctx, support.NewEscalation{Address: support.Address{Channel: "web", UserID: strconv.Itoa(i)}, Reason: "requested"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := desk.Reply(ctx, e.ID, "alex", "hello"); err != nil {
			t.Fatal(err)
		}
		if _, err := desk.Resolve(ctx, e.ID, "alex"); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	// An hour of outage, attempted as the backoff allows.
	for range 20 {
		if _, err := disp.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		now = now.Add(3 * time.Minute)
		mu.Unlock()
	}
	if len(rcv.delivered) != 0 {
		t.Fatalf("%d events delivered while the receiver was down", len(rcv.delivered))
	}
	ds, _ := store.Deliveries(ctx, ids[0])
	if ds[0].Status != support.DeliveryPending || ds[0].Attempts < 3 || ds[0].LastError != "receiver answered 503 Service Unavailable" {
		t.Errorf("after an hour down the first delivery is %+v; want pending after several attempts, with the reason", ds[0])
	}
	rcv.mu.Lock()
	rcv.down = false
	rcv.mu.Unlock()
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	for range 10 {
		disp.Pass(ctx)
	}
	byEscalation := map[string][]string{}
	for _, ev := range rcv.delivered {
		byEscalation[ev.Escalation.ID] = append(byEscalation[ev.Escalation.ID], ev.Name)
	}
	want := []string{support.EventCreated, support.EventClaimed, support.EventReplied, support.EventResolved}
	for _, id := range ids {
		if got := byEscalation[id]; !equal(got, want) {
			t.Errorf("escalation %s: receiver got %v, want %v in order", id, got, want)
		}
		ds, _ := store.Deliveries(ctx, id)
		for _, d := range ds {
			if d.Status != support.DeliveryDelivered || rcv.attempts[d.ID] != d.Attempts {
				t.Errorf("delivery %s: %s after %d attempts; receiver saw that id %d times", d.ID, d.Status, d.Attempts, rcv.attempts[d.ID])
			}
		}
	}
	if rcv.bad != 0 {
		t.Errorf("%d requests had a bad signature or body", rcv.bad)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// slowTarget blocks each delivery until released.
type slowTarget struct {
	started chan struct{}
	release chan struct{}
	done    chan string
}

func (s slowTarget) Name() string { return "slow" }
func (s slowTarget) Deliver(ctx context.Context, ev support.Event) error {
	s.started <- struct{}{}
	<-s.release
	s.done <- ev.DeliveryID
	return ctx.Err()
}

// TestDispatcherFinishesInFlightOnCancel checks that cancelling Run lets a
// delivery in progress finish and be recorded as delivered.
func TestDispatcherFinishesInFlightOnCancel(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tg := slowTarget{started: make(chan struct{}, 1), release: make(chan struct{}), done: make(chan string, 1)}
	desk, _ := support.NewDesk(support.Config{Store: store, Targets: []support.Target{tg}})
	disp, _ := support.NewDispatcher(support.DispatcherConfig{Store: store, Targets: desk.Targets(), Poll: 10 * time.Millisecond})
	e, err := desk.Escalate(ctx, support.NewEscalation{Address: support.Address{Channel: "web", UserID: "u"}})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- disp.Run(runCtx) }()
	<-tg.started
	cancel()
	select {
	case <-stopped:
		t.Fatal("Run returned with a delivery still in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(tg.release)
	if err := <-stopped; err != nil {
		t.Fatalf("Run: %v", err)
	}
	ds, _ := store.Deliveries(ctx, e.ID)
	if ds[0].Status != support.DeliveryDelivered {
		t.Errorf("the in-flight delivery ended %s, want delivered", ds[0].Status)
	}
}

func TestBackoffDelay(t *testing.T) {
	b := support.Backoff{Base: time.Second, Max: time.Minute}
	for _, tc := range []struct {
		n      int
		lo, hi time.Duration
	}{
		{1, 500 * time.Millisecond, time.Second},
		{2, time.Second, 2 * time.Second},
		{4, 4 * time.Second, 8 * time.Second},
		{7, 30 * time.Second, time.Minute},
		{500, 30 * time.Second, time.Minute},
	} {
		lo, hi := b.Delay(tc.n, 0), b.Delay(tc.n, 0.999999)
		if lo != tc.lo || hi < tc.hi-time.Millisecond || hi > tc.hi {
			t.Errorf("attempt %d: delay from %v to %v, want %v to %v", tc.n, lo, hi, tc.lo, tc.hi)
		}
	}
}
