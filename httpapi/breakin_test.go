package httpapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/sqlite"
	"github.com/askpa/askpa/support"
)

// The tests in this file try, as an attacker would, to read or write
// another person's conversation through the HTTP edge (issue 10): with a
// web session of their own, a read-only staff token, a token limited to
// one area, and any request to any route without the platforms' secrets.

const devonToken = "devon-token-0123456789"

// areaRig is a console rig with a Devon-only member of staff ("dee") and
// the gap report switched on, holding one escalation in Devon and one in
// Somerset.
func areaRig(t *testing.T) (r *consoleRig, devon, somerset support.Escalation) {
	t.Helper()
	r = newConsoleRig(t, func(c *Config) {
		c.Staff = append(c.Staff, Staff{Name: "dee", Token: devonToken, Areas: []string{"devon"}})
		c.Insights = c.Console.(*sqlite.Store)
		c.Guides = testGuides(t)
	})
	open := func(user, area string) support.Escalation {
		e, err := r.desk.Escalate(context.Background(), support.NewEscalation{ConversationID: "c-" + user, Area: area,
			Address: support.Address{Channel: "web", UserID: user, ChatID: user}, Audience: "employer", Reason: "requested",
			Summary: "my PA hurt me, " + area, Messages: []support.Message{{From: support.FromUser, Text: "my PA hurt me, " + area}}})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	return r, open("w-dev", "devon"), open("w-som", "somerset")
}

// TestBreakInConsoleInsightsAcrossAreas: the gap report holds what people
// in every area asked, so a token limited to an area is refused it in the
// console as it is in the API (403), and the console does not offer it.
func TestBreakInConsoleInsightsAcrossAreas(t *testing.T) {
	r, devon, _ := areaRig(t)
	seedGaps(t, r.store, r.clock.Now())
	dee := r.visitor()
	dee.mustSignIn(devonToken)
	res, body := dee.get("/console/insights")
	if res.StatusCode != http.StatusForbidden || strings.Contains(body, "workplace pension") {
		t.Errorf("GET /console/insights with a Devon-only token: %d; want 403 without the report\n%s", res.StatusCode, body)
	}
	if _, body := dee.get("/console/escalations/" + devon.ID); strings.Contains(body, `href="/console/insights"`) {
		t.Error("the console offers the gap report to a Devon-only token")
	}
	alex := r.visitor()
	alex.mustSignIn(alexToken)
	if res, body := alex.get("/console/insights"); res.StatusCode != http.StatusOK || !strings.Contains(body, "workplace pension") {
		t.Errorf("GET /console/insights for every area: %d", res.StatusCode)
	}
}

// streamStatus opens the console's event stream at path as v for a moment
// and returns the status and what it sent.
func streamStatus(t *testing.T, v *visitor, path string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req := httptest.NewRequest(http.MethodGet, "http://askpa.test"+path, nil).WithContext(ctx)
	req.RemoteAddr = v.remote
	for _, c := range v.jar.Cookies(v.base()) {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	v.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// TestBreakInConsoleEventsAcrossAreas: the event stream of one escalation
// tells when it changes (its mark carries its revision and the time of its
// last change); a token limited to an area gets 404 for another area's
// escalation, as its page does, and may follow its own.
func TestBreakInConsoleEventsAcrossAreas(t *testing.T) {
	r, devon, somerset := areaRig(t)
	dee := r.visitor()
	dee.mustSignIn(devonToken)
	if code, body := streamStatus(t, dee, "/console/events?escalation="+somerset.ID); code != http.StatusNotFound || strings.Contains(body, "event:") {
		t.Errorf("Devon's staff following Somerset's escalation: %d %q; want 404", code, body)
	}
	if code, _ := streamStatus(t, dee, "/console/events?escalation="+devon.ID); code != http.StatusOK {
		t.Errorf("Devon's staff following Devon's escalation: %d; want 200", code)
	}
	alex := r.visitor()
	alex.mustSignIn(alexToken)
	if code, _ := streamStatus(t, alex, "/console/events?escalation="+somerset.ID); code != http.StatusOK {
		t.Errorf("unlimited staff following Somerset's escalation: %d; want 200", code)
	}
}

// TestBreakInHelpdeskReplay: X-Askpa-Delivery is not covered by the
// signature, so it cannot be what makes a delivery new. Someone who saw
// one signed helpdesk reply must not be able to send it into the person's
// conversation again, within the five minutes its timestamp is good for,
// by changing that header.
func TestBreakInHelpdeskReplay(t *testing.T) {
	api := newTestAPI(t, nil)
	e, err := api.desk.Escalate(context.Background(), support.NewEscalation{ConversationID: "c-v", Address: support.Address{Channel: "web", UserID: "web-v", ChatID: "web-v"},
		Audience: "employer", Reason: "requested", Messages: []support.Message{{From: "user", Text: "help"}}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	body := fmt.Sprintf(`{"escalation_id":%q,"text":"We will ring you at 3pm.","author":"Jo"}`, e.ID)
	for i, delivery := range []string{"hd-1", "hd-2", ""} {
		h := signed(helpdeskKey, body, now)
		if delivery != "" {
			h[support.HeaderDelivery] = delivery
		}
		r := httptest.NewRequest(http.MethodPost, "/webhooks/support", strings.NewReader(body))
		for k, v := range h {
			r.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		api.h.ServeHTTP(rec, r)
		if i > 0 && rec.Code == http.StatusOK && strings.Contains(rec.Body.String(), `"accepted"`) {
			t.Errorf("the same signed request with X-Askpa-Delivery %q was accepted again: %s", delivery, rec.Body)
		}
	}
	got, err := api.desk.Get(context.Background(), e.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range got.Messages {
		if m.Text == "We will ring you at 3pm." {
			n++
		}
	}
	if n > 1 {
		t.Errorf("one signed reply reached the person's conversation %d times", n)
	}

	// With delivery_id in the signed body: taken once, and the same request
	// replayed under any X-Askpa-Delivery is a duplicate.
	body = fmt.Sprintf(`{"escalation_id":%q,"text":"Jo again.","author":"Jo","delivery_id":"hd-body-1"}`, e.ID)
	for i, delivery := range []string{"", "hd-x", "hd-y"} {
		h := signed(helpdeskKey, body, now)
		if delivery != "" {
			h[support.HeaderDelivery] = delivery
		}
		r := httptest.NewRequest(http.MethodPost, "/webhooks/support", strings.NewReader(body))
		for k, v := range h {
			r.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		api.h.ServeHTTP(rec, r)
		want := `"duplicate"`
		if i == 0 {
			want = `"accepted"`
		}
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("signed body with delivery_id, X-Askpa-Delivery %q: %d %s; want 200 %s", delivery, rec.Code, rec.Body, want)
		}
	}
}

// TestBreakInWebChannelHolds tries what TestSessionsKeepUsersApart does
// not: a token in the query, spellings of another user's id, repeated
// query parameters and JSON keys, repeated Authorization headers, cursors
// past the end, a cookie, a body over the limit. None reads alice's
// mailbox or writes into her escalation.
func TestBreakInWebChannelHolds(t *testing.T) {
	api := newTestAPI(t, nil)
	ctx := context.Background()
	alice, mallory := webSession(t, api.h), webSession(t, api.h)
	a := decodeIntoTB[messageOut](t, web(api.h, "POST", "/v1/messages", `{"text":"I want to talk to a person"}`, bearer(alice.Token)...).Body.Bytes())
	if a.EscalationID == "" {
		t.Fatal("alice was not handed to a person")
	}
	if err := (WebChannel{Mailbox: api.store}).Send(ctx, bot.Address{Channel: bot.ChannelWeb, UserID: alice.User}, bot.Reply{Text: "Hello Alice, this is Alex.", FromStaff: true}); err != nil {
		t.Fatal(err)
	}
	asMallory := bearer(mallory.Token)
	for _, tc := range []struct {
		name         string
		method, path string
		body         string
		header       []string
		status       int
	}{
		{"alice's token as ?token=", "GET", "/v1/messages?token=" + alice.Token, "", nil, 401},
		{"alice's token as ?access_token=", "GET", "/v1/messages?access_token=" + alice.Token + "&user=" + alice.User, "", nil, 401},
		{"alice's token in a cookie", "GET", "/v1/messages", "", []string{"Cookie", "token=" + alice.Token + "; session=" + alice.Token}, 401},
		{"alice's token with the scheme left out", "GET", "/v1/messages", "", []string{"Authorization", alice.Token}, 401},
		{"alice's token after an empty Bearer", "GET", "/v1/messages", "", []string{"Authorization", "Bearer  , " + alice.Token}, 401},
		{"alice's id in upper case", "GET", "/v1/messages?user=" + strings.ToUpper(alice.User), "", asMallory, 403},
		{"alice's id with a space before it", "GET", "/v1/messages?user=%20" + alice.User, "", asMallory, 403},
		{"alice's id with a NUL after it", "GET", "/v1/messages?user=" + alice.User + "%00", "", asMallory, 403},
		{"alice's id first of two", "GET", "/v1/messages?user=" + alice.User + "&user=" + mallory.User, "", asMallory, 403},
		{"alice's id second of two (mallory's own mailbox)", "GET", "/v1/messages?user=" + mallory.User + "&user=" + alice.User, "", asMallory, 200},
		{"after= negative", "GET", "/v1/messages?after=-1", "", asMallory, 400},
		{"after= past int64", "GET", "/v1/messages?after=99999999999999999999", "", asMallory, 400},
		{"after= 0 (mallory's own mailbox)", "GET", "/v1/messages?after=0", "", asMallory, 200},
		{"JSON: alice's id as the last of two user keys", "POST", "/v1/messages", fmt.Sprintf(`{"user":%q,"user":%q,"text":"cancel"}`, mallory.User, alice.User), asMallory, 403},
		{"JSON: alice's id under User", "POST", "/v1/messages", fmt.Sprintf(`{"User":%q,"text":"cancel"}`, alice.User), asMallory, 403},
		{"JSON: alice's id under USER after mallory's", "POST", "/v1/messages", fmt.Sprintf(`{"user":%q,"USER":%q,"text":"cancel"}`, mallory.User, alice.User), asMallory, 403},
		{"JSON: alice's id with a NUL", "POST", "/v1/messages", fmt.Sprintf(`{"user":"%s\u0000","text":"cancel"}`, alice.User), asMallory, 403},
		{"JSON: a conversation or escalation id", "POST", "/v1/messages", fmt.Sprintf(`{"escalation_id":%q,"text":"cancel"}`, a.EscalationID), asMallory, 400},
		{"JSON: a body over the limit", "POST", "/v1/messages", `{"text":"` + strings.Repeat("x", 9<<10) + `"}`, asMallory, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := web(api.h, tc.method, tc.path, tc.body, tc.header...)
			if rec.Code != tc.status {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, tc.status)
			}
			if strings.Contains(rec.Body.String(), "Hello Alice") {
				t.Errorf("alice's staff reply leaked: %s", rec.Body)
			}
			if tc.status == 200 && tc.method == "GET" {
				if box := decodeIntoTB[mailbox](t, rec.Body.Bytes()); box.User != mallory.User {
					t.Errorf("mailbox of %q, want mallory's", box.User)
				}
			}
		})
	}
	t.Run("two Authorization headers, mallory's first", func(t *testing.T) {
		r := httptest.NewRequest("GET", "/v1/messages", nil)
		r.Header.Add("Authorization", "Bearer "+mallory.Token)
		r.Header.Add("Authorization", "Bearer "+alice.Token)
		rec := httptest.NewRecorder()
		api.h.ServeHTTP(rec, r)
		if strings.Contains(rec.Body.String(), "Hello Alice") || strings.Contains(rec.Body.String(), alice.User) {
			t.Errorf("%d %s", rec.Code, rec.Body)
		}
	})
	e, err := api.desk.Get(ctx, a.EscalationID)
	if err != nil || e.Address.UserID != alice.User || len(e.Messages) != 1 || e.Status != support.StatusOpen {
		t.Errorf("alice's escalation was written into: %+v, %v", e, err)
	}
}

// TestBreakInStaffAPIHolds tries, with a read-only token and with a token
// limited to Devon, every route that acts on or reads across escalations
// that the older tests do not, with the token spelt every wrong way; and
// checks that Somerset's escalation is as it was.
func TestBreakInStaffAPIHolds(t *testing.T) {
	api := newTestAPI(t, func(c *Config) {
		c.Staff = append(c.Staff, Staff{Name: "dee", Token: devonToken, Areas: []string{"devon"}})
	})
	ctx := context.Background()
	open := func(user, area string) support.Escalation {
		e, err := api.desk.Escalate(ctx, support.NewEscalation{ConversationID: "c-" + user, Area: area,
			Address: support.Address{Channel: "web", UserID: user, ChatID: user}, Audience: "employer", Reason: "safeguarding",
			Priority: support.PriorityUrgent, Summary: "secret of " + area, Messages: []support.Message{{From: support.FromUser, Text: "secret of " + area}},
			Safety: &support.SafetyAssessment{Kind: "physical-abuse", Level: "urgent", Probability: 0.9, By: "model"}})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	devon, somerset := open("w-dev", "devon"), open("w-som", "somerset")
	resolved, err := api.desk.Resolve(ctx, open("w-som2", "somerset").ID, "alex")
	if err != nil {
		t.Fatal(err)
	}
	one := func(id, action string) string { return "/api/v1/escalations/" + id + action }
	const reply = `{"text":"it is me, your support worker"}`
	const label = `{"correct":true}`
	person := `{"channel":"web","user":"w-som"}`
	for _, tc := range []struct {
		name, method, path, auth, body string
		status                         int
	}{
		// Read-only: every move refused (claim, notes, labels, forget and
		// listings are in the older tests).
		{"reader replies", "POST", one(somerset.ID, "/replies"), "Bearer " + readerToken, reply, 403},
		{"reader resolves", "POST", one(somerset.ID, "/resolve"), "Bearer " + readerToken, "", 403},
		{"reader reopens", "POST", one(resolved.ID, "/reopen"), "Bearer " + readerToken, "", 403},
		// Limited to Devon: Somerset's escalations do not exist.
		{"Devon replies to Somerset", "POST", one(somerset.ID, "/replies"), "Bearer " + devonToken, reply, 404},
		{"Devon notes on Somerset", "POST", one(somerset.ID, "/notes"), "Bearer " + devonToken, reply, 404},
		{"Devon resolves Somerset", "POST", one(somerset.ID, "/resolve"), "Bearer " + devonToken, "", 404},
		{"Devon reopens Somerset", "POST", one(resolved.ID, "/reopen"), "Bearer " + devonToken, "", 404},
		{"Devon labels Somerset's verdict", "POST", one(somerset.ID, "/safety-label"), "Bearer " + devonToken, label, 404},
		{"Devon erases a Somerset person", "POST", "/api/v1/people/forget", "Bearer " + devonToken, person, 403},
		// The token spelt wrong ways.
		{"lower-case bearer", "GET", one(somerset.ID, ""), "bearer " + alexToken, "", 401},
		{"the token alone", "GET", one(somerset.ID, ""), alexToken, "", 401},
		{"the token in the query", "GET", one(somerset.ID, "?token="+alexToken+"&access_token="+alexToken), "", "", 401},
		{"a prefix of the token", "GET", one(somerset.ID, ""), "Bearer " + alexToken[:len(alexToken)-1], "", 401},
		{"the token and more", "GET", one(somerset.ID, ""), "Bearer " + alexToken + "0", "", 401},
		{"the token in Basic", "GET", one(somerset.ID, ""), "Basic " + alexToken, "", 401},
		{"the staff name as the token", "GET", one(somerset.ID, ""), "Bearer alex", "", 401},
		{"a staff token with a NUL", "GET", one(somerset.ID, ""), "Bearer " + alexToken + "\x00", "", 401},
		{"two tokens", "GET", one(somerset.ID, ""), "Bearer " + devonToken + " " + alexToken, "", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.auth != "" {
				r.Header["Authorization"] = []string{tc.auth}
			}
			if tc.body != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			rec := httptest.NewRecorder()
			api.h.ServeHTTP(rec, r)
			if rec.Code != tc.status {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, tc.status)
			}
			if strings.Contains(rec.Body.String(), "secret of somerset") {
				t.Errorf("Somerset's conversation leaked: %s", rec.Body)
			}
		})
	}

	// A web session's token is not a staff token, nor the other way round.
	s := webSession(t, api.h)
	if rec := web(api.h, "GET", one(devon.ID, ""), "", bearer(s.Token)...); rec.Code != 401 {
		t.Errorf("a web session's token on the staff API: %d", rec.Code)
	}
	if rec := web(api.h, "GET", "/v1/messages?user=w-som", "", bearer(alexToken)...); rec.Code != 401 {
		t.Errorf("a staff token on the web channel: %d", rec.Code)
	}

	// Cursors: whatever position one names, Devon's list holds Devon's.
	list := func(query string) []support.Escalation {
		t.Helper()
		var out escalationList
		decodeJSON(t, callJSON(t, api.h, "GET", "/api/v1/escalations"+query, devonToken, ""), &out)
		return out.Escalations
	}
	n := 0
	for _, cursor := range []string{
		base64url(`{"r":0,"t":0,"i":"0"}`),
		base64url(`{"r":0,"t":-9223372036854775808,"i":"0","areas":null,"a":["somerset"]}`),
		base64url(fmt.Sprintf(`{"r":0,"t":%d,"i":"0"}`, somerset.CreatedAt.UnixNano()-1)),
	} {
		for _, q := range []string{"?cursor=" + cursor, "?status=resolved&cursor=" + cursor, "?priority=urgent&limit=1&cursor=" + cursor} {
			for _, e := range list(q) {
				n++
				if e.Area != "devon" {
					t.Errorf("GET /api/v1/escalations%s as Devon lists %s from %q", q, e.ID, e.Area)
				}
			}
		}
	}

	if n == 0 {
		t.Error("no forged cursor listed anything: the test proves nothing")
	}
	for _, e := range []support.Escalation{somerset, resolved} {
		got, err := api.desk.Get(ctx, e.ID)
		if err != nil || got.Status != e.Status || len(got.Messages) != len(e.Messages) || got.Safety.Label != nil || got.ClaimedBy != "" && got.ClaimedBy != e.ClaimedBy {
			t.Errorf("Somerset's escalation %s changed: %+v, %v", e.ID, got, err)
		}
	}
}

func base64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// TestBreakInConsoleHolds: a session id planted in the browser before
// sign-in (session fixation) is never the one signed in, and is worth
// nothing; a Devon-only member of staff gets 404 for Somerset's live
// fragments and for every form on Somerset's escalation, and the queue
// fragment shows only Devon's.
func TestBreakInConsoleHolds(t *testing.T) {
	r, devon, somerset := areaRig(t)

	planted := newSessionID()
	v := r.visitor()
	v.jar.SetCookies(consoleBase, []*http.Cookie{{Name: ConsoleCookie, Value: planted, Path: "/console"}})
	if res, _ := v.get("/console"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a planted session id opens the console: %d", res.StatusCode)
	}
	v.mustSignIn(alexToken)
	if got := v.sessionCookie(); got == planted || got == "" {
		t.Errorf("signed in with the planted session id %q", got)
	}
	attacker := r.visitor()
	attacker.jar.SetCookies(consoleBase, []*http.Cookie{{Name: ConsoleCookie, Value: planted, Path: "/console"}})
	if res, _ := attacker.get("/console/escalations/" + somerset.ID); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the planted id after the victim signed in: %d, want a redirect to sign-in", res.StatusCode)
	}

	dee := r.visitor()
	dee.mustSignIn(devonToken)
	csrf := dee.csrf("/console/escalations/" + devon.ID)
	for _, path := range []string{"/top", "/trail"} {
		res, body := dee.get("/console/fragments/escalations/" + somerset.ID + path)
		if res.StatusCode != http.StatusNotFound || strings.Contains(body, "my PA hurt me, somerset") {
			t.Errorf("Devon's staff reading Somerset's fragment %s: %d", path, res.StatusCode)
		}
	}
	for _, action := range []string{"reply", "note", "resolve", "reopen", "safety"} {
		form := url.Values{"csrf": {csrf}, "reply": {"hello"}, "note": {"hello"}, "verdict": {"right"}}
		if res, _ := dee.do(http.MethodPost, "/console/escalations/"+somerset.ID+"/"+action, form); res.StatusCode != http.StatusNotFound {
			t.Errorf("Devon's staff %s on Somerset's escalation: %d, want 404", action, res.StatusCode)
		}
	}
	if _, body := dee.get("/console/fragments/queue"); strings.Contains(body, "somerset") || !strings.Contains(body, "my PA hurt me, devon") {
		t.Errorf("Devon's queue fragment:\n%s", body)
	}
	got, err := r.desk.Get(context.Background(), somerset.ID)
	if err != nil || got.Status != support.StatusOpen || len(got.Messages) != 1 || len(got.Audit) != 1 {
		t.Errorf("Somerset's escalation changed: %+v, %v", got, err)
	}
}

// TestBreakInConsoleMarksAreOpaque: the queue's event stream and the
// queue page carry a mark of every escalation in every area (their number,
// revisions and last change); a Devon-only member of staff must not read
// from it how many escalations other areas hold or when they last changed,
// so the console shows only a digest of it.
func TestBreakInConsoleMarksAreOpaque(t *testing.T) {
	r, devon, _ := areaRig(t)
	ctx := context.Background()
	raw, err := r.store.Revision(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	one, err := r.store.Revision(ctx, devon.ID)
	if err != nil {
		t.Fatal(err)
	}
	dee := r.visitor()
	dee.mustSignIn(devonToken)
	_, queue := dee.get("/console")
	_, page := dee.get("/console/escalations/" + devon.ID)
	_, stream := streamStatus(t, dee, "/console/events")
	for what, body := range map[string]string{"queue page": queue, "escalation page": page, "queue stream": stream} {
		for _, mark := range []string{raw, one, strings.SplitN(raw, ".", 2)[0] + "."} {
			if strings.Contains(body, "since="+url.QueryEscape(mark)) || strings.Contains(body, "data: "+mark) {
				t.Errorf("the %s shows the store's mark %q", what, mark)
			}
		}
	}
	if !strings.Contains(queue, "since=") {
		t.Fatalf("the queue page has no event stream:\n%s", queue)
	}
}

// TestBreakInListingsAcrossAreas: the PA network's listings hold people's
// contact details, so a token limited to Devon lists, opens and moderates
// only listings that cover a Devon postcode district, in the staff API and
// in the console; another area's listing is 404, as if it did not exist,
// and it cannot enter a listing for another area. An unlimited token sees
// both.
func TestBreakInListingsAcrossAreas(t *testing.T) {
	var n *directory.Network
	withDir := withDirectory(t, &n)
	r := newConsoleRig(t, func(c *Config) {
		withDir(c)
		c.Staff = append(c.Staff, Staff{Name: "dee", Token: devonToken, Areas: []string{"devon"}})
		c.AreaDistricts = map[string][]string{"devon": {"EX", "TQ12"}, "somerset": {"TA"}}
	})
	ctx := context.Background()
	add := func(name string, areas ...string) string {
		l, err := n.AddByStaff(ctx, "alex", directory.Details{Kind: directory.KindPA, Name: name, Areas: areas,
			Services: []string{"shopping"}, Contact: directory.Contact{Phone: "01632 960" + fmt.Sprint(len(name)%10) + "00"}})
		if err != nil {
			t.Fatal(err)
		}
		return l.ID
	}
	exeter, newton, taunton, town := add("Ann Exeter", "EX4"), add("Ben Newton", "TQ12", "Newton Abbot"), add("Cal Taunton", "TA1"), add("Dot Townonly", "Taunton")
	ids := func(token string) []string {
		t.Helper()
		return listedIDs(t, r.h, "/api/v1/listings", token, "listings")
	}
	sorted := func(xs ...string) []string { return slices.Sorted(slices.Values(xs)) }
	status := func(method, path, token, body string) int {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		r.h.ServeHTTP(rec, req)
		return rec.Code
	}
	if got, want := ids(devonToken), sorted(exeter, newton); !slices.Equal(got, want) {
		t.Errorf("Devon's staff list %v; want %v", got, want)
	}
	if got, want := ids(alexToken), sorted(exeter, newton, taunton, town); !slices.Equal(got, want) {
		t.Errorf("unlimited staff list %v; want %v", got, want)
	}
	for _, tc := range []struct {
		method, path, token string
		want                int
	}{
		{http.MethodGet, "/api/v1/listings/" + exeter, devonToken, http.StatusOK},
		{http.MethodGet, "/api/v1/listings/" + taunton, devonToken, http.StatusNotFound},
		{http.MethodGet, "/api/v1/listings/" + town, devonToken, http.StatusNotFound},
		{http.MethodPost, "/api/v1/listings/" + taunton + "/withdraw", devonToken, http.StatusNotFound},
		{http.MethodGet, "/api/v1/listings/" + taunton, alexToken, http.StatusOK},
	} {
		if got := status(tc.method, tc.path, tc.token, ""); got != tc.want {
			t.Errorf("%s %s as %s: %d, want %d", tc.method, tc.path, tc.token[:5], got, tc.want)
		}
	}
	if l, _ := n.Get(ctx, taunton); l.Status != directory.StatusApproved {
		t.Errorf("Taunton's listing after Devon's staff tried to withdraw it: %s", l.Status)
	}
	enter := func(area string) int {
		body := `{"kind": "pa", "name": "Eve Phoned", "areas": ["` + area + `"], "services": ["shopping"], "contact": "01632 960999"}`
		return status(http.MethodPost, "/api/v1/listings", devonToken, body)
	}
	if got := enter("TA2"); got != http.StatusForbidden {
		t.Errorf("Devon's staff entering a Taunton listing: %d, want 403", got)
	}
	if got := enter("EX2"); got != http.StatusCreated {
		t.Errorf("Devon's staff entering an Exeter listing: %d, want 201", got)
	}
	dee := r.visitor()
	dee.mustSignIn(devonToken)
	if _, body := dee.get("/console/listings"); !strings.Contains(body, "Ann Exeter") || strings.Contains(body, "Cal Taunton") || strings.Contains(body, "Dot Townonly") {
		t.Errorf("Devon's console lists another area's listing:\n%s", body)
	}
	if res, body := dee.get("/console/listings/" + taunton); res.StatusCode != http.StatusNotFound || strings.Contains(body, "Cal") {
		t.Errorf("Devon's console opening Taunton's listing: %d", res.StatusCode)
	}
	if res, _ := dee.get("/console/listings/" + exeter); res.StatusCode != http.StatusOK {
		t.Errorf("Devon's console opening Exeter's listing: %d", res.StatusCode)
	}
}
