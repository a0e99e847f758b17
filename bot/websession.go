package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// WebSession is one session of the web channel: a bearer token bound to
// one web user. The token itself is never kept; TokenHash identifies the
// session (see WebTokenHash).
type WebSession struct {
	// TokenHash is the lower-case hex SHA-256 of the session token.
	TokenHash string
	// UserID is the web user the session acts as (Address.UserID on the
	// web channel, and the owner of a Mailbox).
	UserID     string
	CreatedAt  time.Time
	LastUsedAt time.Time
	// ExpiresAt is when the session ends unless it is used again before:
	// the edge moves it forward on use (sliding idle expiry) but never past
	// its absolute limit.
	ExpiresAt time.Time
}

// WebTokenHash returns the lower-case hex SHA-256 of token: the only form
// in which a session token is stored or compared.
func WebTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// WebSessions keeps web-channel sessions so that several askpa processes
// can serve one web channel. Implementations live in sqlite and
// postgres. A session whose ExpiresAt is at or before the time a
// method is given is gone: that method treats it as unknown.
type WebSessions interface {
	// CreateWebSession stores s. It fails when a session with the same
	// TokenHash exists.
	CreateWebSession(ctx context.Context, s WebSession) error
	// WebSession returns the session whose token hashes to tokenHash if it
	// has not expired at now, and ErrNotFound otherwise.
	WebSession(ctx context.Context, tokenHash string, now time.Time) (WebSession, error)
	// TouchWebSession records a use of the session at at and sets its
	// expiry to expires. Neither time moves backwards (of two concurrent
	// uses, the later wins). It returns ErrNotFound when the session is
	// unknown or expired at at, and never revives an expired one.
	TouchWebSession(ctx context.Context, tokenHash string, at, expires time.Time) error
	// DeleteWebSession removes the session, expired or not, at once;
	// ErrNotFound when there is no such session.
	DeleteWebSession(ctx context.Context, tokenHash string) error
	// DeleteExpiredWebSessions removes the sessions expired at now and
	// returns how many it removed.
	DeleteExpiredWebSessions(ctx context.Context, now time.Time) (int64, error)
}
