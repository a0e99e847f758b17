package bottest

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// Latencies collects how long each operation of a benchmark took, to
// report percentiles beside the mean that the testing package gives.
type Latencies []time.Duration

// Time runs op and records how long it took.
func (l *Latencies) Time(op func()) {
	start := time.Now()
	op()
	*l = append(*l, time.Since(start))
}

// Report adds the median and the 99th percentile, in microseconds, to b's
// results.
func (l Latencies) Report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	s := slices.Clone(l)
	slices.Sort(s)
	at := func(p float64) float64 {
		return float64(s[min(len(s)-1, int(p*float64(len(s))))].Microseconds())
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// OneAtATime serves b.N requests to h one after another, the nth made by
// request(start+n), and reports the median and 99th-percentile latency of
// serving them beside the mean. It fails b on a status other than 200.
// Making a request is not timed in the percentiles (request may stop
// b's timer for work of its own).
func OneAtATime(b *testing.B, h http.Handler, start int64, request func(n int64) *http.Request) {
	var lat Latencies
	n := start
	for b.Loop() {
		n++
		req := request(n)
		rec := httptest.NewRecorder()
		lat.Time(func() { h.ServeHTTP(rec, req) })
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	lat.Report(b)
}

// Together serves b.N requests to h as they arrive at a busy service: from
// 16 goroutines for each CPU at once, the nth made by request(start+n).
// The time per operation it leaves is the wall-clock time over the
// requests served, so it measures a rate, not a latency. It fails b on a
// status other than 200.
func Together(b *testing.B, h http.Handler, start int64, request func(n int64) *http.Request) {
	var next atomic.Int64
	next.Store(start)
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, request(next.Add(1)))
			if rec.Code != http.StatusOK {
				b.Errorf("status %d: %s", rec.Code, rec.Body)
				return
			}
		}
	})
}
