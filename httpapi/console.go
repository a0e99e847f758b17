package httpapi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/support"
)

// The console: support staff's workplace in the browser. Everything under
// /console is server-rendered HTML (html/template) that works without
// JavaScript; console/console.js only keeps the live parts of a page up to
// date. Staff sign in with their staff token and get a session kept in the
// store (only a hash of its id), in an HttpOnly, SameSite=Strict cookie
// limited to /console. Every POST carries a CSRF token derived from the
// session id, and every answer forbids framing, caching, referrers and any
// script or style not served from here.

//go:embed console
var consoleFiles embed.FS

// Defaults of the console.
const (
	// DefaultConsoleIdle ends a console session not used for 8 hours.
	DefaultConsoleIdle = 8 * time.Hour
	// DefaultConsolePoll is how often live pages look for changes.
	DefaultConsolePoll = 2 * time.Second
	// ConsoleCookie holds the console session's id.
	ConsoleCookie = "askpa_console"
	// consoleSignInCookie holds the token the sign-in form must echo, so
	// that another site cannot sign a browser in (login CSRF).
	consoleSignInCookie = "askpa_console_signin"
	// consolePath is where the console lives, and its cookies' Path.
	consolePath = "/console"
	// consoleCSP allows nothing but this origin's own scripts, styles,
	// images and connections, and no framing at all.
	consoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
		"font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
	consoleStaffKey = "askpa.console.staff"
	consoleHashKey  = "askpa.console.hash"
	consoleCSRFKey  = "askpa.console.csrf"
)

// ConsoleStore is what the console needs from the store: staff sessions,
// and the marks its live pages poll (support.Watcher), which every askpa
// process sharing the store sees change.
type ConsoleStore interface {
	support.StaffSessions
	support.Watcher
}

// console serves /console.
type console struct {
	s        *server
	store    ConsoleStore
	idle     time.Duration
	https    bool
	loc      *time.Location
	pages    *template.Template
	static   fs.FS
	failures *rateLimiter // failed sign-ins per client address
	feed     *feed
	marks    support.Watcher // the store's marks as the console shows them (opaqueMarks)
	byName   map[string]Staff

	pruneMu   sync.Mutex
	lastPrune time.Time
}

// mountConsole adds the console's routes to r.
func (s *server) mountConsole(r *gin.Engine) (*console, error) {
	cfg := s.cfg
	k := &console{s: s, store: cfg.Console, idle: cfg.ConsoleIdle, https: cfg.ConsoleHTTPS, loc: cfg.Location, byName: map[string]Staff{}}
	if k.idle <= 0 {
		k.idle = DefaultConsoleIdle
	}
	if k.loc == nil {
		k.loc = time.Local
	}
	poll := cfg.ConsolePoll
	if poll <= 0 {
		poll = DefaultConsolePoll
	}
	limit, burst := cfg.ConsoleSignInRate, cfg.ConsoleSignInBurst
	if limit == 0 {
		limit = rate.Every(time.Minute)
	}
	if burst <= 0 {
		burst = 5
	}
	k.failures = newRateLimiter(limit, burst, cfg.Now)
	for _, st := range cfg.Staff {
		k.byName[st.Name] = st
	}
	var err error
	k.pages, err = template.New("console").Funcs(k.funcs()).ParseFS(consoleFiles, "console/*.html")
	if err != nil {
		return nil, fmt.Errorf("httpapi: console templates: %w", err)
	}
	k.static, _ = fs.Sub(consoleFiles, "console/static")
	k.marks = opaqueMarks{cfg.Console}
	k.feed = newFeed(k.marks, poll, s.log)

	g := r.Group(consolePath, k.headers)
	g.GET("/static/:file", k.asset)
	g.GET("/sign-in", k.signInPage)
	g.POST("/sign-in", k.signIn)
	g.POST("/sign-out", k.auth(true), k.checkCSRF, k.signOut)
	g.GET("", k.auth(true), k.queue)
	g.GET("/escalations/:id", k.auth(true), k.inArea, k.escalation)
	g.GET("/fragments/queue", k.auth(false), k.queueFragment)
	g.GET("/fragments/escalations/:id/:part", k.auth(false), k.inArea, k.escalationFragment)
	g.GET("/events", k.auth(false), k.events)
	if cfg.Insights != nil {
		g.GET("/insights", k.auth(true), k.everyArea, k.insightsPage)
	}
	if cfg.Directory != nil {
		k.mountListings(g)
	}
	act := g.Group("/escalations/:id", k.auth(true), k.inArea, k.checkCSRF, k.mayAct)
	act.POST("/claim", k.move(cfg.Desk.Claim, "claimed"))
	act.POST("/resolve", k.move(cfg.Desk.Resolve, "resolved"))
	act.POST("/reopen", k.move(cfg.Desk.Reopen, "reopened"))
	act.POST("/reply", k.write("reply", cfg.Desk.ReplyOnce, "replied"))
	act.POST("/note", k.write("note", func(ctx context.Context, _, id, staff, text string) (support.Escalation, error) {
		return cfg.Desk.Note(ctx, id, staff, text)
	}, "noted"))
	act.POST("/safety", k.labelSafety)
	return k, nil
}

// headers sets what every console answer carries.
func (k *console) headers(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", consoleCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	c.Next()
}

// notFound answers a request under /console that matched no route with
// the console's own page; it reports false for any other path.
func (k *console) notFound(c *gin.Context) bool {
	p := c.Request.URL.Path
	if p != consolePath && !strings.HasPrefix(p, consolePath+"/") {
		return false
	}
	k.headers(c)
	k.errorPage(c, http.StatusNotFound, "Page not found", "There is nothing at this address in the console.")
	return true
}

// asset serves console.css and console.js.
func (k *console) asset(c *gin.Context) {
	name := c.Param("file")
	b, err := fs.ReadFile(k.static, name)
	if err != nil || strings.Contains(name, "/") {
		k.errorPage(c, http.StatusNotFound, "Page not found", "There is nothing at this address in the console.")
		return
	}
	ctype := "text/plain; charset=utf-8"
	switch {
	case strings.HasSuffix(name, ".css"):
		ctype = "text/css; charset=utf-8"
	case strings.HasSuffix(name, ".js"):
		ctype = "text/javascript; charset=utf-8"
	}
	c.Data(http.StatusOK, ctype, b)
}

// page is what every console page's template gets.
type page struct {
	Title string
	// Staff is who is signed in; nil on the sign-in page.
	Staff *Staff
	CSRF  string
	// Flash says what was just done; Error what went wrong.
	Flash, Error string
	// Events is the URL of the page's live event stream, when it has one.
	Events string
	// Nav links the console's parts, for a signed-in member of staff.
	Nav []navLink
}

// navLink is one part of the console in its navigation.
type navLink struct {
	Label, URL string
	Current    bool
}

// newPage returns the page data for the signed-in member of staff.
func (k *console) newPage(c *gin.Context, title string) page {
	st := consoleStaff(c)
	p := page{Title: title, Staff: &st, CSRF: c.GetString(consoleCSRFKey)}
	path := c.Request.URL.Path
	links := []navLink{{Label: "Queue", URL: consolePath, Current: path == consolePath || strings.HasPrefix(path, consolePath+"/escalations")}}
	if k.s.cfg.Directory != nil {
		links = append(links, navLink{Label: "PA network", URL: consolePath + "/listings", Current: strings.HasPrefix(path, consolePath+"/listings")})
	}
	if k.s.cfg.Insights != nil && len(st.Areas) == 0 {
		links = append(links, navLink{Label: "Insights", URL: consolePath + "/insights", Current: strings.HasPrefix(path, consolePath+"/insights")})
	}
	if len(links) > 1 {
		p.Nav = links
	}
	return p
}

// render executes template name with data and answers status.
func (k *console) render(c *gin.Context, status int, name string, data any) {
	var b bytes.Buffer
	if err := k.pages.ExecuteTemplate(&b, name, data); err != nil {
		k.s.log.ErrorContext(c.Request.Context(), "console page failed", slog.String("template", name), slog.String("error", err.Error()))
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("Something went wrong on our side. Please try again in a moment."))
		c.Abort()
		return
	}
	c.Data(status, "text/html; charset=utf-8", b.Bytes())
	c.Abort()
}

// errorView is the data of the error page.
type errorView struct {
	page
	Heading, Message string
}

// errorPage answers status with a page saying msg.
func (k *console) errorPage(c *gin.Context, status int, heading, msg string) {
	p := page{Title: heading}
	if _, ok := c.Get(consoleStaffKey); ok {
		p = k.newPage(c, heading)
	}
	k.render(c, status, "error.html", errorView{page: p, Heading: heading, Message: msg})
}

// failPage answers with the page for err, a desk error: the status and
// sentence of errorStatus, the cause of an unexpected one logged.
func (k *console) failPage(c *gin.Context, err error) {
	status, body, known := errorStatus(err)
	if !known {
		k.s.log.ErrorContext(c.Request.Context(), "console request failed", slog.String("route", c.FullPath()), slog.String("error", err.Error()))
	}
	heading := "Sorry, there is a problem"
	switch {
	case errors.Is(err, support.ErrNotFound):
		heading = "Escalation not found"
	case errors.Is(err, directory.ErrNotFound):
		heading = "Listing not found"
	}
	k.errorPage(c, status, heading, body.Error)
}

// Sessions.

// newSessionID returns 32 random bytes in unpadded URL-safe base64.
func newSessionID() string {
	b := make([]byte, tokenBytes)
	rand.Read(b) // never fails (crypto/rand crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionHash is what the store keeps of a session id: its hex SHA-256.
func sessionHash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// csrfToken is the CSRF token of the session with id: an HMAC keyed with
// the id, which only the cookie holds, so that another site can neither
// read nor compute it, and the store (which keeps only the id's hash)
// cannot give it away.
func csrfToken(id string) string {
	mac := hmac.New(sha256.New, []byte(id))
	mac.Write([]byte("askpa console csrf"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// wellFormed reports whether v could be a session id this console made.
func wellFormed(v string) bool {
	return len(v) == tokenLen && strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == ""
}

// secure reports whether the request's cookies should be Secure.
func (k *console) secure(c *gin.Context) bool { return k.https || c.Request.TLS != nil }

// setCookie sets (or, with maxAge < 0, clears) a console cookie.
func (k *console) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: consolePath, MaxAge: maxAge,
		HttpOnly: true, Secure: k.secure(c), SameSite: http.SameSiteStrictMode})
}

// lookup returns the member of staff whose live session the request's
// cookie names, with the session id; slide records the use and moves the
// idle expiry on. ok is false when there is no such session: none sent,
// unknown, idle too long, signed out, or its staff token since removed.
func (k *console) lookup(c *gin.Context, slide bool) (st Staff, id string, ok bool, err error) {
	ck, cerr := c.Request.Cookie(ConsoleCookie)
	if cerr != nil || !wellFormed(ck.Value) {
		return Staff{}, "", false, nil
	}
	ctx, now := c.Request.Context(), k.s.cfg.Now().UTC()
	hash := sessionHash(ck.Value)
	ss, err := k.store.StaffSession(ctx, hash, now)
	if errors.Is(err, support.ErrNoSession) {
		return Staff{}, "", false, nil
	}
	if err != nil {
		return Staff{}, "", false, fmt.Errorf("console session: %w", err)
	}
	st, known := k.byName[ss.Staff]
	if !known || !now.Before(ss.LastUsedAt.Add(k.idle)) {
		// The token was removed, or the idle limit was shortened since.
		if err := k.store.DeleteStaffSession(ctx, hash); err != nil && !errors.Is(err, support.ErrNoSession) {
			return Staff{}, "", false, fmt.Errorf("console session: %w", err)
		}
		return Staff{}, "", false, nil
	}
	if slide && now.Sub(ss.LastUsedAt) >= touchEvery {
		err := k.store.TouchStaffSession(ctx, hash, now, now.Add(k.idle))
		if errors.Is(err, support.ErrNoSession) {
			return Staff{}, "", false, nil
		}
		if err != nil {
			return Staff{}, "", false, fmt.Errorf("console session: %w", err)
		}
	}
	return st, ck.Value, true, nil
}

// auth returns the middleware that lets through requests of a signed-in
// member of staff. Pages (slide true) count as use and move the idle
// expiry on; what the script fetches by itself (fragments, events) does
// not, so a page left open does not keep its session alive. Without a
// session, pages redirect to the sign-in page and the script's requests
// get 401.
func (k *console) auth(slide bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		st, id, ok, err := k.lookup(c, slide)
		if err != nil {
			k.failPage(c, err)
			return
		}
		if !ok {
			if !slide {
				c.Data(http.StatusUnauthorized, "text/plain; charset=utf-8", []byte("Sign in again."))
				c.Abort()
				return
			}
			to := consolePath + "/sign-in"
			if _, cerr := c.Request.Cookie(ConsoleCookie); cerr == nil {
				to += "?ended=1"
			}
			c.Redirect(http.StatusSeeOther, to)
			c.Abort()
			return
		}
		c.Set(consoleStaffKey, st)
		c.Set(consoleHashKey, sessionHash(id))
		c.Set(consoleCSRFKey, csrfToken(id))
		c.Next()
	}
}

// inArea shows the not-found page for an escalation (the route's :id)
// from an area the signed-in member of staff is not limited to, as for one
// that does not exist (see Staff.Areas).
func (k *console) inArea(c *gin.Context) {
	if err := k.sees(c, c.Param("id")); err != nil {
		k.failPage(c, err)
		c.Abort()
		return
	}
	c.Next()
}

func consoleStaff(c *gin.Context) Staff {
	st, _ := c.Get(consoleStaffKey)
	s, _ := st.(Staff)
	return s
}

// checkCSRF answers 403 unless the form carries the session's CSRF token.
func (k *console) checkCSRF(c *gin.Context) {
	want := c.GetString(consoleCSRFKey)
	got := c.PostForm("csrf")
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		k.s.log.WarnContext(c.Request.Context(), "console form refused", slog.String("reason", "missing or wrong CSRF token"), slog.String("route", c.FullPath()))
		k.errorPage(c, http.StatusForbidden, "This form has expired",
			"The form was not sent from this console page, or it is out of date. Go back, reload the page and try again.")
		return
	}
	c.Next()
}

// everyArea shows a 403 page to staff limited to some areas on the pages
// that reach across every area (the gap report), as the API's everyArea
// does.
func (k *console) everyArea(c *gin.Context) {
	if len(consoleStaff(c).Areas) > 0 {
		k.errorPage(c, http.StatusForbidden, "Not for your areas",
			"Your staff token is limited to some areas; this page covers every area and needs a token for all of them.")
		return
	}
	c.Next()
}

// sees returns nil when the signed-in member of staff may see escalation
// id, and support.ErrNotFound when it is from an area they are not
// limited to (or does not exist), as for one that does not exist.
func (k *console) sees(c *gin.Context, id string) error {
	st := consoleStaff(c)
	if len(st.Areas) == 0 {
		return nil
	}
	e, err := k.s.cfg.Desk.Get(c.Request.Context(), id)
	if err == nil && !st.sees(e) {
		err = support.ErrNotFound
	}
	return err
}

// mayAct answers 403 for read-only staff.
func (k *console) mayAct(c *gin.Context) {
	if consoleStaff(c).ReadOnly {
		k.errorPage(c, http.StatusForbidden, "You can only read",
			"Your staff token lets you see the queue and escalations but not act on them.")
		return
	}
	c.Next()
}

// signInView is the data of the sign-in page.
type signInView struct {
	page
	Token string // echoed by the form (see consoleSignInCookie)
}

// signInPage shows the sign-in form, or sends a signed-in member of staff
// to the queue.
func (k *console) signInPage(c *gin.Context) {
	if _, _, ok, err := k.lookup(c, false); err == nil && ok {
		c.Redirect(http.StatusSeeOther, consolePath)
		return
	}
	v := signInView{page: page{Title: "Sign in"}}
	switch {
	case c.Query("ended") != "":
		v.Flash = "Your session has ended. Sign in again to carry on."
	case c.Query("signed-out") != "":
		v.Flash = "You have signed out."
	}
	k.signInForm(c, http.StatusOK, v)
}

// signInForm renders the sign-in form with a fresh form token.
func (k *console) signInForm(c *gin.Context, status int, v signInView) {
	v.Token = newSessionID()
	k.setCookie(c, consoleSignInCookie, v.Token, 3600)
	k.render(c, status, "signin.html", v)
}

// signIn checks a staff token and starts a session. Failed attempts are
// limited per client address and logged without the token.
func (k *console) signIn(c *gin.Context) {
	ctx, ip := c.Request.Context(), c.ClientIP()
	if k.failures.tokens(ip) < 1 {
		k.s.log.WarnContext(ctx, "console sign-in refused", slog.String("reason", "too many failed attempts"), slog.String("client", ip))
		c.Header("Retry-After", "60")
		k.signInForm(c, http.StatusTooManyRequests, signInView{page: page{Title: "Sign in",
			Error: "There have been too many failed sign-ins from this address. Wait a minute, then try again."}})
		return
	}
	ck, err := c.Request.Cookie(consoleSignInCookie)
	form := c.PostForm("form")
	if err != nil || form == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(form)) != 1 {
		k.s.log.WarnContext(ctx, "console sign-in refused", slog.String("reason", "form token missing or wrong"), slog.String("client", ip))
		k.signInForm(c, http.StatusForbidden, signInView{page: page{Title: "Sign in",
			Error: "The sign-in form had expired. Your browser must accept cookies from this site. Try again."}})
		return
	}
	token := strings.TrimSpace(c.PostForm("token"))
	st, ok := k.s.staff.find(token)
	if !ok {
		k.failures.allow(ip) // only failures count
		k.s.log.WarnContext(ctx, "console sign-in refused", slog.String("reason", "unknown staff token"), slog.String("client", ip))
		v := signInView{page: page{Title: "Sign in", Error: "That staff token is not right. Check it and try again."}}
		k.signInForm(c, http.StatusUnauthorized, v)
		return
	}
	now := k.s.cfg.Now().UTC()
	id := newSessionID()
	ss := support.StaffSession{IDHash: sessionHash(id), Staff: st.Name, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(k.idle)}
	if err := k.store.CreateStaffSession(ctx, ss); err != nil {
		k.failPage(c, fmt.Errorf("sign in: %w", err))
		return
	}
	k.prune(ctx, now)
	k.s.log.InfoContext(ctx, "console sign-in", slog.String("staff", st.Name), slog.Bool("read_only", st.ReadOnly))
	k.setCookie(c, consoleSignInCookie, "", -1)
	k.setCookie(c, ConsoleCookie, id, 0)
	c.Redirect(http.StatusSeeOther, consolePath)
}

// prune deletes expired sessions, at most once every pruneEvery; a failure
// is logged and tried again next time.
func (k *console) prune(ctx context.Context, now time.Time) {
	k.pruneMu.Lock()
	if now.Sub(k.lastPrune) < pruneEvery {
		k.pruneMu.Unlock()
		return
	}
	k.lastPrune = now
	k.pruneMu.Unlock()
	if _, err := k.store.DeleteExpiredStaffSessions(ctx, now); err != nil {
		k.s.log.WarnContext(ctx, "pruning expired console sessions failed", slog.String("error", err.Error()))
		k.pruneMu.Lock()
		k.lastPrune = time.Time{}
		k.pruneMu.Unlock()
	}
}

// signOut ends the session at once.
func (k *console) signOut(c *gin.Context) {
	err := k.store.DeleteStaffSession(c.Request.Context(), c.GetString(consoleHashKey))
	if err != nil && !errors.Is(err, support.ErrNoSession) {
		k.failPage(c, fmt.Errorf("sign out: %w", err))
		return
	}
	k.setCookie(c, ConsoleCookie, "", -1)
	c.Redirect(http.StatusSeeOther, consolePath+"/sign-in?signed-out=1")
}

// tokens returns how many requests the client at addr may make now,
// without using one.
func (l *rateLimiter) tokens(addr string) float64 {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.seen[addr]
	if c == nil {
		return float64(l.burst)
	}
	return c.lim.TokensAt(now)
}

// opaqueMarks are the store's marks (support.Watcher) as the console's
// pages and event streams carry them: a digest, so that the mark of all
// escalations, which a member of staff limited to some areas is shown too,
// does not tell them how many escalations every area holds or when one
// last changed. The digest is the same in every askpa process, so a page
// drawn by one may follow its stream from another.
type opaqueMarks struct{ w support.Watcher }

func (o opaqueMarks) Revision(ctx context.Context, id string) (string, error) {
	m, err := o.w.Revision(ctx, id)
	if err != nil || m == "" {
		return m, err
	}
	sum := sha256.Sum256([]byte("askpa console mark\x00" + m))
	return base64.RawURLEncoding.EncodeToString(sum[:16]), nil
}
