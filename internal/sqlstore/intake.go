package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/askpa/askpa/bot"
)

// Receive writes in to the intake with its de-duplication row in seen, in
// one transaction; see bot.Intake.
func (s *Store) Receive(ctx context.Context, in bot.Inbound) (bool, error) {
	fresh := false
	err := s.db.InTx(ctx, func(q Querier) error {
		n, err := q.Exec(ctx, `INSERT INTO seen (source, id, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			in.Source, in.ID, nanos(in.Received))
		if err != nil || n == 0 {
			return err
		}
		fresh = true
		_, err = q.Exec(ctx, `INSERT INTO intake (source, id, conv, payload, attempts, next_at, received_at) VALUES (?, ?, ?, ?, 0, ?, ?)`,
			in.Source, in.ID, in.Key, in.Payload, nanos(in.Received), nanos(in.Received))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("intake: receive: %w", err)
	}
	return fresh, nil
}

// Lease leases due deliveries, the oldest unfinished of each conversation;
// see bot.Intake.
func (s *Store) Lease(ctx context.Context, source, owner string, now, leaseUntil time.Time, limit int) ([]bot.Inbound, error) {
	q := `SELECT i.seq, i.id, i.conv, i.payload, i.attempts, i.received_at FROM intake i
		WHERE i.source = ? AND i.next_at <= ? AND i.lease_until <= ?
		AND NOT EXISTS (SELECT 1 FROM intake e WHERE e.source = i.source AND e.conv = i.conv AND e.seq < i.seq)
		ORDER BY i.seq LIMIT ?` + s.d.SkipLocked
	var ins []bot.Inbound
	err := s.db.InTx(ctx, func(tx Querier) error {
		ins = ins[:0]
		rows, err := tx.Query(ctx, q, source, nanos(now), nanos(now), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			in := bot.Inbound{Source: source}
			var received int64
			if err := rows.Scan(&in.Seq, &in.ID, &in.Key, &in.Payload, &in.Attempts, &received); err != nil {
				rows.Close()
				return err
			}
			in.Received = fromNanos(received)
			ins = append(ins, in)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, in := range ins {
			if _, err := tx.Exec(ctx, `UPDATE intake SET lease_owner = ?, lease_until = ? WHERE seq = ?`,
				owner, nanos(leaseUntil), in.Seq); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("intake: lease: %w", err)
	}
	return ins, nil
}

// Done removes a handled delivery; see bot.Intake.
func (s *Store) Done(ctx context.Context, seq int64, owner string) error {
	n, err := s.db.Exec(ctx, `DELETE FROM intake WHERE seq = ? AND lease_owner = ?`, seq, owner)
	if err != nil {
		return fmt.Errorf("intake: done: %w", err)
	}
	if n == 0 {
		return bot.ErrLeaseLost
	}
	return nil
}

// Retry gives a delivery back for another attempt at next; see bot.Intake.
func (s *Store) Retry(ctx context.Context, seq int64, owner string, next time.Time) error {
	n, err := s.db.Exec(ctx, `UPDATE intake SET attempts = attempts + 1, next_at = ?, lease_owner = '', lease_until = 0
		WHERE seq = ? AND lease_owner = ?`, nanos(next), seq, owner)
	if err != nil {
		return fmt.Errorf("intake: retry: %w", err)
	}
	if n == 0 {
		return bot.ErrLeaseLost
	}
	return nil
}
