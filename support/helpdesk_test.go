package support_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/askpa/askpa/sqlite"
	"github.com/askpa/askpa/support"
)

// relayRecorder is a support.Relay that records the replies it is asked
// to deliver to the person.
type relayRecorder struct {
	mu      sync.Mutex
	replies []support.Message
}

func (r *relayRecorder) DeliverReply(_ context.Context, _ support.Escalation, m support.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.replies = append(r.replies, m)
	return nil
}

func (r *relayRecorder) StatusChanged(context.Context, support.Escalation) error { return nil }

// TestHelpdeskReplyOnClaimedEscalation checks that a helpdesk's reply to
// an escalation a member of staff has claimed in askpa is accepted,
// attributed to the helpdesk's author, recorded in the audit trail and
// delivered to the person, and leaves the claim where it was; that a
// retried delivery is applied once; that staff acting through the API on
// someone else's claim still get ErrConflict; that an open escalation is
// claimed by the helpdesk's author; and that a resolved escalation
// refuses the helpdesk too.
func TestHelpdeskReplyOnClaimedEscalation(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "helpdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	relay := &relayRecorder{}
	desk, err := support.NewDesk(support.Config{Store: store, Relay: relay, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	disp, err := support.NewDispatcher(support.DispatcherConfig{Store: store, Targets: desk.Targets(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	e, err := desk.Escalate(ctx, support.NewEscalation{ConversationID: "c-1", Address: support.Address{Channel: "telegram", UserID: "41", ChatID: "41"},
		Audience: "employer", Reason: "requested", Messages: []support.Message{{From: support.FromUser, Text: "A person, please."}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := desk.Claim(ctx, e.ID, "alex"); err != nil {
		t.Fatal(err)
	}

	got, err := desk.HelpdeskReply(ctx, "hd-7", e.ID, "Jo", "We will ring you at 3pm.")
	if err != nil {
		t.Fatalf("a helpdesk reply to alex's claim: %v, want it accepted", err)
	}
	if got.Status != support.StatusClaimed || got.ClaimedBy != "alex" {
		t.Errorf("after the helpdesk reply the escalation is %s by %q, want still claimed by alex", got.Status, got.ClaimedBy)
	}
	m := got.Messages[len(got.Messages)-1]
	if m.From != support.FromStaff || m.Author != "Jo" || m.Via != support.ViaHelpdesk || m.Text != "We will ring you at 3pm." || m.Delivery != support.DeliveryPending {
		t.Errorf("the helpdesk's message: %+v", m)
	}
	last := got.Audit[len(got.Audit)-1]
	if last.Who != "Jo" || !strings.Contains(last.What, "through the helpdesk") || !strings.Contains(last.What, "alex holds the claim") {
		t.Errorf("audit entry %+v, want Jo replying through the helpdesk while alex holds the claim", last)
	}
	if _, err := desk.HelpdeskReply(ctx, "hd-7", e.ID, "Jo", "We will ring you at 3pm."); !errors.Is(err, support.ErrDuplicate) {
		t.Errorf("the same delivery again: %v, want ErrDuplicate", err)
	}
	if _, err := desk.Reply(ctx, e.ID, "sam", "I can help too."); !errors.Is(err, support.ErrConflict) {
		t.Errorf("sam replying through the API to alex's claim: %v, want ErrConflict", err)
	}
	for range 5 {
		if _, err := disp.Pass(ctx); err != nil {
			t.Fatal(err)
		}
	}
	relay.mu.Lock()
	sent := append([]support.Message(nil), relay.replies...)
	relay.mu.Unlock()
	if len(sent) != 1 || sent[0].Author != "Jo" || sent[0].Text != "We will ring you at 3pm." {
		t.Errorf("the person was sent %+v, want Jo's reply once", sent)
	}
	after, err := desk.Get(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := after.Messages[m.Seq-1].Delivery; d != support.DeliveryDelivered {
		t.Errorf("the helpdesk reply's delivery is %q, want delivered", d)
	}

	// An open escalation is claimed by the helpdesk's author, as before.
	open, err := desk.Escalate(ctx, support.NewEscalation{ConversationID: "c-2", Address: support.Address{Channel: "web", UserID: "w2", ChatID: "w2"}, Reason: "requested"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := desk.HelpdeskReply(ctx, "hd-8", open.ID, "Jo", "Hello from the helpdesk."); err != nil || got.ClaimedBy != "Jo" || got.Status != support.StatusClaimed {
		t.Errorf("a helpdesk reply to an open escalation: %s by %q, %v; want claimed by Jo", got.Status, got.ClaimedBy, err)
	}
	if _, err := desk.Resolve(ctx, e.ID, "alex"); err != nil {
		t.Fatal(err)
	}
	if _, err := desk.HelpdeskReply(ctx, "hd-9", e.ID, "Jo", "One more thing."); !errors.Is(err, support.ErrResolved) {
		t.Errorf("a helpdesk reply to a resolved escalation: %v, want ErrResolved", err)
	}
}
