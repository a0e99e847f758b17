package slack

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/support"
)

// TestBreakInButtonsNamingOthers (issue 10): a Slack user of the
// workspace who is not staff presses, in their own DM with the app,
// buttons whose values name someone else's objects: Approve on a listing
// waiting for moderation, Pause, Withdraw and Renew on another PA's
// listing, Accept and Decline on an introduction to another PA, Claim on
// an escalation. Each is refused or ignored, changes nothing, and tells
// them none of the other people's contact details.
func TestBreakInButtonsNamingOthers(t *testing.T) {
	s := newNetStack(t)
	ctx := context.Background()
	const mallory = "UMAL0001"
	own := posted{Method: "chat.postMessage", Channel: "D" + mallory, TS: "1700000000.000100"}
	press := func(value string) {
		t.Helper()
		p := buttonPress(mallory, own, value, "")
		p["trigger_id"] = "trig-mallory-" + value
		if status := s.interaction(t, p); status != http.StatusOK {
			t.Fatalf("pressing %s: %d", value, status)
		}
		s.idle()
	}

	// Approve outside the support channel.
	if status, body := s.submit(t, samsForm(), testSecret); status != http.StatusOK || body != "" {
		t.Fatalf("submission answered %d %q", status, body)
	}
	pending := s.only(t)
	press(moderateApprovePrefix + pending.ID)
	if got := s.only(t); got.Status != directory.StatusPending {
		t.Errorf("Approve pressed in a DM by someone who is not staff: the listing is %s", got.Status)
	}
	if status := s.staff(t, http.MethodPost, "/api/v1/listings/"+pending.ID+"/approve", nil); status != http.StatusOK {
		t.Fatalf("approve: %d", status)
	}
	s.idle()
	l := s.only(t)

	// The owner's buttons, pressed by someone else.
	before := len(s.peer.sent())
	for _, move := range []string{movePause, moveWithdraw, moveRenew} {
		press(listingActionPrefix + move + ":" + l.ID)
	}
	if got := s.only(t); got.Status != directory.StatusApproved || !got.ExpiresAt.Equal(l.ExpiresAt) || got.UpdatedAt != l.UpdatedAt {
		t.Errorf("another PA's buttons moved Sam's listing: %s, expires %v (was %v)", got.Status, got.ExpiresAt, l.ExpiresAt)
	}

	// An introduction to Sam, answered by someone else.
	in, err := s.net.RequestIntroduction(ctx, l.ID, "telegram:4242", "My dad needs help on Tuesdays.", directory.Contact{Phone: "07700 900888", Note: "after 6pm"})
	if err != nil {
		t.Fatal(err)
	}
	s.idle()
	press(introAcceptPrefix + in.ID)
	press(introDeclinePrefix + in.ID)
	if got, err := s.net.Introduction(ctx, in.ID); err != nil || got.Status != directory.IntroRequested {
		t.Errorf("Accept/Decline by someone else: the introduction is %s, %v", got.Status, err)
	}

	// Claim on an escalation, outside the support channel.
	desk, err := support.NewDesk(support.Config{Store: s.store})
	if err != nil {
		t.Fatal(err)
	}
	s.ch.SetDesk(desk)
	e, err := desk.Escalate(ctx, support.NewEscalation{ConversationID: "c-U1", Address: support.Address{Channel: "slack", UserID: "UVICTIM1", ChatID: "DUVICTIM1"},
		Audience: "pa", Reason: "safeguarding", Messages: []support.Message{{From: support.FromUser, Text: "my employer hits me"}}})
	if err != nil {
		t.Fatal(err)
	}
	press(claimPrefix + e.ID)
	if got, err := desk.Get(ctx, e.ID); err != nil || got.Status != support.StatusOpen || got.ClaimedBy != "" {
		t.Errorf("Claim pressed in a DM: %s by %q, %v", got.Status, got.ClaimedBy, err)
	}

	told := map[string]int{}
	for _, p := range s.peer.sentSince(before) {
		if p.Channel == own.Channel {
			for _, m := range []string{msgNotYourListing, msgIntroNotFound} {
				if strings.Contains(p.Text+p.sectionText(), m) {
					told[m]++
				}
			}
		}
		all := p.Text + " " + p.sectionText() + fmt.Sprint(p.Blocks)
		for _, secret := range []string{samPhone, "07700 900888", "07700900888", "after 6pm", "Text first please", "my employer hits me"} {
			if strings.Contains(all, secret) && p.Channel != paDM {
				t.Errorf("%s to %s (%s) shows %q", p.Method, p.Channel, p.User, secret)
			}
		}
	}
	if told[msgNotYourListing] != 3 || told[msgIntroNotFound] != 2 {
		t.Errorf("the presses were not all refused in the presser's DM: %v", told)
	}
}
