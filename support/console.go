package support

import (
	"context"
	"errors"
	"time"
)

// ErrNoSession reports a staff session that is unknown, expired or
// deleted.
var ErrNoSession = errors.New("no such staff session")

// StaffSession is one signed-in member of staff in the console: a random
// session id, of which only IDHash (a hash of it) is stored, bound to a
// staff name.
type StaffSession struct {
	IDHash     string
	Staff      string
	CreatedAt  time.Time
	LastUsedAt time.Time
	// ExpiresAt is when the session ends unless it is used again.
	ExpiresAt time.Time
}

// StaffSessions keeps console sessions in the store, so that every askpa
// process sharing it knows them. Implementations live in sqlite and
// postgres and pass the conformance suite in storetest.
type StaffSessions interface {
	// CreateStaffSession stores s. It fails when IDHash or Staff is empty
	// or a session with the same IDHash exists.
	CreateStaffSession(ctx context.Context, s StaffSession) error
	// StaffSession returns the session with idHash if it has not expired at
	// now, ErrNoSession otherwise.
	StaffSession(ctx context.Context, idHash string, now time.Time) (StaffSession, error)
	// TouchStaffSession records a use at at and moves the expiry to
	// expires; neither time ever moves back. It returns ErrNoSession when
	// the session is unknown or expired at at.
	TouchStaffSession(ctx context.Context, idHash string, at, expires time.Time) error
	// DeleteStaffSession removes the session at once, expired or not;
	// ErrNoSession when there is none.
	DeleteStaffSession(ctx context.Context, idHash string) error
	// DeleteExpiredStaffSessions removes the sessions expired at now and
	// returns how many.
	DeleteExpiredStaffSessions(ctx context.Context, now time.Time) (int64, error)
}

// Watcher tells cheaply whether escalations have changed, so that the
// console can follow the queue by polling the store that every askpa
// process shares rather than by being told within one process.
type Watcher interface {
	// Revision returns an opaque mark. With id empty it differs from the
	// mark returned before whenever any escalation has since been created,
	// changed (a move, a message, a note, a delivery's outcome) or
	// deleted; with an id it does so for that escalation alone, and is ""
	// when there is no such escalation.
	Revision(ctx context.Context, id string) (string, error)
}
