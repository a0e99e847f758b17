package slack

import (
	"context"
	"net/http"
	"testing"

	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/support"
)

// TestListingNoticesThroughTheOutbox: with listing notices carried by the
// outbox (ListingTarget, as askpa serve wires it), nothing is told until a
// dispatcher delivers; a submission then brings the moderation card and
// the PA's DM. An approval stored just before askpa was killed is told by
// the next process, once; and delivering its event again (a crash after
// delivering, before the delivery was recorded) tells nobody twice.
func TestListingNoticesThroughTheOutbox(t *testing.T) {
	s := newNetStackWith(t, true)
	ctx := context.Background()
	target := s.ch.ListingTarget()
	deliver := func() {
		t.Helper()
		disp, err := support.NewDispatcher(support.DispatcherConfig{Store: s.store, Targets: []support.Target{target}, Now: s.clock.now})
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			if n, err := disp.Pass(ctx); err != nil || n == 0 {
				break
			}
		}
		s.idle()
	}

	before := len(s.peer.sent())
	if status, body := s.submit(t, samsForm(), testSecret); status != http.StatusOK || body != "" {
		t.Fatalf("submission answered %d %q", status, body)
	}
	l := s.only(t)
	if dms := s.dms(before); len(dms) != 0 {
		t.Fatalf("%d DMs before any delivery", len(dms))
	}
	deliver()
	s.dmSaying(t, before, "has been sent for moderation")
	s.card(t, before)

	// Approved, and askpa is killed before it delivers anything.
	before = len(s.peer.sent())
	if status := s.staff(t, http.MethodPost, "/api/v1/listings/"+l.ID+"/approve", nil); status != http.StatusOK {
		t.Fatalf("approve: %d", status)
	}
	s.idle()
	if dms := s.dms(before); len(dms) != 0 {
		t.Fatalf("%d DMs before the approval was delivered", len(dms))
	}
	deliver() // the next process
	s.dmSaying(t, before, "is approved")
	if dms := s.dms(before); len(dms) != 1 {
		t.Errorf("%d DMs after the approval; want 1", len(dms))
	}

	// The approval's event delivered a second time tells nobody again.
	ds, err := s.store.Deliveries(ctx, support.ListingKey(l.ID))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range ds {
		names = append(names, d.Event.Name)
		if d.Status != support.DeliveryDelivered || d.Target != ListingTargetName {
			t.Errorf("outbox row %s (%s): %s to %s", d.ID, d.Event.Name, d.Status, d.Target)
		}
	}
	// The draft's creation is nothing to tell: no row for it.
	if len(ds) != 2 || names[0] != directory.EventSubmitted || names[1] != directory.EventApproved {
		t.Fatalf("outbox rows %q; want the submission and the approval", names)
	}
	if err := target.Deliver(ctx, ds[1].Event); err != nil {
		t.Fatal(err)
	}
	s.idle()
	if dms := s.dms(before); len(dms) != 1 {
		t.Errorf("%d DMs after the approval was delivered twice; want 1", len(dms))
	}
}
