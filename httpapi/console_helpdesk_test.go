package httpapi

import (
	"context"
	"html"
	"strings"
	"testing"

	"github.com/askpa/askpa/support"
)

// TestConsoleShowsHelpdeskReply checks that a helpdesk's reply to an
// escalation alex claimed in askpa shows on its page, attributed to the
// helpdesk's author, with the audit entry, while alex keeps the claim; and
// that it reaches the web user like any reply.
func TestConsoleShowsHelpdeskReply(t *testing.T) {
	r := newConsoleRig(t, nil)
	ctx := context.Background()
	web := webSession(t, r.h)
	rec := callJSON(t, r.h, "POST", "/v1/messages", web.Token, `{"text":"Can a person call me about my PA's contract?"}`)
	var out messageOut
	decodeJSON(t, rec, &out)
	if out.EscalationID == "" {
		t.Fatalf("the web message made no escalation: %s", rec.Body)
	}
	id := out.EscalationID
	if _, err := r.desk.Claim(ctx, id, "alex"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.HelpdeskReply(ctx, "hd-console-1", id, "Jo", "Jo here from the helpdesk: I will ring you at 3pm."); err != nil {
		t.Fatalf("the helpdesk reply to alex's claim: %v", err)
	}
	r.deliver()

	v := r.visitor()
	v.mustSignIn(alexToken)
	_, page := v.get("/console/escalations/" + id)
	page = html.UnescapeString(page)
	for _, want := range []string{
		"Jo (staff, through the helpdesk)",
		"Jo here from the helpdesk: I will ring you at 3pm.",
		"replied through the helpdesk (message",
		"while alex holds the claim",
		"Claimed, by you",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the escalation page lacks %q", want)
		}
	}
	if !strings.Contains(webMail(t, r.h, web.Token), "I will ring you at 3pm.") {
		t.Errorf("the web user did not get the helpdesk's reply: %s", webMail(t, r.h, web.Token))
	}
	e, _ := r.desk.Get(ctx, id)
	if e.ClaimedBy != "alex" || e.Status != support.StatusClaimed {
		t.Errorf("after the helpdesk reply the escalation is %s by %q", e.Status, e.ClaimedBy)
	}
}
