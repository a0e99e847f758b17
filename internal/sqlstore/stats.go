package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/askpa/askpa/support"
)

// Stats reads the on-call figures; see support.StatsSource. Every query
// is answered from an index: escalations_status_queue (status, prank,
// created_at), the partial outbox_due (seq) WHERE status = 'pending', and
// the intake, which holds only what has not been handled yet. The queries
// run outside a transaction, so they take no lock and wait for no writer.
func (s *Store) Stats(ctx context.Context, now time.Time) (support.Stats, error) {
	st := support.Stats{
		Unresolved:      map[support.Priority]map[support.Status]int{},
		OldestUnclaimed: map[support.Priority]time.Duration{},
		IntakeWaiting:   map[string]int{},
		IntakeOldest:    map[string]time.Duration{},
	}
	age := func(at int64) time.Duration {
		if d := now.Sub(fromNanos(at)); d > 0 {
			return d
		}
		return 0
	}
	priorities := []support.Priority{support.PriorityUrgent, support.PriorityNormal}
	for _, p := range priorities {
		st.Unresolved[p] = map[support.Status]int{}
		for _, status := range []support.Status{support.StatusOpen, support.StatusClaimed} {
			var n int64
			err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM escalations WHERE status = ? AND prank = ?`,
				string(status), p.Rank()).Scan(&n)
			if err != nil {
				return support.Stats{}, fmt.Errorf("stats: escalations: %w", err)
			}
			st.Unresolved[p][status] = int(n)
		}
		if st.Unresolved[p][support.StatusOpen] == 0 {
			continue
		}
		var oldest int64
		err := s.db.QueryRow(ctx, `SELECT created_at FROM escalations WHERE status = ? AND prank = ? ORDER BY created_at LIMIT 1`,
			string(support.StatusOpen), p.Rank()).Scan(&oldest)
		if err != nil && !errors.Is(err, ErrNoRows) {
			return support.Stats{}, fmt.Errorf("stats: oldest open escalation: %w", err)
		}
		if err == nil {
			st.OldestUnclaimed[p] = age(oldest)
		}
	}

	var pending int64
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE status = 'pending'`).Scan(&pending); err != nil {
		return support.Stats{}, fmt.Errorf("stats: outbox: %w", err)
	}
	st.OutboxPending = int(pending)
	if pending > 0 {
		// Rows are written in seq order, so the first pending row is the
		// oldest undelivered event.
		var created int64
		err := s.db.QueryRow(ctx, `SELECT created_at FROM outbox WHERE status = 'pending' ORDER BY seq LIMIT 1`).Scan(&created)
		if err != nil && !errors.Is(err, ErrNoRows) {
			return support.Stats{}, fmt.Errorf("stats: oldest pending delivery: %w", err)
		}
		if err == nil {
			st.OutboxOldest = age(created)
		}
	}

	rows, err := s.db.Query(ctx, `SELECT source, COUNT(*), MIN(received_at) FROM intake GROUP BY source`)
	if err != nil {
		return support.Stats{}, fmt.Errorf("stats: intake: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var source string
		var n, oldest int64
		if err := rows.Scan(&source, &n, &oldest); err != nil {
			return support.Stats{}, fmt.Errorf("stats: intake: %w", err)
		}
		st.IntakeWaiting[source] = int(n)
		st.IntakeOldest[source] = age(oldest)
	}
	if err := rows.Err(); err != nil {
		return support.Stats{}, fmt.Errorf("stats: intake: %w", err)
	}
	return st, nil
}
