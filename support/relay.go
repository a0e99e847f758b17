package support

import (
	"context"
	"errors"
	"time"

	"github.com/askpa/askpa/internal/backoff"
)

// Relay carries the desk's news back to the person, on their own channel.
// The bot implements it; the desk drives it through the outbox, so a call
// that fails is retried and nothing is lost across restarts. Both methods
// may be called more than once for the same event (after a crash), and must
// be safe to call from several goroutines.
type Relay interface {
	// DeliverReply sends staff message m of escalation e to the person at
	// e.Address. Wrap an error with Permanent when retrying cannot help (the
	// person blocked the bot, the channel is gone).
	DeliverReply(ctx context.Context, e Escalation, m Message) error
	// StatusChanged tells the bot that e was claimed, resolved by staff or
	// reopened (e.Status says which), so it can switch the conversation's
	// mode and tell the person.
	StatusChanged(ctx context.Context, e Escalation) error
}

// RelayTargetName is the outbox target of the relay.
const RelayTargetName = "relay"

// RelayTarget returns the outbox Target that drives r: staff replies go to
// DeliverReply; claims, reopens and resolutions by staff go to
// StatusChanged. Events the person caused (escalating, writing, withdrawing)
// are not relayed: the bot already knows.
func RelayTarget(r Relay) Target { return relayTarget{r} }

type relayTarget struct{ r Relay }

func (relayTarget) Name() string { return RelayTargetName }

func (t relayTarget) Accepts(ev Event) bool {
	switch ev.Name {
	case EventReplied:
		return ev.Message != nil
	case EventClaimed, EventReopened, EventResolved:
		return ev.By != ByPerson
	}
	return false
}

func (t relayTarget) Deliver(ctx context.Context, ev Event) error {
	// Internal notes are for staff: the bot, which talks to the person,
	// never holds their text.
	ev.Escalation = WithoutNotes(ev.Escalation)
	if ev.Name == EventReplied {
		return t.r.DeliverReply(ctx, ev.Escalation, *ev.Message)
	}
	return t.r.StatusChanged(ctx, ev.Escalation)
}

// Retry gives relayed replies an hour: a person waiting for an answer is
// better told by staff that it did not arrive than kept waiting a day.
func (relayTarget) Retry() Backoff {
	return Backoff{Base: time.Second, Max: 5 * time.Minute, GiveUpAfter: time.Hour}
}

// permanent marks an error that retrying cannot mend.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so that the dispatcher gives up on the delivery at
// once instead of retrying. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err, or an error it wraps, was made by
// Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Backoff says how a delivery is retried: after attempt n fails the next is
// due after Base*2^(n-1), at most Max, with jitter (between half and all of
// that); the delivery fails for good once an attempt fails GiveUpAfter or
// more after it was written.
type Backoff struct {
	Base        time.Duration
	Max         time.Duration
	GiveUpAfter time.Duration
}

// DefaultBackoff retries outbound webhooks for a little over 24 hours.
var DefaultBackoff = Backoff{Base: 2 * time.Second, Max: 30 * time.Minute, GiveUpAfter: 25 * time.Hour}

// Delay returns the wait after failed attempt n (1, 2, ...), given a random
// number in [0, 1) for the jitter.
func (b Backoff) Delay(n int, rnd float64) time.Duration {
	return backoff.Policy{Base: b.Base, Max: b.Max}.Delay(n, rnd)
}

// Retrier is implemented by a Target that wants its own Backoff.
type Retrier interface {
	Retry() Backoff
}

func backoffFor(t Target, def Backoff) Backoff {
	if r, ok := t.(Retrier); ok {
		return r.Retry()
	}
	return def
}
