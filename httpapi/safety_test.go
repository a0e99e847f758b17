package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/askpa/askpa/bot/safety"
	"github.com/askpa/askpa/support"
)

func init() {
	openapi3filter.RegisterBodyDecoder(ndjson, ndjsonDecoder)
}

// ndjsonDecoder checks a JSON Lines body for the response validator: every
// line must end with a newline and match the schema, which describes one
// line. It returns the first line for the validator to check again; an
// empty body is refused, since no value of the schema stands for it.
func ndjsonDecoder(body io.Reader, _ http.Header, schema *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return nil, errors.New("a JSON Lines body must hold lines, each ended by a newline")
	}
	var first any
	for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		var v any
		if err := json.Unmarshal(line, &v); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		if err := schema.Value.VisitJSON(v, openapi3.VisitAsResponse(), openapi3.MultiErrors()); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		if i == 0 {
			first = v
		}
	}
	return first, nil
}

// walkSafetyLabels is the part of TestAPIAgainstOpenAPI that walks the
// safety labels: marking verdicts right and wrong, and the export. plainID
// is an escalation the safety layer did not start.
func walkSafetyLabels(t *testing.T, c *checker, api *testAPI, plainID string) {
	ctx := context.Background()
	// The Escalation schema has room for unknown properties, so the walk's
	// validation would not notice safety going undescribed.
	doc, _ := spec(t)
	if sa := doc.Components.Schemas["Escalation"].Value.Properties["safety"]; sa == nil || sa.Value.Properties["label"] == nil ||
		sa.Value.Properties["label"].Value.Properties["correct"] == nil {
		t.Error("openapi.json does not describe the Escalation's safety object and its label")
	}
	escalate := func(user, audience string, messages ...support.Message) string {
		t.Helper()
		e, err := api.desk.Escalate(ctx, support.NewEscalation{
			ConversationID: "c-" + user, Address: support.Address{Channel: "telegram", UserID: user, ChatID: user},
			Audience: audience, Reason: "safeguarding", Priority: support.PriorityUrgent, Messages: messages,
			Safety: &support.SafetyAssessment{Kind: "financial-abuse", Level: "urgent", Probability: 0.88, By: "model"},
		})
		if err != nil {
			t.Fatal(err)
		}
		return e.ID
	}
	user := func(text string) support.Message { return support.Message{From: support.FromUser, Text: text} }
	botSaid := support.Message{From: support.FromBot, Text: "That sounds worrying. I am passing this to a person now."}
	// Two messages from the person, the bot's answer and, below, a staff
	// reply: the export carries the person's two.
	money := escalate("s1", "employer", user("my PA has been taking money from my purse"), botSaid)
	if err := api.desk.AddPersonMessage(ctx, money, "she says it is for my shopping", time.Time{}); err != nil {
		t.Fatal(err)
	}
	// One message (and a blank one) from a PA: the export carries "text".
	pa := escalate("s2", "pa", user("my employer's son keeps my wages"), user("   "), botSaid)
	unlabelled := escalate("s3", "employer", user("my carer borrowed £50"), botSaid)
	silent := escalate("s4", "employer", botSaid)

	label := func(id string) string { return "/api/v1/escalations/" + id + "/safety-label" }
	right := `{"correct":true}`
	c.do(req{name: "label without a token", method: "POST", path: label(money), body: right, status: 401})
	c.do(req{name: "reader labels", method: "POST", path: label(money), token: readerToken, body: right, status: 403})
	c.do(req{name: "label an unknown id", method: "POST", path: label("nope"), token: alexToken, body: right, status: 404})
	c.do(req{name: "label a plain escalation", method: "POST", path: label(plainID), token: alexToken, body: right, status: 400, field: "safety"})
	for _, bad := range []struct {
		name, body, field string
		invalid           bool // outside the description as well
	}{
		{"wrong without a kind", `{"correct":false}`, "kind", false},
		{"wrong with an empty kind", `{"correct":false,"kind":"","note":"not sure"}`, "kind", false},
		{"unknown kind", `{"correct":false,"kind":"scary"}`, "kind", true},
		{"right with another kind", `{"correct":true,"kind":"ordinary"}`, "kind", false},
		{"wrong with the kind it saw", `{"correct":false,"kind":"financial-abuse"}`, "kind", false},
		{"no verdict", `{"kind":"ordinary"}`, "correct", true},
		{"verdict not a boolean", `{"correct":"yes"}`, "correct", true},
		{"unknown field", `{"correct":true,"colour":"red"}`, "colour", true},
		// 251 two-byte characters: within 500 characters, over 500 bytes.
		{"note too long", `{"correct":true,"note":"` + strings.Repeat("é", 251) + `"}`, "note", false},
		{"not JSON", `{"correct":`, "", true},
	} {
		c.do(req{name: bad.name, method: "POST", path: label(money), token: alexToken, body: bad.body, status: 400, field: bad.field, invalid: bad.invalid})
	}
	c.do(req{name: "staff reply", method: "POST", path: "/api/v1/escalations/" + money + "/replies", token: samToken, body: `{"text":"Can you tell me more?"}`, status: 201})
	lastAudit := func(e support.Escalation) string { a := e.Audit[len(e.Audit)-1]; return a.Who + " " + a.What }
	c.do(req{name: "mark right", method: "POST", path: label(money), token: alexToken, body: right, status: 200, check: func(t *testing.T, b []byte) {
		e := decodeInto[support.Escalation](t, b)
		if l := e.Safety.Label; l == nil || !l.Correct || l.Kind != "financial-abuse" || l.By != "alex" || lastAudit(e) != "alex safety verdict marked right" {
			t.Errorf("after marking right: label %+v, audit ends %q", l, lastAudit(e))
		}
		if e.Status != support.StatusClaimed || e.ClaimedBy != "sam" {
			t.Errorf("labelling moved the escalation to %s by %q", e.Status, e.ClaimedBy)
		}
	}})
	c.do(req{name: "mark wrong instead", method: "POST", path: label(money), token: samToken, body: `{"correct":false,"kind":"ordinary","note":"a pay question"}`, status: 200,
		check: func(t *testing.T, b []byte) {
			e := decodeInto[support.Escalation](t, b)
			want := support.SafetyLabel{Correct: false, Kind: "ordinary", By: "sam", At: e.Safety.Label.At, Note: "a pay question"}
			if *e.Safety.Label != want || lastAudit(e) != "sam safety verdict marked wrong: ordinary" {
				t.Errorf("after relabelling: label %+v, audit ends %q", *e.Safety.Label, lastAudit(e))
			}
		}})
	c.do(req{name: "resolve before labelling", method: "POST", path: "/api/v1/escalations/" + pa + "/resolve", token: alexToken, status: 200})
	c.do(req{name: "label a resolved escalation", method: "POST", path: label(pa), token: alexToken, body: `{"correct":true,"kind":"financial-abuse","note":""}`, status: 200,
		check: func(t *testing.T, b []byte) {
			if e := decodeInto[support.Escalation](t, b); e.Status != support.StatusResolved || e.Safety.Label == nil || !e.Safety.Label.Correct {
				t.Errorf("labelling a resolved escalation: %s, %+v", e.Status, e.Safety.Label)
			}
		}})
	c.do(req{name: "label one the person never wrote in", method: "POST", path: label(silent), token: alexToken, body: `{"correct":false,"kind":"requested"}`, status: 200})
	c.do(req{name: "labelled escalation", method: "GET", path: "/api/v1/escalations/" + money, token: readerToken, status: 200, check: func(t *testing.T, b []byte) {
		if !strings.Contains(string(b), `"label":{"correct":false,"kind":"ordinary","by":"sam"`) {
			t.Errorf("the escalation does not show its label: %s", b)
		}
	}})

	exports := "/api/v1/safety-labels"
	c.do(req{name: "export without a token", method: "GET", path: exports, status: 401})
	c.do(req{name: "export", method: "GET", path: exports, token: readerToken, status: 200, check: func(t *testing.T, b []byte) {
		want := []corpusLine{
			{ID: "staff-" + money, Turns: []string{"my PA has been taking money from my purse", "she says it is for my shopping"}, Label: "ordinary", Audience: "employer"},
			{ID: "staff-" + pa, Text: "my employer's son keeps my wages", Label: "financial-abuse", Audience: "pa"},
		}
		var got []corpusLine
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		for dec.More() {
			var l corpusLine
			if err := dec.Decode(&l); err != nil {
				t.Fatalf("export line: %v\n%s", err, b)
			}
			got = append(got, l)
		}
		if !slices.EqualFunc(got, want, func(a, b corpusLine) bool {
			return a.ID == b.ID && a.Text == b.Text && slices.Equal(a.Turns, b.Turns) && a.Label == b.Label && a.Voice == b.Voice && a.Audience == b.Audience
		}) {
			t.Errorf("export\n%+v\nwant\n%+v", got, want)
		}
		if strings.Contains(string(b), unlabelled) || strings.Contains(string(b), silent) {
			t.Errorf("the export holds an unlabelled escalation or one without the person's messages:\n%s", b)
		}
		if !bytes.Contains(b, []byte(`"voice":""`)) {
			t.Errorf("the export lacks the empty voice the corpus expects:\n%s", b)
		}
		// The safety layer's own reader takes the export as a corpus file.
		ex, err := safety.ReadCorpus(fstest.MapFS{"corpus/staff.jsonl": {Data: b}}, "corpus")
		if err != nil || len(ex) != 2 || ex[0].Label != safety.Ordinary || len(ex[0].Messages()) != 2 || ex[1].Audience != "pa" {
			t.Errorf("the safety corpus reader makes %+v, %v of the export", ex, err)
		}
	}})
}

// TestSafetyLabelExportEdges checks the export's answers with nothing
// labelled and with a store that fails before the first line.
func TestSafetyLabelExportEdges(t *testing.T) {
	_, router := spec(t)
	api := newTestAPI(t, nil)
	r := httptest.NewRequest("GET", "/api/v1/safety-labels", nil)
	r.Header.Set("Authorization", "Bearer "+alexToken)
	rec := httptest.NewRecorder()
	api.h.ServeHTTP(rec, r)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != ndjson || rec.Body.Len() != 0 {
		t.Errorf("nothing labelled: %d %q %q, want 200, %s and no lines", rec.Code, rec.Header().Get("Content-Type"), rec.Body, ndjson)
	}
	api.store.Close()
	c := &checker{t: t, h: api.h, router: router, seen: map[string]bool{}}
	c.do(req{name: "export from a closed store", method: "GET", path: "/api/v1/safety-labels", token: alexToken, status: 500})
}
