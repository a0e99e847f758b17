package httpapi

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/support"
)

// walkNotesAndHelpdesk is the part of TestAPIAgainstOpenAPI for internal
// notes (POST /api/v1/escalations/{id}/notes) and for helpdesk replies to
// an escalation a member of staff has claimed in askpa: the helpdesk's
// reply is accepted and attributed to its author, the claim stays, and
// staff replying through the API on a colleague's claim still get 409.
func walkNotesAndHelpdesk(t *testing.T, c *checker, api *testAPI) {
	ctx := context.Background()
	e, err := api.desk.Escalate(ctx, support.NewEscalation{ConversationID: "c-notes", Address: support.Address{Channel: "web", UserID: "web-notes", ChatID: "web-notes"},
		Audience: "employer", Reason: "requested", Summary: "notes", Messages: []support.Message{{From: support.FromUser, Text: "Can someone ring me?"}}})
	if err != nil {
		t.Fatal(err)
	}
	notes := "/api/v1/escalations/" + e.ID + "/notes"
	c.do(req{name: "note", method: "POST", path: notes, token: samToken, body: `{"text":"Rang back, no answer."}`, status: 201, check: func(t *testing.T, b []byte) {
		got := decodeInto[support.Escalation](t, b)
		last := got.Audit[len(got.Audit)-1]
		if last.Who != "sam" || last.What != support.NoteAction || last.Note != "Rang back, no answer." || got.Status != support.StatusOpen {
			t.Errorf("after a note the escalation is %s with last audit entry %+v", got.Status, last)
		}
	}})
	c.do(req{name: "empty note", method: "POST", path: notes, token: samToken, body: `{"text":"  "}`, status: 400, field: "text"})
	c.do(req{name: "note with an unknown field", method: "POST", path: notes, token: samToken, body: `{"note":"x"}`, status: 400, invalid: true, field: "note"})
	c.do(req{name: "note by a reader", method: "POST", path: notes, token: readerToken, body: `{"text":"x"}`, status: 403})
	c.do(req{name: "note without a token", method: "POST", path: notes, body: `{"text":"x"}`, status: 401})
	c.do(req{name: "note on an unknown escalation", method: "POST", path: "/api/v1/escalations/nope/notes", token: samToken, body: `{"text":"x"}`, status: 404})

	// alex claims it; a helpdesk replies all the same; sam cannot.
	c.do(req{name: "alex claims for the helpdesk test", method: "POST", path: "/api/v1/escalations/" + e.ID + "/claim", token: alexToken, status: 200})
	body := fmt.Sprintf(`{"escalation_id":%q,"text":"This is Jo at the helpdesk: we will ring at 3pm.","author":"Jo","delivery_id":"hd-claimed-1"}`, e.ID)
	c.do(req{name: "helpdesk reply to a claimed escalation", method: "POST", path: "/webhooks/support", body: body, header: signed(helpdeskKey, body, time.Now()), status: 200,
		check: func(t *testing.T, b []byte) {
			if !strings.Contains(string(b), `"accepted"`) || !strings.Contains(string(b), `"via":"helpdesk"`) {
				t.Errorf("the helpdesk's reply to alex's claim: %s", b)
			}
		}})
	got, err := api.desk.Get(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	m := got.Messages[len(got.Messages)-1]
	if got.ClaimedBy != "alex" || m.Author != "Jo" || m.Via != support.ViaHelpdesk || !strings.Contains(got.Audit[len(got.Audit)-1].What, "through the helpdesk") {
		t.Errorf("after the helpdesk reply: claimed by %q, last message %+v, last audit entry %+v", got.ClaimedBy, m, got.Audit[len(got.Audit)-1])
	}
	c.do(req{name: "sam replies to alex's claim", method: "POST", path: "/api/v1/escalations/" + e.ID + "/replies", token: samToken, body: `{"text":"Hi"}`, status: 409})
	c.do(req{name: "sam notes on alex's claim", method: "POST", path: notes, token: samToken, body: `{"text":"Jo from the helpdesk has it in hand."}`, status: 201})
}
