package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/support"
)

// walkPeople is the part of TestAPIAgainstOpenAPI that walks a person's
// rights: the export (any staff) and erasure (staff who may act), with the
// errors a client relies on.
func walkPeople(t *testing.T, c *checker, api *testAPI) {
	ctx := context.Background()
	now := time.Now().UTC()
	// Pat, a Telegram user, has a conversation and an escalation; Quinn,
	// a web user, a mailbox message.
	conv, err := api.store.Conversation(ctx, bot.Address{Channel: "telegram", UserID: "pat", ChatID: "pat"}, "employer", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := api.store.AppendTurn(ctx, conv.ID, bot.Turn{From: bot.FromUser, Text: "pat secret: my PA takes money", At: now}); err != nil {
		t.Fatal(err)
	}
	e, err := api.desk.Escalate(ctx, support.NewEscalation{ConversationID: conv.ID, Address: support.Address{Channel: "telegram", UserID: "pat", ChatID: "pat"},
		Reason: "safeguarding", Priority: support.PriorityUrgent, Summary: "pat secret", Messages: []support.Message{{From: "user", Text: "pat secret: my PA takes money"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.store.Post(ctx, "web-quinn", bot.MailMessage{From: bot.FromStaff, Text: "quinn secret", At: now}); err != nil {
		t.Fatal(err)
	}

	exp := "/api/v1/people/export?channel=telegram&user=pat"
	c.do(req{name: "export by a reader", method: "GET", path: exp, token: readerToken, status: 200, check: func(t *testing.T, b []byte) {
		x := decodeInto[bot.Export](t, b)
		if x.Channel != "telegram" || x.User != "pat" || len(x.Conversations) != 1 || len(x.Conversations[0].Turns) != 1 ||
			len(x.Escalations) != 1 || x.Escalations[0].ID != e.ID || !strings.Contains(string(b), "pat secret: my PA takes money") {
			t.Errorf("export: %s", b)
		}
	}})
	c.do(req{name: "export of a web user", method: "GET", path: "/api/v1/people/export?channel=web&user=web-quinn", token: alexToken, status: 200, check: func(t *testing.T, b []byte) {
		if x := decodeInto[bot.Export](t, b); len(x.Mailbox) != 1 || x.Mailbox[0].Text != "quinn secret" {
			t.Errorf("export of quinn: %s", b)
		}
	}})
	c.do(req{name: "export without a token", method: "GET", path: exp, status: 401})
	c.do(req{name: "export of someone unknown", method: "GET", path: "/api/v1/people/export?channel=slack&user=U404", token: alexToken, status: 404})
	c.do(req{name: "export without a user", method: "GET", path: "/api/v1/people/export?channel=telegram", token: alexToken, status: 400, invalid: true, field: "user"})
	c.do(req{name: "export on an unknown channel", method: "GET", path: "/api/v1/people/export?channel=fax&user=pat", token: alexToken, status: 400, invalid: true, field: "channel"})

	body := `{"channel":"telegram","user":"pat"}`
	c.do(req{name: "forget by a reader", method: "POST", path: "/api/v1/people/forget", token: readerToken, body: body, status: 403})
	c.do(req{name: "forget without a token", method: "POST", path: "/api/v1/people/forget", body: body, status: 401})
	c.do(req{name: "forget", method: "POST", path: "/api/v1/people/forget", token: alexToken, body: body, status: 200, check: func(t *testing.T, b []byte) {
		er := decodeInto[bot.Erasure](t, b)
		if er.Conversations != 1 || er.Messages != 1 || er.Escalations != 1 || er.Withdrawn != 1 || er.Erasure.Messages != 1 {
			t.Errorf("forget answered %s", b)
		}
	}})
	got, err := api.desk.Get(ctx, e.ID)
	if err != nil || got.Status != support.StatusResolved || got.Messages[0].Text != support.ErasedText {
		t.Errorf("escalation after erasure: %+v, %v", got, err)
	}
	c.do(req{name: "export after erasure", method: "GET", path: exp, token: readerToken, status: 200, check: func(t *testing.T, b []byte) {
		x := decodeInto[bot.Export](t, b)
		if len(x.Conversations) != 0 || len(x.Escalations) != 1 || strings.Contains(string(b), "pat secret") {
			t.Errorf("export after erasure: %s", b)
		}
	}})
	c.do(req{name: "forget again", method: "POST", path: "/api/v1/people/forget", token: alexToken, body: body, status: 200, check: func(t *testing.T, b []byte) {
		if er := decodeInto[bot.Erasure](t, b); er.Escalations != 1 || er.Messages != 0 || er.Withdrawn != 0 || er.Erasure.Messages != 0 {
			t.Errorf("a second erasure answered %s; want nothing more erased", b)
		}
	}})
	c.do(req{name: "forget someone unknown", method: "POST", path: "/api/v1/people/forget", token: alexToken, body: `{"channel":"slack","user":"U404"}`, status: 404})
	c.do(req{name: "forget without a user", method: "POST", path: "/api/v1/people/forget", token: alexToken, body: `{"channel":"web","user":""}`, status: 400, invalid: true, field: "user"})
	c.do(req{name: "forget with an unknown field", method: "POST", path: "/api/v1/people/forget", token: alexToken, body: `{"channel":"web","user":"x","name":"Q"}`, status: 400, invalid: true, field: "name"})
}

// TestPeopleUnavailable checks the answer when no People is configured.
func TestPeopleUnavailable(t *testing.T) {
	api := newTestAPI(t, func(c *Config) { c.People = nil })
	for _, r := range []*http.Request{
		httptest.NewRequest("POST", "/api/v1/people/forget", strings.NewReader(`{"channel":"web","user":"x"}`)),
		httptest.NewRequest("GET", "/api/v1/people/export?channel=web&user=x", nil),
	} {
		r.Header.Set("Authorization", "Bearer "+alexToken)
		rec := httptest.NewRecorder()
		api.h.ServeHTTP(rec, r)
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s %s without People: %d %s", r.Method, r.URL, rec.Code, rec.Body)
		}
	}
}
