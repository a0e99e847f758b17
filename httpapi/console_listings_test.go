package httpapi

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/sqlite"
)

// withDirectory is a newConsoleRig tweak that gives the console a PA
// network on the rig's store and clock, returned through n.
func withDirectory(t testing.TB, n **directory.Network) func(*Config) {
	return func(c *Config) {
		var err error
		if *n, err = directory.NewNetwork(directory.Config{Store: c.Console.(*sqlite.Store), Now: c.Now}); err != nil {
			t.Fatal(err)
		}
		c.Directory = *n
	}
}

// listingStatus returns the state of listing id.
func listingStatus(t testing.TB, n *directory.Network, id string) directory.Listing {
	t.Helper()
	l, err := n.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestConsoleListings works the PA network's moderation in the console:
// pending listings first, each with its details and contact; approve,
// reject (a reason required) and withdraw through the network, each
// refused without the CSRF token; a move the state no longer allows is
// refused with the state named; read-only staff see everything and can do
// nothing; an unknown listing is not found.
func TestConsoleListings(t *testing.T) {
	var n *directory.Network
	r := newConsoleRig(t, withDirectory(t, &n))
	ctx := context.Background()
	jo := pendingListing(t, n, "Jo Bloggs")
	kim := pendingListing(t, n, "Kim Lee")
	published, err := n.AddByStaff(ctx, "sam", directory.Details{Kind: directory.KindMicroProvider, Name: "Teign Valley Care", Areas: []string{"TQ12"},
		Services: []string{"shopping"}, Contact: directory.Contact{Phone: "01626 000000"}})
	if err != nil {
		t.Fatal(err)
	}

	v := r.visitor()
	v.mustSignIn(alexToken)
	res, body := v.get("/console/listings")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /console/listings: %d\n%s", res.StatusCode, body)
	}
	checkConsoleHeaders(t, "the listings page", res.Header)
	page := html.UnescapeString(body)
	pending, live := strings.Index(page, `id="listings-pending"`), strings.Index(page, `id="listings-approved"`)
	if pending < 0 || live < 0 || pending > live {
		t.Errorf("the pending listings do not come first (at %d, published at %d)", pending, live)
	}
	for _, want := range []string{"Jo Bloggs", "Kim Lee", "pa@example.org", "EX4", `id="approve-` + jo + `"`, `id="reject-` + kim + `"`,
		"Teign Valley Care", `href="/console/listings"`, `aria-current="page"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the listings page lacks %q", want)
		}
	}
	if strings.Index(page, "Teign Valley Care") < live {
		t.Error("the published listing shows among the pending ones")
	}
	if regexp.MustCompile(`\sstyle=|<style|<script>`).MatchString(body) {
		t.Error("the listings page has inline style or script")
	}

	// Approve, without then with the CSRF token.
	if res, _ := v.do(http.MethodPost, "/console/listings/"+jo+"/approve", url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Errorf("approve without the CSRF token: %d, want 403", res.StatusCode)
	}
	if l := listingStatus(t, n, jo); l.Status != directory.StatusPending {
		t.Fatalf("after a forged approval the listing is %s", l.Status)
	}
	csrf := v.csrf("/console/listings")
	res, _ = v.do(http.MethodPost, "/console/listings/"+jo+"/approve", url.Values{"csrf": {csrf}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/listings/"+jo+"?done=approved" {
		t.Fatalf("approve: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if l := listingStatus(t, n, jo); l.Status != directory.StatusApproved || l.Audit[len(l.Audit)-1].Who != "alex" {
		t.Errorf("after approval the listing is %s, last audit entry %+v", l.Status, l.Audit[len(l.Audit)-1])
	}
	_, body = v.get("/console/listings/" + jo + "?done=approved")
	if !strings.Contains(body, "approved and published") || !strings.Contains(body, "Published") || !strings.Contains(body, `id="withdraw"`) || strings.Contains(body, `id="approve"`) {
		t.Errorf("the approved listing's page:\n%s", body)
	}
	// Approving it again (a colleague's page was out of date) is refused,
	// naming the state.
	res, body = v.do(http.MethodPost, "/console/listings/"+jo+"/approve", url.Values{"csrf": {csrf}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "This listing is approved") {
		t.Errorf("approving an approved listing: %d\n%s", res.StatusCode, body)
	}

	// Reject: a reason is required.
	res, body = v.do(http.MethodPost, "/console/listings/"+kim+"/reject", url.Values{"csrf": {csrf}, "reason": {"  "}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Say why the listing is rejected") || !strings.Contains(body, `id="reason-error"`) {
		t.Errorf("reject without a reason: %d\n%s", res.StatusCode, body)
	}
	if l := listingStatus(t, n, kim); l.Status != directory.StatusPending {
		t.Errorf("after a reject without a reason the listing is %s", l.Status)
	}
	res, _ = v.do(http.MethodPost, "/console/listings/"+kim+"/reject", url.Values{"csrf": {csrf}, "reason": {"Please add which days you can work."}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject: %d", res.StatusCode)
	}
	if l := listingStatus(t, n, kim); l.Status != directory.StatusRejected || l.Reason != "Please add which days you can work." {
		t.Errorf("after rejection the listing is %s with reason %q", l.Status, l.Reason)
	}

	// Withdraw the published one, with a reason.
	res, _ = v.do(http.MethodPost, "/console/listings/"+published.ID+"/withdraw", url.Values{"csrf": {csrf}, "reason": {"Closed down."}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", res.StatusCode)
	}
	if l := listingStatus(t, n, published.ID); l.Status != directory.StatusWithdrawn {
		t.Errorf("after withdrawal the listing is %s", l.Status)
	}
	_, body = v.get("/console/listings/" + published.ID)
	if !strings.Contains(body, "Closed down.") || strings.Contains(body, `id="withdraw"`) {
		t.Errorf("the withdrawn listing's page (audit trail with the reason, no withdraw form):\n%s", body)
	}

	// Unknown listings.
	if res, body := v.get("/console/listings/no-such-listing"); res.StatusCode != http.StatusNotFound || !strings.Contains(body, "Listing not found") {
		t.Errorf("an unknown listing: %d\n%s", res.StatusCode, body)
	}
	if res, _ := v.do(http.MethodPost, "/console/listings/no-such-listing/approve", url.Values{"csrf": {csrf}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("approving an unknown listing: %d, want 404", res.StatusCode)
	}

	// Read-only staff see the details and no form; their posts are refused.
	other := pendingListing(t, n, "Mo Khan")
	reader := r.visitor()
	reader.mustSignIn(readerToken)
	res, body = reader.get("/console/listings")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Mo Khan") || !strings.Contains(body, "pa@example.org") {
		t.Errorf("the read-only listings page: %d", res.StatusCode)
	}
	if main := body[strings.Index(body, "<main"):]; strings.Contains(main, "<form") || strings.Contains(main, "<button") {
		t.Error("a read-only member of staff sees moderation forms")
	}
	if _, body := reader.get("/console/listings/" + other); strings.Contains(body[strings.Index(body, "<main"):], "<form") {
		t.Error("a read-only member of staff sees forms on a listing's page")
	}
	rc := reader.csrf("/console/listings")
	if res, _ := reader.do(http.MethodPost, "/console/listings/"+other+"/approve", url.Values{"csrf": {rc}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("a read-only approval: %d, want 403", res.StatusCode)
	}
	if l := listingStatus(t, n, other); l.Status != directory.StatusPending {
		t.Errorf("after a read-only approval the listing is %s", l.Status)
	}
}

// TestConsoleWithoutDirectory checks that a console without a PA network
// neither serves nor links the moderation pages.
func TestConsoleWithoutDirectory(t *testing.T) {
	r := newConsoleRig(t, nil)
	v := r.visitor()
	v.mustSignIn(alexToken)
	if res, _ := v.get("/console/listings"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /console/listings without a directory: %d, want 404", res.StatusCode)
	}
	if _, body := v.get("/console"); strings.Contains(body, "/console/listings") || strings.Contains(body, "/console/insights") {
		t.Error("the queue links parts of the console that are not there")
	}
}
