package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/support"
)

// testPackArea is a council's area.yaml; its numbers are Ofcom's drama
// numbers.
const testPackArea = `id: testshire
name: Testshire Council
districts: [TS1, TS2]
safeguarding:
  phone: 01632 960200
  out_of_hours: 01632 960201
support_service:
  name: Testshire Direct Payment Support
  phone: 01632 960300
  hours: 9am to 5pm, Monday to Friday
`

// testPackTravel replaces the national travel-time guide (same id).
const testPackTravel = `---
id: travel-time
title: Travel time for PAs in Testshire
kind: guidance
audience: both
topics: [pay]
summary: How Testshire PAs are paid for travel.
reviewed: 2026-11-20
sources:
  - https://www.example.org/testshire-travel
questions:
  - is travel time paid in testshire
---

## Is a PA's travel time paid?

In Testshire, the council's local guidance on travel time applies: ask {{local.support_contact}}.
`

// testPack writes a local pack and returns its folder.
func testPack(t *testing.T) string {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "area.yaml"), testPackArea)
	mustWrite(t, filepath.Join(dir, "guides", "travel-time.md"), testPackTravel)
	return dir
}

func askJSON(t *testing.T, vars map[string]string, q string) bot.Answer {
	t.Helper()
	out, errOut, code := runWithEnv(t, vars, "ask", "--memory", "--json", "--audience", "employer", q)
	if code != 0 {
		t.Fatalf("ask %q: exit %d: %s", q, code, errOut)
	}
	var a bot.Answer
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	return a
}

// TestAskWithLocalPack runs "askpa ask" with ASKPA_LOCAL_DIR pointing at a
// pack: the safeguarding reply gives the pack's numbers, and the pack's
// replacement of a national guide is the answer; without the pack, the
// national words.
func TestAskWithLocalPack(t *testing.T) {
	pack := map[string]string{"ASKPA_LOCAL_DIR": testPack(t)}
	const worried = "my PA hits me and shouts at me, I am scared of her"
	a := askJSON(t, pack, worried)
	if !a.Urgent || a.Reason != "safeguarding" || !strings.Contains(a.Text, "Testshire Council's adult safeguarding team on 01632 960200 (out of hours: 01632 960201)") {
		t.Errorf("safeguarding reply with the pack: urgent %v, reason %q\n%s", a.Urgent, a.Reason, a.Text)
	}
	a = askJSON(t, nil, worried)
	if !a.Urgent || !strings.Contains(a.Text, "your council's adult safeguarding team (most councils have an out-of-hours number)") || strings.Contains(a.Text, "01632") {
		t.Errorf("safeguarding reply without a pack: urgent %v\n%s", a.Urgent, a.Text)
	}

	const travel = "is my PA paid for travel time between visits"
	a = askJSON(t, pack, travel)
	if !a.Answered || !strings.Contains(a.Text, "In Testshire, the council's local guidance on travel time applies: ask Testshire Direct Payment Support on 01632 960300 (open 9am to 5pm, Monday to Friday).") ||
		len(a.Sources) == 0 || a.Sources[0].URL != "https://www.example.org/testshire-travel" {
		t.Errorf("the pack's replacement guide: %+v", a)
	}
	a = askJSON(t, nil, travel)
	if !a.Answered || strings.Contains(a.Text, "Testshire") || a.Sources[0].ID != "travel-time" {
		t.Errorf("the national guide: %+v", a)
	}

	// The flag does what the variable does; a broken pack stops ask,
	// naming the file and line.
	out, errOut, code := runWithEnv(t, nil, "ask", "--memory", "--local", pack["ASKPA_LOCAL_DIR"], worried)
	if code != 0 || !strings.Contains(out, "01632 960200") {
		t.Errorf("--local: exit %d\n%s%s", code, out, errOut)
	}
	bad := t.TempDir()
	mustWrite(t, filepath.Join(bad, "area.yaml"), strings.Replace(testPackArea, "01632 960200", "01632 96O200", 1))
	_, errOut, code = runWithEnv(t, map[string]string{"ASKPA_LOCAL_DIR": bad}, "ask", "--memory", worried)
	if code != 1 || !strings.Contains(errOut, filepath.Join(bad, "area.yaml")+":5: safeguarding.phone \"01632 96O200\" is not a UK phone number") {
		t.Errorf("a broken pack: exit %d, %s", code, errOut)
	}
	_, errOut, code = runWithEnv(t, map[string]string{"ASKPA_LOCAL_DIR": filepath.Join(bad, "missing")}, "ask", "--memory", worried)
	if code != 1 || !strings.Contains(errOut, "does not exist") {
		t.Errorf("a missing pack: exit %d, %s", code, errOut)
	}
}

// TestLintLocalPacks: the example packs in the repository pass lint, and a
// broken pack fails it with every problem's file and line.
func TestLintLocalPacks(t *testing.T) {
	for _, dir := range []string{filepath.Join("..", "..", "local", "devon"), filepath.Join("..", "..", "local", "template")} {
		out, errOut, code := runCmd(t, "", "lint", "--local", dir)
		if code != 0 || !strings.Contains(errOut, "with local pack "+dir) {
			t.Errorf("lint --local %s: exit %d\n%s%s", dir, code, out, errOut)
		}
	}
	out, errOut, code := runWithEnv(t, map[string]string{"ASKPA_LOCAL_DIR": testPack(t)}, "lint")
	if code != 0 {
		t.Errorf("lint of the test pack: exit %d\n%s%s", code, out, errOut)
	}

	broken := t.TempDir()
	mustWrite(t, filepath.Join(broken, "area.yaml"), testPackArea+"council_tax: high\npayroll:\n  phone: 01632 96O400\n  name: Testshire Payroll\n")
	mustWrite(t, filepath.Join(broken, "extra.md"), strings.Replace(testPackTravel, "id: travel-time", "id: testshire-extra\nreplaces: travel-tme", 1))
	mustWrite(t, filepath.Join(broken, "emergency-help.md"), strings.Replace(testPackTravel, "id: travel-time", "id: emergency-help", 1))
	out, _, code = runWithEnv(t, map[string]string{"ASKPA_LOCAL_DIR": broken}, "lint")
	for _, want := range []string{
		filepath.Join(broken, "area.yaml") + `:11: unknown key "council_tax"`,
		filepath.Join(broken, "area.yaml") + `:13: payroll.phone "01632 96O400" is not a UK phone number`,
		filepath.Join(broken, "extra.md") + `:3: replaces "travel-tme", but no national document has that id`,
		filepath.Join(broken, "emergency-help.md") + ":1: the safety replies link section #if-you-are-worried-an-adult-is-being-abused-or-neglected, which this document lacks",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lint output lacks %q", want)
		}
	}
	if code != 1 {
		t.Errorf("lint of a broken pack: exit %d, want 1", code)
	}
	if t.Failed() {
		t.Logf("lint output:\n%s", out)
	}
}

// TestAskPicksAnAreaAmongPacks: with a folder of packs, --area (or
// ASKPA_AREA) chooses one by id, council name or postcode, and the same
// safeguarding message gets each area's own number.
func TestAskPicksAnAreaAmongPacks(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "testshire", "area.yaml"), testPackArea)
	mustWrite(t, filepath.Join(dir, "otherton", "area.yaml"), "id: otherton\nname: Otherton Council\ndistricts: [OT1]\nsafeguarding:\n  phone: 01632 960500\n")
	const worried = "my PA hits me and shouts at me, I am scared of her"
	for area, want := range map[string]string{
		"testshire": "Testshire Council's adult safeguarding team on 01632 960200 (out of hours: 01632 960201)",
		"OT1 2AB":   "Otherton Council's adult safeguarding team on 01632 960500",
	} {
		a := askJSON(t, map[string]string{"ASKPA_LOCAL_DIR": dir, "ASKPA_AREA": area}, worried)
		if !a.Urgent || !strings.Contains(a.Text, want) {
			t.Errorf("area %q: urgent %v\n%s", area, a.Urgent, a.Text)
		}
	}
	_, errOut, code := runWithEnv(t, map[string]string{"ASKPA_LOCAL_DIR": dir}, "ask", "--memory", worried)
	if code != 1 || !strings.Contains(errOut, "holds 2 local packs (otherton, testshire): choose one with --area or ASKPA_AREA") {
		t.Errorf("no area chosen: exit %d, %s", code, errOut)
	}
	_, errOut, code = runWithEnv(t, map[string]string{"ASKPA_LOCAL_DIR": dir}, "ask", "--memory", "--area", "Nowhere", worried)
	if code != 1 || !strings.Contains(errOut, `no local pack in `+dir+` is for "Nowhere"`) {
		t.Errorf("an unknown area: exit %d, %s", code, errOut)
	}
	out, errOut, code := runCmd(t, "", "lint", "--local", dir)
	if code != 0 {
		t.Errorf("lint of two packs: exit %d\n%s%s", code, out, errOut)
	}
}

// TestServeAnswersForEveryPack: askpa serve with a folder of two packs and
// no ASKPA_AREA answers for both: a web-channel person picks their area
// with /area (by district or name) and their safeguarding script gives
// that council's number; before they pick, the national wording. Their
// escalation carries the area: a webhook for that area hears of it, one
// for the other area does not, and the other area's staff get 404. The
// other area's helpdesk has its own secret: its webhooks are signed with
// it, and a reply it signs reaches only its own area's escalations.
func TestServeAnswersForEveryPack(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "testshire", "area.yaml"), testPackArea)
	mustWrite(t, filepath.Join(dir, "otherton", "area.yaml"), "id: otherton\nname: Otherton Council\ndistricts: [OT1]\nsafeguarding:\n  phone: 01632 960500\n")
	const testshireHelpdeskKey = "testshire-helpdesk-secret"
	everyone, otherton, testshire := newReceiver(t), newReceiver(t), newKeyedReceiver(t, testshireHelpdeskKey)
	const testshireToken = "testshire-staff-token-1"
	base := startServe(t, map[string]string{"ASKPA_LOCAL_DIR": dir, "ASKPA_DATA_DIR": t.TempDir(),
		"ASKPA_STAFF_TOKENS":           "alex:" + testStaffToken + ",tess:" + testshireToken + "@testshire",
		"ASKPA_WEBHOOK_SECRET":         testWebhookKey,
		"ASKPA_HELPDESK_SECRETS":       "testshire=" + testshireHelpdeskKey,
		"ASKPA_SUPPORT_WEBHOOK_SECRET": testHelpdeskKey,
		"ASKPA_WEBHOOK_URLS":           everyone.srv.URL + "," + otherton.srv.URL + "|otherton," + testshire.srv.URL + "|testshire"})
	web := newWebSession(t, base)
	say := func(text string) string {
		t.Helper()
		var out struct {
			Replies []bot.Reply `json:"replies"`
		}
		if st := call(t, "POST", base+"/v1/messages", web.Token, map[string]string{"text": text}, &out); st != http.StatusOK {
			t.Fatalf("POST %q: %d", text, st)
		}
		var texts []string
		for _, r := range out.Replies {
			texts = append(texts, r.Text)
		}
		return strings.Join(texts, "\n\n")
	}
	const worried = "my PA hits me and shouts at me, I am scared of her"
	if got := say(worried); strings.Contains(got, "01632") || !strings.Contains(got, "your council's adult safeguarding team") {
		t.Errorf("before choosing an area:\n%s", got)
	}
	if got := say("/cancel"); got == "" {
		t.Fatal("no answer to /cancel")
	}
	if got := say("/area OT1 4XY"); !strings.Contains(got, "Otherton Council's details") {
		t.Fatalf("/area OT1 4XY: %q", got)
	}
	if got := say(worried); !strings.Contains(got, "Otherton Council's adult safeguarding team on 01632 960500") {
		t.Errorf("after choosing Otherton:\n%s", got)
	}
	// A council's own page names the area with each message.
	var out struct {
		Replies []bot.Reply `json:"replies"`
	}
	page := newWebSession(t, base)
	if st := call(t, "POST", base+"/v1/messages", page.Token, map[string]string{"text": worried, "area": "testshire"}, &out); st != http.StatusOK ||
		len(out.Replies) == 0 || !strings.Contains(out.Replies[0].Text, "01632 960200") {
		t.Errorf("a message with area testshire: %d %+v", st, out.Replies)
	}
	if st, _ := tryCallAs("POST", base+"/v1/messages", page.Token, map[string]string{"text": "hello", "area": "narnia"}, nil); st != http.StatusBadRequest {
		t.Errorf("a message with an unknown area: %d, want 400", st)
	}
	var list struct {
		Escalations []support.Escalation `json:"escalations"`
	}
	call(t, "GET", base+"/api/v1/escalations", testStaffToken, nil, &list)
	var id string
	for _, e := range list.Escalations {
		if e.Area == "otherton" {
			id = e.ID
		}
	}
	if id == "" {
		t.Fatalf("no escalation from Otherton in the queue: %+v", list.Escalations)
	}
	eventually(t, 10*time.Second, "Otherton's webhook and the unlimited one to hear of it", func() bool {
		return everyone.has(support.EventCreated, id) && otherton.has(support.EventCreated, id)
	})
	if testshire.has(support.EventCreated, id) {
		t.Error("Testshire's webhook heard of Otherton's escalation")
	}
	if st, _ := tryCallAs("GET", base+"/api/v1/escalations/"+id, testshireToken, nil, nil); st != http.StatusNotFound {
		t.Errorf("Testshire's staff opening Otherton's escalation: %d, want 404", st)
	}
	var testshireID string
	for _, e := range list.Escalations {
		if e.Area == "testshire" {
			testshireID = e.ID
		}
	}
	eventually(t, 10*time.Second, "Testshire's webhook, signed with its own secret, to hear of its escalation", func() bool {
		return testshire.has(support.EventCreated, testshireID)
	})
	helpdeskReply := func(key, escalation, delivery string) int {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"escalation_id": escalation, "text": "We will ring you this afternoon.", "author": "Sam", "delivery_id": delivery})
		req, _ := http.NewRequest("POST", base+"/webhooks/support", bytes.NewReader(body))
		ts := time.Now().Unix()
		req.Header.Set(support.HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(support.HeaderSignature, support.Sign([]byte(key), ts, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := helpdeskReply(testshireHelpdeskKey, id, "d-1"); st != http.StatusNotFound {
		t.Errorf("Testshire's helpdesk replying to Otherton's escalation: %d, want 404", st)
	}
	if st := helpdeskReply(testWebhookKey, testshireID, "d-2"); st != http.StatusUnauthorized {
		t.Errorf("a reply signed with the outbound webhook secret: %d, want 401", st)
	}
	if st := helpdeskReply(testshireHelpdeskKey, testshireID, "d-3"); st != http.StatusOK {
		t.Errorf("Testshire's helpdesk replying to its own escalation: %d, want 200", st)
	}
	// Delivery ids are each helpdesk's own: the helpdesk of every area
	// reusing Testshire's "d-3" is a new reply, not a duplicate.
	var before support.Escalation
	call(t, "GET", base+"/api/v1/escalations/"+testshireID, testStaffToken, nil, &before)
	if st := helpdeskReply(testHelpdeskKey, testshireID, "d-3"); st != http.StatusOK {
		t.Errorf("the helpdesk of every area replying with Testshire's delivery id: %d, want 200", st)
	}
	var after support.Escalation
	call(t, "GET", base+"/api/v1/escalations/"+testshireID, testStaffToken, nil, &after)
	if len(after.Messages) != len(before.Messages)+1 {
		t.Errorf("the every-area helpdesk's reply with Testshire's delivery id: %d messages, then %d; want one more", len(before.Messages), len(after.Messages))
	}
}
