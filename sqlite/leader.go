package sqlite

import (
	"context"
	"sync"
)

// roles are the roles held through one Store. SQLite serves one process,
// so holding a role only needs to exclude this process's other callers.
type roles struct {
	mu   sync.Mutex
	held map[string]bool
}

// Lead takes the role called name unless a caller of this store holds it;
// see bot.Leader. The role is never lost while held.
func (s *Store) Lead(_ context.Context, name string) (<-chan struct{}, func(), bool, error) {
	s.roles.mu.Lock()
	defer s.roles.mu.Unlock()
	if s.roles.held[name] {
		return nil, nil, false, nil
	}
	if s.roles.held == nil {
		s.roles.held = map[string]bool{}
	}
	s.roles.held[name] = true
	var once sync.Once
	release := func() {
		once.Do(func() {
			s.roles.mu.Lock()
			defer s.roles.mu.Unlock()
			delete(s.roles.held, name)
		})
	}
	return make(chan struct{}), release, true, nil
}
