package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/askpa/askpa/support"
)

// Store implements support.Store, bot.Store, bot.Mailbox, bot.Intake,
// bot.WebSessions, and the console's support.StaffSessions and
// support.Watcher on a DB.
type Store struct {
	db    DB
	d     Dialect
	close sync.Once
	err   error
	// listingEvents turns a listing change into outbox rows; see
	// SetListingEvents.
	listingEvents atomic.Pointer[ListingEvents]
	// rx gathers the intake deliveries waiting to be written together.
	rx receipts
}

// New returns a Store on db, which must have been migrated.
func New(db DB, d Dialect) *Store {
	if d.RowID == "" {
		d.RowID = "rowid"
	}
	return &Store{db: db, d: d}
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.Ping(ctx) }

// Close closes the database. It is idempotent.
func (s *Store) Close() error {
	s.close.Do(func() { s.err = s.db.Close() })
	return s.err
}

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// Create inserts e and its outbox rows in one transaction.
func (s *Store) Create(ctx context.Context, e support.Escalation, out []support.Delivery) error {
	doc, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(q Querier) error {
		_, err := q.Exec(ctx, `INSERT INTO escalations (id, status, prank, created_at, updated_at, doc, person, area) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, string(e.Status), e.Priority.Rank(), nanos(e.CreatedAt), nanos(e.UpdatedAt), string(doc), personKey(e.Address.Channel, e.Address.UserID), e.Area)
		if err != nil {
			return fmt.Errorf("insert escalation: %w", err)
		}
		return insertOutbox(ctx, q, out)
	})
}

func insertOutbox(ctx context.Context, q Querier, out []support.Delivery) error {
	for _, d := range out {
		payload, err := json.Marshal(d.Event)
		if err != nil {
			return err
		}
		_, err = q.Exec(ctx, `INSERT INTO outbox (id, escalation_id, target, event, payload, status, attempts, next_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`,
			d.ID, d.EscalationID, d.Target, d.Event.Name, string(payload), string(support.DeliveryPending),
			nanos(d.NextAttempt), nanos(d.CreatedAt), nanos(d.CreatedAt))
		if err != nil {
			return fmt.Errorf("insert outbox row: %w", err)
		}
	}
	return nil
}

// Update changes one escalation in a transaction; see support.Store.
func (s *Store) Update(ctx context.Context, id, key string, change func(*support.Escalation) ([]support.Delivery, error)) (support.Escalation, error) {
	var e support.Escalation
	err := s.db.InTx(ctx, func(q Querier) error {
		if key != "" {
			n, err := q.Exec(ctx, `INSERT INTO seen (source, id, at) VALUES ('change', ?, ?) ON CONFLICT DO NOTHING`, key, nanos(time.Now()))
			if err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("change %s: %w", id, support.ErrDuplicate)
			}
		}
		var err error
		if e, err = s.load(ctx, q, id, s.d.ForUpdate); err != nil {
			return err
		}
		out, err := change(&e)
		if err != nil {
			return err
		}
		if err := save(ctx, q, e); err != nil {
			return err
		}
		return insertOutbox(ctx, q, out)
	})
	if err != nil {
		return support.Escalation{}, err
	}
	return e, nil
}

// load reads escalation id; lock is Dialect.ForUpdate when it is about to
// be changed.
func (s *Store) load(ctx context.Context, q Querier, id, lock string) (support.Escalation, error) {
	var doc string
	err := q.QueryRow(ctx, `SELECT doc FROM escalations WHERE id = ?`+lock, id).Scan(&doc)
	if errors.Is(err, ErrNoRows) {
		return support.Escalation{}, fmt.Errorf("escalation %q: %w", id, support.ErrNotFound)
	}
	if err != nil {
		return support.Escalation{}, err
	}
	var e support.Escalation
	if err := json.Unmarshal([]byte(doc), &e); err != nil {
		return support.Escalation{}, fmt.Errorf("escalation %q: stored document: %w", id, err)
	}
	return e, nil
}

func save(ctx context.Context, q Querier, e support.Escalation) error {
	doc, err := json.Marshal(e)
	if err != nil {
		return err
	}
	// rev counts the changes, for Revision.
	_, err = q.Exec(ctx, `UPDATE escalations SET status = ?, prank = ?, updated_at = ?, doc = ?, rev = rev + 1 WHERE id = ?`,
		string(e.Status), e.Priority.Rank(), nanos(e.UpdatedAt), string(doc), e.ID)
	return err
}

// Get returns one escalation.
func (s *Store) Get(ctx context.Context, id string) (support.Escalation, error) {
	return s.load(ctx, s.db, id, "")
}

// List returns one page of the queue.
func (s *Store) List(ctx context.Context, lq support.ListQuery) ([]support.Escalation, error) {
	var where []string
	var args []any
	if lq.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(lq.Status))
	}
	if lq.Priority != "" {
		where = append(where, "prank = ?")
		args = append(args, lq.Priority.Rank())
	}
	if !lq.UpdatedSince.IsZero() {
		where = append(where, "updated_at >= ?")
		args = append(args, nanos(lq.UpdatedSince))
	}
	if lq.Areas != nil {
		where = append(where, "area IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(lq.Areas)), ", ")+")")
		for _, a := range lq.Areas {
			args = append(args, a)
		}
		if len(lq.Areas) == 0 {
			where[len(where)-1] = "1 = 0"
		}
	}
	if p := lq.After; p != nil {
		where = append(where, "(prank, created_at, id) > (?, ?, ?)")
		args = append(args, p.Rank, nanos(p.CreatedAt), p.ID)
	}
	q := `SELECT doc FROM escalations`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY prank, created_at, id LIMIT ?"
	args = append(args, lq.Limit)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var es []support.Escalation
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		var e support.Escalation
		if err := json.Unmarshal([]byte(doc), &e); err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return es, rows.Err()
}

const deliveryCols = `id, escalation_id, target, event, payload, status, attempts, next_at, last_error, created_at, updated_at`

// scanDelivery reads one outbox row. A row whose payload the retention
// purge cleared keeps its event's name and delivery id, nothing else.
func scanDelivery(r interface{ Scan(...any) error }) (support.Delivery, error) {
	var d support.Delivery
	var event, payload, status string
	var next, created, updated int64
	if err := r.Scan(&d.ID, &d.EscalationID, &d.Target, &event, &payload, &status, &d.Attempts, &next, &d.LastError, &created, &updated); err != nil {
		return d, err
	}
	d.Status = support.DeliveryStatus(status)
	d.NextAttempt, d.CreatedAt, d.UpdatedAt = fromNanos(next), fromNanos(created), fromNanos(updated)
	if payload == "" {
		d.Event = support.Event{Name: event, DeliveryID: d.ID}
		return d, nil
	}
	if err := json.Unmarshal([]byte(payload), &d.Event); err != nil {
		return d, fmt.Errorf("delivery %s: stored event: %w", d.ID, err)
	}
	return d, nil
}

// Deliveries returns an escalation's outbox rows, oldest first.
func (s *Store) Deliveries(ctx context.Context, escalationID string) ([]support.Delivery, error) {
	rows, err := s.db.Query(ctx, `SELECT `+deliveryCols+` FROM outbox WHERE escalation_id = ? ORDER BY seq`, escalationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ds []support.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	return ds, rows.Err()
}

// ClaimDeliveries leases due deliveries; see support.Store.
func (s *Store) ClaimDeliveries(ctx context.Context, targets []string, owner string, now, leaseUntil time.Time, limit int) ([]support.Delivery, error) {
	if len(targets) == 0 || limit <= 0 {
		return nil, nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(targets)), ", ")
	args := []any{nanos(now), nanos(now)}
	for _, t := range targets {
		args = append(args, t)
	}
	args = append(args, limit)
	// Only the head of each escalation's queue for a target is due: an
	// earlier pending row, leased or waiting for its retry, holds back the
	// rows after it.
	q := `SELECT ` + deliveryCols + ` FROM outbox o
		WHERE o.status = 'pending' AND o.next_at <= ? AND o.lease_until <= ?
		AND o.target IN (` + marks + `)
		AND o.seq = (SELECT MIN(p.seq) FROM outbox p WHERE p.escalation_id = o.escalation_id AND p.target = o.target
			AND p.status = 'pending')
		ORDER BY o.seq LIMIT ?` + s.d.SkipLocked
	var ds []support.Delivery
	err := s.db.InTx(ctx, func(tx Querier) error {
		ds = ds[:0]
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				rows.Close()
				return err
			}
			ds = append(ds, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range ds {
			if _, err := tx.Exec(ctx, `UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id = ?`, owner, nanos(leaseUntil), d.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ds, nil
}

// Settle records a delivery attempt's outcome; see support.Store.
func (s *Store) Settle(ctx context.Context, st support.Settlement) error {
	return s.db.InTx(ctx, func(q Querier) error {
		n, err := q.Exec(ctx, `UPDATE outbox SET status = ?, attempts = ?, next_at = ?, last_error = ?, lease_owner = '', lease_until = 0, updated_at = ?
			WHERE id = ? AND lease_owner = ?`,
			string(st.Status), st.Attempts, nanos(st.NextAttempt), st.LastError, nanos(st.At), st.DeliveryID, st.Owner)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("settle delivery %s: lease lost: %w", st.DeliveryID, support.ErrConflict)
		}
		if st.Change == nil {
			return nil
		}
		e, err := s.load(ctx, q, st.EscalationID, s.d.ForUpdate)
		if err != nil {
			return err
		}
		st.Change(&e)
		return save(ctx, q, e)
	})
}
