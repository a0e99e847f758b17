package support

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Stats is what a person on call watches, read from the store at one
// moment: the queue of escalations, the outbox and the intake. Ages are
// measured from the now given to StatsSource.Stats.
type Stats struct {
	// Unresolved counts the escalations not yet resolved, by priority and
	// status: StatusOpen (nobody has claimed it) or StatusClaimed.
	Unresolved map[Priority]map[Status]int
	// OldestUnclaimed is, for each priority with an open escalation, how
	// long ago the oldest open one was created (a reopened escalation counts
	// from its creation). A priority with none is absent.
	OldestUnclaimed map[Priority]time.Duration
	// OutboxPending counts outbox rows not yet delivered nor given up, and
	// OutboxOldest is the age of the oldest of them (0 when there is none).
	OutboxPending int
	OutboxOldest  time.Duration
	// IntakeWaiting counts, by source ("telegram", "slack"), the deliveries
	// written to the intake and not yet handled; IntakeOldest is the age of
	// the oldest of each source. Sources with none are absent.
	IntakeWaiting map[string]int
	IntakeOldest  map[string]time.Duration
}

// StatsSource is a store that can report Stats. Stats must stay cheap
// (indexed queries only): it runs at every Prometheus scrape.
type StatsSource interface {
	// Stats reads the on-call figures, measuring ages from now.
	Stats(ctx context.Context, now time.Time) (Stats, error)
}

// OnCallConfig configures NewOnCallCollector. Source is required.
type OnCallConfig struct {
	Source StatsSource
	// IntakeSources are reported even when they have nothing waiting, so
	// that their series do not come and go: "telegram", "slack".
	IntakeSources []string
	// Timeout bounds one scrape's queries; 0 means 5 s.
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger gets the errors of failed scrapes; nil discards them.
	Logger *slog.Logger
}

// OnCallCollector is a prometheus.Collector that reads Stats from the
// store at every scrape and reports them as gauges:
//
//	askpa_escalations_unresolved{priority,status}      escalations not resolved, status open (unclaimed) or claimed
//	askpa_escalation_oldest_unclaimed_seconds{priority} age of the oldest open escalation (0: none)
//	askpa_outbox_pending_deliveries                     outbox rows waiting to be delivered
//	askpa_outbox_oldest_pending_seconds                 age of the oldest of them (0: none)
//	askpa_intake_waiting{source}                        deliveries received and not yet handled
//	askpa_intake_oldest_seconds{source}                 age of the oldest of them (0: none)
//	askpa_oncall_stats_up                               1 when the store answered, 0 when it did not
//
// When the store does not answer only askpa_oncall_stats_up (0) is
// reported, so the rest of /metrics is still served.
type OnCallCollector struct {
	cfg                                  OnCallConfig
	unresolved, oldestUnclaimed          *prometheus.Desc
	outboxPending, outboxOldest          *prometheus.Desc
	intakeWaiting, intakeOldest, statsUp *prometheus.Desc
}

// NewOnCallCollector returns the collector; register it with a
// prometheus.Registerer. It panics when cfg.Source is nil.
func NewOnCallCollector(cfg OnCallConfig) *OnCallCollector {
	if cfg.Source == nil {
		panic("support: NewOnCallCollector without a Source")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &OnCallCollector{
		cfg: cfg,
		unresolved: prometheus.NewDesc("askpa_escalations_unresolved",
			"Escalations not yet resolved, by priority and status (open: nobody has claimed it; claimed: a member of staff holds it).",
			[]string{"priority", "status"}, nil),
		oldestUnclaimed: prometheus.NewDesc("askpa_escalation_oldest_unclaimed_seconds",
			"Seconds since the oldest open (unclaimed) escalation of this priority was created; 0 when there is none.",
			[]string{"priority"}, nil),
		outboxPending: prometheus.NewDesc("askpa_outbox_pending_deliveries",
			"Outbox deliveries (webhooks, Slack support channel) not yet delivered nor given up.", nil, nil),
		outboxOldest: prometheus.NewDesc("askpa_outbox_oldest_pending_seconds",
			"Seconds since the oldest undelivered outbox event was written; 0 when there is none.", nil, nil),
		intakeWaiting: prometheus.NewDesc("askpa_intake_waiting",
			"Deliveries from Telegram or Slack received and not yet handled, by source.", []string{"source"}, nil),
		intakeOldest: prometheus.NewDesc("askpa_intake_oldest_seconds",
			"Seconds since the oldest delivery still waiting in the intake was received, by source; 0 when there is none.",
			[]string{"source"}, nil),
		statsUp: prometheus.NewDesc("askpa_oncall_stats_up",
			"1 when the store answered the on-call queries at this scrape, 0 when it did not.", nil, nil),
	}
}

// Describe sends the descriptors of every gauge.
func (c *OnCallCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.unresolved, c.oldestUnclaimed, c.outboxPending, c.outboxOldest,
		c.intakeWaiting, c.intakeOldest, c.statsUp} {
		ch <- d
	}
}

// Collect reads Stats from the store and sends the gauges.
func (c *OnCallCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Timeout)
	defer cancel()
	st, err := c.cfg.Source.Stats(ctx, c.cfg.Now())
	if err != nil {
		c.cfg.Logger.Error("on-call gauges: the store did not answer", slog.String("error", err.Error()))
		ch <- prometheus.MustNewConstMetric(c.statsUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.statsUp, prometheus.GaugeValue, 1)
	for _, p := range []Priority{PriorityUrgent, PriorityNormal} {
		for _, s := range []Status{StatusOpen, StatusClaimed} {
			ch <- prometheus.MustNewConstMetric(c.unresolved, prometheus.GaugeValue, float64(st.Unresolved[p][s]), string(p), string(s))
		}
		ch <- prometheus.MustNewConstMetric(c.oldestUnclaimed, prometheus.GaugeValue, st.OldestUnclaimed[p].Seconds(), string(p))
	}
	ch <- prometheus.MustNewConstMetric(c.outboxPending, prometheus.GaugeValue, float64(st.OutboxPending))
	ch <- prometheus.MustNewConstMetric(c.outboxOldest, prometheus.GaugeValue, st.OutboxOldest.Seconds())
	sources := map[string]bool{}
	for _, s := range c.cfg.IntakeSources {
		sources[s] = true
	}
	for s := range st.IntakeWaiting {
		sources[s] = true
	}
	for s := range sources {
		ch <- prometheus.MustNewConstMetric(c.intakeWaiting, prometheus.GaugeValue, float64(st.IntakeWaiting[s]), s)
		ch <- prometheus.MustNewConstMetric(c.intakeOldest, prometheus.GaugeValue, st.IntakeOldest[s].Seconds(), s)
	}
}
