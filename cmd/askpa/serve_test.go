package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/askpa/askpa/postgres/pgtest"
	"github.com/askpa/askpa/support"
)

const (
	testStaffToken  = "alex-token-0123456789"
	testWebhookKey  = "webhook-secret"
	testHelpdeskKey = "helpdesk-secret"
)

// receiver is a webhook endpoint that checks signatures and records events.
type receiver struct {
	mu     sync.Mutex
	events []receivedEvent
	down   bool
	bad    int // requests whose signature did not verify
	srv    *httptest.Server
}

type receivedEvent struct {
	Name, Delivery string
	Escalation     support.Escalation
}

func newReceiver(t testing.TB) *receiver { return newKeyedReceiver(t, testWebhookKey) }

// newKeyedReceiver is newReceiver for webhooks signed with key.
func newKeyedReceiver(t testing.TB, key string) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		if err := support.Verify([]byte(key), req.Header.Get(support.HeaderTimestamp), req.Header.Get(support.HeaderSignature), body, time.Now()); err != nil {
			r.bad++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev support.Event
		if err := json.Unmarshal(body, &ev); err != nil || ev.Name != req.Header.Get(support.HeaderEvent) || ev.DeliveryID != req.Header.Get(support.HeaderDelivery) {
			r.bad++
			http.Error(w, "inconsistent", http.StatusBadRequest)
			return
		}
		r.events = append(r.events, receivedEvent{ev.Name, ev.DeliveryID, ev.Escalation})
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// has reports whether the receiver got event name for escalation id.
func (r *receiver) has(name, id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Name == name && e.Escalation.ID == id {
			return true
		}
	}
	return false
}

// lineWriter hands the first line written to it to a channel.
type lineWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	line chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if i := bytes.IndexByte(w.buf.Bytes(), '\n'); i >= 0 && w.line != nil {
		w.line <- w.buf.String()[:i]
		w.line = nil
	}
	return len(p), nil
}

// startServe runs runServe in-process on a free port and returns its base
// URL; the server stops when the test ends, and the test fails if it did not
// stop cleanly.
func startServe(t *testing.T, env map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &lineWriter{line: make(chan string, 1)}
	first := out.line
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"-webhook-timeout", "2s"}, out, io.Discard, func(k string) string { return env[k] })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve stopped with %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop within 30s of cancellation")
		}
	})
	select {
	case line := <-first:
		base, ok := strings.CutPrefix(line, "askpa: listening on ")
		if !ok {
			t.Fatalf("unexpected first line %q", line)
		}
		return base
	case err := <-done:
		t.Fatalf("serve failed to start: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}
	return ""
}

// tryCall makes one request with the staff token and decodes the JSON
// answer into out; it returns the status, or the transport error.
func tryCall(method, url string, body any, out any) (int, error) {
	return tryCallAs(method, url, testStaffToken, body, out)
}

// tryCallAs is tryCall with another bearer token (none when empty).
func tryCallAs(method, url, token string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode/100 == 2 && out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return 0, fmt.Errorf("%d %s: %w", resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode, nil
}

// call makes one request and decodes the JSON answer into out (when not
// nil); it returns the status.
func call(t testing.TB, method, url, token string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, url, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

// webSession is a web-channel session: the token to send and the user it
// acts as.
type webSession struct {
	Token string `json:"token"`
	User  string `json:"user"`
}

// tryWebSession starts a web-channel session on the server at base, as a
// web page does before its first message; it fails without a test, for
// servers that may die under the request.
func tryWebSession(base string) (webSession, error) {
	var s webSession
	st, err := tryCallAs("POST", base+"/v1/sessions", "", nil, &s)
	if err == nil && (st != http.StatusCreated || s.Token == "") {
		err = fmt.Errorf("POST /v1/sessions: %d", st)
	}
	return s, err
}

// newWebSession is tryWebSession that fails the test.
func newWebSession(t testing.TB, base string) webSession {
	t.Helper()
	s, err := tryWebSession(base)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// eventually polls cond until it holds or the time runs out.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeEndToEnd walks the whole flow against the real server: a web
// user asks for a person, the helpdesk webhook hears of it, staff claim and
// reply, the user reads the reply, staff resolve.
// It runs on SQLite, and on PostgreSQL when ASKPA_TEST_DATABASE_URL is set.
func TestServeEndToEnd(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testEndToEnd(t, "") })
	t.Run("postgres", func(t *testing.T) { testEndToEnd(t, pgtest.URL(t)) })
}

func testEndToEnd(t *testing.T, databaseURL string) {
	hook := newReceiver(t)
	base := startServe(t, map[string]string{
		"ASKPA_ADDR":                   "127.0.0.1:0",
		"ASKPA_DATABASE_URL":           databaseURL,
		"ASKPA_DATA_DIR":               t.TempDir(),
		"ASKPA_STAFF_TOKENS":           "alex:" + testStaffToken,
		"ASKPA_WEBHOOK_URLS":           hook.srv.URL + "/askpa",
		"ASKPA_WEBHOOK_SECRET":         testWebhookKey,
		"ASKPA_SUPPORT_WEBHOOK_SECRET": testHelpdeskKey,
	})
	if st := call(t, "GET", base+"/readyz", "", nil, nil); st != http.StatusOK {
		t.Fatalf("/readyz: %d", st)
	}

	var ans struct {
		Escalate       bool   `json:"escalate"`
		Reason         string `json:"reason"`
		ConversationID string `json:"conversation_id"`
		EscalationID   string `json:"escalation_id"`
	}
	web := newWebSession(t, base)
	st := call(t, "POST", base+"/v1/messages", web.Token, map[string]string{"user": web.User, "audience": "employer", "text": "I'd like to talk to a person please"}, &ans)
	if st != http.StatusOK || !ans.Escalate || ans.EscalationID == "" || ans.ConversationID == "" || ans.Reason != "requested" {
		t.Fatalf("asking for a person: %d %+v", st, ans)
	}
	id := ans.EscalationID
	eventually(t, 10*time.Second, "the webhook receiver to get escalation.created", func() bool { return hook.has(support.EventCreated, id) })

	var e support.Escalation
	if st := call(t, "POST", base+"/api/v1/escalations/"+id+"/claim", testStaffToken, nil, &e); st != http.StatusOK || e.Status != support.StatusClaimed || e.ClaimedBy != "alex" {
		t.Fatalf("claim: %d %+v", st, e)
	}
	const replyText = "Hello, I'm Alex from the support team. I can help with that."
	if st := call(t, "POST", base+"/api/v1/escalations/"+id+"/replies", testStaffToken, map[string]string{"text": replyText}, &e); st != http.StatusCreated {
		t.Fatalf("reply: %d", st)
	}
	// Knowing the person's user id is not enough to read the reply.
	other := newWebSession(t, base)
	for _, token := range []string{"", other.Token} {
		if st := call(t, "GET", base+"/v1/messages?user="+web.User, token, nil, nil); st != http.StatusUnauthorized && st != http.StatusForbidden {
			t.Errorf("reading the person's mailbox with token %q: %d, want 401 or 403", token, st)
		}
	}
	var box struct {
		Messages []struct {
			Seq  int64  `json:"seq"`
			From string `json:"from"`
			Text string `json:"text"`
		} `json:"messages"`
	}
	eventually(t, 10*time.Second, "the web user to see the staff reply", func() bool {
		call(t, "GET", base+"/v1/messages?after=0", web.Token, nil, &box)
		for _, m := range box.Messages {
			if m.From == "staff" && m.Text == replyText {
				return true
			}
		}
		return false
	})
	eventually(t, 10*time.Second, "the reply to be marked delivered", func() bool {
		call(t, "GET", base+"/api/v1/escalations/"+id, testStaffToken, nil, &e)
		m := e.Messages[len(e.Messages)-1]
		return m.From == support.FromStaff && m.Delivery == support.DeliveryDelivered
	})
	if st := call(t, "POST", base+"/api/v1/escalations/"+id+"/resolve", testStaffToken, nil, &e); st != http.StatusOK || e.Status != support.StatusResolved {
		t.Fatalf("resolve: %d %s", st, e.Status)
	}
	eventually(t, 10*time.Second, "every event to reach the receiver", func() bool {
		return hook.has(support.EventClaimed, id) && hook.has(support.EventReplied, id) && hook.has(support.EventResolved, id)
	})
	if hook.bad != 0 {
		t.Errorf("%d webhook requests failed signature checks", hook.bad)
	}
	// The person is back with the bot: a new question is not relayed.
	call(t, "POST", base+"/v1/messages", web.Token, map[string]string{"text": "what is holiday pay?"}, &ans)
	if ans.EscalationID != "" {
		t.Errorf("after resolution the next question still went to escalation %s", ans.EscalationID)
	}
	var metrics bytes.Buffer
	resp, err := http.Get(base + "/metrics")
	if err == nil {
		io.Copy(&metrics, resp.Body)
		resp.Body.Close()
	}
	for _, want := range []string{`askpa_escalations_total{priority="normal",reason="requested"} 1`, `askpa_deliveries_total{outcome="delivered",target="webhook"}`, `askpa_http_request_duration_seconds_count`} {
		if !strings.Contains(metrics.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestServeRefusesBadConfiguration checks settings that must stop start-up.
func TestServeRefusesBadConfiguration(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unsigned webhooks", map[string]string{"ASKPA_WEBHOOK_URLS": "http://127.0.0.1:1/x"}, "ASKPA_WEBHOOK_SECRET"},
		{"bad webhook URL", map[string]string{"ASKPA_WEBHOOK_URLS": "ftp://x", "ASKPA_WEBHOOK_SECRET": "s"}, "ASKPA_WEBHOOK_URLS"},
		{"bad staff tokens", map[string]string{"ASKPA_STAFF_TOKENS": "alex"}, "ASKPA_STAFF_TOKENS"},
		{"short staff token", map[string]string{"ASKPA_STAFF_TOKENS": "alex:short"}, "ASKPA_STAFF_TOKENS"},
		{"wildcard web origin", map[string]string{"ASKPA_WEB_ORIGINS": "*"}, "ASKPA_WEB_ORIGINS"},
		{"web origin with a path", map[string]string{"ASKPA_WEB_ORIGINS": "https://www.example.gov.uk/askpa"}, "ASKPA_WEB_ORIGINS"},
		{"short assertion secret", map[string]string{"ASKPA_WEB_ASSERTION_SECRET": "s3cr3t-x"}, "ASKPA_WEB_ASSERTION_SECRET"},
		{"de-duplication kept under a day", map[string]string{"ASKPA_RETAIN_DEDUP": "6h"}, "ASKPA_RETAIN_DEDUP"},
		{"retention that is not a duration", map[string]string{"ASKPA_RETAIN_CONVERSATIONS": "a month"}, "ASKPA_RETAIN_CONVERSATIONS"},
		{"console idle that is not a duration", map[string]string{"ASKPA_CONSOLE_IDLE": "all day"}, "ASKPA_CONSOLE_IDLE"},
		{"console idle under a minute", map[string]string{"ASKPA_CONSOLE_IDLE": "30s"}, "ASKPA_CONSOLE_IDLE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["ASKPA_DATA_DIR"] = t.TempDir()
			tc.env["ASKPA_ADDR"] = "127.0.0.1:0"
			err := runServe(context.Background(), nil, io.Discard, io.Discard, func(k string) string { return tc.env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("runServe: %v, want an error naming %s", err, tc.want)
			}
			if secret := tc.env["ASKPA_WEB_ASSERTION_SECRET"]; secret != "" && strings.Contains(err.Error(), secret) {
				t.Errorf("the error repeats the secret: %v", err)
			}
		})
	}
}

// readLine returns the first line r produces.
func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	return strings.TrimSpace(line), err
}

// TestServeSaysWhenTheStaffAPIIsClosed checks that serve with no staff
// tokens says at start that no one can answer escalations.
func TestServeSaysWhenTheStaffAPIIsClosed(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncWriter
	out := &lineWriter{line: make(chan string, 1)}
	done := make(chan error, 1)
	env := map[string]string{"ASKPA_ADDR": "127.0.0.1:0", "ASKPA_DATA_DIR": t.TempDir()}
	go func() { done <- runServe(ctx, nil, out, &logs, func(k string) string { return env[k] }) }()
	select {
	case <-out.line:
	case err := <-done:
		t.Fatalf("serve failed to start: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}
	cancel()
	<-done
	if !strings.Contains(logs.String(), "ASKPA_STAFF_TOKENS is set") {
		t.Errorf("no warning about the closed staff API in the logs:\n%s", logs.String())
	}
}

// syncWriter collects what is written to it, from any goroutine.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestServeWebChannelSettings checks ASKPA_WEB_ORIGINS and
// ASKPA_WEB_ASSERTION_SECRET end to end: a listed origin's preflight is
// allowed and another's is not, a site's signed user may post and read,
// and neither the secret, an assertion nor a session token reaches the
// logs.
func TestServeWebChannelSettings(t *testing.T) {
	const origin, secret = "https://www.example.gov.uk", "council-site-secret-0123456789"
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncWriter
	out := &lineWriter{line: make(chan string, 1)}
	first := out.line
	done := make(chan error, 1)
	env := map[string]string{"ASKPA_ADDR": "127.0.0.1:0", "ASKPA_DATA_DIR": t.TempDir(),
		"ASKPA_WEB_ORIGINS": origin + ",http://localhost:3000", "ASKPA_WEB_ASSERTION_SECRET": secret}
	go func() { done <- runServe(ctx, []string{"-debug"}, out, &logs, func(k string) string { return env[k] }) }()
	var base string
	select {
	case line := <-first:
		base = strings.TrimPrefix(line, "askpa: listening on ")
	case err := <-done:
		t.Fatalf("serve failed to start: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve stopped with %v", err)
		}
	}()

	for _, tc := range []struct{ origin, allow string }{{origin, origin}, {"https://evil.example", ""}} {
		req, _ := http.NewRequest("OPTIONS", base+"/v1/messages", nil)
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != tc.allow {
			t.Errorf("preflight from %s: %d, allowed origin %q; want 204, %q", tc.origin, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), tc.allow)
		}
	}

	signed := "jo-7f3a9." + strconv.FormatInt(time.Now().Add(5*time.Minute).Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signed))
	assertion := signed + "." + hex.EncodeToString(mac.Sum(nil))
	for _, r := range []struct {
		method, path, body string
	}{{"POST", "/v1/messages", `{"text":"how much holiday does my PA get?"}`}, {"GET", "/v1/messages", ""}} {
		req, _ := http.NewRequest(r.method, base+r.path, strings.NewReader(r.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Askpa-User-Assertion", assertion)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s %s as the site's user: %d %s", r.method, r.path, resp.StatusCode, b)
		}
		if r.method == "GET" && !strings.Contains(string(b), `"user":"site:jo-7f3a9"`) {
			t.Errorf("the site's user's mailbox: %s", b)
		}
	}
	web := newWebSession(t, base)
	if st := call(t, "POST", base+"/v1/messages", web.Token, map[string]string{"text": "what is holiday pay?"}, nil); st != http.StatusOK {
		t.Errorf("a session's message: %d", st)
	}
	if st := call(t, "DELETE", base+"/v1/sessions/current", web.Token, nil, nil); st != http.StatusNoContent {
		t.Errorf("ending the session: %d", st)
	}
	if st := call(t, "GET", base+"/v1/messages", web.Token, nil, nil); st != http.StatusUnauthorized {
		t.Errorf("an ended session: %d, want 401", st)
	}
	for _, leak := range []string{secret, assertion, web.Token, web.User, "jo-7f3a9"} {
		if strings.Contains(logs.String(), leak) {
			t.Errorf("the logs contain %q", leak)
		}
	}
}
