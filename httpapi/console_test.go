package httpapi

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/postgres"
	"github.com/askpa/askpa/postgres/pgtest"
	"github.com/askpa/askpa/sqlite"
	"github.com/askpa/askpa/support"
)

// consoleRig is the API with its console on a SQLite store, a desk whose
// replies reach web users' mailboxes through the real relay, and one
// clock for all.
type consoleRig struct {
	t     testing.TB
	h     http.Handler
	store *sqlite.Store
	desk  *support.Desk
	disp  *support.Dispatcher
	clock *testClock
	logs  *syncBuffer
}

// newConsoleRig makes a rig on a settable clock at 09:00 on Monday 7
// December 2026 (r.clock).
func newConsoleRig(t testing.TB, tweak func(*Config)) *consoleRig {
	t.Helper()
	c := newTestClock()
	r := newConsoleRigAt(t, c.Now, tweak)
	r.clock = c
	return r
}

// newConsoleRigAt makes a rig whose every part tells the time by now.
func newConsoleRigAt(t testing.TB, now func() time.Time, tweak func(*Config)) *consoleRig {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "console.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	r := &consoleRig{t: t, store: store, logs: &syncBuffer{}}
	log := slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	relay, err := bot.NewRelay(bot.RelayConfig{Store: store, Channels: []bot.Channel{WebChannel{Mailbox: store, Now: now}}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if r.desk, err = support.NewDesk(support.Config{Store: store, Relay: relay, Now: now, Logger: log}); err != nil {
		t.Fatal(err)
	}
	if r.disp, err = support.NewDispatcher(support.DispatcherConfig{Store: store, Targets: r.desk.Targets(), Now: now,
		Rand: func() float64 { return 0.5 }, Timeout: time.Second, Lease: time.Minute, Logger: log, Poll: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Desk: r.desk, Handler: personBot{r.desk}, Mailbox: store, Sessions: store, Console: store,
		Staff:     []Staff{{Name: "alex", Token: alexToken}, {Name: "sam", Token: samToken}, {Name: "audit", Token: readerToken, ReadOnly: true}},
		RateLimit: 1000, Burst: 1000, Now: now, Logger: log, Location: time.UTC, ConsolePoll: 20 * time.Millisecond,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	if r.h, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	return r
}

// deliver runs the outbox until nothing is due.
func (r *consoleRig) deliver() {
	r.t.Helper()
	for range 50 {
		n, err := r.disp.Pass(context.Background())
		if err != nil {
			r.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	r.t.Fatal("the outbox never emptied")
}

// escalate opens an escalation for web user user, made at the rig's clock.
func (r *consoleRig) escalate(user, summary string, p support.Priority) support.Escalation {
	r.t.Helper()
	e, err := r.desk.Escalate(context.Background(), support.NewEscalation{ConversationID: "c-" + user,
		Address: support.Address{Channel: "web", UserID: user, ChatID: user}, Audience: "employer", Reason: "requested",
		Priority: p, Summary: summary,
		Messages: []support.Message{{From: support.FromUser, Text: summary}, {From: support.FromBot, Text: "I will find someone."}}})
	if err != nil {
		r.t.Fatal(err)
	}
	return e
}

// personBot hands a web user to staff when they ask for a person, and
// passes what they write afterwards to their open escalation, as the bot
// does.
type personBot struct{ desk *support.Desk }

func (p personBot) Handle(ctx context.Context, m bot.Message) (bot.Result, error) {
	conv := "c-" + m.Address.UserID
	es, err := p.desk.EscalationsOf(ctx, m.Address.Channel, m.Address.UserID)
	if err != nil {
		return bot.Result{}, err
	}
	for _, e := range es {
		if e.Status != support.StatusResolved {
			if err := p.desk.AddPersonMessage(ctx, e.ID, m.Text, m.At); err != nil {
				return bot.Result{}, err
			}
			return bot.Result{ConversationID: conv, EscalationID: e.ID, Replies: []bot.Reply{{Text: "I have passed that on."}}}, nil
		}
	}
	a := &bot.Answer{Question: m.Text, Audience: m.Audience, Sources: []bot.Source{}, Suggestions: []string{}}
	if !strings.Contains(m.Text, "person") {
		a.Text = "I don't know."
		return bot.Result{ConversationID: conv, Answer: a, Replies: []bot.Reply{{Text: a.Text}}}, nil
	}
	e, err := p.desk.Escalate(ctx, support.NewEscalation{ConversationID: conv, Address: support.Address(m.Address),
		Audience: string(m.Audience), Reason: "requested", Summary: m.Text,
		Messages: []support.Message{{From: support.FromUser, Text: m.Text, At: m.At}}})
	if err != nil {
		return bot.Result{}, err
	}
	a.Text, a.Escalate, a.Reason = "A person will reply.", true, "requested"
	return bot.Result{ConversationID: conv, EscalationID: e.ID, Answer: a, Replies: []bot.Reply{{Text: a.Text}}}, nil
}

// visitor is a browser without JavaScript: it keeps cookies and does not
// follow redirects.
type visitor struct {
	t      testing.TB
	h      http.Handler
	jar    *cookiejar.Jar
	remote string // client address
	tls    bool   // the request arrives over TLS
	https  bool   // the browser speaks HTTPS (to a proxy in front)
}

var (
	consoleBase, _    = url.Parse("http://askpa.test/console")
	consoleTLSBase, _ = url.Parse("https://askpa.test/console")
)

func (r *consoleRig) visitor() *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{t: r.t, h: r.h, jar: jar, remote: "192.0.2.10:5555"}
}

// do sends one request and returns the answer with its body.
func (v *visitor) do(method, path string, form url.Values) (*http.Response, string) {
	v.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, "http://askpa.test"+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.RemoteAddr = v.remote
	if v.tls {
		req.TLS = &tls.ConnectionState{}
	}
	for _, c := range v.jar.Cookies(v.base()) {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	v.h.ServeHTTP(rec, req)
	res := rec.Result()
	v.jar.SetCookies(v.base(), res.Cookies())
	return res, rec.Body.String()
}

// base is the console's URL as the visitor's cookie jar knows it.
func (v *visitor) base() *url.URL {
	if v.tls || v.https {
		return consoleTLSBase
	}
	return consoleBase
}

func (v *visitor) get(path string) (*http.Response, string) { return v.do(http.MethodGet, path, nil) }

var (
	formTokenRE = regexp.MustCompile(`name="form" value="([^"]+)"`)
	csrfRE      = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// signIn signs in with token through the form and returns the status of
// the POST.
func (v *visitor) signIn(token string) (*http.Response, string) {
	v.t.Helper()
	_, page := v.get("/console/sign-in")
	m := formTokenRE.FindStringSubmatch(page)
	if m == nil {
		v.t.Fatalf("the sign-in page has no form token:\n%s", page)
	}
	return v.do(http.MethodPost, "/console/sign-in", url.Values{"form": {m[1]}, "token": {token}})
}

// mustSignIn signs in and fails the test unless it worked.
func (v *visitor) mustSignIn(token string) {
	v.t.Helper()
	res, body := v.signIn(token)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console" {
		v.t.Fatalf("sign-in: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
}

// csrf returns the CSRF token of the page at path.
func (v *visitor) csrf(path string) string {
	v.t.Helper()
	res, page := v.get(path)
	m := csrfRE.FindStringSubmatch(page)
	if res.StatusCode != http.StatusOK || m == nil {
		v.t.Fatalf("GET %s: %d, no CSRF token:\n%s", path, res.StatusCode, page)
	}
	return m[1]
}

// sessionCookie returns the console cookie the visitor holds.
func (v *visitor) sessionCookie() string {
	for _, c := range v.jar.Cookies(consoleBase) {
		if c.Name == ConsoleCookie {
			return c.Value
		}
	}
	return ""
}

// checkConsoleHeaders fails unless res carries the console's security
// headers.
func checkConsoleHeaders(t testing.TB, what string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "script-src 'self'", "style-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", what, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: Content-Security-Policy %q allows inline or eval'd code", what, csp)
	}
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %s is %q, want %q", what, k, got, want)
		}
	}
}

// TestConsoleHeaders checks that every kind of console answer (pages,
// fragments, assets, redirects, refusals, not found, the event stream)
// sends the strict security headers, and that the pages hold no inline
// script or style.
func TestConsoleHeaders(t *testing.T) {
	r := newConsoleRig(t, nil)
	e := r.escalate("web-h", "I need a person about holiday pay", support.PriorityNormal)
	anon := r.visitor()
	for _, p := range []string{"/console", "/console/sign-in", "/console/static/console.css", "/console/static/console.js",
		"/console/static/nothing.js", "/console/nothing", "/console/escalations/" + e.ID, "/console/fragments/queue", "/console/events"} {
		res, _ := anon.get(p)
		checkConsoleHeaders(t, "signed out, GET "+p, res.Header)
	}
	res, _ := anon.do(http.MethodPost, "/console/sign-in", url.Values{"token": {"x"}})
	checkConsoleHeaders(t, "a refused sign-in", res.Header)

	v := r.visitor()
	v.mustSignIn(alexToken)
	for _, p := range []string{"/console", "/console?show=mine", "/console?show=resolved", "/console/escalations/" + e.ID,
		"/console/fragments/queue?show=urgent", "/console/fragments/escalations/" + e.ID + "/top",
		"/console/fragments/escalations/" + e.ID + "/trail", "/console/escalations/no-such-id", "/console?show=bogus"} {
		res, body := v.get(p)
		checkConsoleHeaders(t, "signed in, GET "+p, res.Header)
		if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			if strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, "<style") || strings.Contains(body, " on") && regexp.MustCompile(`\son[a-z]+=`).MatchString(body) {
				t.Errorf("GET %s has inline script or style:\n%s", p, body)
			}
		}
	}
	res, _ = v.do(http.MethodPost, "/console/escalations/"+e.ID+"/claim", url.Values{})
	checkConsoleHeaders(t, "a POST without its CSRF token", res.Header)
	for p, ctype := range map[string]string{"/console/static/console.css": "text/css", "/console/static/console.js": "text/javascript"} {
		if res, _ := v.get(p); res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), ctype) {
			t.Errorf("GET %s: %d %s", p, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	// The JSON API keeps its own headers: no console policy there.
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Header().Get("Content-Security-Policy") != "" {
		t.Error("the console's policy leaked onto /healthz")
	}
}

// TestConsoleSignIn checks the cookie (HttpOnly, SameSite=Strict, path
// /console, Secure over HTTPS or when configured), that only a hash of the
// session id is stored, and that a sign-in form posted without its form
// token (from another site) is refused.
func TestConsoleSignIn(t *testing.T) {
	r := newConsoleRig(t, nil)
	v := r.visitor()
	res, body := v.get("/console")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/sign-in" {
		t.Fatalf("signed out, /console: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, body = v.get("/console/sign-in")
	for _, want := range []string{`<label for="token"`, `type="password"`, `autocomplete="current-password"`, `lang="en-GB"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the sign-in page lacks %s", want)
		}
	}
	res, _ = v.signIn(alexToken)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", res.StatusCode)
	}
	var ck *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == ConsoleCookie {
			ck = c
		}
	}
	if ck == nil {
		t.Fatal("no session cookie")
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console" || ck.Secure {
		t.Errorf("cookie over plain HTTP: %+v; want HttpOnly, SameSite=Strict, Path=/console, not Secure", ck)
	}
	ctx := context.Background()
	if ss, err := r.store.StaffSession(ctx, sessionHash(ck.Value), r.clock.Now()); err != nil || ss.Staff != "alex" {
		t.Errorf("the session stored under the id's hash: %+v, %v", ss, err)
	}
	if _, err := r.store.StaffSession(ctx, ck.Value, r.clock.Now()); err == nil {
		t.Error("the session id itself is stored")
	}
	res, body = v.get("/console")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Signed in as <strong>alex</strong>") {
		t.Errorf("signed in, /console: %d\n%s", res.StatusCode, body)
	}
	if res, _ := v.get("/console/sign-in"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the sign-in page, signed in: %d, want a redirect to the queue", res.StatusCode)
	}

	secure := func(v *visitor) bool {
		res, _ := v.signIn(samToken)
		for _, c := range res.Cookies() {
			if c.Name == ConsoleCookie {
				return c.Secure
			}
		}
		t.Fatal("no session cookie")
		return false
	}
	overTLS := r.visitor()
	overTLS.tls = true
	if !secure(overTLS) {
		t.Error("the cookie of a sign-in over HTTPS is not Secure")
	}
	behind := newConsoleRig(t, func(c *Config) { c.ConsoleHTTPS = true })
	bv := behind.visitor()
	bv.https = true
	if !secure(bv) {
		t.Error("with ConsoleHTTPS the cookie is not Secure")
	}

	// A sign-in posted from elsewhere has no form token (SameSite keeps
	// the form cookie away).
	forged := r.visitor()
	res, _ = forged.do(http.MethodPost, "/console/sign-in", url.Values{"token": {alexToken}})
	if res.StatusCode != http.StatusForbidden || forged.sessionCookie() != "" {
		t.Errorf("a sign-in without its form token: %d, cookie %q; want 403 and none", res.StatusCode, forged.sessionCookie())
	}
}

// TestConsoleSignInRateLimit checks that failed sign-ins are limited per
// client address (even the right token is refused once the limit is hit,
// until time passes), that other addresses are not affected, and that the
// log says so without ever holding a token.
func TestConsoleSignInRateLimit(t *testing.T) {
	r := newConsoleRig(t, func(c *Config) { c.ConsoleSignInBurst = 3 })
	v := r.visitor()
	wrong := []string{"wrong-token-aaaaaaaaaaaa", "wrong-token-bbbbbbbbbbbb", "wrong-token-cccccccccccc"}
	for _, tok := range wrong {
		res, body := v.signIn(tok)
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "That staff token is not right") {
			t.Fatalf("a wrong token: %d\n%s", res.StatusCode, body)
		}
	}
	res, body := v.signIn(alexToken)
	if res.StatusCode != http.StatusTooManyRequests || v.sessionCookie() != "" || !strings.Contains(body, "too many failed sign-ins") {
		t.Fatalf("the right token after 3 failures: %d, cookie %q; want 429 and no session", res.StatusCode, v.sessionCookie())
	}
	other := r.visitor()
	other.remote = "198.51.100.7:4000"
	other.mustSignIn(samToken)

	r.clock.Add(61 * time.Second) // one more attempt a minute
	v.mustSignIn(alexToken)
	// Success does not use up the allowance.
	for range 5 {
		r.visitor().mustSignIn(alexToken)
	}

	logs := r.logs.String()
	if !strings.Contains(logs, "console sign-in refused") || !strings.Contains(logs, "too many failed attempts") {
		t.Errorf("the refusals are not logged:\n%s", logs)
	}
	for _, tok := range append(wrong, alexToken, samToken) {
		if strings.Contains(logs, tok) {
			t.Fatalf("the log holds a token (%s):\n%s", tok, logs)
		}
	}
	if v.sessionCookie() != "" && strings.Contains(logs, v.sessionCookie()) {
		t.Fatal("the log holds a session id")
	}
}

// TestConsoleSessionExpiry checks the idle expiry: pages slide it, the
// script's own requests do not, and an idle session ends (pages go to the
// sign-in page saying so, fragments and events get 401).
func TestConsoleSessionExpiry(t *testing.T) {
	r := newConsoleRig(t, func(c *Config) { c.ConsoleIdle = time.Hour })
	v := r.visitor()
	v.mustSignIn(alexToken)
	r.clock.Add(59 * time.Minute)
	if res, _ := v.get("/console"); res.StatusCode != http.StatusOK {
		t.Fatalf("after 59 idle minutes: %d", res.StatusCode)
	}
	r.clock.Add(59 * time.Minute) // 118 minutes after sign-in, 59 after the last page
	if res, _ := v.get("/console"); res.StatusCode != http.StatusOK {
		t.Fatalf("a page slid the expiry, yet after another 59 minutes: %d", res.StatusCode)
	}
	r.clock.Add(50 * time.Minute)
	if res, _ := v.get("/console/fragments/queue"); res.StatusCode != http.StatusOK {
		t.Fatalf("a fragment after 50 idle minutes: %d", res.StatusCode)
	}
	r.clock.Add(11 * time.Minute) // 61 minutes after the last page; the fragment did not count
	res, _ := v.get("/console/fragments/queue")
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a fragment after the session went idle: %d, want 401", res.StatusCode)
	}
	if res, _ := v.get("/console/events"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the event stream after the session went idle: %d, want 401", res.StatusCode)
	}
	res, _ = v.get("/console")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/sign-in?ended=1" {
		t.Fatalf("a page after the session went idle: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, body := v.get("/console/sign-in?ended=1"); !strings.Contains(body, "Your session has ended") {
		t.Error("the sign-in page does not say the session ended")
	}

	// A removed staff token ends its sessions too.
	v2 := r.visitor()
	v2.mustSignIn(samToken)
	h2, err := New(Config{Desk: r.desk, Console: r.store, Staff: []Staff{{Name: "alex", Token: alexToken}}, Now: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	v2.h = h2
	if res, _ := v2.get("/console"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the session of a removed token: %d, want a redirect to sign in", res.StatusCode)
	}
}

// TestConsoleCSRF checks that a POST without the session's CSRF token, with
// a wrong one or with another session's, is refused 403 and changes
// nothing, and that the right one works.
func TestConsoleCSRF(t *testing.T) {
	r := newConsoleRig(t, nil)
	e := r.escalate("web-csrf", "Can a person call me?", support.PriorityNormal)
	alex, sam := r.visitor(), r.visitor()
	alex.mustSignIn(alexToken)
	sam.mustSignIn(samToken)
	page := "/console/escalations/" + e.ID
	good, samCSRF := alex.csrf(page), sam.csrf(page)
	if good == samCSRF {
		t.Fatal("two sessions share a CSRF token")
	}
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"no token", url.Values{}},
		{"an empty token", url.Values{"csrf": {""}}},
		{"a wrong token", url.Values{"csrf": {good[:len(good)-2] + "xx"}}},
		{"another session's token", url.Values{"csrf": {samCSRF}}},
	} {
		for _, action := range []string{"claim", "resolve", "reply", "note"} {
			form := url.Values{"reply": {"hello"}, "note": {"hello"}}
			for k, v := range tc.form {
				form[k] = v
			}
			res, body := alex.do(http.MethodPost, page+"/"+action, form)
			if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "This form has expired") {
				t.Errorf("%s with %s: %d, want 403", action, tc.name, res.StatusCode)
			}
		}
	}
	if got, _ := r.desk.Get(context.Background(), e.ID); got.Status != support.StatusOpen || len(got.Audit) != 1 {
		t.Fatalf("refused forms changed the escalation: %s, %d audit entries", got.Status, len(got.Audit))
	}
	if res, _ := alex.do(http.MethodPost, "/console/sign-out", url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out without the token: %d, want 403", res.StatusCode)
	}
	if res, _ := alex.get("/console"); res.StatusCode != http.StatusOK {
		t.Error("a refused sign-out ended the session")
	}
	res, _ := alex.do(http.MethodPost, page+"/claim", url.Values{"csrf": {good}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != page+"?done=claimed" {
		t.Fatalf("claim with the right token: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if got, _ := r.desk.Get(context.Background(), e.ID); got.ClaimedBy != "alex" {
		t.Errorf("claimed by %q, want alex", got.ClaimedBy)
	}
}

// TestConsoleReadOnly checks that a read-only token sees the queue and
// escalations but no action, and that its POSTs are refused 403.
func TestConsoleReadOnly(t *testing.T) {
	r := newConsoleRig(t, nil)
	e := r.escalate("web-ro", "Please can a person help", support.PriorityUrgent)
	v := r.visitor()
	v.mustSignIn(readerToken)
	_, queue := v.get("/console")
	if !strings.Contains(queue, "Please can a person help") || !strings.Contains(queue, "Read only") {
		t.Errorf("the read-only queue:\n%s", queue)
	}
	page := "/console/escalations/" + e.ID
	_, body := v.get(page)
	if !strings.Contains(body, "Please can a person help") {
		t.Fatalf("the read-only escalation page does not show the conversation:\n%s", body)
	}
	if n := strings.Count(body, "<form"); n != 1 || !strings.Contains(body, `action="/console/sign-out"`) {
		t.Errorf("the read-only page has %d forms; want only sign-out:\n%s", n, body)
	}
	for _, part := range []string{"top", "trail"} {
		if _, frag := v.get("/console/fragments/escalations/" + e.ID + "/" + part); strings.Contains(frag, "<form") || strings.Contains(frag, "<button") {
			t.Errorf("the read-only %s fragment has a form:\n%s", part, frag)
		}
	}
	csrf := csrfRE.FindStringSubmatch(body)[1]
	for _, action := range []string{"claim", "resolve", "reopen", "reply", "note"} {
		res, body := v.do(http.MethodPost, page+"/"+action, url.Values{"csrf": {csrf}, "reply": {"hi"}, "note": {"hi"}})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "You can only read") {
			t.Errorf("read-only %s: %d, want 403", action, res.StatusCode)
		}
	}
	if got, _ := r.desk.Get(context.Background(), e.ID); got.Status != support.StatusOpen || len(got.Audit) != 1 {
		t.Errorf("read-only POSTs changed the escalation: %s, %+v", got.Status, got.Audit)
	}
	if res, _ := v.do(http.MethodPost, "/console/sign-out", url.Values{"csrf": {csrf}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("read-only staff cannot sign out: %d", res.StatusCode)
	}
}

// TestConsoleSignOut checks that signing out deletes the session at once:
// the old cookie no longer works, even if kept.
func TestConsoleSignOut(t *testing.T) {
	r := newConsoleRig(t, nil)
	v := r.visitor()
	v.mustSignIn(alexToken)
	id := v.sessionCookie()
	csrf := v.csrf("/console")
	res, _ := v.do(http.MethodPost, "/console/sign-out", url.Values{"csrf": {csrf}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/sign-in?signed-out=1" {
		t.Fatalf("sign-out: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if v.sessionCookie() != "" {
		t.Error("the cookie was not cleared")
	}
	if _, err := r.store.StaffSession(context.Background(), sessionHash(id), r.clock.Now()); err == nil {
		t.Error("the session is still stored")
	}
	v.jar.SetCookies(consoleBase, []*http.Cookie{{Name: ConsoleCookie, Value: id, Path: "/console"}})
	if res, _ := v.get("/console"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the old cookie still works: %d", res.StatusCode)
	}
}

// rowOrder returns the escalation ids of the queue's rows, in order.
func rowOrder(body string) []string {
	var ids []string
	for _, m := range regexp.MustCompile(`<tr id="row-([^"]+)"`).FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// TestConsoleQueue checks the queue's order (urgent first, then oldest),
// what each row shows (waiting time, channel, reason, priority, who has
// it) and the filters.
func TestConsoleQueue(t *testing.T) {
	r := newConsoleRig(t, nil)
	ctx := context.Background()
	yesterday := r.escalate("web-y", "Resolved yesterday", support.PriorityNormal)
	if _, err := r.desk.Resolve(ctx, yesterday.ID, "sam"); err != nil {
		t.Fatal(err)
	}
	r.clock.Add(23 * time.Hour) // 08:00 on the 8th
	old := r.escalate("web-old", "Oldest, normal", support.PriorityNormal)
	r.clock.Add(10 * time.Minute)
	mine := r.escalate("web-mine", "Claimed by alex", support.PriorityNormal)
	samHas := r.escalate("web-sam", "Claimed by sam", support.PriorityNormal)
	done := r.escalate("web-done", "Resolved today", support.PriorityNormal)
	r.clock.Add(18 * time.Minute)
	urgent := r.escalate("web-urgent", "Newest but urgent", support.PriorityUrgent)
	for _, step := range []func() error{
		func() error { _, err := r.desk.Claim(ctx, mine.ID, "alex"); return err },
		func() error { _, err := r.desk.Claim(ctx, samHas.ID, "sam"); return err },
		func() error { _, err := r.desk.Resolve(ctx, done.ID, "alex"); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	r.clock.Add(12 * time.Minute)
	v := r.visitor()
	v.mustSignIn(alexToken)
	_, body := v.get("/console")
	if got, want := rowOrder(body), []string{urgent.ID, old.ID, mine.ID, samHas.ID}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the queue's order: %v, want %v (urgent first, then oldest; nothing resolved)", got, want)
	}
	row := func(body, id string) string {
		i := strings.Index(body, `<tr id="row-`+id+`"`)
		if i < 0 {
			t.Fatalf("no row for %s", id)
		}
		j := strings.Index(body[i:], "</tr>")
		return body[i : i+j]
	}
	for id, wants := range map[string][]string{
		urgent.ID: {"Urgent", ">12 min<", "Web chat", "Asked for a person", "Nobody yet", "Newest but urgent"},
		old.ID:    {"Normal", ">40 min<", "Nobody yet"},
		mine.ID:   {"<strong>You</strong>", ">30 min<"},
		samHas.ID: {"<td>sam</td>"},
	} {
		got := row(body, id)
		for _, w := range wants {
			if !strings.Contains(got, w) {
				t.Errorf("row %s lacks %q:\n%s", id, w, got)
			}
		}
	}
	if !strings.Contains(body, "4 escalations, 1 urgent") {
		t.Error("the queue does not count its escalations")
	}
	for show, want := range map[string][]string{
		"mine":      {mine.ID},
		"unclaimed": {urgent.ID, old.ID},
		"urgent":    {urgent.ID},
		"resolved":  {done.ID},
	} {
		_, body := v.get("/console?show=" + show)
		if got := rowOrder(body); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("?show=%s: %v, want %v", show, got, want)
		}
		if !strings.Contains(body, `href="/console?show=`+show+`" aria-current="page"`) {
			t.Errorf("?show=%s: the filter is not marked current", show)
		}
		_, frag := v.get("/console/fragments/queue?show=" + show)
		if got := rowOrder(frag); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("the fragment of ?show=%s: %v, want %v", show, got, want)
		}
	}
	_, resolved := v.get("/console?show=resolved")
	if got := row(resolved, done.ID); !strings.Contains(got, ">08:28<") || !strings.Contains(got, ">18 min<") {
		t.Errorf("resolved today does not say when:\n%s", row(resolved, done.ID))
	}
	if res, _ := v.get("/console?show=bogus"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown filter: %d, want 400", res.StatusCode)
	}
}

// TestConsoleEscalation checks one escalation's page: the conversation as
// the person saw it with the delivery status of staff replies, the audit
// trail, the warning when a colleague holds it, replies that reach the web
// user exactly as API replies do, and internal notes that never do.
func TestConsoleEscalation(t *testing.T) {
	r := newConsoleRig(t, nil)
	ctx := context.Background()
	web := webSession(t, r.h)
	res := callJSON(t, r.h, http.MethodPost, "/v1/messages", web.Token, `{"text": "Can I talk to a person about my PA's contract?"}`)
	var out struct {
		EscalationID string `json:"escalation_id"`
	}
	decodeJSON(t, res, &out)
	if out.EscalationID == "" {
		t.Fatal("the web message did not escalate")
	}
	id := out.EscalationID
	page := "/console/escalations/" + id
	alex, sam := r.visitor(), r.visitor()
	alex.mustSignIn(alexToken)
	sam.mustSignIn(samToken)

	_, body := alex.get(page)
	for _, want := range []string{"Can I talk to a person about my PA&#39;s contract?", "The person", `id="claim"`, `id="send-reply"`, `id="add-note"`, "Asked for a person"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	csrf := csrfRE.FindStringSubmatch(body)[1]
	key := regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(body)
	if key == nil {
		t.Fatalf("the reply form has no key:\n%s", body)
	}
	// The form sent twice (a double click, a reload) is one reply.
	form := url.Values{"csrf": {csrf}, "key": {key[1]}, "reply": {"Hello, I'm Alex from the support service. I can help."}}
	for range 2 {
		if res2, _ := alex.do(http.MethodPost, page+"/reply", form); res2.StatusCode != http.StatusSeeOther {
			t.Fatalf("reply: %d", res2.StatusCode)
		}
	}
	if e, _ := r.desk.Get(ctx, id); strings.Count(fmt.Sprint(e.Messages), "I can help.") != 1 {
		t.Errorf("the reply form sent twice made %+v; want one reply", e.Messages)
	}
	_, body = alex.get(page + "?done=replied")
	if !strings.Contains(body, "Your reply is on its way") || !strings.Contains(body, ">Sending<") {
		t.Errorf("after replying the page does not say it is being sent:\n%s", body)
	}
	r.deliver()
	_, body = alex.get(page)
	if !strings.Contains(body, ">Delivered<") || !strings.Contains(body, "alex (staff)") {
		t.Errorf("the delivered reply is not shown as delivered:\n%s", body)
	}
	mail := webMail(t, r.h, web.Token)
	if !strings.Contains(mail, "I can help.") {
		t.Errorf("the web user did not get the reply: %s", mail)
	}

	// A colleague sees who holds it and cannot reply.
	_, body = sam.get(page)
	if !strings.Contains(body, "alex has claimed this escalation") || strings.Contains(body, `id="send-reply"`) || strings.Contains(body, `id="claim"`) {
		t.Errorf("sam's page on alex's escalation:\n%s", body)
	}
	samCSRF := csrfRE.FindStringSubmatch(body)[1]
	res2, body := sam.do(http.MethodPost, page+"/reply", url.Values{"csrf": {samCSRF}, "reply": {"Sam here too"}})
	if res2.StatusCode != http.StatusConflict || !strings.Contains(body, "alex has claimed this escalation. Only they can reply") || !strings.Contains(body, "Sam here too") {
		t.Errorf("sam's reply to alex's escalation: %d\n%s", res2.StatusCode, body)
	}
	res2, body = sam.do(http.MethodPost, page+"/claim", url.Values{"csrf": {samCSRF}})
	if res2.StatusCode != http.StatusConflict {
		t.Errorf("sam's claim of alex's escalation: %d, want 409", res2.StatusCode)
	}

	// Notes: anyone may add one; it shows in the trail and never reaches
	// the person.
	const secret = "NOTE-7731: rang her landline, no answer"
	res2, _ = sam.do(http.MethodPost, page+"/note", url.Values{"csrf": {samCSRF}, "note": {secret}})
	if res2.StatusCode != http.StatusSeeOther {
		t.Fatalf("note: %d", res2.StatusCode)
	}
	res2, body = alex.do(http.MethodPost, page+"/note", url.Values{"csrf": {csrf}, "note": {"  "}})
	if res2.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Enter your note.") || !strings.Contains(body, `aria-invalid`) && !strings.Contains(body, `id="note-error"`) {
		t.Errorf("an empty note: %d\n%s", res2.StatusCode, body)
	}
	res2, body = alex.do(http.MethodPost, page+"/reply", url.Values{"csrf": {csrf}, "reply": {""}})
	if res2.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Enter your reply.") {
		t.Errorf("an empty reply: %d\n%s", res2.StatusCode, body)
	}
	if _, err := r.desk.Claim(ctx, id, "alex"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.Reply(ctx, id, "alex", "One more thing from us."); err != nil {
		t.Fatal(err)
	}
	res2, _ = alex.do(http.MethodPost, page+"/resolve", url.Values{"csrf": {csrf}})
	if res2.StatusCode != http.StatusSeeOther {
		t.Fatalf("resolve: %d", res2.StatusCode)
	}
	r.deliver()
	_, trail := alex.get("/console/fragments/escalations/" + id + "/trail")
	if !strings.Contains(trail, "Internal note:") || !strings.Contains(trail, html.EscapeString(secret)) {
		t.Errorf("the trail does not show the note:\n%s", trail)
	}
	mail = webMail(t, r.h, web.Token)
	if strings.Contains(mail, "NOTE-7731") || strings.Contains(mail, "landline") {
		t.Fatalf("the note reached the person: %s", mail)
	}
	if !strings.Contains(mail, "One more thing from us.") {
		t.Errorf("the web user did not get the second reply: %s", mail)
	}
	_, body = alex.get(page)
	if !strings.Contains(body, `id="reopen"`) || strings.Contains(body, `id="send-reply"`) {
		t.Errorf("a resolved escalation's page offers reopen and no reply?\n%s", body)
	}
	res2, _ = alex.do(http.MethodPost, page+"/reopen", url.Values{"csrf": {csrf}})
	if got, _ := r.desk.Get(ctx, id); res2.StatusCode != http.StatusSeeOther || got.Status != support.StatusOpen {
		t.Errorf("reopen: %d, %s", res2.StatusCode, got.Status)
	}
	if res, _ := alex.get("/console/escalations/no-such-id"); res.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown escalation: %d", res.StatusCode)
	}
}

func callJSON(t testing.TB, h http.Handler, method, path, token, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body.String())
	}
	return rec
}

func decodeJSON(t testing.TB, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("%v: %s", err, rec.Body.String())
	}
}

// listedIDs calls GET path as token and returns, sorted, the ids of the
// objects in the response's list named key.
func listedIDs(t testing.TB, h http.Handler, path, token, key string) []string {
	t.Helper()
	var out map[string]json.RawMessage
	decodeJSON(t, callJSON(t, h, http.MethodGet, path, token, ""), &out)
	var list []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out[key], &list); err != nil {
		t.Fatalf("GET %s: %q is not a list of objects with ids: %v", path, key, err)
	}
	var got []string
	for _, x := range list {
		got = append(got, x.ID)
	}
	slices.Sort(got)
	return got
}

// webMail returns the web user's mailbox as JSON.
func webMail(t testing.TB, h http.Handler, token string) string {
	t.Helper()
	return callJSON(t, h, http.MethodGet, "/v1/messages?after=0", token, "").Body.String()
}

// sse reads one console event stream.
type sse struct {
	cancel context.CancelFunc
	events chan string // "change <mark>" or "signed-out"
	status int
}

// openEvents opens the event stream at path of the server at base with
// the visitor's session cookie.
func openEvents(t testing.TB, base string, v *visitor, path string) *sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	for _, c := range v.jar.Cookies(consoleBase) {
		req.AddCookie(c)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &sse{cancel: cancel, events: make(chan string, 100), status: res.StatusCode}
	checkConsoleHeaders(t, "the event stream", res.Header)
	if ct := res.Header.Get("Content-Type"); res.StatusCode == http.StatusOK && !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("the event stream's type is %q", ct)
	}
	go func() {
		defer res.Body.Close()
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		var name, data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = strings.TrimPrefix(line, "data: ")
			case line == "" && name != "":
				s.events <- strings.TrimSpace(name + " " + data)
				name, data = "", ""
			}
		}
	}()
	t.Cleanup(cancel)
	return s
}

// next waits up to d for the next event; "" when none came.
func (s *sse) next(d time.Duration) string {
	select {
	case ev := <-s.events:
		return ev
	case <-time.After(d):
		return ""
	}
}

// TestConsoleEventsAcrossProcesses checks that the event stream of one
// askpa process reports changes made by another process sharing the store
// (two handlers on two handles of one SQLite file), for the queue and for
// one escalation, and that an escalation's stream ignores the others.
func TestConsoleEventsAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	open := func() *sqlite.Store {
		s, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	testEventsAcross(t, func() (ConsoleStore, support.Store) { s := open(); return s, s })
}

// testEventsAcross runs the cross-process events check on stores from
// open, each call a new handle (a new "process") on one database.
func testEventsAcross(t *testing.T, open func() (ConsoleStore, support.Store)) {
	ctx := context.Background()
	staff := []Staff{{Name: "alex", Token: alexToken}}
	conA, storeA := open()
	_, storeB := open()
	deskA, err := support.NewDesk(support.Config{Store: storeA})
	if err != nil {
		t.Fatal(err)
	}
	deskB, err := support.NewDesk(support.Config{Store: storeB})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Desk: deskA, Console: conA, Staff: staff, ConsolePoll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	v := &visitor{t: t, h: h, remote: "192.0.2.1:1"}
	v.jar, _ = cookiejar.New(nil)
	v.mustSignIn(alexToken)

	escalateB := func(user string) support.Escalation {
		e, err := deskB.Escalate(ctx, support.NewEscalation{ConversationID: "c-" + user, Address: support.Address{Channel: "telegram", UserID: user, ChatID: user},
			Reason: "requested", Summary: "help", Messages: []support.Message{{From: support.FromUser, Text: "help"}}})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	first := escalateB("1")

	// The queue page as drawn now: its mark is current, so nothing comes
	// until something changes.
	_, body := v.get("/console")
	m := regexp.MustCompile(`data-events="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the queue page has no event stream:\n%s", body)
	}
	queue := openEvents(t, srv.URL, v, html.UnescapeString(m[1]))
	if queue.status != http.StatusOK {
		t.Fatalf("the event stream: %d", queue.status)
	}
	if ev := queue.next(300 * time.Millisecond); ev != "" {
		t.Errorf("an event with nothing changed: %q", ev)
	}
	_, body = v.get("/console/escalations/" + first.ID)
	m = regexp.MustCompile(`data-events="([^"]+)"`).FindStringSubmatch(body)
	one := openEvents(t, srv.URL, v, html.UnescapeString(m[1]))

	second := escalateB("2") // by the other process
	if ev := queue.next(5 * time.Second); !strings.HasPrefix(ev, "change ") {
		t.Fatalf("the queue's stream did not report an escalation made by another process (got %q)", ev)
	}
	if ev := one.next(300 * time.Millisecond); ev != "" {
		t.Errorf("the first escalation's stream reported a change to another: %q", ev)
	}
	if _, err := deskB.Claim(ctx, first.ID, "sam"); err != nil {
		t.Fatal(err)
	}
	if ev := one.next(5 * time.Second); !strings.HasPrefix(ev, "change ") {
		t.Fatalf("the escalation's stream did not report a claim by another process (got %q)", ev)
	}
	if ev := queue.next(5 * time.Second); !strings.HasPrefix(ev, "change ") {
		t.Fatalf("the queue's stream did not report the claim (got %q)", ev)
	}
	if err := deskB.AddPersonMessage(ctx, first.ID, "are you there?", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if ev := one.next(5 * time.Second); !strings.HasPrefix(ev, "change ") {
		t.Fatalf("the escalation's stream did not report the person's new message (got %q)", ev)
	}
	_ = second

	// A page drawn before a change it missed hears of it at once.
	stale := openEvents(t, srv.URL, v, "/console/events?since=stale-mark")
	if ev := stale.next(5 * time.Second); !strings.HasPrefix(ev, "change ") {
		t.Errorf("a stream opened with an old mark got %q, want a change at once", ev)
	}
}

// TestConsoleEventsEnd checks that event streams end when the server shuts
// down (Config.Shutdown) and tell a page whose session has ended.
func TestConsoleEventsEnd(t *testing.T) {
	shutdown := make(chan struct{})
	r := newConsoleRig(t, func(c *Config) { c.Shutdown = shutdown; c.Now = time.Now })
	srv := httptest.NewServer(r.h)
	t.Cleanup(srv.Close)
	defer func(d time.Duration) { keepAlive = d }(keepAlive)
	keepAlive = 50 * time.Millisecond
	v := r.visitor()
	v.mustSignIn(alexToken)
	out := openEvents(t, srv.URL, v, "/console/events")
	if res, _ := v.do(http.MethodPost, "/console/sign-out", url.Values{"csrf": {v.csrf("/console")}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", res.StatusCode)
	}
	if ev := out.next(5 * time.Second); ev != "signed-out signed out" {
		t.Errorf("after signing out elsewhere the stream said %q, want signed-out", ev)
	}
	v.mustSignIn(alexToken)
	s := openEvents(t, srv.URL, v, "/console/events")
	close(shutdown)
	select {
	case _, open := <-s.events:
		for open {
			_, open = <-s.events
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the event stream did not end at shutdown")
	}
}

// TestConsoleOthersUntouched checks that the console leaves the JSON API
// alone: with no console store there is no /console, and the API's errors
// are what they were.
func TestConsoleOthersUntouched(t *testing.T) {
	r := newConsoleRig(t, func(c *Config) { c.Console = nil })
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/console/sign-in", nil))
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Header().Get("Content-Type"), "json") {
		t.Errorf("/console without a console store: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	rec = httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/escalations/nope/claim", nil)
	req.Header.Set("Authorization", "Bearer "+alexToken)
	r.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "There is no escalation with that id.") {
		t.Errorf("the API's 404: %d %s", rec.Code, rec.Body.String())
	}
}

// TestConsoleEventsAcrossPostgres is TestConsoleEventsAcrossProcesses on
// PostgreSQL (ASKPA_TEST_DATABASE_URL), as several askpa processes run in
// production.
func TestConsoleEventsAcrossPostgres(t *testing.T) {
	u := pgtest.URL(t)
	testEventsAcross(t, func() (ConsoleStore, support.Store) {
		s, err := postgres.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, s
	})
}

// TestConsoleEventsOutliveWriteTimeout checks that an event stream keeps
// working past the server's WriteTimeout (askpa serve sets 30 s), which
// would otherwise cut every live page off.
func TestConsoleEventsOutliveWriteTimeout(t *testing.T) {
	r := newConsoleRig(t, nil)
	srv := httptest.NewUnstartedServer(r.h)
	srv.Config.WriteTimeout = 200 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	v := r.visitor()
	v.mustSignIn(alexToken)
	s := openEvents(t, srv.URL, v, "/console/events")
	if s.status != http.StatusOK {
		t.Fatalf("the event stream: %d", s.status)
	}
	time.Sleep(600 * time.Millisecond)
	r.escalate("web-late", "a person please", support.PriorityNormal)
	if ev := s.next(5 * time.Second); !strings.HasPrefix(ev, "change ") {
		t.Fatalf("after the write timeout the stream said %q, want a change", ev)
	}
}

// TestConsoleSafetyVerdict: staff mark the safety layer's verdict on an
// escalation right or wrong from its page, as the staff API's
// safety-label does; the label is kept for the next training run, shown on
// the page, and a form without a verdict is refused naming it.
func TestConsoleSafetyVerdict(t *testing.T) {
	r := newConsoleRig(t, nil)
	e, err := r.desk.Escalate(context.Background(), support.NewEscalation{ConversationID: "c-safety",
		Address: support.Address{Channel: "web", UserID: "w-safety", ChatID: "w-safety"}, Audience: "employer", Reason: "crisis",
		Priority: support.PriorityUrgent, Summary: "dead on my feet after a double shift, is that legal",
		Safety:   &support.SafetyAssessment{Kind: "suicidal", Level: "urgent", Probability: 0.91, By: "model"},
		Messages: []support.Message{{From: support.FromUser, Text: "dead on my feet after a double shift, is that legal"}}})
	if err != nil {
		t.Fatal(err)
	}
	page := "/console/escalations/" + e.ID
	alex := r.visitor()
	alex.mustSignIn(alexToken)
	_, body := alex.get(page)
	if !strings.Contains(body, "saw <strong>suicidal</strong> (urgent, 91% sure") || !strings.Contains(body, `id="save-verdict"`) {
		t.Fatalf("the page lacks the verdict panel:\n%s", body)
	}
	csrf := alex.csrf(page)
	res, body := alex.do(http.MethodPost, page+"/safety", url.Values{"csrf": {csrf}, "kind": {"ordinary"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="safety-error"`) {
		t.Fatalf("a form without a verdict: %d", res.StatusCode)
	}
	res, _ = alex.do(http.MethodPost, page+"/safety", url.Values{"csrf": {csrf}, "verdict": {"wrong"}, "kind": {"ordinary"}, "note": {"a figure of speech"}})
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving the verdict: %d", res.StatusCode)
	}
	got, err := r.desk.Get(context.Background(), e.ID)
	if err != nil || got.Safety == nil || got.Safety.Label == nil || got.Safety.Label.Correct || got.Safety.Label.Kind != "ordinary" || got.Safety.Label.By != "alex" {
		t.Fatalf("the label kept: %+v, %v", got.Safety, err)
	}
	if _, body = alex.get(page); !strings.Contains(body, "alex said it was wrong: it was ordinary.") {
		t.Errorf("the page does not show the label")
	}
	if res, _ = alex.do(http.MethodPost, page+"/safety", url.Values{"verdict": {"right"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("a verdict without the CSRF token: %d", res.StatusCode)
	}
}

// TestStaffLimitedToAreas: a staff token limited to an area lists and
// opens only that area's escalations; another area's answers 404, in the
// staff API and in the console, as if it did not exist; an unlimited token
// sees both.
func TestStaffLimitedToAreas(t *testing.T) {
	const devonToken, somersetToken = "devon-token-0123456789", "somerset-token-0123456"
	r := newConsoleRig(t, func(c *Config) {
		c.Staff = append(c.Staff, Staff{Name: "dee", Token: devonToken, Areas: []string{"devon"}}, Staff{Name: "sol", Token: somersetToken, Areas: []string{"somerset"}})
	})
	ctx := context.Background()
	open := func(user, area string) support.Escalation {
		e, err := r.desk.Escalate(ctx, support.NewEscalation{ConversationID: "c-" + user, Area: area,
			Address: support.Address{Channel: "web", UserID: user, ChatID: user}, Audience: "employer", Reason: "requested",
			Summary: "please call me, " + area, Messages: []support.Message{{From: support.FromUser, Text: "please call me"}}})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	devon, somerset := open("w-dev", "devon"), open("w-som", "somerset")
	ids := func(token string) []string {
		t.Helper()
		return listedIDs(t, r.h, "/api/v1/escalations", token, "escalations")
	}
	both := []string{devon.ID, somerset.ID}
	slices.Sort(both)
	if got := ids(devonToken); !slices.Equal(got, []string{devon.ID}) {
		t.Errorf("Devon's staff list %v; want only %s", got, devon.ID)
	}
	if got := ids(alexToken); !slices.Equal(got, both) {
		t.Errorf("unlimited staff list %v; want %v", got, both)
	}
	status := func(method, path, token string) int {
		req := httptest.NewRequest(method, path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		r.h.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, tc := range []struct {
		token, id string
		want      int
	}{{devonToken, devon.ID, http.StatusOK}, {devonToken, somerset.ID, http.StatusNotFound}, {somersetToken, devon.ID, http.StatusNotFound}, {alexToken, somerset.ID, http.StatusOK}} {
		if got := status(http.MethodGet, "/api/v1/escalations/"+tc.id, tc.token); got != tc.want {
			t.Errorf("GET %s as %s: %d, want %d", tc.id, tc.token[:5], got, tc.want)
		}
	}
	if got := status(http.MethodPost, "/api/v1/escalations/"+somerset.ID+"/claim", devonToken); got != http.StatusNotFound {
		t.Errorf("Devon's staff claiming Somerset's escalation: %d, want 404", got)
	}
	for _, path := range []string{"/api/v1/safety-labels", "/api/v1/people/export?channel=web&user=w-som", "/api/v1/insights/gaps"} {
		if got := status(http.MethodGet, path, devonToken); got != http.StatusForbidden && !(got == http.StatusNotFound && strings.Contains(path, "insights")) {
			t.Errorf("GET %s with an area-limited token: %d, want 403", path, got)
		}
	}
	if e, _ := r.desk.Get(ctx, somerset.ID); e.Status != support.StatusOpen {
		t.Errorf("Somerset's escalation is %s after Devon's staff tried to claim it", e.Status)
	}

	dee := r.visitor()
	dee.mustSignIn(devonToken)
	if _, body := dee.get("/console"); !strings.Contains(body, "please call me, devon") || strings.Contains(body, "please call me, somerset") {
		t.Errorf("Devon's console queue shows the wrong escalations:\n%s", body)
	}
	if _, body := dee.get("/console/escalations/" + devon.ID); !strings.Contains(body, `<dd id="area">devon</dd>`) {
		t.Errorf("Devon's escalation page does not show its area")
	}
	if res, _ := dee.get("/console/escalations/" + somerset.ID); res.StatusCode != http.StatusNotFound {
		t.Errorf("Devon's staff opening Somerset's escalation in the console: %d, want 404", res.StatusCode)
	}
	if res, _ := dee.do(http.MethodPost, "/console/escalations/"+somerset.ID+"/claim", url.Values{"csrf": {dee.csrf("/console/escalations/" + devon.ID)}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("Devon's staff claiming Somerset's escalation in the console: %d, want 404", res.StatusCode)
	}
}
