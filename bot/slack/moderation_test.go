package slack

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/directory"
)

const moderator = "USTAFF9"

// card returns the one listing card posted in the support channel after
// the first n posts.
func (s *netStack) card(t *testing.T, n int) posted {
	t.Helper()
	var cards []posted
	for _, p := range s.peer.sentSince(n) {
		if p.Channel == supportChannel && p.Method == "chat.postMessage" && p.Thread == "" {
			cards = append(cards, p)
		}
	}
	if len(cards) != 1 {
		t.Fatalf("%d listing cards posted in the support channel, want 1", len(cards))
	}
	return cards[0]
}

// threadSaying returns the post in the support channel's thread ts whose
// text has want, after the first n posts.
func (s *netStack) threadSaying(t *testing.T, n int, ts, method, want string) posted {
	t.Helper()
	var seen []string
	for _, p := range s.peer.sentSince(n) {
		if p.Channel == supportChannel && p.Thread == ts && p.Method == method {
			if strings.Contains(p.Text, want) {
				return p
			}
			seen = append(seen, p.Text)
		}
	}
	t.Fatalf("no %s in the card's thread says %q; seen %q", method, want, seen)
	return posted{}
}

// rejectSubmission is the view_submission of the reject modal opened as v.
func rejectSubmission(v openedView, reason string) map[string]any {
	return map[string]any{
		"type": "view_submission", "trigger_id": "trig-reject-" + reason,
		"team": map[string]any{"id": testTeam}, "user": map[string]any{"id": moderator, "team_id": testTeam},
		"view": map[string]any{"id": "VREJ1", "hash": "h-" + reason, "type": "modal", "callback_id": rejectCallback,
			"private_metadata": v.View["private_metadata"], "team_id": testTeam,
			"state": map[string]any{"values": map[string]any{rejectBlock: map[string]any{rejectInput: map[string]any{"type": "plain_text_input", "value": reason}}}}},
	}
}

// TestListingModerationInTheSupportChannel: a listing sent for moderation
// appears in the support channel with Approve and Reject and without its
// contact details; Reject asks for a reason (none is refused at once) and
// the PA is told it; the listing sent again gets a new card, and Approve
// publishes it; pressing Approve again, or a forged press, changes nothing.
func TestListingModerationInTheSupportChannel(t *testing.T) {
	s := newNetStack(t)
	before := len(s.peer.sent())
	s.submit(t, samsForm(), testSecret)
	l := s.only(t)
	card := s.card(t, before)
	if !slices.Equal(card.buttons(), []string{moderateApprovePrefix + l.ID, moderateRejectPrefix + l.ID}) {
		t.Fatalf("the card's buttons are %v", card.buttons())
	}
	if text := card.sectionText(); !strings.Contains(text, "Sam T.") || !strings.Contains(text, "dementia") || strings.Contains(text, samPhone) || strings.Contains(text, "Text first") {
		t.Errorf("the card says %q; want the public listing and no contact details", text)
	}

	// Reject: a modal asks why; an empty reason is refused at once.
	views := len(s.peer.openedViews())
	if status := s.interaction(t, buttonPress(moderator, card, moderateRejectPrefix+l.ID, "")); status != http.StatusOK {
		t.Fatalf("pressing Reject answered %d", status)
	}
	opened := s.peer.openedViews()
	if len(opened) != views+1 || opened[views].View["callback_id"] != rejectCallback {
		t.Fatalf("pressing Reject opened %v", opened[views:])
	}
	modal := opened[views]
	if status, body := s.postInteraction(t, rejectSubmission(modal, "  "), testSecret); status != http.StatusOK || !strings.Contains(body, `"response_action":"errors"`) {
		t.Fatalf("an empty reason answered %d %q; want the field's error", status, body)
	}
	if got := s.only(t); got.Status != directory.StatusPending {
		t.Fatalf("after an empty reason the listing is %s", got.Status)
	}
	if status, _ := s.postInteraction(t, rejectSubmission(modal, "Please describe your experience in your own words"), "forged"); status != http.StatusUnauthorized {
		t.Errorf("a forged reason answered %d", status)
	}
	reason := "Please say which towns near Exeter you cover"
	if status, body := s.postInteraction(t, rejectSubmission(modal, reason), testSecret); status != http.StatusOK || body != "" {
		t.Fatalf("the reason answered %d %q", status, body)
	}
	s.idle()
	if got := s.only(t); got.Status != directory.StatusRejected || got.Reason != reason {
		t.Fatalf("after Reject the listing is %s with reason %q", got.Status, got.Reason)
	}
	s.threadSaying(t, before, card.TS, "chat.postMessage", "Rejected by")
	if dm := s.dmSaying(t, before, "was not approved"); !strings.Contains(dm.sectionText(), reason) {
		t.Errorf("the PA was not told the reason: %q", dm.sectionText())
	}

	// Sent again: a new card; Approve publishes it.
	fixed := samsForm()
	fixed.trigger, fixed.text["areas"] = "trig-submit-2", "EX4, Exeter, Crediton"
	before = len(s.peer.sent())
	s.submit(t, fixed, testSecret)
	again := s.card(t, before)
	if status := s.interaction(t, buttonPress(moderator, again, moderateApprovePrefix+l.ID, "")); status != http.StatusOK {
		t.Fatalf("pressing Approve answered %d", status)
	}
	s.idle()
	if got := s.only(t); got.Status != directory.StatusApproved {
		t.Fatalf("after Approve the listing is %s", got.Status)
	}
	s.threadSaying(t, before, again.TS, "chat.postMessage", "Approved by")
	s.dmSaying(t, before, "is approved")

	// Approve again (a colleague, a second later): told, nothing changes.
	before = len(s.peer.sent())
	press := buttonPress(moderator, again, moderateApprovePrefix+l.ID, "")
	press["trigger_id"] = "trig-second-approve"
	s.interaction(t, press)
	s.idle()
	s.threadSaying(t, before, again.TS, "chat.postEphemeral", "no longer waiting")
}

// postInteraction posts an interaction payload signed with secret and
// returns the status and body of the answer.
func (s *netStack) postInteraction(t *testing.T, payload map[string]any, secret string) (int, string) {
	t.Helper()
	js, _ := json.Marshal(payload)
	status, body := s.post(t, PathInteractions, "application/x-www-form-urlencoded", url.Values{"payload": {string(js)}}.Encode(), secret, time.Now())
	s.idle()
	return status, body
}
