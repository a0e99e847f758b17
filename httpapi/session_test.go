package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/askpa/askpa/bot"
)

// webSession starts a session on h, as a web page would, and returns it.
func webSession(t testing.TB, h http.Handler) sessionOut {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/sessions", nil))
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST /v1/sessions: %d %s", rec.Code, rec.Body)
	}
	return decodeIntoTB[sessionOut](t, rec.Body.Bytes())
}

func decodeIntoTB[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// assert makes the X-Askpa-User-Assertion a council's site would send for
// user, good until exp, signed with key.
func assert(key, user string, exp time.Time) string {
	signed := user + "." + strconv.FormatInt(exp.Unix(), 10)
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(signed))
	return signed + "." + hex.EncodeToString(m.Sum(nil))
}

// testClock is a settable clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)} }

func (c *testClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// web is one request to the web channel; it returns the status, the
// answer and its headers.
func web(h http.Handler, method, path, body string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// TestSessionsKeepUsersApart checks what someone who knows or guesses
// another person's user id can do with it: nothing. Each session reads and
// writes only its own user's conversation and mailbox.
func TestSessionsKeepUsersApart(t *testing.T) {
	api := newTestAPI(t, nil)
	ctx := context.Background()
	alice, mallory := webSession(t, api.h), webSession(t, api.h)
	if alice.User == mallory.User || alice.Token == mallory.Token || !strings.HasPrefix(alice.User, "web-") || len(alice.Token) != tokenLen {
		t.Fatalf("two sessions: %+v and %+v", alice, mallory)
	}
	rec := web(api.h, "POST", "/v1/messages", `{"text":"I want to talk to a person"}`, bearer(alice.Token)...)
	a := decodeIntoTB[messageOut](t, rec.Body.Bytes())
	if rec.Code != 200 || a.EscalationID == "" {
		t.Fatalf("alice asks for a person: %d %s", rec.Code, rec.Body)
	}
	if _, err := api.desk.Claim(ctx, a.EscalationID, "alex"); err != nil {
		t.Fatal(err)
	}
	// What staff send alice reaches her mailbox (as WebChannel.Send does).
	if err := (WebChannel{Mailbox: api.store}).Send(ctx, bot.Address{Channel: bot.ChannelWeb, UserID: alice.User}, bot.Reply{Text: "Hello Alice, this is Alex.", FromStaff: true}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		method, path string
		body         string
		header       []string
		status       int
	}{
		{"no token, naming alice", "GET", "/v1/messages?user=" + alice.User, "", nil, 401},
		{"no token, writing as alice", "POST", "/v1/messages", fmt.Sprintf(`{"user":%q,"text":"cancel"}`, alice.User), nil, 401},
		{"mallory's token, reading alice's mailbox", "GET", "/v1/messages?user=" + alice.User, "", bearer(mallory.Token), 403},
		{"mallory's token, writing as alice", "POST", "/v1/messages", fmt.Sprintf(`{"user":%q,"text":"cancel"}`, alice.User), bearer(mallory.Token), 403},
		{"alice's user id as the token", "GET", "/v1/messages", "", bearer(alice.User), 401},
		{"alice's token, one character changed", "GET", "/v1/messages", "", bearer(flip(alice.Token)), 401},
		{"alice's token in lower case scheme", "GET", "/v1/messages", "", []string{"Authorization", "bearer " + alice.Token}, 200},
		{"alice's token as Basic", "GET", "/v1/messages", "", []string{"Authorization", "Basic " + alice.Token}, 401},
		{"a site assertion for alice's id", "GET", "/v1/messages?user=" + alice.User, "", []string{HeaderUserAssertion, assert(siteKey, alice.User, time.Now().Add(time.Minute))}, 403},
		{"token and assertion together", "GET", "/v1/messages", "", append(bearer(alice.Token), HeaderUserAssertion, assert(siteKey, "x", time.Now().Add(time.Minute))), 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := web(api.h, tc.method, tc.path, tc.body, tc.header...)
			if rec.Code != tc.status {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, tc.status)
			}
			if tc.status == 401 && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without a Bearer challenge: %q", rec.Header().Get("WWW-Authenticate"))
			}
			if tc.status != 200 && strings.Contains(rec.Body.String(), "Hello Alice") {
				t.Errorf("alice's staff reply leaked: %s", rec.Body)
			}
		})
	}
	box := decodeIntoTB[mailbox](t, web(api.h, "GET", "/v1/messages", "", bearer(mallory.Token)...).Body.Bytes())
	if box.User != mallory.User || len(box.Messages) != 0 {
		t.Errorf("mallory's own mailbox: %+v", box)
	}
	box = decodeIntoTB[mailbox](t, web(api.h, "GET", "/v1/messages", "", bearer(alice.Token)...).Body.Bytes())
	if box.User != alice.User || len(box.Messages) != 1 || box.Messages[0].Text != "Hello Alice, this is Alex." {
		t.Errorf("alice's mailbox: %+v", box)
	}
	e, err := api.desk.Get(ctx, a.EscalationID)
	if err != nil || e.Address.UserID != alice.User || len(e.Messages) != 1 {
		t.Errorf("alice's escalation was written into: %+v, %v", e, err)
	}
}

// flip changes the last character of a token to another URL-safe one.
func flip(tok string) string {
	c := byte('A')
	if tok[len(tok)-1] == 'A' {
		c = 'B'
	}
	return tok[:len(tok)-1] + string(c)
}

// TestSessionExpiry checks sliding idle expiry, the absolute limit, limits
// shortened after sessions were made, and ending a session, on a clock the
// test moves.
func TestSessionExpiry(t *testing.T) {
	day := 24 * time.Hour
	type step struct {
		after  time.Duration // clock moves on this much, then the session is used
		status int
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"used within the idle limit each time, it slides", []step{{29 * day, 200}, {29 * day, 200}, {29*day + 23*time.Hour, 200}}},
		{"idle for 30 days, it ends", []step{{30 * day, 401}}},
		{"idle for 30 days after a use, it ends", []step{{10 * day, 200}, {30 * day, 401}}},
		{"once ended, it stays ended", []step{{31 * day, 401}, {0, 401}}},
		{"used every 20 days, it ends at 180 days", []step{{20 * day, 200}, {20 * day, 200}, {20 * day, 200}, {20 * day, 200}, {20 * day, 200}, {20 * day, 200}, {20 * day, 200}, {20 * day, 200}, {19 * day, 200}, {day - time.Second, 200}, {time.Second, 401}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newTestClock()
			api := newTestAPI(t, func(c *Config) { c.Now = clk.Now })
			s, start := webSession(t, api.h), clk.Now()
			if want := start.Add(DefaultSessionIdle); !s.ExpiresAt.Equal(want) {
				t.Errorf("a new session expires at %v, want %v", s.ExpiresAt, want)
			}
			for i, st := range tc.steps {
				clk.Add(st.after)
				if rec := web(api.h, "GET", "/v1/messages", "", bearer(s.Token)...); rec.Code != st.status {
					t.Fatalf("step %d (%v after the start): %d %s, want %d", i+1, clk.Now().Sub(start), rec.Code, rec.Body, st.status)
				}
			}
		})
	}

	t.Run("limits shortened after the session was made", func(t *testing.T) {
		clk := newTestClock()
		api := newTestAPI(t, func(c *Config) { c.Now = clk.Now })
		s := webSession(t, api.h)
		clk.Add(2 * day)
		for _, tweak := range []func(*Config){
			func(c *Config) { c.SessionIdle = day },
			func(c *Config) { c.SessionMax = day },
		} {
			cfg := Config{Sessions: api.store, Mailbox: api.store, Now: clk.Now}
			tweak(&cfg)
			shorter, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if rec := web(shorter, "GET", "/v1/messages", "", bearer(s.Token)...); rec.Code != 401 {
				t.Errorf("a session 2 days old, idle 2 days, under %+v: %d", cfg, rec.Code)
			}
		}
		if rec := web(api.h, "GET", "/v1/messages", "", bearer(s.Token)...); rec.Code != 200 {
			t.Errorf("under the default limits: %d", rec.Code)
		}
	})

	t.Run("ended by DELETE", func(t *testing.T) {
		api := newTestAPI(t, nil)
		s, other := webSession(t, api.h), webSession(t, api.h)
		for _, st := range []struct {
			method, path string
			header       []string
			status       int
		}{
			{"DELETE", "/v1/sessions/current", nil, 401},
			{"DELETE", "/v1/sessions/current", []string{HeaderUserAssertion, assert(siteKey, "alice", time.Now().Add(time.Minute))}, 401},
			{"DELETE", "/v1/sessions/current", bearer(s.Token), 204},
			{"GET", "/v1/messages", bearer(s.Token), 401},
			{"POST", "/v1/messages", bearer(s.Token), 401},
			{"DELETE", "/v1/sessions/current", bearer(s.Token), 401},
			{"GET", "/v1/messages", bearer(other.Token), 200},
		} {
			body := ""
			if st.method == "POST" {
				body = `{"text":"hello"}`
			}
			if rec := web(api.h, st.method, st.path, body, st.header...); rec.Code != st.status {
				t.Errorf("%s %s %v: %d %s, want %d", st.method, st.path, st.header, rec.Code, rec.Body, st.status)
			}
		}
	})

	t.Run("expired sessions are deleted", func(t *testing.T) {
		clk := newTestClock()
		api := newTestAPI(t, func(c *Config) { c.Now = clk.Now })
		webSession(t, api.h)
		clk.Add(31 * day)
		webSession(t, api.h) // making a session prunes the expired first one
		if n, err := api.store.DeleteExpiredWebSessions(context.Background(), clk.Now()); err != nil || n != 0 {
			t.Errorf("%d expired sessions were left behind (%v)", n, err)
		}
	})
}

// TestUserAssertion checks the signed assertions of a council's own site:
// a good one acts as site:USER until it expires; forged, stale, too
// distant and malformed ones are refused with 401, and so is every one when
// no secret is set.
func TestUserAssertion(t *testing.T) {
	clk := newTestClock()
	now := clk.Now()
	good := assert(siteKey, "alice", now.Add(5*time.Minute))
	sig := good[strings.LastIndexByte(good, '.')+1:]
	for _, tc := range []struct {
		name      string
		assertion string
		status    int
		user      string
	}{
		{"good", good, 200, "site:alice"},
		{"upper-case hex", good[:len(good)-64] + strings.ToUpper(sig), 200, "site:alice"},
		{"a user with dots", assert(siteKey, "alice.smith@example.org", now.Add(time.Minute)), 200, "site:alice.smith@example.org"},
		{"expiring exactly 10 minutes ahead", assert(siteKey, "alice", now.Add(MaxAssertionAhead)), 200, "site:alice"},
		{"expiring more than 10 minutes ahead", assert(siteKey, "alice", now.Add(MaxAssertionAhead+time.Second)), 401, ""},
		{"expiring now", assert(siteKey, "alice", now), 401, ""},
		{"expired", assert(siteKey, "alice", now.Add(-time.Minute)), 401, ""},
		{"signed with another key", assert("another-secret-0123456789", "alice", now.Add(time.Minute)), 401, ""},
		{"another user, same signature", "bob" + good[len("alice"):], 401, ""},
		{"expiry changed, same signature", strings.Replace(good, strconv.FormatInt(now.Add(5*time.Minute).Unix(), 10), strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10), 1), 401, ""},
		{"signature cut short", good[:len(good)-2], 401, ""},
		{"no signature", good[:strings.LastIndexByte(good, '.')], 401, ""},
		{"no user", assert(siteKey, "", now.Add(time.Minute)), 401, ""},
		{"a user with a space", assert(siteKey, "alice smith", now.Add(time.Minute)), 401, ""},
		{"an expiry that is not a number", strings.Replace(assert(siteKey, "alice", now), strconv.FormatInt(now.Unix(), 10), "soon", 1), 401, ""},
		{"a signed negative expiry", signRaw(siteKey, "alice.-1"), 401, ""},
		{"a user too long", assert(siteKey, strings.Repeat("a", 124), now.Add(time.Minute)), 401, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newTestAPI(t, func(c *Config) { c.Now = clk.Now })
			rec := web(api.h, "GET", "/v1/messages", "", HeaderUserAssertion, tc.assertion)
			if rec.Code != tc.status {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, tc.status)
			}
			if tc.status == 200 {
				if box := decodeIntoTB[mailbox](t, rec.Body.Bytes()); box.User != tc.user {
					t.Errorf("acts as %q, want %q", box.User, tc.user)
				}
			} else if !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("challenge %q", rec.Header().Get("WWW-Authenticate"))
			}
		})
	}

	t.Run("replayed after it expired", func(t *testing.T) {
		clk := newTestClock()
		api := newTestAPI(t, func(c *Config) { c.Now = clk.Now })
		a := assert(siteKey, "alice", clk.Now().Add(2*time.Minute))
		post := func() int {
			return web(api.h, "POST", "/v1/messages", `{"user":"site:alice","text":"how much holiday?"}`, HeaderUserAssertion, a).Code
		}
		if got := post(); got != 200 {
			t.Fatalf("first use: %d", got)
		}
		clk.Add(time.Minute)
		if got := post(); got != 200 {
			t.Errorf("again before it expires: %d", got)
		}
		clk.Add(time.Minute)
		if got := post(); got != 401 {
			t.Errorf("replayed once it expired: %d, want 401", got)
		}
	})

	t.Run("the site user must be named as site:USER", func(t *testing.T) {
		api := newTestAPI(t, nil)
		rec := web(api.h, "POST", "/v1/messages", `{"user":"alice","text":"hi"}`, HeaderUserAssertion, assert(siteKey, "alice", time.Now().Add(time.Minute)))
		if rec.Code != 403 {
			t.Errorf("naming the site's own id instead of site:alice: %d", rec.Code)
		}
	})

	t.Run("off without a secret", func(t *testing.T) {
		api := newTestAPI(t, func(c *Config) { c.AssertionSecret = nil })
		if rec := web(api.h, "GET", "/v1/messages", "", HeaderUserAssertion, assert("", "alice", time.Now().Add(time.Minute))); rec.Code != 401 {
			t.Errorf("an assertion signed with the empty key: %d", rec.Code)
		}
	})
}

// signRaw signs s as it stands, for assertions assert cannot make.
func signRaw(key, s string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(s))
	return s + "." + hex.EncodeToString(m.Sum(nil))
}

// TestSessionFlood checks that one address cannot fill the database with
// sessions: the limit on new sessions, and the limit on every request,
// each stop it, while another address is unaffected.
func TestSessionFlood(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tweak   func(*Config)
		created int
	}{
		{"the session limit", func(c *Config) { c.SessionRate, c.SessionBurst = rate.Every(time.Hour), 3 }, 3},
		{"the request limit", func(c *Config) { c.RateLimit, c.Burst = 0.001, 2 }, 2},
		{"default limits", nil, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newTestAPI(t, func(c *Config) {
				c.SessionRate, c.SessionBurst = 0, 0
				if tc.tweak != nil {
					tc.tweak(c)
				}
			})
			created := 0
			for range 50 {
				rec := web(api.h, "POST", "/v1/sessions", "")
				switch rec.Code {
				case 201:
					created++
				case 429:
					if rec.Header().Get("Retry-After") == "" {
						t.Errorf("429 without Retry-After")
					}
				default:
					t.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
			if created != tc.created {
				t.Errorf("%d sessions made from one address, want %d", created, tc.created)
			}
			n, err := api.store.DeleteExpiredWebSessions(context.Background(), time.Now().Add(365*24*time.Hour))
			if err != nil || n != int64(tc.created) {
				t.Errorf("the store holds %d sessions (%v), want %d", n, err, tc.created)
			}
			r := httptest.NewRequest("POST", "/v1/sessions", nil)
			r.RemoteAddr = "192.0.2.7:1234"
			rec := httptest.NewRecorder()
			api.h.ServeHTTP(rec, r)
			if rec.Code != 201 {
				t.Errorf("another address was refused a session: %d", rec.Code)
			}
		})
	}
}

// TestCORS checks that only pages of the listed origins may call the web
// channel from a browser, and that nothing changes when none are listed.
func TestCORS(t *testing.T) {
	const site, other = "https://www.example.gov.uk", "https://evil.example"
	listed := func(c *Config) { c.AllowedOrigins = []string{" https://www.Example.gov.uk/ ", "http://localhost:3000"} }
	for _, tc := range []struct {
		name         string
		tweak        func(*Config)
		method, path string
		origin       string
		status       int
		allow        string // Access-Control-Allow-Origin wanted
		methods      string // Access-Control-Allow-Methods wanted
	}{
		{"preflight sessions, listed", listed, "OPTIONS", "/v1/sessions", site, 204, site, "POST"},
		{"preflight messages, listed", listed, "OPTIONS", "/v1/messages", site, 204, site, "GET, POST"},
		{"preflight ending a session, listed", listed, "OPTIONS", "/v1/sessions/current", site, 204, site, "DELETE"},
		{"preflight, second origin", listed, "OPTIONS", "/v1/messages", "http://localhost:3000", 204, "http://localhost:3000", "GET, POST"},
		{"preflight, unlisted", listed, "OPTIONS", "/v1/messages", other, 204, "", ""},
		{"preflight, a listed origin's lookalike", listed, "OPTIONS", "/v1/messages", site + ".evil.example", 204, "", ""},
		{"preflight, no origins configured", nil, "OPTIONS", "/v1/messages", site, 204, "", ""},
		{"session, listed", listed, "POST", "/v1/sessions", site, 201, site, ""},
		{"session, unlisted", listed, "POST", "/v1/sessions", other, 201, "", ""},
		{"refusal, listed (the page can read the 401)", listed, "GET", "/v1/messages", site, 401, site, ""},
		{"refusal, unlisted", listed, "GET", "/v1/messages", other, 401, "", ""},
		{"staff API, listed origin", listed, "GET", "/api/v1/escalations", site, 401, "", ""},
		{"no origins configured", nil, "POST", "/v1/sessions", site, 201, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newTestAPI(t, tc.tweak)
			h := []string{"Origin", tc.origin}
			if tc.method == "OPTIONS" {
				h = append(h, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type")
			}
			rec := web(api.h, tc.method, tc.path, "", h...)
			got := rec.Header()
			if rec.Code != tc.status || got.Get("Access-Control-Allow-Origin") != tc.allow || got.Get("Access-Control-Allow-Methods") != tc.methods {
				t.Fatalf("%d, allow origin %q, methods %q; want %d, %q, %q", rec.Code, got.Get("Access-Control-Allow-Origin"), got.Get("Access-Control-Allow-Methods"), tc.status, tc.allow, tc.methods)
			}
			if tc.methods != "" && got.Get("Access-Control-Allow-Headers") != "Authorization, Content-Type, X-Askpa-User-Assertion" {
				t.Errorf("allowed headers %q", got.Get("Access-Control-Allow-Headers"))
			}
			if got.Get("Access-Control-Allow-Credentials") != "" {
				t.Error("credentials allowed: the web channel never uses cookies")
			}
			if tc.tweak != nil && strings.HasPrefix(tc.path, "/v1/") && got.Get("Vary") != "Origin" {
				t.Errorf("Vary %q, want Origin", got.Get("Vary"))
			}
			if tc.tweak == nil {
				for k := range got {
					if strings.HasPrefix(k, "Access-Control-") {
						t.Errorf("%s sent with no origins configured", k)
					}
				}
			}
		})
	}
}

// TestNewRefusesBadWebSettings checks the settings New must refuse.
func TestNewRefusesBadWebSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"wildcard origin", Config{AllowedOrigins: []string{"*"}}},
		{"origin with a path", Config{AllowedOrigins: []string{"https://www.example.gov.uk/askpa"}}},
		{"origin without a scheme", Config{AllowedOrigins: []string{"www.example.gov.uk"}}},
		{"origin of another scheme", Config{AllowedOrigins: []string{"ftp://www.example.gov.uk"}}},
		{"short assertion secret", Config{AssertionSecret: []byte("short")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

// TestAssertionWorkedExample checks the worked example in README.md: its
// header is accepted just before its expiry and refused at it.
func TestAssertionWorkedExample(t *testing.T) {
	const (
		secret = "example-secret-of-32-or-more-characters"
		header = "resident-4821.1796634000.062dd5f8c10a2f7ffe9d6ce7208013e18867ed60272871fe3a437398c20199ea"
	)
	expiry := time.Unix(1796634000, 0)
	for _, tc := range []struct {
		at     time.Time
		status int
	}{{expiry.Add(-5 * time.Minute), 200}, {expiry.Add(-time.Second), 200}, {expiry, 401}, {expiry.Add(-11 * time.Minute), 401}} {
		api := newTestAPI(t, func(c *Config) { c.AssertionSecret, c.Now = []byte(secret), func() time.Time { return tc.at } })
		rec := web(api.h, "GET", "/v1/messages", "", HeaderUserAssertion, header)
		if rec.Code != tc.status {
			t.Errorf("at %v: %d %s, want %d", tc.at.UTC(), rec.Code, rec.Body, tc.status)
		}
		if tc.status == 200 && !strings.Contains(rec.Body.String(), `"user":"site:resident-4821"`) {
			t.Errorf("acts as %s, want site:resident-4821", rec.Body)
		}
	}
}
