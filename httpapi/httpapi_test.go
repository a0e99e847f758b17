package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	legacyrouter "github.com/getkin/kin-openapi/routers/legacy"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/knowledge"
	"github.com/askpa/askpa/sqlite"
	"github.com/askpa/askpa/support"
)

const (
	alexToken   = "alex-token-0123456789"
	samToken    = "sam-token-0123456789"
	readerToken = "reader-token-0123456789"
	helpdeskKey = "helpdesk-secret"
	siteKey     = "council-site-secret-0123456789"
)

// fakeBot escalates when asked for a person and answers nothing else.
type fakeBot struct{ desk *support.Desk }

func (f fakeBot) Handle(ctx context.Context, m bot.Message) (bot.Result, error) {
	a := &bot.Answer{Question: m.Text, Audience: m.Audience, Sources: []bot.Source{}, Suggestions: []string{}}
	if !strings.Contains(m.Text, "person") {
		a.Text = "I don't know."
		return bot.Result{ConversationID: "c-" + m.Address.UserID, Answer: a, Replies: []bot.Reply{{Text: a.Text}}}, nil
	}
	e, err := f.desk.Escalate(ctx, support.NewEscalation{ConversationID: "c-" + m.Address.UserID, Address: support.Address(m.Address),
		Audience: string(m.Audience), Reason: "requested", Messages: []support.Message{{From: "user", Text: m.Text}}})
	if err != nil {
		return bot.Result{}, err
	}
	a.Text, a.Escalate, a.Reason = "A person will reply.", true, "requested"
	return bot.Result{ConversationID: "c-" + m.Address.UserID, EscalationID: e.ID, Answer: a, Replies: []bot.Reply{{Text: a.Text}}}, nil
}

type togglePinger struct{ down atomic.Bool }

func (p *togglePinger) Ping(context.Context) error {
	if p.down.Load() {
		return errors.New("index is closed")
	}
	return nil
}

type testAPI struct {
	h     http.Handler
	desk  *support.Desk
	store *sqlite.Store
	index *togglePinger
	dir   *directory.Network
}

func newTestAPI(t testing.TB, tweak func(*Config)) *testAPI {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	desk, err := support.NewDesk(support.Config{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	ta := &testAPI{desk: desk, store: store, index: &togglePinger{}, dir: newTestDirectory(t, store)}
	cfg := Config{
		Desk: desk, Directory: ta.dir, Handler: fakeBot{desk}, Mailbox: store, Sessions: store, AssertionSecret: []byte(siteKey), Insights: store,
		Staff:         []Staff{{Name: "alex", Token: alexToken}, {Name: "sam", Token: samToken}, {Name: "audit", Token: readerToken, ReadOnly: true}},
		SupportSecret: []byte(helpdeskKey),
		Ready:         map[string]Pinger{"store": store, "index": ta.index},
		Guides:        testGuides(t),
		Gatherer:      reg, Registerer: reg,
		MaxBody:   8 << 10,
		RateLimit: 1000, Burst: 1000,
	}
	people, err := bot.NewPrivacy(bot.PrivacyConfig{Store: store, Desk: desk})
	if err != nil {
		t.Fatal(err)
	}
	cfg.People = people
	if tweak != nil {
		tweak(&cfg)
	}
	if ta.h, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	return ta
}

func init() {
	// Guide pages are HTML; their schema is a string.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
}

// testGuides is a one-document knowledge base for GET /guides/{id}.
func testGuides(t testing.TB) *knowledge.Base {
	t.Helper()
	base, err := knowledge.Load(fstest.MapFS{"holiday.md": {Data: []byte("---\nid: holiday\ntitle: Holiday pay\nkind: guidance\naudience: both\ntopics: [holiday]\nsummary: Holiday.\nreviewed: 2026-11-01\nsources: [https://www.gov.uk/holiday-entitlement-rights]\nquestions: [holiday]\n---\n\n## How much holiday\n\nA PA gets 5.6 weeks a year.\n")}})
	if err != nil {
		t.Fatal(err)
	}
	return base
}

// spec loads the embedded OpenAPI document and its router.
func spec(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPI)
	if err != nil {
		t.Fatalf("openapi.json does not load: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.json is not valid OpenAPI 3: %v", err)
	}
	r, err := legacyrouter.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return doc, r
}

// req is one request of the walk.
type req struct {
	name    string
	method  string
	path    string
	token   string
	body    string
	header  map[string]string
	status  int
	invalid bool   // the request is deliberately outside the description
	field   string // for 400: the field the error must name
	check   func(t *testing.T, body []byte)
}

// checker sends requests, checks each against the OpenAPI description and
// records which operations and statuses were exercised.
type checker struct {
	t      *testing.T
	h      http.Handler
	router routers.Router
	seen   map[string]bool // "METHOD /template status"
}

func (c *checker) do(r req) []byte {
	t := c.t
	t.Helper()
	hr := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	if r.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, hr)
	body := rec.Body.Bytes()
	if rec.Code != r.status {
		t.Fatalf("%s: %s %s answered %d %s, want %d", r.name, r.method, r.path, rec.Code, body, r.status)
	}
	// Validate against the description, with a copy of the request.
	vr := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	vr.Header = hr.Header.Clone()
	route, params, err := c.router.FindRoute(vr)
	if err != nil {
		t.Fatalf("%s: %s %s is not in openapi.json: %v", r.name, r.method, r.path, err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && !r.invalid {
		t.Errorf("%s: the request does not match openapi.json: %v", r.name, err)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
		Body: io.NopCloser(bytes.NewReader(body)), Options: opts}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s: the %d answer does not match openapi.json: %v\n%s", r.name, rec.Code, err, body)
	}
	c.seen[r.method+" "+route.Path+" "+strconv.Itoa(rec.Code)] = true
	if rec.Code >= 400 && route.Path != "/readyz" {
		var e errorBody
		if err := json.Unmarshal(body, &e); err != nil || !strings.HasSuffix(e.Error, ".") || e.Error[0] < 'A' || e.Error[0] > 'Z' {
			t.Errorf("%s: error body %s is not a sentence", r.name, body)
		}
		if e.Field != r.field {
			t.Errorf("%s: error names field %q, want %q", r.name, e.Field, r.field)
		}
	}
	if r.check != nil {
		r.check(t, body)
	}
	return body
}

func signed(secret, body string, at time.Time) map[string]string {
	ts := at.Unix()
	return map[string]string{
		support.HeaderTimestamp: strconv.FormatInt(ts, 10),
		support.HeaderSignature: support.Sign([]byte(secret), ts, []byte(body)),
	}
}

func decodeInto[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// TestAPIAgainstOpenAPI walks every route with good and bad requests,
// checks the statuses and bodies a client relies on, and validates every
// request and answer against openapi.json.
func TestAPIAgainstOpenAPI(t *testing.T) {
	doc, router := spec(t)
	api := newTestAPI(t, nil)
	c := &checker{t: t, h: api.h, router: router, seen: map[string]bool{}}

	c.do(req{name: "health", method: "GET", path: "/healthz", status: 200})
	c.do(req{name: "ready", method: "GET", path: "/readyz", status: 200})
	api.index.down.Store(true)
	c.do(req{name: "not ready", method: "GET", path: "/readyz", status: 503, check: func(t *testing.T, b []byte) {
		if !strings.Contains(string(b), `"failing":["index"]`) {
			t.Errorf("/readyz with the index down: %s", b)
		}
	}})
	api.index.down.Store(false)
	c.do(req{name: "description", method: "GET", path: "/api/v1/openapi.json", status: 200})
	c.do(req{name: "guide", method: "GET", path: "/guides/holiday", status: 200, check: func(t *testing.T, b []byte) {
		for _, want := range []string{"<title>Holiday pay - askpa</title>", `<h2 id="how-much-holiday">How much holiday</h2>`, "5.6 weeks"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("guide page lacks %s", want)
			}
		}
	}})
	c.do(req{name: "unknown guide", method: "GET", path: "/guides/no-such-guide", status: 404})

	// The web channel: a session, then messages as its user.
	for _, p := range []string{"/v1/sessions", "/v1/sessions/current", "/v1/messages"} {
		c.do(req{name: "preflight " + p, method: "OPTIONS", path: p, status: 204})
	}
	web := decodeInto[sessionOut](t, c.do(req{name: "session", method: "POST", path: "/v1/sessions", status: 201}))
	u1, tok := web.User, web.Token
	c.do(req{name: "question", method: "POST", path: "/v1/messages", token: tok, body: `{"audience":"pa","text":"how much holiday?"}`, status: 200,
		check: func(t *testing.T, b []byte) {
			a := decodeInto[messageOut](t, b)
			if a.Answered || a.Escalate || a.Audience != "pa" || a.ConversationID != "c-"+u1 || a.EscalationID != "" {
				t.Errorf("answer %+v", a)
			}
		}})
	first := decodeInto[messageOut](t, c.do(req{name: "ask for a person", method: "POST", path: "/v1/messages", token: tok,
		body: fmt.Sprintf(`{"user":%q,"text":"I want to talk to a person"}`, u1), status: 200}))
	if !first.Escalate || first.EscalationID == "" {
		t.Fatalf("asking for a person: %+v", first)
	}
	id := first.EscalationID
	for _, bad := range []req{
		{name: "no text", body: `{}`, field: "text"},
		{name: "blank text", body: `{"text":"   "}`, field: "text"},
		{name: "unknown audience", body: `{"audience":"boss","text":"hi"}`, field: "audience"},
		{name: "unknown field", body: `{"text":"hi","colour":"red"}`, field: "colour"},
		{name: "wrong type", body: `{"text":42}`, field: "text"},
		{name: "not JSON", body: `{"user":`},
		{name: "not an object", body: `["user"]`},
	} {
		bad.method, bad.path, bad.status, bad.invalid, bad.token = "POST", "/v1/messages", 400, true, tok
		c.do(bad)
	}
	c.do(req{name: "oversized", method: "POST", path: "/v1/messages", token: tok, body: `{"text":"` + strings.Repeat("x", 9000) + `"}`, status: 413, invalid: true})
	c.do(req{name: "mailbox", method: "GET", path: "/v1/messages?after=0", token: tok, status: 200})
	c.do(req{name: "mailbox naming its user", method: "GET", path: "/v1/messages?user=" + u1, token: tok, status: 200})
	c.do(req{name: "mailbox bad after", method: "GET", path: "/v1/messages?after=-1", token: tok, status: 400, invalid: true, field: "after"})
	// Who may use it.
	c.do(req{name: "message without a token", method: "POST", path: "/v1/messages", body: fmt.Sprintf(`{"user":%q,"text":"hi"}`, u1), status: 401})
	c.do(req{name: "mailbox without a token", method: "GET", path: "/v1/messages?user=" + u1, status: 401})
	c.do(req{name: "unknown session token", method: "GET", path: "/v1/messages", token: newToken(), status: 401})
	c.do(req{name: "staff token as a session", method: "GET", path: "/v1/messages", token: alexToken, status: 401})
	c.do(req{name: "message as another user", method: "POST", path: "/v1/messages", token: tok, body: `{"user":"u2","text":"hi"}`, status: 403, field: "user"})
	c.do(req{name: "mailbox of another user", method: "GET", path: "/v1/messages?user=u2", token: tok, status: 403, field: "user"})
	c.do(req{name: "site user", method: "POST", path: "/v1/messages", header: map[string]string{HeaderUserAssertion: assert(siteKey, "alice", time.Now().Add(time.Minute))},
		body: `{"user":"site:alice","text":"how much holiday?"}`, status: 200})
	c.do(req{name: "forged site user", method: "GET", path: "/v1/messages", header: map[string]string{HeaderUserAssertion: assert("guess-guess-guess", "alice", time.Now().Add(time.Minute))}, status: 401})
	ended := decodeInto[sessionOut](t, c.do(req{name: "another session", method: "POST", path: "/v1/sessions", status: 201}))
	c.do(req{name: "end a session", method: "DELETE", path: "/v1/sessions/current", token: ended.Token, status: 204})
	c.do(req{name: "end it again", method: "DELETE", path: "/v1/sessions/current", token: ended.Token, status: 401})
	c.do(req{name: "an ended session", method: "GET", path: "/v1/messages", token: ended.Token, status: 401})

	// The staff API: authentication.
	c.do(req{name: "no token", method: "GET", path: "/api/v1/escalations", status: 401})
	c.do(req{name: "unknown token", method: "GET", path: "/api/v1/escalations", token: "not-a-real-token-000000", status: 401})
	c.do(req{name: "queue", method: "GET", path: "/api/v1/escalations", token: readerToken, status: 200, check: func(t *testing.T, b []byte) {
		l := decodeInto[escalationList](t, b)
		if len(l.Escalations) != 1 || l.Escalations[0].ID != id || l.Escalations[0].Messages[0].Text != "I want to talk to a person" {
			t.Errorf("queue %+v", l)
		}
	}})
	for _, bad := range []struct{ q, field string }{{"status=closed", "status"}, {"priority=high", "priority"}, {"limit=0", "limit"}, {"limit=201", "limit"}, {"cursor=zzz", "cursor"}} {
		c.do(req{name: "bad " + bad.q, method: "GET", path: "/api/v1/escalations?" + bad.q, token: alexToken, status: 400, invalid: bad.field != "cursor", field: bad.field})
	}
	c.do(req{name: "one", method: "GET", path: "/api/v1/escalations/" + id, token: alexToken, status: 200, check: func(t *testing.T, b []byte) {
		if !strings.Contains(string(b), `"deliveries":[]`) {
			t.Errorf("detail without deliveries: %s", b)
		}
	}})
	c.do(req{name: "unknown id", method: "GET", path: "/api/v1/escalations/nope", token: alexToken, status: 404})

	// Acting.
	claim := "/api/v1/escalations/" + id + "/claim"
	c.do(req{name: "reader claims", method: "POST", path: claim, token: readerToken, status: 403})
	c.do(req{name: "claim", method: "POST", path: claim, token: alexToken, status: 200, check: func(t *testing.T, b []byte) {
		if e := decodeInto[support.Escalation](t, b); e.Status != support.StatusClaimed || e.ClaimedBy != "alex" {
			t.Errorf("after claim: %s by %q", e.Status, e.ClaimedBy)
		}
	}})
	c.do(req{name: "claim again", method: "POST", path: claim, token: alexToken, status: 200})
	c.do(req{name: "someone else claims", method: "POST", path: claim, token: samToken, status: 409})
	c.do(req{name: "claim unknown", method: "POST", path: "/api/v1/escalations/nope/claim", token: alexToken, status: 404})
	replies := "/api/v1/escalations/" + id + "/replies"
	c.do(req{name: "someone else replies", method: "POST", path: replies, token: samToken, body: `{"text":"hi"}`, status: 409})
	c.do(req{name: "empty reply", method: "POST", path: replies, token: alexToken, body: `{"text":""}`, status: 400, invalid: true, field: "text"})
	c.do(req{name: "reply not a string", method: "POST", path: replies, token: alexToken, body: `{"text":5}`, status: 400, invalid: true, field: "text"})
	c.do(req{name: "reply not JSON", method: "POST", path: replies, token: alexToken, body: `text=hi`, status: 400, invalid: true})
	c.do(req{name: "reply too large", method: "POST", path: replies, token: alexToken, body: `{"text":"` + strings.Repeat("y", 9000) + `"}`, status: 413, invalid: true})
	c.do(req{name: "reply", method: "POST", path: replies, token: alexToken, body: `{"text":"Hello, this is Alex."}`, status: 201, check: func(t *testing.T, b []byte) {
		e := decodeInto[support.Escalation](t, b)
		m := e.Messages[len(e.Messages)-1]
		if m.From != "staff" || m.Author != "alex" || m.Text != "Hello, this is Alex." {
			t.Errorf("last message %+v", m)
		}
	}})
	// A retried reply with the same Idempotency-Key reaches the person once;
	// another key, or none, is another reply.
	staffMessages := func(b []byte) int {
		n := 0
		for _, m := range decodeInto[support.Escalation](t, b).Messages {
			if m.From == support.FromStaff {
				n++
			}
		}
		return n
	}
	var before int
	keyed := func(key string) map[string]string { return map[string]string{"Idempotency-Key": key} }
	c.do(req{name: "keyed reply", method: "POST", path: replies, token: alexToken, header: keyed("retry-1"), body: `{"text":"Are you safe now?"}`, status: 201,
		check: func(t *testing.T, b []byte) { before = staffMessages(b) }})
	c.do(req{name: "keyed reply retried", method: "POST", path: replies, token: alexToken, header: keyed("retry-1"), body: `{"text":"Are you safe now?"}`, status: 200,
		check: func(t *testing.T, b []byte) {
			if n := staffMessages(b); n != before {
				t.Errorf("a retried reply made %d staff messages from %d; want it kept once", n, before)
			}
		}})
	c.do(req{name: "another key", method: "POST", path: replies, token: alexToken, header: keyed("retry-2"), body: `{"text":"Are you safe now?"}`, status: 201,
		check: func(t *testing.T, b []byte) {
			if n := staffMessages(b); n != before+1 {
				t.Errorf("a reply with a new key made %d staff messages from %d; want one more", n, before)
			}
		}})
	c.do(req{name: "key too long", method: "POST", path: replies, token: alexToken, header: keyed(strings.Repeat("k", 201)), body: `{"text":"hi"}`, status: 400, invalid: true, field: "Idempotency-Key"})
	resolve := "/api/v1/escalations/" + id + "/resolve"
	reopen := "/api/v1/escalations/" + id + "/reopen"
	c.do(req{name: "reopen an open one", method: "POST", path: reopen, token: alexToken, status: 409})
	c.do(req{name: "resolve", method: "POST", path: resolve, token: alexToken, status: 200})
	c.do(req{name: "resolve again", method: "POST", path: resolve, token: alexToken, status: 409})
	c.do(req{name: "reply to resolved", method: "POST", path: replies, token: alexToken, body: `{"text":"hi"}`, status: 409})
	c.do(req{name: "reopen", method: "POST", path: reopen, token: samToken, status: 200})

	// Paging.
	for range 3 {
		c.do(req{name: "more", method: "POST", path: "/v1/messages", token: webSession(t, api.h).Token, body: `{"text":"a person please"}`, status: 200})
	}
	var all []string
	next := "/api/v1/escalations?limit=3&status=open"
	for next != "" {
		l := decodeInto[escalationList](t, c.do(req{name: "page", method: "GET", path: next, token: alexToken, status: 200}))
		for _, e := range l.Escalations {
			all = append(all, e.ID)
		}
		next = ""
		if l.NextCursor != "" {
			next = "/api/v1/escalations?limit=3&status=open&cursor=" + l.NextCursor
		}
	}
	if len(all) != 4 || all[0] != id {
		t.Errorf("paged through %v, want 4 open escalations, the oldest (%s) first", all, id)
	}

	// Helpdesk replies.
	now := time.Now()
	body := fmt.Sprintf(`{"escalation_id":%q,"text":"We will ring you tomorrow.","author":"Jo","delivery_id":"hd-1"}`, id)
	c.do(req{name: "helpdesk reply", method: "POST", path: "/webhooks/support", body: body, header: signed(helpdeskKey, body, now), status: 200})
	c.do(req{name: "helpdesk retry", method: "POST", path: "/webhooks/support", body: body, header: signed(helpdeskKey, body, now), status: 200, check: func(t *testing.T, b []byte) {
		if !strings.Contains(string(b), `"duplicate"`) {
			t.Errorf("a retried delivery: %s", b)
		}
	}})
	e, _ := api.desk.Get(context.Background(), id)
	n := 0
	for _, m := range e.Messages {
		if m.Text == "We will ring you tomorrow." {
			n++
		}
	}
	if n != 1 || e.ClaimedBy != "Jo" {
		t.Errorf("after a delivery and its retry the reply is there %d times, claimed by %q", n, e.ClaimedBy)
	}
	c.do(req{name: "forged", method: "POST", path: "/webhooks/support", body: body, header: signed("guess", body, now), status: 401})
	c.do(req{name: "tampered", method: "POST", path: "/webhooks/support", body: strings.Replace(body, "tomorrow", "never", 1), header: signed(helpdeskKey, body, now), status: 401})
	c.do(req{name: "unsigned", method: "POST", path: "/webhooks/support", body: body, status: 401, invalid: true})
	c.do(req{name: "stale", method: "POST", path: "/webhooks/support", body: body, header: signed(helpdeskKey, body, now.Add(-6*time.Minute)), status: 401})
	c.do(req{name: "from the future", method: "POST", path: "/webhooks/support", body: body, header: signed(helpdeskKey, body, now.Add(6*time.Minute)), status: 401})
	unknown := `{"escalation_id":"nope","text":"x","delivery_id":"hd-2"}`
	c.do(req{name: "helpdesk unknown id", method: "POST", path: "/webhooks/support", body: unknown, header: signed(helpdeskKey, unknown, now), status: 404})
	noID := `{"text":"x","delivery_id":"hd-3"}`
	c.do(req{name: "helpdesk without id", method: "POST", path: "/webhooks/support", body: noID, header: signed(helpdeskKey, noID, now), status: 400, invalid: true, field: "escalation_id"})
	walkSafetyLabels(t, c, api, id)
	walkPeople(t, c, api)
	walkListings(t, c, api)
	walkNotesAndHelpdesk(t, c, api)
	walkInsights(t, c, api)
	c.do(req{name: "metrics", method: "GET", path: "/metrics", status: 200, check: func(t *testing.T, b []byte) {
		if !strings.Contains(string(b), `askpa_http_request_duration_seconds_count{method="POST",route="/api/v1/escalations/:id/claim",status="409"} 1`) {
			t.Errorf("/metrics lacks the latency of the conflicting claim")
		}
	}})

	// Every operation in the description was exercised with a success, and
	// every route served is described.
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			ok := false
			for k := range c.seen {
				if strings.HasPrefix(k, method+" "+path+" 2") {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s %s is described but the walk never got a 2xx from it", method, path)
			}
		}
	}
	for _, r := range api.h.(*gin.Engine).Routes() {
		p := r.Path
		for _, seg := range strings.Split(p, "/") {
			if strings.HasPrefix(seg, ":") {
				p = strings.Replace(p, seg, "{"+seg[1:]+"}", 1)
			}
		}
		if doc.Paths.Find(p) == nil || doc.Paths.Find(p).GetOperation(r.Method) == nil {
			t.Errorf("%s %s is served but not described in openapi.json", r.Method, r.Path)
		}
	}
}

// TestRateLimit checks that one client is held to its rate and another is
// not affected.
func TestRateLimit(t *testing.T) {
	_, router := spec(t)
	api := newTestAPI(t, func(c *Config) { c.RateLimit, c.Burst = 0.001, 2 })
	c := &checker{t: t, h: api.h, router: router, seen: map[string]bool{}}
	as := map[string]string{HeaderUserAssertion: assert(siteKey, "u1", time.Now().Add(time.Minute))}
	for range 2 {
		c.do(req{name: "within the burst", method: "GET", path: "/v1/messages", header: as, status: 200})
	}
	c.do(req{name: "over the limit", method: "GET", path: "/v1/messages", header: as, status: 429})
	other := httptest.NewRequest("GET", "/v1/messages", nil)
	other.Header.Set(HeaderUserAssertion, assert(siteKey, "u2", time.Now().Add(time.Minute)))
	other.RemoteAddr = "192.0.2.7:1234"
	rec := httptest.NewRecorder()
	api.h.ServeHTTP(rec, other)
	if rec.Code != 200 {
		t.Errorf("another client was refused (%d) by the first one's limit", rec.Code)
	}
	c.do(req{name: "health is not limited", method: "GET", path: "/healthz", status: 200})
}

// TestTrustedProxies checks that X-Forwarded-For counts only from a trusted
// proxy, so a client cannot dodge its rate limit by inventing addresses.
func TestTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
		want    int // status of the third request from one client behind the proxy
	}{
		{"untrusted proxy: the header is ignored", nil, 429},
		{"trusted proxy: the header names the client", []string{"192.0.2.0/24"}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newTestAPI(t, func(c *Config) { c.RateLimit, c.Burst, c.TrustedProxies = 0.001, 2, tc.trusted })
			code := 0
			for i := range 3 {
				r := httptest.NewRequest("GET", "/v1/messages", nil)
				r.Header.Set(HeaderUserAssertion, assert(siteKey, "u1", time.Now().Add(time.Minute)))
				r.RemoteAddr = "192.0.2.1:5555"
				r.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
				rec := httptest.NewRecorder()
				api.h.ServeHTTP(rec, r)
				code = rec.Code
			}
			if code != tc.want {
				t.Errorf("third request: %d, want %d", code, tc.want)
			}
		})
	}
}

// TestParseStaff checks the ASKPA_STAFF_TOKENS format.
func TestParseStaff(t *testing.T) {
	got, err := ParseStaff(" alex:" + alexToken + ", audit:" + readerToken + ":read ,")
	if err != nil || len(got) != 2 || !reflect.DeepEqual(got[0], Staff{Name: "alex", Token: alexToken}) || !got[1].ReadOnly {
		t.Errorf("ParseStaff: %+v, %v", got, err)
	}
	got, err = ParseStaff("dee:" + alexToken + "@devon+somerset, ro:" + readerToken + ":read@devon")
	if err != nil || len(got) != 2 || !slices.Equal(got[0].Areas, []string{"devon", "somerset"}) || got[0].Token != alexToken ||
		!got[1].ReadOnly || !slices.Equal(got[1].Areas, []string{"devon"}) {
		t.Errorf("ParseStaff with areas: %+v, %v", got, err)
	}
	for _, bad := range []string{"alex", "alex:short", "alex:" + alexToken + "@", "alex:" + alexToken + "@devon+", ":" + alexToken, "alex:" + alexToken + ":write", "alex:" + alexToken + ",alex:" + samToken,
		"audit:" + alexToken + ":read,alex:" + alexToken, // one token twice: the read-only entry would be shadowed
	} {
		if _, err := ParseStaff(bad); err == nil || strings.Contains(err.Error(), alexToken) {
			t.Errorf("ParseStaff(%q): %v; want an error that does not repeat the token", bad, err)
		}
	}
	if got, err := ParseStaff(""); err != nil || len(got) != 0 {
		t.Errorf("empty: %v %v", got, err)
	}
}

// TestWebChannelSend checks that what the bot sends a web user outside a
// request lands in their mailbox, in order, marked as from staff or bot.
func TestWebChannelSend(t *testing.T) {
	api := newTestAPI(t, nil)
	w := WebChannel{Mailbox: api.store}
	ctx := context.Background()
	web := webSession(t, api.h)
	to := bot.Address{Channel: "web", UserID: web.User, ChatID: web.User}
	if err := w.Send(ctx, to, bot.Reply{Text: "from Alex", FromStaff: true}); err != nil {
		t.Fatal(err)
	}
	if err := w.Send(ctx, to, bot.Reply{Text: "closed"}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/v1/messages?after=1", nil)
	r.Header.Set("Authorization", "Bearer "+web.Token)
	api.h.ServeHTTP(rec, r)
	box := decodeInto[mailbox](t, rec.Body.Bytes())
	if len(box.Messages) != 1 || box.Messages[0].Seq != 2 || box.Messages[0].From != "bot" || box.Messages[0].Text != "closed" {
		t.Errorf("after 1: %+v", box.Messages)
	}
}

// TestStaffReplyRedeliveredToWebOnce checks that a staff reply whose
// delivery is retried (a crash after posting it, before the outbox row was
// settled) reaches a web user's mailbox once.
func TestStaffReplyRedeliveredToWebOnce(t *testing.T) {
	api := newTestAPI(t, nil)
	ctx := context.Background()
	web := webSession(t, api.h)
	relay, err := bot.NewRelay(bot.RelayConfig{Store: api.store, Channels: []bot.Channel{WebChannel{Mailbox: api.store}}})
	if err != nil {
		t.Fatal(err)
	}
	e := support.Escalation{ID: "e-web", Address: bot.Address{Channel: "web", UserID: web.User, ChatID: web.User}}
	first := support.Message{Seq: 2, From: support.FromStaff, Text: "Are you safe now?", Author: "alex"}
	for range 3 {
		if err := relay.DeliverReply(ctx, e, first); err != nil {
			t.Fatal(err)
		}
	}
	next := first
	next.Seq, next.Text = 3, "Are you safe now?" // the same words, sent again on purpose
	if err := relay.DeliverReply(ctx, e, next); err != nil {
		t.Fatal(err)
	}
	ms, err := api.store.Since(ctx, web.User, 0, 10)
	if err != nil || len(ms) != 2 {
		t.Fatalf("mailbox %+v, %v; want the redelivered reply once and the new one", ms, err)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger to write from handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestLogsHoldNoPersonalDetails sends a message with a phone number and an
// email through the web channel and the staff API, as a session's user and
// as a site's user (with a forged assertion too), and checks that the logs
// have a line per request but none of those details, no user id, and no
// session token, assertion or secret.
func TestLogsHoldNoPersonalDetails(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	api := newTestAPI(t, func(c *Config) { c.Logger = log })
	const text, reply = "I need a person, call me on 07700 900123 or jo@example.org", "Hello Jo Bloggs"
	web := webSession(t, api.h)
	send := func(method, path, body string, header ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		api.h.ServeHTTP(rec, r)
		return rec
	}
	rec := send("POST", "/v1/messages", fmt.Sprintf(`{"user":%q,"text":%q}`, web.User, text), "Authorization", "Bearer "+web.Token)
	a := decodeInto[messageOut](t, rec.Body.Bytes())
	send("POST", "/api/v1/escalations/"+a.EscalationID+"/replies", fmt.Sprintf(`{"text":%q}`, reply), "Authorization", "Bearer "+alexToken)
	send("GET", "/v1/messages?user="+web.User, "", "Authorization", "Bearer "+web.Token)
	site := assert(siteKey, "jo.bloggs", time.Now().Add(time.Minute))
	forged := assert("not-the-site-secret", "jo.bloggs", time.Now().Add(time.Minute))
	send("POST", "/v1/messages", fmt.Sprintf(`{"text":%q}`, text), HeaderUserAssertion, site)
	send("GET", "/v1/messages", "", HeaderUserAssertion, forged)
	send("DELETE", "/v1/sessions/current", "", "Authorization", "Bearer "+web.Token)
	send("GET", "/v1/messages", "", "Authorization", "Bearer "+web.Token)
	out := logs.String()
	if strings.Count(out, `"msg":"http request"`) != 8 {
		t.Errorf("want one access log line per request, got:\n%s", out)
	}
	if !strings.Contains(out, "user assertion refused") {
		t.Errorf("the forged assertion was not logged as refused:\n%s", out)
	}
	for _, secret := range []string{web.User, web.Token, bot.WebTokenHash(web.Token), "jo.bloggs", site, forged, siteKey, "07700", "jo@example.org", "Jo Bloggs", "call me", alexToken} {
		if strings.Contains(out, secret) {
			t.Errorf("the logs contain %q:\n%s", secret, out)
		}
	}
}

func TestParseHelpdeskKeys(t *testing.T) {
	got, err := ParseHelpdeskKeys(" devon+somerset=devon-helpdesk-secret-1 , cornwall=cornwall-helpdesk=2 ,")
	want := []HelpdeskKey{
		{Secret: []byte("devon-helpdesk-secret-1"), Areas: []string{"devon", "somerset"}},
		{Secret: []byte("cornwall-helpdesk=2"), Areas: []string{"cornwall"}}, // a secret may hold "="
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseHelpdeskKeys: %+v, %v; want %+v", got, err, want)
	}
	for in, wantErr := range map[string]string{
		"devon":                          "helpdesk secret 1: want area+area=secret",
		"devon=short":                    "helpdesk secret 1: want area+area=secret",
		"=no-areas-before-this-secret":   "helpdesk secret 1: want area+area= before the secret",
		"devon+=devon-helpdesk-secret-1": "helpdesk secret 1: want area+area= before",
		"a=same-secret-for-both, b=same-secret-for-both": "helpdesk secret 2 is the same as an earlier one",
	} {
		_, err := ParseHelpdeskKeys(in)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%q: %v, want an error containing %q", in, err, wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "secret-for-both") {
			t.Errorf("%q: the error %q shows the secret", in, err)
		}
	}
}
