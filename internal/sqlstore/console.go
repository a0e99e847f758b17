package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/askpa/askpa/support"
)

// CreateStaffSession stores a new console session; see
// support.StaffSessions.
func (s *Store) CreateStaffSession(ctx context.Context, ss support.StaffSession) error {
	if ss.IDHash == "" || ss.Staff == "" {
		return errors.New("create staff session: id hash and staff are required")
	}
	_, err := s.db.Exec(ctx, `INSERT INTO console_sessions (id_hash, staff, created_at, last_used_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		ss.IDHash, ss.Staff, nanos(ss.CreatedAt), nanos(ss.LastUsedAt), nanos(ss.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create staff session: %w", err)
	}
	return nil
}

// StaffSession returns the console session with idHash unless it has
// expired at now; support.ErrNoSession otherwise.
func (s *Store) StaffSession(ctx context.Context, idHash string, now time.Time) (support.StaffSession, error) {
	ss := support.StaffSession{IDHash: idHash}
	var created, used, expires int64
	err := s.db.QueryRow(ctx, `SELECT staff, created_at, last_used_at, expires_at FROM console_sessions WHERE id_hash = ? AND expires_at > ?`,
		idHash, nanos(now)).Scan(&ss.Staff, &created, &used, &expires)
	if errors.Is(err, ErrNoRows) {
		return support.StaffSession{}, fmt.Errorf("staff session: %w", support.ErrNoSession)
	}
	if err != nil {
		return support.StaffSession{}, fmt.Errorf("staff session: %w", err)
	}
	ss.CreatedAt, ss.LastUsedAt, ss.ExpiresAt = fromNanos(created), fromNanos(used), fromNanos(expires)
	return ss, nil
}

// TouchStaffSession records a use at at and moves the expiry to expires,
// neither ever backwards; support.ErrNoSession when the session is unknown
// or expired at at.
func (s *Store) TouchStaffSession(ctx context.Context, idHash string, at, expires time.Time) error {
	n, err := s.db.Exec(ctx, `UPDATE console_sessions SET
			last_used_at = CASE WHEN last_used_at < ? THEN ? ELSE last_used_at END,
			expires_at = CASE WHEN expires_at < ? THEN ? ELSE expires_at END
		WHERE id_hash = ? AND expires_at > ?`,
		nanos(at), nanos(at), nanos(expires), nanos(expires), idHash, nanos(at))
	if err != nil {
		return fmt.Errorf("touch staff session: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("touch staff session: %w", support.ErrNoSession)
	}
	return nil
}

// DeleteStaffSession removes the console session, expired or not;
// support.ErrNoSession when there is none.
func (s *Store) DeleteStaffSession(ctx context.Context, idHash string) error {
	n, err := s.db.Exec(ctx, `DELETE FROM console_sessions WHERE id_hash = ?`, idHash)
	if err != nil {
		return fmt.Errorf("delete staff session: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("delete staff session: %w", support.ErrNoSession)
	}
	return nil
}

// DeleteExpiredStaffSessions removes the console sessions expired at now
// and returns how many.
func (s *Store) DeleteExpiredStaffSessions(ctx context.Context, now time.Time) (int64, error) {
	n, err := s.db.Exec(ctx, `DELETE FROM console_sessions WHERE expires_at <= ?`, nanos(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired staff sessions: %w", err)
	}
	return n, nil
}

// Revision returns a mark of the escalations' state; see support.Watcher.
// Every change saves the escalation with its rev column one higher, so for
// all escalations the mark is their number, the sum of their revs and the
// latest update time (a deletion lowers the first two), and for one its
// rev and update time.
func (s *Store) Revision(ctx context.Context, id string) (string, error) {
	if id != "" {
		var rev, updated int64
		err := s.db.QueryRow(ctx, `SELECT rev, updated_at FROM escalations WHERE id = ?`, id).Scan(&rev, &updated)
		if errors.Is(err, ErrNoRows) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("revision of escalation %q: %w", id, err)
		}
		return strconv.FormatInt(rev, 36) + "." + strconv.FormatInt(updated, 36), nil
	}
	var n, revs, updated int64
	err := s.db.QueryRow(ctx, `SELECT COUNT(*), CAST(COALESCE(SUM(rev), 0) AS BIGINT), CAST(COALESCE(MAX(updated_at), 0) AS BIGINT) FROM escalations`).
		Scan(&n, &revs, &updated)
	if err != nil {
		return "", fmt.Errorf("revision of the escalations: %w", err)
	}
	return strconv.FormatInt(n, 36) + "." + strconv.FormatInt(revs, 36) + "." + strconv.FormatInt(updated, 36), nil
}
