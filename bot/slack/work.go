package slack

import (
	"errors"
	"net/url"
	"sync"
)

// workers runs accepted events in the background: at most max at once, at
// most queue waiting, none accepted after close.
type workers struct {
	sem   chan struct{}
	queue int

	mu      sync.Mutex
	closed  bool
	waiting int
	wg      sync.WaitGroup
}

func (w *workers) init(max, queue int) {
	w.sem = make(chan struct{}, max)
	w.queue = queue
}

// reserve claims a place for one job. It returns false when closed or when
// too many jobs are waiting; otherwise the caller must call exactly one of
// start or release.
func (w *workers) reserve() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.waiting >= w.queue {
		return false
	}
	w.waiting++
	w.wg.Add(1)
	return true
}

// release gives back a place reserved but not used.
func (w *workers) release() {
	w.mu.Lock()
	w.waiting--
	w.mu.Unlock()
	w.wg.Done()
}

// start runs fn in the background once a worker is free.
func (w *workers) start(fn func()) {
	go func() {
		defer w.wg.Done()
		w.sem <- struct{}{}
		w.mu.Lock()
		w.waiting--
		w.mu.Unlock()
		defer func() { <-w.sem }()
		fn()
	}()
}

func (w *workers) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}

// wait blocks until every started job has finished.
func (w *workers) wait() { w.wg.Wait() }

// keyedLocks serialises work per key (one person's conversation), so that
// replies to two quick messages keep their order.
type keyedLocks struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	mu   sync.Mutex
	refs int
}

// lock locks key and returns the function that unlocks it.
func (k *keyedLocks) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

func isURLError(err error) bool {
	_, ok := errors.AsType[*url.Error](err)
	return ok
}
