package httpapi

import (
	"context"
	"encoding/json"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/internal/sqlstore"
	"github.com/askpa/askpa/support"
)

// TestIntroductionWebhookEndToEnd: an employer asks to be introduced to
// an approved listing and its PA accepts; the real dispatcher delivers
// introduction.requested and introduction.accepted to a webhook receiver,
// after the listing's own events, signed with the shared secret, matching
// the IntroductionEvent schema of openapi.json, and without the employer,
// their note or anyone's contact details.
func TestIntroductionWebhookEndToEnd(t *testing.T) {
	ctx := context.Background()
	secret := []byte("introduction-webhook-secret")
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
	l, err := api.dir.Approve(ctx, id, "alex")
	if err != nil {
		t.Fatal(err)
	}
	note := "Help with the weekly shop on Thursdays, please."
	in, err := api.dir.RequestIntroduction(ctx, id, "telegram:990011", note, directory.Contact{Phone: "07700 900777", Email: "emp@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.dir.AcceptIntroduction(ctx, in.ID, l.Owner); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if n, err := disp.Pass(ctx); err != nil || n == 0 {
			break
		}
	}

	var names []string
	var intros []hookHit
	for _, h := range rcv.got() {
		ev := h.header.Get(support.HeaderEvent)
		names = append(names, ev)
		if strings.HasPrefix(ev, support.IntroductionEventPrefix) {
			intros = append(intros, h)
		}
	}
	want := []string{directory.EventCreated, directory.EventSubmitted, directory.EventApproved, directory.EventIntroRequested, directory.EventIntroAccepted}
	if !slices.Equal(names, want) {
		t.Fatalf("the receiver got %q; want %q in order", names, want)
	}
	doc, _ := spec(t)
	schema := doc.Components.Schemas["IntroductionEvent"]
	if schema == nil {
		t.Fatal("openapi.json has no IntroductionEvent schema")
	}
	wantBy := []string{directory.ByEmployer, directory.ByOwner}
	for i, h := range intros {
		name := h.header.Get(support.HeaderEvent)
		if err := support.Verify(secret, h.header.Get(support.HeaderTimestamp), h.header.Get(support.HeaderSignature), h.body, time.Now()); err != nil {
			t.Errorf("%s: signature does not verify: %v", name, err)
		}
		for _, secret := range []string{"pa@example.org", "07700", "emp@example.org", "Thursdays", "990011", `"contact"`, `"note"`, `"escalation"`} {
			if strings.Contains(string(h.body), secret) {
				t.Errorf("%s body carries %q: %s", name, secret, h.body)
			}
		}
		var v any
		if err := json.Unmarshal(h.body, &v); err != nil {
			t.Fatal(err)
		}
		if err := schema.Value.VisitJSON(v); err != nil {
			t.Errorf("%s body does not match IntroductionEvent: %v", name, err)
		}
		var body map[string]json.RawMessage
		json.Unmarshal(h.body, &body)
		if k := slices.Sorted(maps.Keys(body)); !slices.Equal(k, []string{"at", "by", "delivery_id", "event", "introduction", "listing"}) {
			t.Errorf("%s body keys %q", name, k)
		}
		var ev struct {
			Event        string                       `json:"event"`
			DeliveryID   string                       `json:"delivery_id"`
			By           string                       `json:"by"`
			Introduction directory.SharedIntroduction `json:"introduction"`
		}
		json.Unmarshal(h.body, &ev)
		if ev.DeliveryID != h.header.Get(support.HeaderDelivery) || ev.By != wantBy[i] || ev.Introduction.ID != in.ID ||
			ev.Introduction.ListingID != id || "introduction."+string(ev.Introduction.Status) != ev.Event {
			t.Errorf("%s envelope: %+v", name, ev)
		}
	}
	// The schema refuses what must never be sent.
	var leaky map[string]any
	json.Unmarshal(intros[1].body, &leaky)
	leaky["introduction"].(map[string]any)["listing_contact"] = map[string]any{"email": "pa@example.org"}
	if err := schema.Value.VisitJSON(leaky); err == nil {
		t.Error("the IntroductionEvent schema allows contact details")
	}
}
