package support

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DispatcherConfig configures a Dispatcher. Store and Targets are required;
// zero values of the rest are sensible defaults.
type DispatcherConfig struct {
	Store   Store
	Targets []Target // usually Desk.Targets()
	// Owner names this process in delivery leases; empty means a random id.
	Owner string
	// Workers is how many deliveries run at once (default 4); Batch how
	// many are leased per poll (default 32).
	Workers, Batch int
	// Poll is the wait between polls when there is nothing to do (default
	// 1s); Wake cuts it short.
	Poll time.Duration
	// Timeout limits one attempt (default WebhookTimeout). Lease is how
	// long a leased delivery is kept from other processes (default Timeout
	// plus 20s); it must be longer than Timeout.
	Timeout, Lease time.Duration
	// Retry is the default Backoff (DefaultBackoff); a Target that is a
	// Retrier has its own.
	Retry  Backoff
	Now    func() time.Time
	Rand   func() float64 // jitter source in [0, 1); nil means math/rand
	Logger *slog.Logger
	// Registerer, when set, gets askpa_deliveries_total (by target kind and
	// outcome: delivered, retry, failed).
	Registerer prometheus.Registerer
}

// Dispatcher delivers the outbox: it leases due deliveries from the store,
// hands each to its target, and records the outcome, retrying failures with
// backoff. Several dispatchers, in one process or many, may share a store.
type Dispatcher struct {
	cfg     DispatcherConfig
	targets map[string]Target
	names   []string
	wake    chan struct{}
	log     *slog.Logger
	counts  *prometheus.CounterVec
}

// NewDispatcher returns a Dispatcher for cfg; it starts nothing. It fails
// when Store is nil, a target name repeats, Lease is not longer than
// Timeout, or a collector cannot be registered.
func NewDispatcher(cfg DispatcherConfig) (*Dispatcher, error) {
	if cfg.Store == nil {
		return nil, errors.New("support: NewDispatcher needs a Store")
	}
	if cfg.Owner == "" {
		cfg.Owner = newUUID()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 32
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = WebhookTimeout
	}
	if cfg.Lease == 0 {
		cfg.Lease = cfg.Timeout + 20*time.Second
	}
	if cfg.Lease <= cfg.Timeout {
		return nil, errors.New("support: a delivery lease must be longer than the delivery timeout")
	}
	if cfg.Retry == (Backoff{}) {
		cfg.Retry = DefaultBackoff
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	d := &Dispatcher{cfg: cfg, targets: map[string]Target{}, wake: make(chan struct{}, 1), log: cfg.Logger}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	for _, t := range cfg.Targets {
		if _, dup := d.targets[t.Name()]; dup {
			return nil, fmt.Errorf("support: two targets are named %q", t.Name())
		}
		d.targets[t.Name()] = t
		d.names = append(d.names, t.Name())
	}
	d.counts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "askpa_deliveries_total",
		Help: "Outbox delivery attempts by target kind (webhook, relay, ...) and outcome (delivered, retry, failed).",
	}, []string{"target", "outcome"})
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(d.counts); err != nil {
			return nil, fmt.Errorf("support: register metrics: %w", err)
		}
	}
	return d, nil
}

// Wake makes a running dispatcher poll now; it never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is cancelled, then finishes the attempts in flight
// and returns nil. Store errors are logged and retried at the next poll.
func (d *Dispatcher) Run(ctx context.Context) error {
	if len(d.names) == 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-d.wake:
		}
		n, err := d.Pass(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.Warn("outbox poll failed", slog.String("error", err.Error()))
		}
		wait := d.cfg.Poll
		if n == d.cfg.Batch {
			wait = 0 // more may be due
		}
		t.Reset(wait)
	}
}

// Pass leases the deliveries due now, attempts each once, records the
// outcomes and returns how many it attempted. Attempts run to completion
// even when ctx is cancelled meanwhile; ctx only stops Pass from leasing.
func (d *Dispatcher) Pass(ctx context.Context) (int, error) {
	if ctx.Err() != nil {
		return 0, nil
	}
	now := d.cfg.Now()
	batch, err := d.cfg.Store.ClaimDeliveries(ctx, d.names, d.cfg.Owner, now, now.Add(d.cfg.Lease), d.cfg.Batch)
	if err != nil {
		return 0, fmt.Errorf("lease deliveries: %w", err)
	}
	work := context.WithoutCancel(ctx)
	sem := make(chan struct{}, d.cfg.Workers)
	var wg sync.WaitGroup
	for _, dl := range batch {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			d.attempt(work, dl)
		}()
	}
	wg.Wait()
	return len(batch), nil
}

// attempt makes one delivery attempt and settles it.
func (d *Dispatcher) attempt(ctx context.Context, dl Delivery) {
	t := d.targets[dl.Target]
	actx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	err := deliverSafely(actx, t, dl.Event)
	cancel()
	now := d.cfg.Now()
	s := Settlement{DeliveryID: dl.ID, EscalationID: dl.EscalationID, Owner: d.cfg.Owner, Attempts: dl.Attempts + 1, At: now}
	b := backoffFor(t, d.cfg.Retry)
	outcome := "delivered"
	switch {
	case err == nil:
		s.Status = DeliveryDelivered
	case IsPermanent(err) || now.Sub(dl.CreatedAt) >= b.GiveUpAfter:
		s.Status, s.LastError, outcome = DeliveryFailed, errText(err), "failed"
	default:
		s.Status, s.LastError, outcome = DeliveryPending, errText(err), "retry"
		s.NextAttempt = now.Add(b.Delay(s.Attempts, d.cfg.Rand()))
	}
	if s.Status != DeliveryPending && dl.Target == RelayTargetName && dl.Event.Name == EventReplied && dl.Event.Message != nil {
		seq := dl.Event.Message.Seq
		s.Change = func(e *Escalation) { delivered(e, seq, err, now) }
	}
	d.counts.WithLabelValues(targetKind(dl.Target), outcome).Inc()
	attrs := []slog.Attr{slog.String("delivery", dl.ID), slog.String("escalation", dl.EscalationID),
		slog.String("target", targetKind(dl.Target)), slog.String("event", dl.Event.Name), slog.Int("attempt", s.Attempts)}
	if err != nil {
		attrs = append(attrs, slog.String("error", s.LastError))
	}
	d.log.LogAttrs(ctx, levelFor(outcome), "delivery "+outcome, attrs...)
	if err := d.cfg.Store.Settle(ctx, s); err != nil {
		d.log.Warn("could not record a delivery outcome; it will be retried when its lease ends",
			slog.String("delivery", dl.ID), slog.String("error", err.Error()))
	}
}

// deliverSafely calls t.Deliver, turning a panic into an error so that one
// bad target cannot stop the dispatcher.
func deliverSafely(ctx context.Context, t Target, ev Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("target panicked: %v", r)
		}
	}()
	return t.Deliver(ctx, ev)
}

func levelFor(outcome string) slog.Level {
	switch outcome {
	case "failed":
		return slog.LevelError
	case "retry":
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// errText keeps a stored error message short.
func errText(err error) string {
	s := err.Error()
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}

// targetKind is a target's name up to its first colon: webhook, relay, ...
func targetKind(name string) string {
	kind, _, _ := strings.Cut(name, ":")
	return kind
}
