package support

import (
	"context"
	"time"
)

// Store keeps escalations and their outbox. Every method that changes an
// escalation writes the change and its outbox rows in one transaction, so a
// change is never told without being kept, nor kept without being told.
// Implementations live in sqlite and postgres and pass the
// conformance suite in storetest; several processes may share one
// store.
type Store interface {
	// Create inserts e and the outbox rows out in one transaction.
	Create(ctx context.Context, e Escalation, out []Delivery) error
	// Update changes escalation id in one transaction: it locks and loads
	// it, calls change, and when change returns nil saves the escalation and
	// inserts the outbox rows change returned. When key is not empty it is
	// an idempotency key: if a change with the same key was applied before,
	// Update changes nothing and returns ErrDuplicate. Update returns
	// ErrNotFound for an unknown id and change's own error unchanged.
	Update(ctx context.Context, id, key string, change func(*Escalation) ([]Delivery, error)) (Escalation, error)
	// Get returns escalation id, or ErrNotFound.
	Get(ctx context.Context, id string) (Escalation, error)
	// List returns up to q.Limit escalations matching q, urgent first, then
	// oldest first (then by id), starting after q.After.
	List(ctx context.Context, q ListQuery) ([]Escalation, error)
	// Deliveries returns the outbox rows of escalation id, oldest first.
	Deliveries(ctx context.Context, escalationID string) ([]Delivery, error)
	// ClaimDeliveries leases up to limit due pending deliveries for the
	// given targets to owner until leaseUntil and returns them. Only the
	// oldest pending delivery of each escalation and target is ever due, so
	// each target sees an escalation's events in order; a delivery leased by
	// another owner whose lease has not expired is never returned, so
	// processes sharing the store do not deliver the same row at once.
	ClaimDeliveries(ctx context.Context, targets []string, owner string, now, leaseUntil time.Time, limit int) ([]Delivery, error)
	// Settle records the outcome of one delivery attempt made by the lease
	// owner s.Owner. When s.Change is not nil it is applied to the
	// delivery's escalation in the same transaction (without outbox rows).
	// Settling a delivery whose lease another owner holds returns
	// ErrConflict and changes nothing.
	Settle(ctx context.Context, s Settlement) error
	// EscalationsOf returns every escalation of the person at channel with
	// userID (Address.Channel and Address.UserID), whatever its status,
	// oldest first; none is not an error.
	EscalationsOf(ctx context.Context, channel, userID string) ([]Escalation, error)
	// RewriteDeliveries calls rewrite with the event of every outbox row
	// of escalation id that still has its payload, in one transaction, and
	// saves the events rewrite reports it changed. It returns how many it
	// saved. Rows keep their id, target, status and place in the queue.
	RewriteDeliveries(ctx context.Context, escalationID string, rewrite func(*Event) bool) (int, error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store. It is idempotent.
	Close() error
}

// ListQuery selects escalations for List.
type ListQuery struct {
	Status   Status   // empty for any
	Priority Priority // empty for any
	Limit    int      // 1..MaxListLimit
	After    *Position
	// UpdatedSince, when not zero, keeps only escalations last changed at
	// or after it (UpdatedAt), such as those resolved today.
	UpdatedSince time.Time
	// Areas, when not nil, keeps only escalations whose Area is one of
	// them ("" for those without an area); an empty non-nil list keeps
	// none.
	Areas []string
}

// Position is a place in the queue's order: priority rank, creation time,
// id. List resumes strictly after it.
type Position struct {
	Rank      int
	CreatedAt time.Time
	ID        string
}

// PositionOf returns e's place in the queue.
func PositionOf(e Escalation) Position {
	return Position{Rank: e.Priority.Rank(), CreatedAt: e.CreatedAt, ID: e.ID}
}

// Delivery is one outbox row: one event for one target.
type Delivery struct {
	// ID is sent as X-Askpa-Delivery; it is the same on every attempt.
	ID string `json:"id"`
	// EscalationID is the key the outbox orders by: the escalation's id,
	// or ListingKey of the listing a listing event is about. A target gets
	// the rows of one key in the order they were written.
	EscalationID string         `json:"escalation_id"`
	Target       string         `json:"target"`
	Event        Event          `json:"-"`
	Status       DeliveryStatus `json:"status"`
	Attempts     int            `json:"attempts"`
	NextAttempt  time.Time      `json:"next_attempt_at"`
	LastError    string         `json:"last_error,omitempty"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
}

// Settlement is the outcome of one delivery attempt.
type Settlement struct {
	DeliveryID   string
	EscalationID string
	Owner        string
	Status       DeliveryStatus // delivered, failed (given up) or pending (retry)
	Attempts     int
	NextAttempt  time.Time // for pending
	LastError    string
	At           time.Time
	// Change, when not nil, is applied to the escalation in the same
	// transaction; it must not change the escalation's status.
	Change func(*Escalation)
}
