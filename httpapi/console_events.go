package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/askpa/askpa/support"
)

// keepAlive is how often an idle event stream gets a comment, so that
// proxies do not close it, and checks that its session still stands. Tests
// shorten it.
var keepAlive = 20 * time.Second

// feed tells the console's open pages that escalations changed. It polls
// the store (support.Watcher), not this process's own changes, so a change
// made by any askpa process sharing the store reaches every page. One
// goroutine polls for all the pages of this process, and only while at
// least one is open.
type feed struct {
	watch support.Watcher
	poll  time.Duration
	log   *slog.Logger

	mu      sync.Mutex
	subs    map[*subscription]bool
	running bool
}

// subscription is one open page: the queue (id empty) or one escalation.
type subscription struct {
	id string
	// last is the mark the page shows; fresh means it has not been
	// compared with the store yet; blind means the page did not say which
	// mark it shows, so the first one read is taken as it.
	last         string
	fresh, blind bool
	// changed receives each new mark; it holds one, and a newer mark
	// replaces one not yet taken.
	changed chan string
}

func newFeed(w support.Watcher, poll time.Duration, log *slog.Logger) *feed {
	return &feed{watch: w, poll: poll, log: log, subs: map[*subscription]bool{}}
}

// subscribe starts following escalation id (all when empty) from mark
// since, the mark the page was drawn at: when the store has moved on
// already, the first poll says so. With since empty, changes after the
// first poll are told.
func (f *feed) subscribe(id, since string) *subscription {
	s := &subscription{id: id, last: since, fresh: true, blind: since == "", changed: make(chan string, 1)}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs[s] = true
	if !f.running {
		f.running = true
		go f.run()
	}
	return s
}

// unsubscribe stops s; the poller stops with the last one.
func (f *feed) unsubscribe(s *subscription) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.subs, s)
}

// run polls until nobody is subscribed.
func (f *feed) run() {
	t := time.NewTicker(f.poll)
	defer t.Stop()
	var prev string
	failing := false
	for {
		f.mu.Lock()
		if len(f.subs) == 0 {
			f.running = false
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
		err := f.check(&prev)
		switch {
		case err != nil && !failing:
			f.log.Warn("console: polling the store for changes failed; retrying", slog.String("error", err.Error()))
			failing = true
		case err == nil && failing:
			f.log.Info("console: polling the store for changes works again")
			failing = false
		}
		<-t.C
	}
}

// check reads the mark of all escalations and, when it moved since prev
// or a page is new, the marks the pages follow, and tells each page whose
// mark changed.
func (f *feed) check(prev *string) error {
	ctx, cancel := context.WithTimeout(context.Background(), max(f.poll, time.Second))
	defer cancel()
	all, err := f.watch.Revision(ctx, "")
	if err != nil {
		return fmt.Errorf("revision: %w", err)
	}
	moved := all != *prev
	*prev = all
	f.mu.Lock()
	var due []*subscription
	for s := range f.subs {
		if moved || s.fresh {
			due = append(due, s)
		}
	}
	f.mu.Unlock()
	marks := map[string]string{"": all}
	for _, s := range due {
		m, ok := marks[s.id]
		if !ok {
			if m, err = f.watch.Revision(ctx, s.id); err != nil {
				return fmt.Errorf("revision of %s: %w", s.id, err)
			}
			marks[s.id] = m
		}
		f.mu.Lock()
		if s.blind {
			s.last, s.blind = m, false
		}
		s.fresh = false
		if m != s.last {
			s.last = m
			select {
			case <-s.changed: // a mark not yet taken: this one is newer
			default:
			}
			s.changed <- m
		}
		f.mu.Unlock()
	}
	return nil
}

// events is the page's Server-Sent Events stream: "change" (with the new
// mark as data and id) whenever what the page shows changed, and
// "signed-out" when the session has ended. ?escalation= follows one
// escalation, otherwise the whole queue; ?since= (or the Last-Event-ID a
// reconnecting browser sends) is the mark the page was drawn at.
func (k *console) events(c *gin.Context) {
	id := c.Query("escalation")
	since := c.GetHeader("Last-Event-ID")
	if since == "" {
		since = c.Query("since")
	}
	if len(id) > 200 || len(since) > 200 || strings.ContainsAny(since, "\r\n") {
		c.Data(http.StatusBadRequest, "text/plain; charset=utf-8", []byte("Bad escalation or mark."))
		return
	}
	if id != "" {
		// One escalation's marks tell when it changes: only for staff who
		// may see it (another area's answers as if it did not exist).
		switch err := k.sees(c, id); {
		case errors.Is(err, support.ErrNotFound):
			c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("There is no escalation with that id."))
			return
		case err != nil:
			k.s.log.ErrorContext(c.Request.Context(), "console: event stream", slog.String("error", err.Error()))
			c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("Something went wrong on our side."))
			return
		}
	}
	// The stream outlives the server's write timeout: lift it.
	rc := http.NewResponseController(c.Writer)
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		k.s.log.WarnContext(c.Request.Context(), "console: event stream deadline", slog.String("error", err.Error()))
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	sub := k.feed.subscribe(id, since)
	defer k.feed.unsubscribe(sub)
	w := c.Writer
	if _, err := fmt.Fprint(w, "retry: 3000\n\n"); err != nil {
		return
	}
	w.Flush()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	ctx := c.Request.Context()
	for {
		var msg string
		select {
		case <-ctx.Done():
			return
		case <-k.s.cfg.Shutdown:
			return
		case m := <-sub.changed:
			msg = "id: " + m + "\nevent: change\ndata: " + m + "\n\n"
		case <-tick.C:
			msg = ": still here\n\n"
			if _, _, ok, err := k.lookup(c, false); err == nil && !ok {
				msg = "event: signed-out\ndata: signed out\n\n"
				fmt.Fprint(w, msg)
				w.Flush()
				return
			}
		}
		if _, err := fmt.Fprint(w, msg); err != nil {
			return
		}
		w.Flush()
	}
}
