package bot

import (
	"context"
	"errors"
	"time"
)

// ErrLeaseLost is returned by an Intake when a worker settles an inbound
// delivery it no longer holds: its lease ran out and another worker may have
// taken it.
var ErrLeaseLost = errors.New("bot: intake lease lost")

// Inbound is one delivery from a chat platform (a Telegram update, a Slack
// event, command or button press) kept in the intake between the moment it
// is acknowledged to the platform and the moment it has been handled.
type Inbound struct {
	// Seq orders deliveries; the intake assigns it.
	Seq int64
	// Source is the platform ("telegram", "slack").
	Source string
	// ID is the platform's id for the delivery (an update_id, an event_id),
	// unique within Source: a second delivery with the same id is a repeat.
	ID string
	// Key is the conversation the delivery belongs to. Deliveries with the
	// same Source and Key are handled one at a time, in the order received.
	Key string
	// Payload is what the channel needs to handle the delivery later,
	// usually the platform's own JSON.
	Payload []byte
	// Attempts counts the handling attempts already made.
	Attempts int
	// Received is when the delivery was written to the intake.
	Received time.Time
}

// Intake keeps platform deliveries durably from their acknowledgement until
// they have been handled, so that a crash loses none, and hands them to
// workers in order per conversation, across processes.
type Intake interface {
	// Receive writes in, unless a delivery with the same Source and ID was
	// received before, together with that de-duplication record in one
	// transaction. It reports whether in is new. Only once Receive has
	// returned without error may the platform be told the delivery arrived.
	Receive(ctx context.Context, in Inbound) (bool, error)
	// Lease returns up to limit deliveries from source that are due at now
	// and are each the oldest unfinished delivery of their Key, and leases
	// them to owner until leaseUntil: no other call returns them (nor a
	// later delivery of the same Key) until the lease runs out or they are
	// settled. Deliveries come oldest first.
	Lease(ctx context.Context, source, owner string, now, leaseUntil time.Time, limit int) ([]Inbound, error)
	// Done removes a handled delivery that owner holds. It returns
	// ErrLeaseLost when owner no longer holds it.
	Done(ctx context.Context, seq int64, owner string) error
	// Retry gives back a delivery that owner holds and could not handle:
	// it counts the attempt and makes the delivery due again at next. It
	// returns ErrLeaseLost when owner no longer holds it.
	Retry(ctx context.Context, seq int64, owner string, next time.Time) error
}
