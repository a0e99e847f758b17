package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/askpa/askpa/support"
)

// fuzzNow is the clock of the fuzzed API, so signed timestamps can be
// seeds.
var fuzzNow = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

// fuzzAPI is the test API with no rate limit (fuzzing is one fast client)
// and a fixed clock.
func fuzzAPI(f *testing.F) *testAPI {
	f.Helper()
	return newTestAPI(f, func(c *Config) {
		c.RateLimit, c.Burst = rate.Inf, 1
		c.Now = func() time.Time { return fuzzNow }
	})
}

// serve sends one request to h and returns the answer.
func serve(h http.Handler, method, target string, header map[string]string, body []byte) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/", bytes.NewReader(body))
	// The target is built by the fuzz targets themselves; set it this way so
	// that no input can make NewRequest panic.
	r.URL, _ = url.Parse(target)
	r.RequestURI = target
	for k, v := range header {
		r.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// checkStatus fails t unless rec's status is one of want and, for an
// error, the body is the API's JSON error: a sentence.
func checkStatus(t *testing.T, what string, rec *httptest.ResponseRecorder, want ...int) {
	t.Helper()
	ok := false
	for _, w := range want {
		ok = ok || rec.Code == w
	}
	if !ok {
		t.Fatalf("%s: status %d, want one of %v\n%s", what, rec.Code, want, rec.Body)
	}
	if rec.Code < 400 {
		return
	}
	var e errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || !strings.HasSuffix(e.Error, ".") || e.Error[0] < 'A' || e.Error[0] > 'Z' ||
		!strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("%s: %d with body %q (%s): want a JSON error that is a sentence", what, rec.Code, rec.Body, rec.Header().Get("Content-Type"))
	}
}

// FuzzParseStaff checks the parser of ASKPA_STAFF_TOKENS (askpa serve
// passes the variable to ParseStaff as it is): it never panics; what it
// accepts are named members of staff with distinct names and tokens of at
// least 16 characters, which print back to a value it parses the same and
// which the API finds by their tokens; and its errors never repeat a token.
func FuzzParseStaff(f *testing.F) {
	for _, s := range []string{
		"alex:" + alexToken,
		" alex:" + alexToken + ", audit:" + readerToken + ":read ,",
		"alex", "alex:short", ":" + alexToken, "alex:" + alexToken + ":write",
		"alex:" + alexToken + ",alex:" + samToken, "", ",,,", "alex:" + alexToken + ",sam:" + alexToken,
		"a:b:c:d", "ålex : tøken-with-ünicode-0123 : read", "alex:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		staff, err := ParseStaff(s)
		if err != nil {
			var tokens, names []string
			for _, entry := range strings.Split(s, ",") {
				if parts := strings.Split(entry, ":"); len(parts) >= 2 {
					names = append(names, strings.TrimSpace(parts[0]))
					tokens = append(tokens, strings.TrimSpace(parts[1]))
				}
			}
			for _, token := range tokens {
				if len(token) < 8 || !strings.Contains(err.Error(), token) {
					continue
				}
				named := false // the error may name a name that holds the token
				for _, n := range names {
					named = named || strings.Contains(n, token)
				}
				if !named {
					t.Fatalf("ParseStaff(%q): error %q repeats the token %q", s, err, token)
				}
			}
			return
		}
		names := map[string]bool{}
		var printed []string
		for _, st := range staff {
			if st.Name == "" || len(st.Token) < 16 || names[st.Name] || strings.ContainsAny(st.Name+st.Token, ",:@") ||
				st.Name != strings.TrimSpace(st.Name) || st.Token != strings.TrimSpace(st.Token) {
				t.Fatalf("ParseStaff(%q) = %+v", s, staff)
			}
			names[st.Name] = true
			p := st.Name + ":" + st.Token
			if st.ReadOnly {
				p += ":read"
			}
			if len(st.Areas) > 0 {
				p += "@" + strings.Join(st.Areas, "+")
			}
			printed = append(printed, p)
		}
		again, err := ParseStaff(strings.Join(printed, ","))
		if err != nil || len(again) != len(staff) {
			t.Fatalf("ParseStaff(%q) = %+v, printed back %q: %+v, %v", s, staff, printed, again, err)
		}
		for i := range staff {
			if !reflect.DeepEqual(again[i], staff[i]) {
				t.Fatalf("round trip of %q: %+v, then %+v", s, staff, again)
			}
		}
		tokens := newStaffTokens(staff)
		for _, st := range staff {
			if got, ok := tokens.find(st.Token); !ok || got.Token != st.Token {
				t.Fatalf("token of %q finds %+v, %v", st.Name, got, ok)
			}
			if got, ok := tokens.find(st.Token + "x"); ok && got.Token != st.Token+"x" {
				t.Fatalf("token %q finds %+v", st.Token+"x", got)
			}
		}
		if _, ok := tokens.find(""); ok {
			t.Fatal("the empty token finds a member of staff")
		}
	})
}

// FuzzStaffList sends GET /api/v1/escalations with any Authorization
// header and query: only a staff token opens it (401 otherwise, with a JSON
// error), a bad status, priority, limit or cursor is a 400 naming the
// field, never a 500; a page holds at most limit escalations in queue
// order, and its next_cursor leads on.
func FuzzStaffList(f *testing.F) {
	api := fuzzAPI(f)
	ctx := context.Background()
	for i, p := range []support.Priority{support.PriorityNormal, support.PriorityUrgent, support.PriorityNormal, support.PriorityUrgent, support.PriorityNormal} {
		_, err := api.desk.Escalate(ctx, support.NewEscalation{ConversationID: "c-fuzz" + strconv.Itoa(i),
			Address:  support.Address{Channel: "web", UserID: "fuzz" + strconv.Itoa(i), ChatID: "fuzz" + strconv.Itoa(i)},
			Audience: "employer", Reason: "requested", Priority: p, Messages: []support.Message{{From: "user", Text: "a person please"}}})
		if err != nil {
			f.Fatal(err)
		}
	}
	page, err := api.desk.List(ctx, support.ListRequest{Limit: 2})
	if err != nil || page.Next == "" {
		f.Fatalf("no cursor to start from: %+v, %v", page, err)
	}
	f.Add("Bearer "+alexToken, "", "", "")
	f.Add("Bearer "+readerToken, "open", "2", page.Next)
	f.Add("Bearer  "+samToken+" ", "", "1", page.Next)
	f.Add("Bearer "+alexToken, "closed", "0", "zzz")
	f.Add("Bearer "+alexToken, "", "201", "eyJyIjo1LCJ0IjoxLCJpIjoiYSJ9")
	f.Add("bearer "+alexToken, "", "", "")
	f.Add("Bearer not-a-real-token-000000", "", "", "")
	f.Add("Basic YWxleDpzZWNyZXQ=", "resolved", "-1", "")
	f.Add("", "", "", "")
	allowed := map[string]bool{alexToken: true, samToken: true, readerToken: true}
	f.Fuzz(func(t *testing.T, authorization, status, limit, cursor string) {
		q := url.Values{}
		for k, v := range map[string]string{"status": status, "limit": limit, "cursor": cursor} {
			if v != "" {
				q.Set(k, v)
			}
		}
		target := "/api/v1/escalations?" + q.Encode()
		rec := serve(api.h, "GET", target, map[string]string{"Authorization": authorization}, nil)
		checkStatus(t, "GET "+target, rec, 200, 400, 401)
		token, bearer := strings.CutPrefix(authorization, "Bearer ")
		staff := bearer && allowed[strings.TrimSpace(token)]
		if staff != (rec.Code != 401) {
			t.Fatalf("Authorization %q answered %d", authorization, rec.Code)
		}
		if rec.Code == 400 {
			var e errorBody
			_ = json.Unmarshal(rec.Body.Bytes(), &e)
			if e.Field != "status" && e.Field != "limit" && e.Field != "cursor" {
				t.Fatalf("400 names field %q: %s", e.Field, rec.Body)
			}
		}
		if rec.Code != 200 {
			return
		}
		var l escalationList
		if err := json.Unmarshal(rec.Body.Bytes(), &l); err != nil || l.Escalations == nil {
			t.Fatalf("page %s: %v", rec.Body, err)
		}
		most := support.DefaultListLimit
		if n, err := strconv.Atoi(limit); err == nil {
			most = n
		}
		if len(l.Escalations) > most {
			t.Fatalf("limit %q gave %d escalations", limit, len(l.Escalations))
		}
		for i := 1; i < len(l.Escalations); i++ {
			a, b := support.PositionOf(l.Escalations[i-1]), support.PositionOf(l.Escalations[i])
			if a.Rank > b.Rank || a.Rank == b.Rank && a.CreatedAt.After(b.CreatedAt) {
				t.Fatalf("page out of queue order: %+v before %+v", a, b)
			}
		}
		if l.NextCursor != "" {
			q.Set("cursor", l.NextCursor)
			next := serve(api.h, "GET", "/api/v1/escalations?"+q.Encode(), map[string]string{"Authorization": authorization}, nil)
			checkStatus(t, "the next page", next, 200)
		}
	})
}

// FuzzHelpdeskWebhook sends POST /webhooks/support with any body,
// timestamp and signature (or a genuine signature of the body): only a
// request signed with the support secret over its own timestamp and body,
// within five minutes of now, gets past 401; nothing is ever a 500; every
// error is a JSON sentence.
func FuzzHelpdeskWebhook(f *testing.F) {
	api := fuzzAPI(f)
	e, err := api.desk.Escalate(context.Background(), support.NewEscalation{ConversationID: "c-hd",
		Address:  support.Address{Channel: "web", UserID: "hd", ChatID: "hd"},
		Audience: "employer", Reason: "requested", Messages: []support.Message{{From: "user", Text: "a person please"}}})
	if err != nil {
		f.Fatal(err)
	}
	now := strconv.FormatInt(fuzzNow.Unix(), 10)
	body := `{"escalation_id":"` + e.ID + `","text":"We will ring you tomorrow.","author":"Jo","delivery_id":"hd-1"}`
	f.Add([]byte(body), now, "", true)
	f.Add([]byte(body), now, support.Sign([]byte(helpdeskKey), fuzzNow.Unix(), []byte(body)), false)
	f.Add([]byte(body), now, support.Sign([]byte("guess"), fuzzNow.Unix(), []byte(body)), false)
	f.Add([]byte(body), strconv.FormatInt(fuzzNow.Unix()-301, 10), "", true)
	f.Add([]byte(`{"escalation_id":"nope","text":"x","delivery_id":"hd-2"}`), now, "", true)
	f.Add([]byte(`{"text":"x","delivery_id":"hd-3"}`), now, "", true)
	f.Add([]byte(`{"escalation_id":"`+e.ID+`","text":"","colour":1}`), now, "", true)
	f.Add([]byte(`{"escalation_id":"`+e.ID+`","text":"`+strings.Repeat("y", 4001)+`"}`), now, "", true)
	f.Add([]byte(`not json`), " "+now+" ", "", true)
	f.Add([]byte(``), "", "", false)
	f.Fuzz(func(t *testing.T, body []byte, timestamp, signature string, signIt bool) {
		ts, tsErr := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
		if signIt && tsErr == nil {
			signature = support.Sign([]byte(helpdeskKey), ts, body)
		}
		rec := serve(api.h, "POST", "/webhooks/support", map[string]string{
			"Content-Type":          "application/json",
			support.HeaderTimestamp: timestamp,
			support.HeaderSignature: signature,
		}, body)
		checkStatus(t, "POST /webhooks/support", rec, 200, 400, 401, 404, 409, 413)
		genuine := tsErr == nil && strings.TrimSpace(signature) == support.Sign([]byte(helpdeskKey), ts, body)
		skew := fuzzNow.Sub(time.Unix(ts, 0))
		fresh := skew <= support.MaxSkew && skew >= -support.MaxSkew
		if len(body) > 8<<10 {
			return // 413 may come first
		}
		if accepted := rec.Code != 401; accepted != (genuine && fresh) {
			t.Fatalf("signature %q, timestamp %q (genuine %v, fresh %v): answered %d %s", signature, timestamp, genuine, fresh, rec.Code, rec.Body)
		}
	})
}

// FuzzPostMessage sends POST /v1/messages with any body, as the user of a
// web session: it is never a 500, only the statuses the description lists,
// every error is a JSON sentence, and a 200 is the JSON answer.
func FuzzPostMessage(f *testing.F) {
	api := fuzzAPI(f)
	header := map[string]string{"Content-Type": "application/json"}
	user := ""
	// A session, where the web channel has them; the fuzzed body may
	// still name any user.
	if rec := serve(api.h, "POST", "/v1/sessions", nil, nil); rec.Code == http.StatusCreated {
		var s struct{ Token, User string }
		if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil || s.Token == "" {
			f.Fatalf("session %s: %v", rec.Body, err)
		}
		header["Authorization"] = "Bearer " + s.Token
		user = s.User
	}
	for _, s := range []string{
		`{"audience":"pa","text":"how much holiday?"}`,
		`{"user":"` + user + `","text":"I want to talk to a person"}`,
		`{"user":"u1","text":"hi"}`,
		`{}`, `{"text":"   "}`, `{"audience":"boss","text":"hi"}`, `{"text":"hi","colour":"red"}`,
		`{"text":42}`, `{"user":`, `["user"]`, `null`, `{"text":"hi"} {"text":"again"}`,
		`{"text":"\u0000\ud800"}`, `{"text":"` + strings.Repeat("x", 4001) + `"}`, `{"text":"` + strings.Repeat("x", 9000) + `"}`,
		"{\"text\":\"\xff\"}", `{"TEXT":"case"}`, `{"text":"hi","text":"twice"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := serve(api.h, "POST", "/v1/messages", header, body)
		checkStatus(t, "POST /v1/messages", rec, 200, 400, 403, 413, 503)
		if rec.Code != 200 {
			return
		}
		var out map[string]json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("200 with %s: %v", rec.Body, err)
		}
		var a messageOut
		_ = json.Unmarshal(rec.Body.Bytes(), &a)
		if a.ConversationID == "" || a.Audience != "employer" && a.Audience != "pa" {
			t.Fatalf("answer %s", rec.Body)
		}
		for _, k := range []string{"sources", "suggestions", "replies"} {
			if v := out[k]; len(v) == 0 || v[0] != '[' {
				t.Fatalf("answer %s: %q is %s, want an array", rec.Body, k, v)
			}
		}
	})
}
