package support_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/askpa/askpa/support"
)

// TestEscalationEventBodyUnchanged: adding listing events left the body of
// an escalation event byte for byte as it was: the same keys, in the same
// order, "escalation" always present and no "listing".
func TestEscalationEventBodyUnchanged(t *testing.T) {
	// before is Event as it was before listing events.
	type before struct {
		Name       string             `json:"event"`
		DeliveryID string             `json:"delivery_id"`
		At         time.Time          `json:"at"`
		By         string             `json:"by"`
		Escalation support.Escalation `json:"escalation"`
		Message    *support.Message   `json:"message,omitempty"`
	}
	at := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	e := support.Escalation{ID: "e1", Status: support.StatusClaimed, Priority: support.PriorityUrgent, Reason: "requested",
		Address: support.Address{Channel: "web", UserID: "u1", ChatID: "u1"}, Audience: "employer", CreatedAt: at, UpdatedAt: at,
		ClaimedBy: "alex", Summary: "wants a person", Area: "devon",
		Messages: []support.Message{{Seq: 1, From: support.FromUser, Text: "hello", At: at}},
		Audit:    []support.Action{{Who: "alex", What: "claimed", At: at}}}
	m := &support.Message{Seq: 2, From: support.FromStaff, Text: "hi", At: at}
	for _, tc := range []struct {
		name string
		now  support.Event
		old  before
	}{
		{"created", support.Event{Name: support.EventCreated, DeliveryID: "d1", At: at, By: support.ByPerson, Escalation: e},
			before{Name: support.EventCreated, DeliveryID: "d1", At: at, By: support.ByPerson, Escalation: e}},
		{"replied", support.Event{Name: support.EventReplied, DeliveryID: "d2", At: at, By: "alex", Escalation: e, Message: m},
			before{Name: support.EventReplied, DeliveryID: "d2", At: at, By: "alex", Escalation: e, Message: m}},
		{"empty escalation", support.Event{Name: support.EventResolved, DeliveryID: "d3", Escalation: support.Escalation{ID: "e2"}},
			before{Name: support.EventResolved, DeliveryID: "d3", Escalation: support.Escalation{ID: "e2"}}},
	} {
		got, err := json.Marshal(tc.now)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(tc.old)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s: body changed:\n got %s\nwant %s", tc.name, got, want)
		}
	}
}

// optIn is a target that is not a webhook but takes some listing events.
type optIn struct{ name string }

func (o optIn) Name() string                               { return o.name }
func (optIn) Deliver(context.Context, support.Event) error { return nil }
func (optIn) AcceptsListing(ev support.Event) bool         { return ev.Name != "listing.created" }

// plainTarget is neither a webhook nor opted in, like the support channel.
type plainTarget struct{}

func (plainTarget) Name() string                                 { return "slack:support" }
func (plainTarget) Deliver(context.Context, support.Event) error { return nil }

// TestListingDeliveries: a listing event goes to every webhook without an
// area restriction and to targets that opt in, keyed by the listing, each
// row with its own delivery id; escalation events are not listing events.
func TestListingDeliveries(t *testing.T) {
	hook, err := support.NewWebhook("https://helpdesk.example/hooks", []byte("k"), nil)
	if err != nil {
		t.Fatal(err)
	}
	devon := support.ForAreas(hook, []string{"devon"})
	targets := []support.Target{hook, devon, plainTarget{}, optIn{"slack:listings"}, support.RelayTarget(nil)}
	at := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	n := 0
	newID := func() string { n++; return "d" + string(rune('0'+n)) }
	ev := support.Event{Name: "listing.approved", At: at, By: "alex", Listing: json.RawMessage(`{"id":"l1"}`)}
	out := support.ListingDeliveries(targets, "l1", ev, newID)
	var got []string
	for _, d := range out {
		got = append(got, d.Target)
		if d.EscalationID != "listing:l1" || d.ID != d.Event.DeliveryID || d.Status != support.DeliveryPending ||
			!d.NextAttempt.Equal(at) || !d.CreatedAt.Equal(at) || string(d.Event.Listing) != `{"id":"l1"}` {
			t.Errorf("row %+v", d)
		}
	}
	if want := []string{hook.Name(), "slack:listings"}; !slices.Equal(got, want) {
		t.Errorf("listing.approved goes to %q; want %q", got, want)
	}
	if out[0].ID == out[1].ID {
		t.Error("two rows share a delivery id")
	}
	ev.Name = "listing.created"
	if out := support.ListingDeliveries(targets, "l1", ev, newID); len(out) != 1 || out[0].Target != hook.Name() {
		t.Errorf("listing.created, which the opted-in target refuses: %+v", out)
	}
	ev.Name = support.EventCreated
	if out := support.ListingDeliveries(targets, "l1", ev, newID); len(out) != 0 {
		t.Errorf("an escalation event made listing rows: %+v", out)
	}
	if !support.IsListingKey(support.ListingKey("l1")) || support.IsListingKey("0194-escalation") {
		t.Error("IsListingKey")
	}
}
