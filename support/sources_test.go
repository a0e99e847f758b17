package support

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestMessageSources checks the sources of an escalation's messages: in
// the JSON of bot messages that have them and left out otherwise, allowed
// on bot messages only and in bounded number.
func TestMessageSources(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	e := Escalation{ID: "e1", Messages: []Message{
		{Seq: 1, From: FromUser, Text: "how much holiday?", At: at},
		{Seq: 2, From: FromBot, Text: "5.6 weeks", At: at, Sources: []Source{
			{ID: "holiday-entitlement", Title: "Holiday entitlement", URL: "https://askpa.example/guides/holiday-entitlement"},
			{ID: "bank-holidays", Title: "Bank holidays"},
		}},
	}}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Messages []map[string]json.RawMessage `json:"messages"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Messages[0]["sources"]; ok {
		t.Errorf("a message without sources has them in JSON: %s", b)
	}
	want := `[{"id":"holiday-entitlement","title":"Holiday entitlement","url":"https://askpa.example/guides/holiday-entitlement"},{"id":"bank-holidays","title":"Bank holidays"}]`
	if got := string(doc.Messages[1]["sources"]); got != want {
		t.Errorf("sources in JSON = %s, want %s", got, want)
	}
	var back Escalation
	if err := json.Unmarshal(b, &back); err != nil || len(back.Messages[1].Sources) != 2 || back.Messages[1].Sources[1] != e.Messages[1].Sources[1] {
		t.Errorf("read back: %+v, %v", back.Messages, err)
	}

	n := NewEscalation{Address: Address{Channel: "web", UserID: "u"}, Messages: []Message{{From: FromUser, Text: "x", Sources: []Source{{ID: "a", Title: "A"}}}}}
	if err := n.validate(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "messages[0].sources") {
		t.Errorf("sources on the person's message: %v, want invalid messages[0].sources", err)
	}
	n.Messages[0].From = FromBot
	if err := n.validate(); err != nil {
		t.Errorf("sources on a bot message: %v", err)
	}
	n.Messages[0].Sources = make([]Source, MaxSources+1)
	if err := n.validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("%d sources: %v, want invalid", MaxSources+1, err)
	}
}
