package retention

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"720h": 720 * time.Hour, "30d": 30 * Day, " 3d ": 3 * Day, "90m": 90 * time.Minute, "0d": 0, "8760h": 365 * Day,
	} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "30", "thirty days", "-1h", "-3d", "3.5d", "1y", "99999999d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", bad)
		}
	}
}

func TestWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * Day: "30 days", 365 * Day: "1 year", 730 * Day: "2 years", Day: "1 day", 36 * time.Hour: "36 hours",
		time.Hour: "1 hour", 90 * time.Minute: "90 minutes", 400 * Day: "400 days", 1500 * time.Millisecond: "1.5s",
	} {
		if got := Words(d); got != want {
			t.Errorf("Words(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	if err := (Policy{}).Check(); err != nil {
		t.Errorf("the zero policy (defaults): %v", err)
	}
	if err := DefaultPolicy().Check(); err != nil {
		t.Errorf("the defaults: %v", err)
	}
	if err := MinimumPolicy().Check(); err != nil {
		t.Errorf("the minimums: %v", err)
	}
	var re *RangeError
	err := Policy{Seen: 12 * time.Hour}.Check()
	if !errors.As(err, &re) || re.Field != "Seen" || re.Min != Day || !strings.Contains(err.Error(), "12 hours") {
		t.Errorf("seen of 12 hours: %v", err)
	}
	if err := (Policy{Conversations: -time.Hour}).Check(); !errors.As(err, &re) || re.Field != "Conversations" {
		t.Errorf("a negative period: %v", err)
	}
	// Introductions are kept at least the week a request waits for an
	// answer.
	err = Policy{Introductions: 6 * Day}.Check()
	if !errors.As(err, &re) || re.Field != "Introductions" || re.Min != 7*Day || !strings.Contains(err.Error(), "retention of introductions is 6 days") {
		t.Errorf("introductions of 6 days: %v", err)
	}
	if err := (Policy{Introductions: 7 * Day}).Check(); err != nil {
		t.Errorf("introductions of 7 days: %v", err)
	}
	if d := DefaultPolicy().Introductions; d != 90*Day {
		t.Errorf("introductions are kept %v by default, want 90 days", d)
	}
}

func TestCutoffs(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	c := Policy{Mail: 2 * Day}.Cutoffs(now)
	want := Cutoffs{
		Conversations: now.Add(-30 * Day), Escalations: now.Add(-365 * Day), Payloads: now.Add(-7 * Day),
		Seen: now.Add(-3 * Day), Mail: now.Add(-2 * Day), WebSessions: now, Introductions: now.Add(-90 * Day),
	}
	if c != want {
		t.Errorf("Cutoffs = %+v, want %+v", c, want)
	}
}

// fakeStore records the cutoffs it is given and answers with counts.
type fakeStore struct {
	mu   sync.Mutex
	got  []Cutoffs
	n    Counts
	err  error
	call chan struct{}
}

func (f *fakeStore) Purge(_ context.Context, c Cutoffs, batch int) (Counts, error) {
	f.mu.Lock()
	f.got = append(f.got, c)
	f.mu.Unlock()
	if f.call != nil {
		f.call <- struct{}{}
	}
	return f.n, f.err
}

// fakeLeader holds one role for one caller at a time.
type fakeLeader struct {
	mu   sync.Mutex
	held bool
	err  error
}

func (l *fakeLeader) Lead(context.Context, string) (<-chan struct{}, func(), bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil || l.held {
		return nil, nil, false, l.err
	}
	l.held = true
	return make(chan struct{}), func() { l.mu.Lock(); l.held = false; l.mu.Unlock() }, true, nil
}

func TestPurgeOnce(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	store := &fakeStore{n: Counts{Turns: 7, Seen: 3, Introductions: 2}}
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	leader := &fakeLeader{}
	r, err := NewRunner(Config{Store: store, Leader: leader, Policy: Policy{Conversations: 2 * Day}, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	n, err := r.PurgeOnce(context.Background())
	if err != nil || n != store.n {
		t.Fatalf("PurgeOnce = %+v, %v", n, err)
	}
	if want := (Policy{Conversations: 2 * Day}).Cutoffs(now); store.got[0] != want {
		t.Errorf("cutoffs %+v, want %+v", store.got[0], want)
	}
	if !strings.Contains(logs.String(), `"msg":"retention: purged","total":12`) || !strings.Contains(logs.String(), `"turns":7`) ||
		!strings.Contains(logs.String(), `"introductions":2`) {
		t.Errorf("log: %s", logs.String())
	}
	if v := purged(t, reg, "turns"); v != 7 {
		t.Errorf("askpa_retention_purged_total{kind=turns} = %v, want 7", v)
	}
	if v := purged(t, reg, "introductions"); v != 2 {
		t.Errorf("askpa_retention_purged_total{kind=introductions} = %v, want 2", v)
	}
	if leader.held {
		t.Error("the purge role was not given back")
	}

	// Another process holds the role: nothing is purged.
	leader.held = true
	if _, err := r.PurgeOnce(context.Background()); !errors.Is(err, ErrBusy) || len(store.got) != 1 {
		t.Errorf("PurgeOnce while another process purges: %v, %d purges; want ErrBusy and none", err, len(store.got))
	}
	leader.held, leader.err = false, errors.New("connection refused")
	if _, err := r.PurgeOnce(context.Background()); err == nil || errors.Is(err, ErrBusy) || len(store.got) != 1 {
		t.Errorf("PurgeOnce when the role cannot be asked for: %v", err)
	}

	// A failure part-way is logged with what was removed.
	leader.err = nil
	store.err = errors.New("disk full")
	logs.Reset()
	if _, err := r.PurgeOnce(context.Background()); err == nil {
		t.Error("a store error was swallowed")
	}
	if !strings.Contains(logs.String(), "disk full") || !strings.Contains(logs.String(), `"turns":7`) {
		t.Errorf("log of a failed purge: %s", logs.String())
	}
}

func TestNewRunnerRefuses(t *testing.T) {
	if _, err := NewRunner(Config{}); err == nil {
		t.Error("a runner without a store was made")
	}
	var re *RangeError
	if _, err := NewRunner(Config{Store: &fakeStore{}, Policy: Policy{Seen: time.Hour}}); !errors.As(err, &re) {
		t.Errorf("a policy below the minimum: %v", err)
	}
}

// TestRun checks that Run purges at once, then every interval, and stops
// when its context ends.
func TestRun(t *testing.T) {
	store := &fakeStore{call: make(chan struct{})}
	r, err := NewRunner(Config{Store: store, Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	for range 3 {
		select {
		case <-store.call:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not purge")
		}
	}
	cancel()
	go func() {
		for range store.call {
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

// purged returns askpa_retention_purged_total for kind.
func purged(t *testing.T, reg *prometheus.Registry, kind string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "askpa_retention_purged_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
