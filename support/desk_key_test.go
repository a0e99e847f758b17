package support_test

import (
	"context"
	"testing"

	"github.com/askpa/askpa/support"
)

// TestEscalateWithKeyIsIdempotent checks that a message handled twice (a
// delivery worked again after a crash) hands over once: the second call
// with the same key returns the first escalation and tells no one again.
func TestEscalateWithKeyIsIdempotent(t *testing.T) {
	r := newLabelRig(t, nil)
	ctx := context.Background()
	n := support.NewEscalation{
		ConversationID: "conv-1", Address: support.Address{Channel: "telegram", UserID: "42", ChatID: "42"},
		Reason: "requested", Priority: support.PriorityNormal, Summary: "Asked to talk to a person",
		Key: "telegram:42/100173/requested",
	}
	first, err := r.desk.Escalate(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	again, err := r.desk.Escalate(ctx, n)
	if err != nil || again.ID != first.ID {
		t.Fatalf("the same key escalated again: %v then %v (%v)", first.ID, again.ID, err)
	}
	deliveries, err := r.store.Deliveries(ctx, first.ID)
	if err != nil || len(deliveries) != 1 {
		t.Fatalf("%d outbox rows (%v); want the one escalation.created", len(deliveries), err)
	}
	n.Key = "telegram:42/100174/requested" // another message: another escalation
	if other, err := r.desk.Escalate(ctx, n); err != nil || other.ID == first.ID {
		t.Fatalf("a different key returned %v (%v); want a new escalation", other.ID, err)
	}
	list, err := r.store.List(ctx, support.ListQuery{Limit: 10})
	if err != nil || len(list) != 2 {
		t.Fatalf("%d escalations (%v); want 2", len(list), err)
	}
}
