package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/askpa/askpa/bot"
)

// CreateWebSession stores a new web-channel session; it fails when the
// token hash is taken or a field is empty. See bot.WebSessions.
func (s *Store) CreateWebSession(ctx context.Context, ws bot.WebSession) error {
	if ws.TokenHash == "" || ws.UserID == "" {
		return errors.New("create web session: token hash and user are required")
	}
	_, err := s.db.Exec(ctx, `INSERT INTO web_sessions (token_hash, user_id, created_at, last_used_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		ws.TokenHash, ws.UserID, nanos(ws.CreatedAt), nanos(ws.LastUsedAt), nanos(ws.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create web session: %w", err)
	}
	return nil
}

// WebSession returns the session with tokenHash unless it has expired at
// now; bot.ErrNotFound otherwise.
func (s *Store) WebSession(ctx context.Context, tokenHash string, now time.Time) (bot.WebSession, error) {
	ws := bot.WebSession{TokenHash: tokenHash}
	var created, used, expires int64
	err := s.db.QueryRow(ctx, `SELECT user_id, created_at, last_used_at, expires_at FROM web_sessions WHERE token_hash = ? AND expires_at > ?`,
		tokenHash, nanos(now)).Scan(&ws.UserID, &created, &used, &expires)
	if errors.Is(err, ErrNoRows) {
		return bot.WebSession{}, fmt.Errorf("web session: %w", bot.ErrNotFound)
	}
	if err != nil {
		return bot.WebSession{}, fmt.Errorf("web session: %w", err)
	}
	ws.CreatedAt, ws.LastUsedAt, ws.ExpiresAt = fromNanos(created), fromNanos(used), fromNanos(expires)
	return ws, nil
}

// TouchWebSession records a use at at and moves the expiry to expires,
// never backwards; bot.ErrNotFound when the session is unknown or expired
// at at.
func (s *Store) TouchWebSession(ctx context.Context, tokenHash string, at, expires time.Time) error {
	n, err := s.db.Exec(ctx, `UPDATE web_sessions SET
			last_used_at = CASE WHEN last_used_at < ? THEN ? ELSE last_used_at END,
			expires_at = CASE WHEN expires_at < ? THEN ? ELSE expires_at END
		WHERE token_hash = ? AND expires_at > ?`,
		nanos(at), nanos(at), nanos(expires), nanos(expires), tokenHash, nanos(at))
	if err != nil {
		return fmt.Errorf("touch web session: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("touch web session: %w", bot.ErrNotFound)
	}
	return nil
}

// DeleteWebSession removes the session, expired or not; bot.ErrNotFound
// when there is none.
func (s *Store) DeleteWebSession(ctx context.Context, tokenHash string) error {
	n, err := s.db.Exec(ctx, `DELETE FROM web_sessions WHERE token_hash = ?`, tokenHash)
	if err != nil {
		return fmt.Errorf("delete web session: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("delete web session: %w", bot.ErrNotFound)
	}
	return nil
}

// DeleteExpiredWebSessions removes the sessions expired at now and returns
// how many.
func (s *Store) DeleteExpiredWebSessions(ctx context.Context, now time.Time) (int64, error) {
	n, err := s.db.Exec(ctx, `DELETE FROM web_sessions WHERE expires_at <= ?`, nanos(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired web sessions: %w", err)
	}
	return n, nil
}
