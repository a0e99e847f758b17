package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// leaderCheck is how often a held role checks its connection.
const leaderCheck = 2 * time.Second

// Lead takes the role called name in the store's schema (so that askpa
// deployments, or tests, sharing one server in different schemas do not
// meet) with a session advisory lock on a connection of its own, held until release or until the connection
// breaks (PostgreSQL releases the lock when the process dies); see
// bot.Leader.
func (s *Store) Lead(ctx context.Context, name string) (<-chan struct{}, func(), bool, error) {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, nil, false, fmt.Errorf("postgres: lead %s: %w", name, err)
	}
	var ok bool
	if err := c.QueryRow(ctx, `SELECT pg_try_advisory_lock(4245911, hashtext(current_schema() || ':' || $1))`, name).Scan(&ok); err != nil {
		c.Release()
		return nil, nil, false, fmt.Errorf("postgres: lead %s: %w", name, err)
	}
	if !ok {
		c.Release()
		return nil, nil, false, nil
	}
	lost, stop := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(leaderCheck)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				pctx, cancel := context.WithTimeout(context.Background(), leaderCheck)
				err := c.Ping(pctx)
				cancel()
				if err != nil {
					close(lost)
					return
				}
			}
		}
	})
	var once sync.Once
	var release func()
	release = func() {
		once.Do(func() {
			s.held.forget(&release)
			close(stop)
			wg.Wait()
			uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := c.Exec(uctx, `SELECT pg_advisory_unlock(4245911, hashtext(current_schema() || ':' || $1))`, name); err != nil {
				c.Conn().Close(uctx) // closing the session releases the lock
			}
			c.Release()
		})
	}
	s.held.add(&release)
	return lost, release, true, nil
}

// leads are the release functions of the roles a Store holds.
type leads struct {
	mu   sync.Mutex
	held map[*func()]bool
}

func (l *leads) add(release *func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == nil {
		l.held = map[*func()]bool{}
	}
	l.held[release] = true
}

func (l *leads) forget(release *func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.held, release)
}

// releaseAll gives up every role still held.
func (l *leads) releaseAll() {
	l.mu.Lock()
	var all []*func()
	for r := range l.held {
		all = append(all, r)
	}
	l.mu.Unlock()
	for _, r := range all {
		(*r)()
	}
}
