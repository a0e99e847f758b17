package httpapi

import (
	"context"
	"strings"
	"testing"

	"github.com/askpa/askpa/directory"
)

// newTestDirectory is the PA network of the test API, on its store.
func newTestDirectory(t testing.TB, s directory.Store) *directory.Network {
	t.Helper()
	n, err := directory.NewNetwork(directory.Config{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pendingListing makes a listing as a PA would in Slack and sends it for
// moderation.
func pendingListing(t *testing.T, n *directory.Network, name string) string {
	t.Helper()
	ctx := context.Background()
	l, err := n.Draft(ctx, "slack:T1:U-"+name, directory.Details{Kind: directory.KindPA, Name: name, Areas: []string{"EX4"},
		Services: []string{"shopping"}, Contact: directory.Contact{Email: "pa@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Submit(ctx, l.ID, directory.ByOwner); err != nil {
		t.Fatal(err)
	}
	return l.ID
}

// walkListings drives the PA network's routes: staff create, moderate and
// withdraw listings, and the public search finds approved ones nearest
// first without contact details.
func walkListings(t *testing.T, c *checker, api *testAPI) {
	const phonedIn = `{"kind": "pa", "name": "Sam Taylor", "areas": ["ex4", "Exeter"], "services": ["personal care", "dementia"],
		"availability": "Mornings, Monday to Friday", "about": "Calm and patient.", "experience": "Six years with people living with dementia.",
		"training": ["Care Certificate", "First aid"], "dbs_update_service": true, "hourly_rate_pence": 1500,
		"employment": "looking-for-employer", "contact": "07700 900123, mornings"}`
	created := decodeInto[directory.Listing](t, c.do(req{name: "listing phoned in", method: "POST", path: "/api/v1/listings", token: alexToken, body: phonedIn, status: 201}))
	if created.ID == "" || created.Status != directory.StatusApproved || created.DisplayName != "Sam T." || created.Contact.Note != "07700 900123, mornings" {
		t.Errorf("created listing: %+v", created)
	}
	micro := `{"kind": "micro-provider", "name": "Teign Valley Care", "areas": ["TQ12"], "services": ["personal-care"], "contact": {"phone": "01626 000000"}}`
	c.do(req{name: "micro-provider phoned in", method: "POST", path: "/api/v1/listings", token: samToken, body: micro, status: 201})
	for _, bad := range []struct{ name, body, field string }{
		{"phone in about", strings.Replace(phonedIn, "Calm and patient.", "Ring me on 07700 900 123.", 1), "about"},
		{"email in experience", strings.Replace(phonedIn, "Six years", "Email sam@example.org: six years", 1), "experience"},
		{"link in availability", strings.Replace(phonedIn, "Mornings, Monday", "See www.samcares.co.uk for mornings, Monday", 1), "availability"},
		{"unknown district", strings.Replace(phonedIn, `"ex4"`, `"ZZ9"`, 1), "areas[0]"},
		{"unknown service", strings.Replace(phonedIn, `"dementia"]`, `"gardening"]`, 1), "services[1]"},
		{"no contact", strings.Replace(phonedIn, `"contact": "07700 900123, mornings"`, `"contact": {}`, 1), "contact"},
		{"bad kind", strings.Replace(phonedIn, `"kind": "pa"`, `"kind": "agency"`, 1), "kind"},
	} {
		c.do(req{name: bad.name, method: "POST", path: "/api/v1/listings", token: alexToken, body: bad.body, status: 400, field: bad.field, invalid: true})
	}
	c.do(req{name: "listing by reader", method: "POST", path: "/api/v1/listings", token: readerToken, body: phonedIn, status: 403})
	c.do(req{name: "listing without token", method: "POST", path: "/api/v1/listings", body: phonedIn, status: 401, invalid: true})

	first, second := pendingListing(t, api.dir, "Jo Bloggs"), pendingListing(t, api.dir, "Ann Lee")
	queue := decodeInto[listingList](t, c.do(req{name: "moderation queue", method: "GET", path: "/api/v1/listings?status=pending", token: readerToken, status: 200}))
	if len(queue.Listings) != 2 || queue.Listings[0].ID != first || queue.Listings[1].ID != second {
		t.Errorf("pending queue: %+v", queue.Listings)
	}
	c.do(req{name: "queue bad status", method: "GET", path: "/api/v1/listings?status=lost", token: alexToken, status: 400, field: "status", invalid: true})
	got := decodeInto[directory.Listing](t, c.do(req{name: "one listing", method: "GET", path: "/api/v1/listings/" + first, token: readerToken, status: 200}))
	if got.Contact.Email != "pa@example.org" || len(got.Audit) != 2 {
		t.Errorf("staff view of a listing: %+v", got)
	}
	c.do(req{name: "unknown listing", method: "GET", path: "/api/v1/listings/nope", token: alexToken, status: 404})
	c.do(req{name: "approve by reader", method: "POST", path: "/api/v1/listings/" + first + "/approve", token: readerToken, status: 403})
	c.do(req{name: "approve", method: "POST", path: "/api/v1/listings/" + first + "/approve", token: alexToken, status: 200})
	c.do(req{name: "approve twice", method: "POST", path: "/api/v1/listings/" + first + "/approve", token: samToken, status: 409})
	c.do(req{name: "approve unknown", method: "POST", path: "/api/v1/listings/nope/approve", token: samToken, status: 404})
	c.do(req{name: "reject without reason", method: "POST", path: "/api/v1/listings/" + second + "/reject", token: alexToken, body: `{}`, status: 400, field: "reason"})
	rejected := decodeInto[directory.Listing](t, c.do(req{name: "reject", method: "POST", path: "/api/v1/listings/" + second + "/reject", token: alexToken,
		body: `{"reason": "Please say which days you can work."}`, status: 200}))
	if rejected.Status != directory.StatusRejected || rejected.Reason == "" {
		t.Errorf("rejected: %+v", rejected)
	}
	c.do(req{name: "reject approved", method: "POST", path: "/api/v1/listings/" + first + "/reject", token: alexToken, body: `{"reason": "x"}`, status: 409})

	results := decodeInto[listingResults](t, c.do(req{name: "search", method: "GET", path: "/v1/listings?area=EX4&service=personal%20care&q=dementia", status: 200}))
	if len(results.Listings) != 1 || results.Listings[0].ID != created.ID || !results.Listings[0].SelfDeclared || !strings.Contains(results.Notice, "not employed or vetted") {
		t.Errorf("search: %+v", results)
	}
	body := c.do(req{name: "search nearest first", method: "GET", path: "/v1/listings?area=EX2", status: 200})
	if s := string(body); strings.Contains(s, "07700") || strings.Contains(s, "pa@example.org") || strings.Contains(s, "contact") {
		t.Errorf("search answer carries contact details: %s", s)
	}
	if r := decodeInto[listingResults](t, body); len(r.Listings) != 2 || r.Listings[0].ID != first || r.Listings[0].Match != "postcode-area" {
		t.Errorf("EX2 search: %+v", r.Listings)
	}
	c.do(req{name: "search unknown district", method: "GET", path: "/v1/listings?area=ZZ9", status: 400, field: "area"})
	c.do(req{name: "search unknown service", method: "GET", path: "/v1/listings?service=gardening", status: 400, field: "service"})
	c.do(req{name: "search bad limit", method: "GET", path: "/v1/listings?limit=many", status: 400, field: "limit", invalid: true})

	c.do(req{name: "withdraw", method: "POST", path: "/api/v1/listings/" + created.ID + "/withdraw", token: samToken, body: `{"reason": "Asked to be taken off by phone."}`, status: 200})
	c.do(req{name: "withdraw without body", method: "POST", path: "/api/v1/listings/" + first + "/withdraw", token: samToken, status: 200})
	c.do(req{name: "withdraw twice", method: "POST", path: "/api/v1/listings/" + first + "/withdraw", token: samToken, status: 409})
	if r := decodeInto[listingResults](t, c.do(req{name: "search after withdrawal", method: "GET", path: "/v1/listings?area=EX4", status: 200})); len(r.Listings) != 0 {
		t.Errorf("withdrawn listings are still found: %+v", r.Listings)
	}
}
