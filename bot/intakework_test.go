package bot_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/bottest"
)

// startWorker runs an intake worker over m with handle until the test ends.
func startWorker(t *testing.T, m bot.Intake, handle func(context.Context, bot.Inbound) error, change func(*bot.IntakeConfig)) *bot.IntakeWorker {
	t.Helper()
	cfg := bot.IntakeConfig{
		Intake: m, Source: "test", Handle: handle,
		Poll: 5 * time.Millisecond, RetryBase: time.Millisecond, RetryMax: 2 * time.Millisecond,
		ShutdownTimeout: 50 * time.Millisecond,
	}
	if change != nil {
		change(&cfg)
	}
	w, err := bot.NewIntakeWorker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return w
}

// eventually waits for cond, failing the test after a few seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestIntakeWorkerHandlesEachOnceInOrder(t *testing.T) {
	m := bottest.NewIntake()
	var mu sync.Mutex
	got := map[string][]string{}
	w := startWorker(t, m, func(_ context.Context, in bot.Inbound) error {
		time.Sleep(time.Millisecond)
		mu.Lock()
		got[in.Key] = append(got[in.Key], in.ID)
		mu.Unlock()
		return nil
	}, nil)
	for i := range 10 {
		for _, key := range []string{"ann", "bob", "cat"} {
			id := fmt.Sprint(key, i)
			if fresh, err := w.Receive(context.Background(), bot.Inbound{ID: id, Key: key}); err != nil || !fresh {
				t.Fatalf("Receive(%s) = %v, %v", id, fresh, err)
			}
		}
	}
	if fresh, _ := w.Receive(context.Background(), bot.Inbound{ID: "ann0", Key: "ann"}); fresh {
		t.Error("a repeated delivery was received as new")
	}
	eventually(t, "every delivery handled", func() bool { return len(m.Handled()) == 30 })
	mu.Lock()
	defer mu.Unlock()
	for _, key := range []string{"ann", "bob", "cat"} {
		var want []string
		for i := range 10 {
			want = append(want, fmt.Sprint(key, i))
		}
		if !slices.Equal(got[key], want) {
			t.Errorf("%s's messages were handled as %v; want once each, in order", key, got[key])
		}
	}
}

func TestIntakeWorkerRetriesThenGivesUp(t *testing.T) {
	m := bottest.NewIntake()
	var mu sync.Mutex
	calls := map[string]int{}
	var gaveUp []string
	w := startWorker(t, m, func(_ context.Context, in bot.Inbound) error {
		mu.Lock()
		defer mu.Unlock()
		calls[in.ID]++
		switch {
		case in.ID == "flaky" && calls[in.ID] < 3:
			return errors.New("store down")
		case in.ID == "broken":
			panic("bug")
		}
		return nil
	}, func(c *bot.IntakeConfig) {
		c.MaxAttempts = 4
		c.GiveUp = func(_ context.Context, in bot.Inbound, err error) {
			mu.Lock()
			defer mu.Unlock()
			gaveUp = append(gaveUp, in.ID)
		}
	})
	for _, id := range []string{"flaky", "broken", "fine"} {
		if _, err := w.Receive(context.Background(), bot.Inbound{ID: id, Key: id}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the intake to empty", func() bool { return m.Pending() == 0 })
	mu.Lock()
	defer mu.Unlock()
	if calls["flaky"] != 3 || calls["fine"] != 1 {
		t.Errorf("calls = %v; want flaky handled on its third attempt, fine once", calls)
	}
	if calls["broken"] != 4 || !slices.Equal(gaveUp, []string{"broken"}) {
		t.Errorf("a handler that always panics was called %d times and given up on %v; want 4 attempts, then given up once", calls["broken"], gaveUp)
	}
}

func TestIntakeWorkerLeavesUnfinishedWorkForTheNext(t *testing.T) {
	m := bottest.NewIntake()
	started := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	first, err := bot.NewIntakeWorker(bot.IntakeConfig{
		Intake: m, Source: "test", Poll: 5 * time.Millisecond, ShutdownTimeout: 20 * time.Millisecond,
		Handle: func(ctx context.Context, in bot.Inbound) error {
			close(started)
			<-ctx.Done() // stuck until shutdown gives up on it
			return ctx.Err()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	if _, err := first.Receive(ctx, bot.Inbound{ID: "1", Key: "k"}); err != nil {
		t.Fatal(err)
	}
	<-started
	if err := first.Run(ctx); err == nil {
		t.Error("a second Run of the same worker was allowed")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if m.Pending() != 1 {
		t.Fatalf("after a shutdown that cut the handler short, %d deliveries wait; want 1", m.Pending())
	}
	later := func() time.Time { return time.Now().Add(2 * time.Minute) } // the lease has run out
	startWorker(t, m, func(context.Context, bot.Inbound) error { return nil }, func(c *bot.IntakeConfig) { c.Now = later })
	eventually(t, "the next worker to handle it", func() bool { return slices.Equal(m.Handled(), []string{"1"}) })
}

func TestIntakeWorkerReceiveFailsWhenTheStoreDoes(t *testing.T) {
	m := bottest.NewIntake()
	m.Fail(errors.New("database is down"))
	w, err := bot.NewIntakeWorker(bot.IntakeConfig{Intake: m, Source: "test", Handle: func(context.Context, bot.Inbound) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Receive(context.Background(), bot.Inbound{ID: "1", Key: "k"}); err == nil {
		t.Fatal("Receive reported success while the store was down: the platform would be told the update arrived")
	}
}
