package bottest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/askpa/askpa/bot"
)

// Intake is an in-memory bot.Intake for channel tests: it keeps deliveries
// as the SQL stores do (de-duplicated, leased in order per conversation)
// and can be told to fail.
type Intake struct {
	mu      sync.Mutex
	seq     int64
	seen    map[string]bool
	pending []bot.Inbound
	leases  map[int64]lease
	done    []bot.Inbound
	fail    error
}

type lease struct {
	owner string
	until time.Time
}

// NewIntake returns an empty Intake.
func NewIntake() *Intake {
	return &Intake{seen: map[string]bool{}, leases: map[int64]lease{}}
}

// Fail makes every call fail with err until Fail(nil).
func (m *Intake) Fail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

// Receive implements bot.Intake.
func (m *Intake) Receive(_ context.Context, in bot.Inbound) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return false, m.fail
	}
	k := in.Source + "/" + in.ID
	if m.seen[k] {
		return false, nil
	}
	m.seen[k] = true
	m.seq++
	in.Seq, in.Attempts = m.seq, 0
	in.Payload = slices.Clone(in.Payload)
	m.pending = append(m.pending, in)
	return true, nil
}

// Lease implements bot.Intake. Due times are not kept: a delivery given
// back with Retry is due at once.
func (m *Intake) Lease(_ context.Context, source, owner string, now, until time.Time, limit int) ([]bot.Inbound, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	var out []bot.Inbound
	blocked := map[string]bool{}
	for _, in := range m.pending {
		if in.Source != source || blocked[in.Key] {
			continue
		}
		blocked[in.Key] = true
		if l, ok := m.leases[in.Seq]; ok && l.until.After(now) {
			continue
		}
		if len(out) == limit {
			break
		}
		m.leases[in.Seq] = lease{owner, until}
		out = append(out, in)
	}
	return out, nil
}

// Done implements bot.Intake.
func (m *Intake) Done(_ context.Context, seq int64, owner string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i, err := m.held(seq, owner)
	if err != nil {
		return err
	}
	m.done = append(m.done, m.pending[i])
	m.pending = slices.Delete(m.pending, i, i+1)
	delete(m.leases, seq)
	return nil
}

// Retry implements bot.Intake.
func (m *Intake) Retry(_ context.Context, seq int64, owner string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i, err := m.held(seq, owner)
	if err != nil {
		return err
	}
	m.pending[i].Attempts++
	delete(m.leases, seq)
	return nil
}

func (m *Intake) held(seq int64, owner string) (int, error) {
	if m.fail != nil {
		return 0, m.fail
	}
	i := slices.IndexFunc(m.pending, func(in bot.Inbound) bool { return in.Seq == seq })
	if i < 0 || m.leases[seq].owner != owner {
		return 0, bot.ErrLeaseLost
	}
	return i, nil
}

// Pending returns how many deliveries are waiting or being handled.
func (m *Intake) Pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pending)
}

// Handled returns the ids of the deliveries done, in the order they were
// done.
func (m *Intake) Handled() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for _, in := range m.done {
		ids = append(ids, in.ID)
	}
	return ids
}
