package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/askpa/askpa/internal/backoff"
)

// IntakeConfig configures an IntakeWorker. Intake, Source and Handle are
// required; the rest have defaults.
type IntakeConfig struct {
	Intake Intake
	// Source is the platform whose deliveries the worker receives and
	// handles ("telegram", "slack").
	Source string
	// Handle handles one delivery. It returns an error only when the
	// delivery could not be handled now and should be tried again later
	// (the bot's store is down, say); it must then not have told the person
	// anything yet. Its context ends before the lease does.
	Handle func(ctx context.Context, in Inbound) error
	// GiveUp, when set, is called with a delivery whose last attempt
	// failed, before it is removed: the channel can say sorry to the
	// person.
	GiveUp func(ctx context.Context, in Inbound, err error)

	// Workers is how many deliveries are handled at once (default 8).
	Workers int
	// Lease is how long a worker holds a delivery before another process
	// may take it over (default 1 minute).
	Lease time.Duration
	// Poll is how often the intake is read when nothing else wakes the
	// worker: for deliveries received by another process, retries that
	// fall due and leases that run out (default 1 second).
	Poll time.Duration
	// MaxAttempts bounds the attempts at one delivery (default 5).
	MaxAttempts int
	// RetryBase and RetryMax bound the wait before another attempt, which
	// doubles from RetryBase (default 2 seconds) up to RetryMax (default 1
	// minute).
	RetryBase, RetryMax time.Duration
	// ShutdownTimeout is how long Run waits, once its context ends, for
	// the deliveries being handled (default 10 seconds). Those still
	// running are then cancelled and left in the intake for later.
	ShutdownTimeout time.Duration
	// Owner names this worker's leases; default a random name.
	Owner  string
	Now    func() time.Time
	Logger *slog.Logger
}

// IntakeWorker takes a platform's deliveries into the Intake before they
// are acknowledged (Receive) and handles them from there (Run): in order
// per conversation, at most Workers at once, across restarts and
// processes. A delivery whose handler fails is tried again later.
type IntakeWorker struct {
	cfg     IntakeConfig
	log     *slog.Logger
	wake    chan struct{}
	running atomic.Bool
}

// NewIntakeWorker returns an IntakeWorker for cfg, or an error when Intake,
// Source or Handle is missing. It starts nothing: Run does.
func NewIntakeWorker(cfg IntakeConfig) (*IntakeWorker, error) {
	if cfg.Intake == nil || cfg.Source == "" || cfg.Handle == nil {
		return nil, errors.New("bot: an intake worker needs an Intake, a Source and a Handle")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Lease <= 0 {
		cfg.Lease = time.Minute
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 2 * time.Second
	}
	if cfg.RetryMax < cfg.RetryBase {
		cfg.RetryMax = max(time.Minute, cfg.RetryBase)
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	if cfg.Owner == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		cfg.Owner = cfg.Source + "-" + hex.EncodeToString(b[:])
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &IntakeWorker{
		cfg:  cfg,
		log:  cfg.Logger.With("intake", cfg.Source),
		wake: make(chan struct{}, 1),
	}, nil
}

// Receive writes a delivery to the intake (its Source and Received are
// filled in) and wakes Run. It reports false for a repeat of a delivery
// already received. The platform may be told the delivery arrived only
// when Receive returns no error.
func (w *IntakeWorker) Receive(ctx context.Context, in Inbound) (bool, error) {
	in.Source = w.cfg.Source
	in.Received = w.cfg.Now()
	fresh, err := w.cfg.Intake.Receive(ctx, in)
	if err != nil {
		return false, fmt.Errorf("%s intake: %w", w.cfg.Source, err)
	}
	if fresh {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return fresh, nil
}

// Run handles deliveries from the intake until ctx ends, and blocks until
// then. It then stops taking new ones, waits up to ShutdownTimeout for
// those being handled, and returns nil; a delivery it did not finish stays
// in the intake for the next worker. It returns an error at once when Run
// is already running.
func (w *IntakeWorker) Run(ctx context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return fmt.Errorf("bot: %s intake worker already running", w.cfg.Source)
	}
	defer w.running.Store(false)

	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	var (
		wg       sync.WaitGroup
		busy     atomic.Int32
		finished = make(chan struct{}, 1)
	)
	failures := 0
	for ctx.Err() == nil {
		wait := w.cfg.Poll
		if free := w.cfg.Workers - int(busy.Load()); free > 0 {
			now := w.cfg.Now()
			batch, err := w.cfg.Intake.Lease(ctx, w.cfg.Source, w.cfg.Owner, now, now.Add(w.cfg.Lease), free)
			switch {
			case err != nil && ctx.Err() != nil:
				continue
			case err != nil:
				failures++
				wait = w.backoff(failures)
				w.log.Warn("intake: could not read the intake; retrying", "failures", failures, "wait", wait, "error", err)
			default:
				failures = 0
				for _, in := range batch {
					busy.Add(1)
					wg.Go(func() {
						defer func() {
							busy.Add(-1)
							select {
							case finished <- struct{}{}:
							default:
							}
						}()
						w.handle(work, in)
					})
				}
				if len(batch) == free {
					continue // there may be more waiting
				}
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-w.wake:
		case <-finished:
		case <-t.C:
		}
		t.Stop()
	}
	w.drain(&wg, cancelWork)
	return nil
}

// drain waits for the deliveries being handled, for up to ShutdownTimeout,
// and then cancels them.
func (w *IntakeWorker) drain(wg *sync.WaitGroup, cancelWork context.CancelFunc) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(w.cfg.ShutdownTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		w.log.Warn("intake: shutdown timeout; deliveries still being handled stay in the intake")
		cancelWork()
		<-done
	}
}

// handle handles one leased delivery and settles it: removed when handled
// or given up, given back for later when Handle fails.
func (w *IntakeWorker) handle(ctx context.Context, in Inbound) {
	log := w.log.With("seq", in.Seq, "attempt", in.Attempts+1)
	hctx, cancel := context.WithTimeout(ctx, w.cfg.Lease*9/10)
	err := w.call(hctx, in)
	cancel()
	if err != nil && ctx.Err() != nil {
		return // cancelled at shutdown: the delivery stays for the next worker
	}
	ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	switch {
	case err == nil:
	case in.Attempts+1 < w.cfg.MaxAttempts:
		wait := w.backoff(in.Attempts + 1)
		log.Warn("intake: delivery not handled; will try again", "wait", wait, "error", err)
		if err := w.cfg.Intake.Retry(ctx, in.Seq, w.cfg.Owner, w.cfg.Now().Add(wait)); err != nil {
			log.Error("intake: could not reschedule the delivery", "error", err)
		}
		return
	default:
		log.Error("intake: delivery not handled; giving up", "error", err)
		w.giveUp(ctx, in, err)
	}
	if err := w.cfg.Intake.Done(ctx, in.Seq, w.cfg.Owner); err != nil {
		log.Error("intake: handled delivery not removed; it may be handled again", "error", err)
	}
}

// call runs Handle, turning a panic into an error.
func (w *IntakeWorker) call(ctx context.Context, in Inbound) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return w.cfg.Handle(ctx, in)
}

// giveUp calls GiveUp, if set, turning a panic into a log line: a
// delivery that makes it panic must still leave the intake.
func (w *IntakeWorker) giveUp(ctx context.Context, in Inbound, err error) {
	if w.cfg.GiveUp == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			w.log.Error("intake: giving up on a delivery panicked", "seq", in.Seq, "panic", fmt.Sprint(p))
		}
	}()
	w.cfg.GiveUp(ctx, in, err)
}

// backoff is the wait after the given number of failures in a row.
func (w *IntakeWorker) backoff(failures int) time.Duration {
	return backoff.Policy{Base: w.cfg.RetryBase, Max: w.cfg.RetryMax}.Next(failures)
}
