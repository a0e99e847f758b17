package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/askpa/askpa/bot"
)

// Receive writes in to the intake with its de-duplication row in seen, in
// one transaction; see bot.Intake. Deliveries received at the same time
// share a transaction (a group commit): while one group is written, the
// deliveries that arrive wait, and the first of them then writes them all,
// so that many webhooks acknowledged at once cost one commit. When a
// group's transaction fails, each of its deliveries is tried again on its
// own, so that one bad delivery fails no other. A delivery waits for its
// group to be written even when ctx ends first, since it may be the one
// to write the next group.
func (s *Store) Receive(ctx context.Context, in bot.Inbound) (bool, error) {
	r := &receipt{in: in, wake: make(chan struct{}, 1)}
	s.rx.mu.Lock()
	s.rx.waiting = append(s.rx.waiting, r)
	lead := !s.rx.writing
	s.rx.writing = true
	s.rx.mu.Unlock()
	if !lead {
		<-r.wake
		lead = r.lead
	}
	if lead {
		s.rx.mu.Lock()
		n := min(len(s.rx.waiting), maxGroup)
		group := s.rx.waiting[:n:n]
		s.rx.waiting = slices.Clone(s.rx.waiting[n:])
		s.rx.mu.Unlock()
		s.receive(context.WithoutCancel(ctx), group)
		s.rx.mu.Lock()
		if len(s.rx.waiting) > 0 {
			// The first to arrive while this group was written writes
			// the next.
			next := s.rx.waiting[0]
			next.lead = true
			next.wake <- struct{}{}
		} else {
			s.rx.writing = false
		}
		s.rx.mu.Unlock()
	}
	if r.err != nil {
		return false, fmt.Errorf("intake: receive: %w", r.err)
	}
	return r.fresh, nil
}

// maxGroup bounds the deliveries written in one transaction, and so the
// size of one statement of many rows (PostgreSQL takes at most 65,535
// parameters); the rest wait for the next group.
const maxGroup = 256

// receipts gathers the deliveries waiting to be written.
type receipts struct {
	mu      sync.Mutex
	waiting []*receipt
	writing bool // a group is being written; the next waits for its turn
}

// receipt is one delivery waiting to be written. wake tells it that it
// was written (fresh and err then say how) or, with lead set, that it is
// to write the next group.
type receipt struct {
	in    bot.Inbound
	wake  chan struct{}
	lead  bool
	fresh bool
	err   error
}

// receive writes group in one transaction or, when that fails and there
// are several, each in its own.
func (s *Store) receive(ctx context.Context, group []*receipt) {
	err := s.db.InTx(ctx, func(q Querier) error {
		if s.d.ManyRows && len(group) > 1 {
			return receiveMany(ctx, q, group)
		}
		for _, r := range group {
			fresh, err := receiveOne(ctx, q, r.in)
			if err != nil {
				return err
			}
			r.fresh = fresh
		}
		return nil
	})
	if err != nil && len(group) > 1 {
		for _, r := range group {
			s.receive(ctx, []*receipt{r})
		}
		return
	}
	for _, r := range group {
		r.err = err
		if err != nil {
			r.fresh = false
		}
		r.wake <- struct{}{}
	}
}

func receiveOne(ctx context.Context, q Querier, in bot.Inbound) (bool, error) {
	n, err := q.Exec(ctx, `INSERT INTO seen (source, id, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		in.Source, in.ID, nanos(in.Received))
	if err != nil || n == 0 {
		return false, err
	}
	_, err = q.Exec(ctx, `INSERT INTO intake (source, id, conv, payload, attempts, next_at, received_at) VALUES (?, ?, ?, ?, 0, ?, ?)`,
		in.Source, in.ID, in.Key, in.Payload, nanos(in.Received), nanos(in.Received))
	return err == nil, err
}

// receiveMany writes the deliveries of group not seen before in two
// statements of many rows: one for their de-duplication rows, which
// returns those that were new, then one for the new ones' intake rows, in
// the order they arrived. Of two deliveries of group with the same source
// and id, the first is the new one.
func receiveMany(ctx context.Context, q Querier, group []*receipt) error {
	type key struct{ source, id string }
	first := make(map[key]*receipt, len(group))
	var stmt strings.Builder
	stmt.WriteString(`INSERT INTO seen (source, id, at) VALUES `)
	args := make([]any, 0, 6*len(group))
	for _, r := range group {
		r.fresh = false
		k := key{r.in.Source, r.in.ID}
		if first[k] != nil {
			continue
		}
		first[k] = r
		if len(args) > 0 {
			stmt.WriteString(", ")
		}
		stmt.WriteString("(?, ?, ?)")
		args = append(args, r.in.Source, r.in.ID, nanos(r.in.Received))
	}
	stmt.WriteString(` ON CONFLICT DO NOTHING RETURNING source, id`)
	rows, err := q.Query(ctx, stmt.String(), args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.source, &k.id); err != nil {
			rows.Close()
			return err
		}
		first[k].fresh = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	stmt.Reset()
	stmt.WriteString(`INSERT INTO intake (source, id, conv, payload, attempts, next_at, received_at) VALUES `)
	args = args[:0]
	for _, r := range group {
		if !r.fresh {
			continue
		}
		if len(args) > 0 {
			stmt.WriteString(", ")
		}
		stmt.WriteString("(?, ?, ?, ?, 0, ?, ?)")
		args = append(args, r.in.Source, r.in.ID, r.in.Key, r.in.Payload, nanos(r.in.Received), nanos(r.in.Received))
	}
	if len(args) == 0 {
		return nil
	}
	_, err = q.Exec(ctx, stmt.String(), args...)
	return err
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
