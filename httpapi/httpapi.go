// Package httpapi is askpa's HTTP edge, and the only package that imports
// gin: health and metrics for operators, the support staff's console in
// the browser at /console (the queue, escalations, the editors' insights
// and the PA network's moderation), the web channel (sessions at
// /v1/sessions; POST and GET /v1/messages for a session's user or a user a
// council's site asserts; CORS for listed origins), the support staff API
// under /api/v1 (the queue, and staff's labels of the safety layer's
// verdicts with their export for training; erasure and export of one
// person's data; the editors' gap report) with its OpenAPI description,
// and inbound helpdesk replies (POST /webhooks/support).
// Channel adapters mount their own webhook handlers through Config.Mount.
//
// Errors from the desk are translated to HTTP statuses here and only here:
// the client gets a helpful sentence, the log gets the cause.
package httpapi

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/insights"
	"github.com/askpa/askpa/support"
)

//go:embed openapi.json
var openAPI []byte

// Pinger is something /readyz checks: the store, the search index.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Route is an extra handler to mount, such as POST /webhooks/telegram.
type Route struct {
	Method, Path string
	Handler      http.Handler
}

// Config configures the HTTP API. Desk is required for the staff API and
// the helpdesk webhook, Handler, Mailbox and Sessions for the web channel;
// zero values of the rest are sensible defaults.
type Config struct {
	Desk    *support.Desk
	Handler bot.Handler
	Mailbox bot.Mailbox
	// Directory, when set, serves the PA network: staff moderation under
	// /api/v1/listings and the public search at GET /v1/listings.
	Directory *directory.Network
	// Insights, when set, serves the content editors' gap report: GET
	// /api/v1/insights/gaps for staff, and /console/insights in the
	// console.
	Insights insights.Store
	// People erases and exports one person's data for staff
	// (/api/v1/people/...); nil answers 503 there.
	People People
	// Sessions keeps the web channel's sessions; nil answers 503 to POST
	// /v1/sessions and to session tokens (site assertions still work).
	Sessions bot.WebSessions
	// SessionIdle ends a session not used for that long (default
	// DefaultSessionIdle, 30 days); SessionMax ends every session that long
	// after it was made (default DefaultSessionMax, 180 days).
	SessionIdle, SessionMax time.Duration
	// SessionRate and SessionBurst limit the sessions one client address
	// may make, on top of RateLimit (default one a minute, bursts of 10;
	// no limit when RateLimit is rate.Inf).
	SessionRate  rate.Limit
	SessionBurst int
	// AssertionSecret is the HMAC key a council's own website signs
	// X-Askpa-User-Assertion with (at least MinAssertionSecret bytes);
	// empty turns assertions off.
	AssertionSecret []byte
	// AllowedOrigins are the web origins ("https://www.example.gov.uk")
	// whose pages may call /v1/ from a browser (CORS); none sends no CORS
	// headers at all.
	AllowedOrigins []string
	// Staff are the members of staff who may use the API; none means the
	// API refuses everyone.
	Staff []Staff
	// SupportSecret is the HMAC key of POST /webhooks/support for a
	// helpdesk that answers every area's escalations.
	SupportSecret []byte
	// Helpdesks are the keys of helpdesks limited to some areas: a reply
	// signed with one reaches only its areas' escalations. With neither
	// SupportSecret nor Helpdesks the endpoint is off.
	Helpdesks []HelpdeskKey
	// AreaDistricts lists the postcode areas ("EX") and districts ("TQ12")
	// each local area (pack id) covers: staff limited to some areas see and
	// moderate the PA network's listings that cover one of them.
	AreaDistricts map[string][]string
	// Ready lists what /readyz checks, by name.
	Ready map[string]Pinger
	// Mount lists extra handlers (channel webhooks).
	Mount []Route
	// Guides, when set, serves each document of the knowledge base as a
	// page at GET /guides/{id}, the page answers link to.
	Guides Guides
	// TrustedProxies are the proxies whose X-Forwarded-For is believed
	// (addresses or CIDRs); none by default.
	TrustedProxies []string
	// RateLimit and Burst limit requests per client address to /v1, /api
	// and /webhooks/support (default 10 a second, bursts of 40).
	RateLimit rate.Limit
	Burst     int
	// MaxBody limits request bodies (default 64 KiB); larger ones get 413.
	MaxBody int64
	// Gatherer is served at /metrics; nil serves nothing there.
	Gatherer prometheus.Gatherer
	// Registerer gets the request latency histogram; nil registers nothing.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time

	// Console, when set with Desk, serves the support staff's console at
	// /console (see console.go); it keeps their sessions and tells the live
	// pages when escalations change. Nil serves no console.
	Console ConsoleStore
	// ConsoleIdle ends a console session that has not been used for that
	// long (default DefaultConsoleIdle, 8 hours).
	ConsoleIdle time.Duration
	// ConsoleHTTPS says askpa is reached over HTTPS (behind a proxy that
	// ends TLS): the console's cookies are then always Secure. A request
	// that arrives over TLS gets Secure cookies anyway.
	ConsoleHTTPS bool
	// ConsolePoll is how often the console's live pages look in the store
	// for changes (default DefaultConsolePoll, 2 s).
	ConsolePoll time.Duration
	// ConsoleSignInRate and ConsoleSignInBurst limit failed console
	// sign-ins per client address (default one a minute, after a burst of
	// 5).
	ConsoleSignInRate  rate.Limit
	ConsoleSignInBurst int
	// Location is the time zone the console shows times in and starts
	// "today" at; nil means time.Local.
	Location *time.Location
	// Shutdown, once closed, ends the console's event streams, so that
	// http.Server.Shutdown does not wait for them (wire it with
	// RegisterOnShutdown). Nil: streams end when their clients leave.
	Shutdown <-chan struct{}
}

// server holds what the handlers need.
type server struct {
	cfg          Config
	log          *slog.Logger
	staff        staffTokens
	origins      map[string]bool // AllowedOrigins, normalised
	sessionLimit *rateLimiter

	pruneMu   sync.Mutex
	lastPrune time.Time // when expired sessions were last deleted
}

// New returns the HTTP handler for cfg. It fails for a bad trusted proxy or
// allowed origin, an assertion secret shorter than MinAssertionSecret, or a
// collector that cannot be registered.
func New(cfg Config) (http.Handler, error) {
	if cfg.RateLimit == 0 {
		cfg.RateLimit = 10
	}
	if cfg.Burst == 0 {
		cfg.Burst = 40
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 64 << 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = DefaultSessionIdle
	}
	if cfg.SessionMax <= 0 {
		cfg.SessionMax = DefaultSessionMax
	}
	switch {
	case cfg.SessionRate != 0:
	case cfg.RateLimit == rate.Inf:
		cfg.SessionRate = rate.Inf // rate limiting is off altogether
	default:
		cfg.SessionRate = rate.Every(time.Minute)
	}
	if cfg.SessionBurst == 0 {
		cfg.SessionBurst = 10
	}
	if n := len(cfg.AssertionSecret); n > 0 && n < MinAssertionSecret {
		return nil, fmt.Errorf("httpapi: the assertion secret must be at least %d bytes", MinAssertionSecret)
	}
	origins, err := parseOrigins(cfg.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, log: cfg.Logger, staff: newStaffTokens(cfg.Staff), origins: origins,
		sessionLimit: newRateLimiter(cfg.SessionRate, cfg.SessionBurst, cfg.Now)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	if err := r.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("httpapi: trusted proxies: %w", err)
	}
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "askpa_http_request_duration_seconds",
		Help:    "HTTP request latency by method, route and status.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"method", "route", "status"})
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(latency); err != nil {
			return nil, fmt.Errorf("httpapi: register metrics: %w", err)
		}
	}
	r.Use(s.accessLog(latency), s.recover, s.cors, s.limitBody)
	var con *console
	r.NoRoute(func(c *gin.Context) {
		if con != nil && con.notFound(c) {
			return
		}
		fail(c, http.StatusNotFound, "There is nothing at this address.")
	})

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", s.ready)
	if cfg.Gatherer != nil {
		r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{})))
	}
	r.OPTIONS("/v1/sessions", preflight("POST"))
	r.OPTIONS("/v1/sessions/current", preflight("DELETE"))
	r.OPTIONS("/v1/messages", preflight("GET, POST"))
	limited := r.Group("", newRateLimiter(cfg.RateLimit, cfg.Burst, cfg.Now).middleware)
	limited.POST("/v1/sessions", s.limitSessions, s.createSession)
	limited.DELETE("/v1/sessions/current", s.webAuth(false), s.deleteSession)
	limited.POST("/v1/messages", s.webAuth(true), s.postMessage)
	limited.GET("/v1/messages", s.webAuth(true), s.getMessages)
	limited.POST("/webhooks/support", s.helpdeskReply)
	limited.GET("/api/v1/openapi.json", func(c *gin.Context) { c.Data(http.StatusOK, "application/json", openAPI) })
	if cfg.Guides != nil {
		limited.GET("/guides/:id", s.guide)
	}
	api := limited.Group("/api/v1/escalations", s.authenticate)
	api.GET("", s.list)
	one := api.Group("/:id", s.inArea)
	one.GET("", s.get)
	one.POST("/claim", s.mayAct, s.act(s.cfg.Desk.Claim))
	one.POST("/resolve", s.mayAct, s.act(s.cfg.Desk.Resolve))
	one.POST("/reopen", s.mayAct, s.act(s.cfg.Desk.Reopen))
	one.POST("/replies", s.mayAct, s.reply)
	one.POST("/notes", s.mayAct, s.note)
	one.POST("/safety-label", s.mayAct, s.labelSafety)
	limited.GET("/api/v1/safety-labels", s.authenticate, s.everyArea, s.safetyLabels)
	s.mountPeople(limited)
	s.mountListings(limited)
	s.mountInsights(limited)
	if cfg.Console != nil && cfg.Desk != nil {
		if con, err = s.mountConsole(r); err != nil {
			return nil, err
		}
	}
	for _, m := range cfg.Mount {
		r.Handle(m.Method, m.Path, gin.WrapH(m.Handler))
	}
	return r.Handler(), nil
}

// errorBody is every error answer: a sentence for a person, and the field
// at fault when there is one.
type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func fail(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, errorBody{Error: msg})
}

// failErr answers with the status and sentence for err; causes the user
// need not see are logged.
func (s *server) failErr(c *gin.Context, err error) {
	status, body, known := errorStatus(err)
	if !known {
		s.log.ErrorContext(c.Request.Context(), "request failed", slog.String("route", c.FullPath()), slog.String("error", err.Error()))
	}
	c.AbortWithStatusJSON(status, body)
}

// errorStatus is the one place errors become HTTP statuses, for the JSON
// API and the console alike: it returns the status for err and the
// sentence (and field) a client sees. known is false for an unexpected
// error, answered 500, whose cause only the log should get.
func errorStatus(err error) (status int, body errorBody, known bool) {
	var inv *support.InvalidError
	var tooBig *http.MaxBytesError
	var reportInv *insights.InvalidError
	var listingInv *directory.InvalidError
	switch {
	case errors.As(err, &inv):
		return http.StatusBadRequest, errorBody{Error: sentence(inv.Field + " " + inv.Problem), Field: inv.Field}, true
	case errors.As(err, &reportInv):
		return http.StatusBadRequest, errorBody{Error: sentence(reportInv.Field + " " + reportInv.Problem), Field: reportInv.Field}, true
	case errors.As(err, &listingInv):
		return http.StatusBadRequest, errorBody{Error: sentence(listingInv.Field + " " + listingInv.Problem), Field: listingInv.Field}, true
	case errors.Is(err, directory.ErrNotFound):
		return http.StatusNotFound, errorBody{Error: "There is no listing with that id."}, true
	case errors.Is(err, directory.ErrConflict):
		return http.StatusConflict, errorBody{Error: "The listing's state does not allow this."}, true
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, errorBody{Error: fmt.Sprintf("The request body is larger than %d bytes.", tooBig.Limit)}, true
	case errors.Is(err, support.ErrNotFound):
		return http.StatusNotFound, errorBody{Error: "There is no escalation with that id."}, true
	case errors.Is(err, support.ErrConflict):
		return http.StatusConflict, errorBody{Error: "Someone else has claimed this escalation."}, true
	case errors.Is(err, support.ErrResolved):
		return http.StatusConflict, errorBody{Error: "This escalation is resolved; reopen it first."}, true
	case errors.Is(err, support.ErrNotResolved):
		return http.StatusConflict, errorBody{Error: "Only a resolved escalation can be reopened."}, true
	case errors.Is(err, support.ErrInvalid):
		return http.StatusBadRequest, errorBody{Error: sentence(err.Error())}, true
	}
	return http.StatusInternalServerError, errorBody{Error: "Something went wrong on our side. Please try again in a moment."}, false
}

// sentence capitalises s and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
