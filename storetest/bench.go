package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/askpa/askpa/support"
)

// BenchNewDB makes an empty database for one benchmark.
type BenchNewDB func(b *testing.B) Opener

// nopTarget accepts every event at once.
type nopTarget struct{}

func (nopTarget) Name() string                                 { return "webhook:bench" }
func (nopTarget) Deliver(context.Context, support.Event) error { return nil }

// Bench runs the store benchmarks: creating escalations (one by one and
// from several goroutines), listing a page of 50 from 100,000, and
// delivering the outbox, and purging a retention backlog.
func Bench(b *testing.B, newDB BenchNewDB) {
	b.Run("Escalate", func(b *testing.B) {
		s := open(b, newDB(b))
		desk, _ := support.NewDesk(support.Config{Store: s, Targets: []support.Target{nopTarget{}}})
		n := newEscalation("bench", support.PriorityNormal)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := desk.Escalate(context.Background(), n); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "escalations/s")
	})
	b.Run("EscalateParallel", func(b *testing.B) {
		s := open(b, newDB(b))
		desk, _ := support.NewDesk(support.Config{Store: s, Targets: []support.Target{nopTarget{}}})
		n := newEscalation("bench", support.PriorityNormal)
		b.SetParallelism(4)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := desk.Escalate(context.Background(), n); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "escalations/s")
	})
	b.Run("List50Of100k", func(b *testing.B) {
		s := open(b, newDB(b))
		seed(b, s, 100_000)
		desk, _ := support.NewDesk(support.Config{Store: s})
		ctx := context.Background()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			req := support.ListRequest{Limit: 50}
			if i%2 == 1 {
				req.Status = support.StatusOpen
			}
			p, err := desk.List(ctx, req)
			if err != nil || len(p.Escalations) != 50 {
				b.Fatalf("list: %d, %v", len(p.Escalations), err)
			}
		}
	})
	b.Run("Purge", func(b *testing.B) { benchPurge(b, newDB) })
	b.Run("Deliver", func(b *testing.B) {
		s := open(b, newDB(b))
		desk, _ := support.NewDesk(support.Config{Store: s, Targets: []support.Target{nopTarget{}}})
		disp, _ := support.NewDispatcher(support.DispatcherConfig{Store: s, Targets: desk.Targets(), Batch: 64, Workers: 4})
		n := newEscalation("bench", support.PriorityNormal)
		for i := 0; i < b.N; i++ {
			if _, err := desk.Escalate(context.Background(), n); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		done := 0
		for done < b.N {
			k, err := disp.Pass(context.Background())
			if err != nil || k == 0 {
				b.Fatalf("pass delivered %d of %d: %v", done, b.N, err)
			}
			done += k
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
	})
}

// seed stores n escalations through Create from a few goroutines, spread
// over open, claimed and resolved.
func seed(b *testing.B, s support.Store, n int) {
	b.Helper()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	const workers = 8
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				at := start.Add(time.Duration(i) * time.Second)
				e := support.Escalation{ID: fmt.Sprintf("seed-%07d", i), Status: []support.Status{support.StatusOpen, support.StatusClaimed, support.StatusResolved}[i%3],
					Priority: []support.Priority{support.PriorityNormal, support.PriorityUrgent}[i%7/6], Reason: "requested",
					Address: support.Address{Channel: "web", UserID: "u"}, CreatedAt: at, UpdatedAt: at, Summary: "seeded",
					Messages: []support.Message{{Seq: 1, From: "user", Text: "a question of some length, as people write them", At: at}}}
				if err := s.Create(context.Background(), e, nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
