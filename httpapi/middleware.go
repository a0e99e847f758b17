package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// accessLog logs one line per request and observes its latency. It logs
// the route pattern, never the path or query (which may carry a user id),
// and no client address or body.
func (s *server) accessLog(latency *prometheus.HistogramVec) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		d := time.Since(start)
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		status := c.Writer.Status()
		latency.WithLabelValues(c.Request.Method, route, strconv.Itoa(status)).Observe(d.Seconds())
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(c.Request.Context(), level, "http request",
			slog.String("method", c.Request.Method), slog.String("route", route), slog.Int("status", status),
			slog.Duration("duration", d), slog.Int("bytes", c.Writer.Size()))
	}
}

// recover turns a panic into a 500 and a log line.
func (s *server) recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.log.ErrorContext(c.Request.Context(), "handler panicked", slog.String("route", c.FullPath()), slog.Any("panic", r))
			fail(c, http.StatusInternalServerError, "Something went wrong on our side. Please try again in a moment.")
		}
	}()
	c.Next()
}

// limitBody caps every request body at MaxBody bytes.
func (s *server) limitBody(c *gin.Context) {
	if c.Request.ContentLength > s.cfg.MaxBody {
		fail(c, http.StatusRequestEntityTooLarge, "The request body is larger than "+strconv.FormatInt(s.cfg.MaxBody, 10)+" bytes.")
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBody)
	c.Next()
}

// ready answers 200 when every check passes and 503 naming the failing ones
// otherwise.
func (s *server) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	failing := []string{}
	for name, p := range s.cfg.Ready {
		if err := p.Ping(ctx); err != nil {
			s.log.WarnContext(c.Request.Context(), "not ready", slog.String("check", name), slog.String("error", err.Error()))
			failing = append(failing, name)
		}
	}
	if len(failing) > 0 {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "failing": failing})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "failing": failing})
}

// rateLimiter keeps one token bucket per client address.
type rateLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time
	mu    sync.Mutex
	seen  map[string]*client
}

type client struct {
	lim  *rate.Limiter
	last time.Time
}

func newRateLimiter(limit rate.Limit, burst int, now func() time.Time) *rateLimiter {
	return &rateLimiter{limit: limit, burst: burst, now: now, seen: map[string]*client{}}
}

// allow reports whether the client at addr may make a request now.
func (l *rateLimiter) allow(addr string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.seen) > 10000 {
		for k, c := range l.seen {
			if now.Sub(c.last) > 10*time.Minute {
				delete(l.seen, k)
			}
		}
	}
	c := l.seen[addr]
	if c == nil {
		c = &client{lim: rate.NewLimiter(l.limit, l.burst)}
		l.seen[addr] = c
	}
	c.last = now
	return c.lim.AllowN(now, 1)
}

func (l *rateLimiter) middleware(c *gin.Context) {
	if !l.allow(c.ClientIP()) {
		c.Header("Retry-After", "1")
		fail(c, http.StatusTooManyRequests, "Too many requests from this address; wait a moment and try again.")
		return
	}
	c.Next()
}
