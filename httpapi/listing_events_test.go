package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/internal/sqlstore"
	"github.com/askpa/askpa/support"
)

// hookHit is one request a webhook receiver got.
type hookHit struct {
	header http.Header
	body   []byte
}

// hookReceiver is a helpdesk's webhook endpoint that records what it gets.
type hookReceiver struct {
	mu   sync.Mutex
	hits []hookHit
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.hits = append(h.hits, hookHit{r.Header.Clone(), b})
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) got() []hookHit {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.hits)
}

// TestListingWebhookEndToEnd: a PA sends a listing for moderation, staff
// approve it through the API, and the real dispatcher delivers
// listing.created, listing.submitted and listing.approved, in order, to a
// webhook receiver, signed with the shared secret, with the listing as
// staff see it but without its contact details, and with no escalation. A
// body altered on the way, or signed with another secret, fails
// verification.
func TestListingWebhookEndToEnd(t *testing.T) {
	ctx := context.Background()
	secret := []byte("listing-webhook-secret")
	rcv := &hookReceiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	api := newTestAPI(t, nil)
	hook, err := support.NewWebhook(srv.URL+"/askpa", secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	targets := append(api.desk.Targets(), hook)
	api.store.SetListingEvents(sqlstore.WebhookListingEvents(targets, nil))
	disp, err := support.NewDispatcher(support.DispatcherConfig{Store: api.store, Targets: targets})
	if err != nil {
		t.Fatal(err)
	}

	id := pendingListing(t, api.dir, "Jo Bloggs") // contact: pa@example.org
	hr := httptest.NewRequest(http.MethodPost, "/api/v1/listings/"+id+"/approve", nil)
	hr.Header.Set("Authorization", "Bearer "+alexToken)
	rec := httptest.NewRecorder()
	api.h.ServeHTTP(rec, hr)
	if rec.Code != http.StatusOK {
		t.Fatalf("approve: %d %s", rec.Code, rec.Body)
	}
	for range 10 {
		if n, err := disp.Pass(ctx); err != nil || n == 0 {
			break
		}
	}

	hits := rcv.got()
	var names []string
	for _, h := range hits {
		names = append(names, h.header.Get(support.HeaderEvent))
	}
	if want := []string{directory.EventCreated, directory.EventSubmitted, directory.EventApproved}; !slices.Equal(names, want) {
		t.Fatalf("the receiver got %q; want %q in order", names, want)
	}
	for _, h := range hits {
		if err := support.Verify(secret, h.header.Get(support.HeaderTimestamp), h.header.Get(support.HeaderSignature), h.body, time.Now()); err != nil {
			t.Errorf("%s: signature does not verify: %v", h.header.Get(support.HeaderEvent), err)
		}
		if s := string(h.body); strings.Contains(s, "pa@example.org") || strings.Contains(s, `"contact"`) || strings.Contains(s, `"escalation"`) {
			t.Errorf("%s body carries contact details or an escalation: %s", h.header.Get(support.HeaderEvent), s)
		}
	}

	last := hits[2]
	var body map[string]json.RawMessage
	if err := json.Unmarshal(last.body, &body); err != nil {
		t.Fatal(err)
	}
	if k := slices.Sorted(maps.Keys(body)); !slices.Equal(k, []string{"at", "by", "delivery_id", "event", "listing"}) {
		t.Errorf("body keys %q; want event, delivery_id, at, by, listing", k)
	}
	var ev struct {
		Event      string            `json:"event"`
		DeliveryID string            `json:"delivery_id"`
		At         time.Time         `json:"at"`
		By         string            `json:"by"`
		Listing    directory.Listing `json:"listing"`
	}
	if err := json.Unmarshal(last.body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Event != directory.EventApproved || ev.DeliveryID != last.header.Get(support.HeaderDelivery) || ev.DeliveryID == "" ||
		ev.By != "alex" || ev.At.IsZero() {
		t.Errorf("envelope: %+v (X-Askpa-Delivery %q)", ev, last.header.Get(support.HeaderDelivery))
	}
	staffView, err := api.dir.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	l := ev.Listing
	if l.ID != id || l.Status != directory.StatusApproved || l.DisplayName != "Jo B." || l.Owner != staffView.Owner ||
		len(l.Audit) != 3 || !l.ExpiresAt.Equal(staffView.ExpiresAt) || !l.Contact.IsZero() {
		t.Errorf("the listing in the event: %+v; staff see %+v", l, staffView)
	}
	// The listing is staff's view less "contact", field for field.
	var inEvent, staff map[string]json.RawMessage
	want, _ := json.Marshal(staffView)
	if err := json.Unmarshal(body["listing"], &inEvent); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &staff); err != nil {
		t.Fatal(err)
	}
	delete(staff, "contact")
	if !maps.EqualFunc(inEvent, staff, func(a, b json.RawMessage) bool { return string(a) == string(b) }) {
		t.Errorf("the listing in the event:\n%s\nwant staff's view without contact:\n%s", body["listing"], want)
	}

	// Every body matches the ListingEvent schema of openapi.json.
	doc, _ := spec(t)
	schema := doc.Components.Schemas["ListingEvent"]
	if schema == nil {
		t.Fatal("openapi.json has no ListingEvent schema")
	}
	for _, h := range hits {
		var v any
		if err := json.Unmarshal(h.body, &v); err != nil {
			t.Fatal(err)
		}
		if err := schema.Value.VisitJSON(v); err != nil {
			t.Errorf("%s body does not match ListingEvent: %v", h.header.Get(support.HeaderEvent), err)
		}
	}
	var withContact map[string]any
	json.Unmarshal(last.body, &withContact)
	withContact["listing"].(map[string]any)["contact"] = map[string]any{"email": "pa@example.org"}
	if err := schema.Value.VisitJSON(withContact); err == nil {
		t.Error("the ListingEvent schema allows contact details")
	}

	// Forgeries fail.
	ts, sig := last.header.Get(support.HeaderTimestamp), last.header.Get(support.HeaderSignature)
	altered := []byte(strings.Replace(string(last.body), `"status":"approved"`, `"status":"rejected"`, 1))
	if string(altered) == string(last.body) {
		t.Fatal("the test could not alter the body")
	}
	if err := support.Verify(secret, ts, sig, altered, time.Now()); !errors.Is(err, support.ErrBadSignature) {
		t.Errorf("an altered body verifies: %v", err)
	}
	if err := support.Verify([]byte("another-secret"), ts, sig, last.body, time.Now()); !errors.Is(err, support.ErrBadSignature) {
		t.Errorf("a body checked with another secret verifies: %v", err)
	}
	forged := support.Sign([]byte("guessed"), time.Now().Unix(), altered)
	if err := support.Verify(secret, ts, forged, altered, time.Now()); !errors.Is(err, support.ErrBadSignature) {
		t.Errorf("a forged signature verifies: %v", err)
	}

	// Delivered once each: nothing is due any more.
	if n, err := disp.Pass(ctx); err != nil || n != 0 || len(rcv.got()) != 3 {
		t.Errorf("another pass: %d attempted, %d received, %v", n, len(rcv.got()), err)
	}
}
