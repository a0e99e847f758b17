package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Runner. Store is required.
type Config struct {
	Store Store
	// Leader, when set, keeps purges to one process at a time among those
	// sharing the store (the role LeaderRole); nil means this process
	// purges whenever its turn comes.
	Leader Leader
	// Policy says how long records are kept; zero periods take the
	// defaults (see DefaultPolicy).
	Policy Policy
	// Interval is the time between purges (default 1 hour).
	Interval time.Duration
	// Batch is how many rows one transaction removes at most (default 500).
	Batch int
	// Registerer, when set, gets askpa_retention_purged_total by kind.
	Registerer prometheus.Registerer
	Now        func() time.Time
	Logger     *slog.Logger
}

// LeaderRole is the role a Runner takes through its Leader while it
// purges.
const LeaderRole = "askpa-retention-purge"

// Runner purges the store on a schedule.
type Runner struct {
	cfg    Config
	log    *slog.Logger
	purged *prometheus.CounterVec
}

// NewRunner returns a Runner for cfg. It fails when Store is missing, when
// a period of cfg.Policy is shorter than MinimumPolicy's (a *RangeError),
// or when its collector cannot be registered. It starts nothing: Run does.
func NewRunner(cfg Config) (*Runner, error) {
	if cfg.Store == nil {
		return nil, errors.New("retention: NewRunner needs a Store")
	}
	if err := cfg.Policy.Check(); err != nil {
		return nil, err
	}
	cfg.Policy = cfg.Policy.WithDefaults()
	if cfg.Interval <= 0 {
		cfg.Interval = time.Hour
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Runner{cfg: cfg, log: cfg.Logger, purged: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "askpa_retention_purged_total",
		Help: "Records removed (or, for outbox payloads and conversations kept for staff, cleared) by the retention purge, by kind.",
	}, []string{"kind"})}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(r.purged); err != nil {
			return nil, fmt.Errorf("retention: registering metrics: %w", err)
		}
	}
	return r, nil
}

// Policy returns the policy the runner applies, defaults filled in.
func (r *Runner) Policy() Policy { return r.cfg.Policy }

// PurgeOnce purges once, at the runner's clock's now, and logs what it
// removed (counts by kind, never content). It returns the counts and the
// store's error, or ErrBusy, having done nothing, when another process
// holds LeaderRole.
func (r *Runner) PurgeOnce(ctx context.Context) (Counts, error) {
	if r.cfg.Leader != nil {
		_, release, ok, err := r.cfg.Leader.Lead(ctx, LeaderRole)
		switch {
		case err != nil:
			r.log.Error("retention: could not take the purge role", slog.String("error", err.Error()))
			return Counts{}, fmt.Errorf("retention: %w", err)
		case !ok:
			r.log.Debug("retention: another process is purging; skipped")
			return Counts{}, ErrBusy
		}
		defer release()
	}
	start := r.cfg.Now()
	c, err := r.cfg.Store.Purge(ctx, r.cfg.Policy.Cutoffs(start), r.cfg.Batch)
	for _, k := range c.Kinds() {
		if k.N > 0 {
			r.purged.WithLabelValues(k.Name).Add(float64(k.N))
		}
	}
	attrs := []any{slog.Int64("total", c.Total()), slog.Duration("took", r.cfg.Now().Sub(start))}
	for _, k := range c.Kinds() {
		attrs = append(attrs, slog.Int64(k.Name, k.N))
	}
	switch {
	case err != nil:
		r.log.Error("retention: purge failed part-way", append(attrs, slog.String("error", err.Error()))...)
	default:
		r.log.Info("retention: purged", attrs...)
	}
	return c, err
}

// Run purges at once and then every Interval until ctx ends, and returns
// nil then. A failed purge is logged and tried again at the next turn.
func (r *Runner) Run(ctx context.Context) error {
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := r.PurgeOnce(ctx); err != nil && ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
