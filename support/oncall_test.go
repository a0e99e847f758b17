package support_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/askpa/askpa/support"
)

type statsFunc func(ctx context.Context, now time.Time) (support.Stats, error)

func (f statsFunc) Stats(ctx context.Context, now time.Time) (support.Stats, error) {
	return f(ctx, now)
}

// TestOnCallCollector checks the gauges an on-call person reads at a
// scrape, and that a store that does not answer says so without taking the
// rest of /metrics down.
func TestOnCallCollector(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	var fail error
	src := statsFunc(func(_ context.Context, at time.Time) (support.Stats, error) {
		if !at.Equal(now) {
			t.Errorf("Stats asked at %v, want the collector's clock %v", at, now)
		}
		return support.Stats{
			Unresolved: map[support.Priority]map[support.Status]int{
				support.PriorityUrgent: {support.StatusOpen: 2, support.StatusClaimed: 1},
			},
			OldestUnclaimed: map[support.Priority]time.Duration{support.PriorityUrgent: 20 * time.Minute},
			OutboxPending:   3,
			OutboxOldest:    90 * time.Second,
			IntakeWaiting:   map[string]int{"slack": 4},
			IntakeOldest:    map[string]time.Duration{"slack": 30 * time.Second},
		}, fail
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(support.NewOnCallCollector(support.OnCallConfig{
		Source: src, IntakeSources: []string{"telegram"}, Now: func() time.Time { return now },
	}))
	other := prometheus.NewCounter(prometheus.CounterOpts{Name: "askpa_other_total", Help: "Another metric."})
	other.Inc()
	reg.MustRegister(other)

	want := map[string]float64{
		`askpa_escalations_unresolved{priority="urgent",status="open"}`:    2,
		`askpa_escalations_unresolved{priority="urgent",status="claimed"}`: 1,
		`askpa_escalations_unresolved{priority="normal",status="open"}`:    0,
		`askpa_escalations_unresolved{priority="normal",status="claimed"}`: 0,
		`askpa_escalation_oldest_unclaimed_seconds{priority="urgent"}`:     1200,
		`askpa_escalation_oldest_unclaimed_seconds{priority="normal"}`:     0,
		`askpa_outbox_pending_deliveries`:                                  3,
		`askpa_outbox_oldest_pending_seconds`:                              90,
		`askpa_intake_waiting{source="slack"}`:                             4,
		`askpa_intake_oldest_seconds{source="slack"}`:                      30,
		`askpa_intake_waiting{source="telegram"}`:                          0,
		`askpa_intake_oldest_seconds{source="telegram"}`:                   0,
		`askpa_oncall_stats_up`:                                            1,
		`askpa_other_total`:                                                1,
	}
	got := scrape(t, reg)
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (reported: %v), want %v", k, g, ok, v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("scrape has %d series, want %d: %v", len(got), len(want), got)
	}

	fail = errors.New("connection refused")
	names := scrape(t, reg)
	if up, ok := names["askpa_oncall_stats_up"]; !ok || up != 0 {
		t.Errorf("with the store down askpa_oncall_stats_up = %v (reported %v), want 0", up, ok)
	}
	if len(names) != 2 {
		t.Errorf("with the store down the collector reported more than askpa_oncall_stats_up: %v", names)
	}
	if names["askpa_other_total"] != 1 {
		t.Error("with the store down the other metrics were not served")
	}
}

// scrape gathers reg as Prometheus would and returns each series, named
// as in the exposition format (name{label="value",...}), with its value.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("scrape failed as a whole: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(labels)
			name := mf.GetName()
			if len(labels) > 0 {
				name += "{" + strings.Join(labels, ",") + "}"
			}
			out[name] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return out
}
