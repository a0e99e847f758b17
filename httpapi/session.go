package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/askpa/askpa/bot"
)

// Defaults and limits of the web channel's credentials.
const (
	// DefaultSessionIdle ends a session that has not been used for 30 days.
	DefaultSessionIdle = 30 * 24 * time.Hour
	// DefaultSessionMax ends every session 180 days after it was made,
	// however much it is used.
	DefaultSessionMax = 180 * 24 * time.Hour
	// HeaderUserAssertion carries a user assertion signed by a council's
	// own website: USER.EXPIRY.HEX-HMAC (see checkAssertion).
	HeaderUserAssertion = "X-Askpa-User-Assertion"
	// SiteUserPrefix begins the id of every user a site asserts, so that
	// they never meet the users POST /v1/sessions makes (which begin
	// "web-").
	SiteUserPrefix = "site:"
	// MaxAssertionAhead is the furthest ahead an assertion may expire.
	MaxAssertionAhead = 10 * time.Minute
	// MinAssertionSecret is the shortest assertion secret New accepts.
	MinAssertionSecret = 16
)

// Internals of sessions.
const (
	tokenBytes = 32 // random bytes in a session token
	tokenLen   = 43 // its length in unpadded URL-safe base64
	// touchEvery is how stale a session's last use may get before a
	// request records a new one: polling every few seconds writes once a
	// minute, not on every request.
	touchEvery = time.Minute
	// pruneEvery is how often making a session also deletes expired ones.
	pruneEvery = time.Hour
	webUserKey = "askpa.webuser"
	webHashKey = "askpa.websession"
)

// sessionOut is the answer to POST /v1/sessions.
type sessionOut struct {
	Token     string    `json:"token"`
	User      string    `json:"user"`
	ExpiresAt time.Time `json:"expires_at"`
}

// newToken returns a session token: 32 bytes from crypto/rand in unpadded
// URL-safe base64.
func newToken() string {
	b := make([]byte, tokenBytes)
	rand.Read(b) // never fails (crypto/rand crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// expiry is when a session made at created and used at now ends unless it
// is used again: idle after now, but never after its absolute limit.
func (s *server) expiry(created, now time.Time) time.Time {
	idle, max := now.Add(s.cfg.SessionIdle), created.Add(s.cfg.SessionMax)
	if max.Before(idle) {
		return max.UTC()
	}
	return idle.UTC()
}

// createSession makes a new web user with a session of its own. Only the
// token's hash is stored; the token is in this answer and nowhere else.
func (s *server) createSession(c *gin.Context) {
	if s.cfg.Sessions == nil {
		fail(c, http.StatusServiceUnavailable, "The web channel is not running.")
		return
	}
	ctx := c.Request.Context()
	now := s.cfg.Now().UTC()
	token := newToken()
	ws := bot.WebSession{TokenHash: bot.WebTokenHash(token), UserID: "web-" + uuid.NewString(), CreatedAt: now, LastUsedAt: now, ExpiresAt: s.expiry(now, now)}
	if err := s.cfg.Sessions.CreateWebSession(ctx, ws); err != nil {
		s.failErr(c, err)
		return
	}
	s.pruneSessions(ctx, now)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, sessionOut{Token: token, User: ws.UserID, ExpiresAt: ws.ExpiresAt})
}

// pruneSessions deletes expired sessions, at most once every pruneEvery;
// a failure is logged and tried again next time.
func (s *server) pruneSessions(ctx context.Context, now time.Time) {
	s.pruneMu.Lock()
	if now.Sub(s.lastPrune) < pruneEvery {
		s.pruneMu.Unlock()
		return
	}
	s.lastPrune = now
	s.pruneMu.Unlock()
	n, err := s.cfg.Sessions.DeleteExpiredWebSessions(ctx, now)
	if err != nil {
		s.log.WarnContext(ctx, "pruning expired web sessions failed", slog.String("error", err.Error()))
		s.pruneMu.Lock()
		s.lastPrune = time.Time{}
		s.pruneMu.Unlock()
		return
	}
	if n > 0 {
		s.log.InfoContext(ctx, "expired web sessions deleted", slog.Int64("sessions", n))
	}
}

// deleteSession ends the session whose token authenticated the request.
func (s *server) deleteSession(c *gin.Context) {
	err := s.cfg.Sessions.DeleteWebSession(c.Request.Context(), c.GetString(webHashKey))
	if err != nil && !errors.Is(err, bot.ErrNotFound) { // gone already: ended either way
		s.failErr(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// limitSessions holds each client address to SessionRate new sessions,
// on top of the limit on every request, so that a flood of sessions cannot
// fill the database.
func (s *server) limitSessions(c *gin.Context) {
	if !s.sessionLimit.allow(c.ClientIP()) {
		c.Header("Retry-After", "60")
		fail(c, http.StatusTooManyRequests, "Too many new sessions from this address; keep using the token you have, or wait a minute.")
		return
	}
	c.Next()
}

// refuse answers 401 with a WWW-Authenticate challenge; invalid marks a
// credential that was sent but is unknown, expired or forged.
func refuse(c *gin.Context, invalid bool, msg string) {
	h := `Bearer realm="askpa"`
	if invalid {
		h += `, error="invalid_token"`
	}
	c.Header("WWW-Authenticate", h)
	fail(c, http.StatusUnauthorized, msg)
}

// webAuth returns the middleware that decides which web user a request acts
// as: the user of a live session (Authorization: Bearer TOKEN) or, when
// assertions is true, the user a site asserts (X-Askpa-User-Assertion). A
// request with neither, with both, or with one that does not check out is
// answered 401. The user id in the body or query is never enough.
func (s *server) webAuth(assertions bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		auth, assertion := c.GetHeader("Authorization"), c.GetHeader(HeaderUserAssertion)
		if !assertions {
			assertion = ""
		}
		switch {
		case auth != "" && assertion != "":
			refuse(c, true, "Send a session token or a user assertion, not both.")
		case assertion != "":
			user, msg := s.checkAssertion(assertion, s.cfg.Now())
			if msg != "" {
				s.log.WarnContext(c.Request.Context(), "user assertion refused", slog.String("reason", msg))
				refuse(c, true, msg)
				return
			}
			c.Set(webUserKey, user)
			c.Next()
		case auth == "":
			refuse(c, false, `Send the token from POST /v1/sessions as "Authorization: Bearer TOKEN".`)
		default:
			s.session(c, auth)
		}
	}
}

// session authenticates a request by its bearer token and slides the
// session's expiry.
func (s *server) session(c *gin.Context, auth string) {
	const unknown = "The session token is unknown or has expired; start a new session with POST /v1/sessions."
	scheme, token, _ := strings.Cut(auth, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") {
		refuse(c, false, `Send the token from POST /v1/sessions as "Authorization: Bearer TOKEN".`)
		return
	}
	if len(token) != tokenLen || strings.Trim(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		refuse(c, true, unknown) // not one of ours: no need to ask the store
		return
	}
	if s.cfg.Sessions == nil {
		fail(c, http.StatusServiceUnavailable, "The web channel is not running.")
		return
	}
	ctx, now := c.Request.Context(), s.cfg.Now().UTC()
	hash := bot.WebTokenHash(token)
	ws, err := s.cfg.Sessions.WebSession(ctx, hash, now)
	if err == nil && (!now.Before(ws.LastUsedAt.Add(s.cfg.SessionIdle)) || !now.Before(ws.CreatedAt.Add(s.cfg.SessionMax))) {
		err = bot.ErrNotFound // stored before the limits were shortened
	}
	if err == nil && now.Sub(ws.LastUsedAt) >= touchEvery {
		err = s.cfg.Sessions.TouchWebSession(ctx, hash, now, s.expiry(ws.CreatedAt, now))
	}
	switch {
	case errors.Is(err, bot.ErrNotFound):
		refuse(c, true, unknown)
		return
	case err != nil:
		s.failErr(c, err)
		return
	}
	c.Set(webUserKey, ws.UserID)
	c.Set(webHashKey, hash)
	c.Next()
}

// webUserOf returns the user webAuth found for the request.
func webUserOf(c *gin.Context) string { return c.GetString(webUserKey) }

// checkAssertion checks an X-Askpa-User-Assertion header,
//
//	USER.EXPIRY.SIGNATURE
//
// where USER is the site's own id for the person (1 to 123 characters, no
// spaces; it may contain dots), EXPIRY is a Unix time in seconds, and
// SIGNATURE is the hex HMAC-SHA256, keyed with AssertionSecret, of
// "USER.EXPIRY" exactly as sent. It is good until EXPIRY (not after, and
// any number of times before), and EXPIRY may be at most
// MaxAssertionAhead after now. It returns SiteUserPrefix + USER, or a
// sentence saying why the assertion is refused.
func (s *server) checkAssertion(v string, now time.Time) (user, refused string) {
	if len(s.cfg.AssertionSecret) == 0 {
		return "", "User assertions are not switched on here; use a session token."
	}
	const malformed = "The user assertion must be USER.EXPIRY.SIGNATURE: the user, a Unix time and the hex HMAC-SHA256 of USER.EXPIRY."
	signed, sig, ok := cutLast(v, '.')
	if !ok {
		return "", malformed
	}
	name, exp, ok := cutLast(signed, '.')
	if !ok || !validUser(SiteUserPrefix+name) || exp == "" || strings.Trim(exp, "0123456789") != "" || len(exp) > 12 {
		return "", malformed
	}
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return "", malformed
	}
	mac := hmac.New(sha256.New, s.cfg.AssertionSecret)
	mac.Write([]byte(signed))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return "", "The user assertion's signature does not match; sign USER.EXPIRY with the shared secret."
	}
	until, _ := strconv.ParseInt(exp, 10, 64)
	switch {
	case now.Unix() >= until:
		return "", "The user assertion has expired; get a new one from the site."
	case until-now.Unix() > int64(MaxAssertionAhead/time.Second):
		return "", "The user assertion expires more than 10 minutes from now; sign one that expires sooner."
	}
	return SiteUserPrefix + name, ""
}

// cutLast splits s around the last sep; ok is false when sep is missing
// or either side would be empty.
func cutLast(s string, sep byte) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, sep)
	if i <= 0 || i == len(s)-1 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// sameUser answers 403 unless given is empty or the user the request acts
// as; it returns false when it answered.
func sameUser(c *gin.Context, given string) bool {
	if given == "" || given == webUserOf(c) {
		return true
	}
	c.AbortWithStatusJSON(http.StatusForbidden, errorBody{
		Error: `This request acts for another user; leave "user" out, or send the user your session or assertion names.`,
		Field: "user",
	})
	return false
}
