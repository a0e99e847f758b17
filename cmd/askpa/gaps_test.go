package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/insights"
	"github.com/askpa/askpa/sqlite"
)

// gapsCmd runs askpa gaps with args against the data directory dir.
func gapsCmd(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"gaps"}, args...), strings.NewReader(""), &out, &errOut,
		func(k string) string { return map[string]string{"ASKPA_DATA_DIR": dir}[k] })
	return out.String(), err
}

// TestGapsCommand checks askpa gaps against a store written as askpa
// serve writes it: the unanswered pension questions and the answer
// marked "Not helpful" are grouped and counted, as text and as JSON,
// with no personal detail shown (one row holds a name, a postcode and a
// phone number, as a row written before they were redacted would);
// --since narrows the period; bad flags are usage errors; and a data
// directory without a database is an error, not a new empty database.
func TestGapsCommand(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "askpa.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, e := range []bot.QuestionEvent{
		{ConversationID: "c1", At: now.Add(-20 * 24 * time.Hour), Audience: "employer", Outcome: bot.OutcomeUnanswered, Reason: bot.ReasonLowConfidence,
			PassageID: "pensions#opting-out", Text: "my name is Agata Kowalska, can my PA opt out of the workplace pension? EX4 1AA, 07700 900123"},
		{ConversationID: "c2", At: now.Add(-2 * 24 * time.Hour), Audience: "pa", Outcome: bot.OutcomeUnanswered, Reason: bot.ReasonLowConfidence,
			PassageID: "pensions#opting-out", Text: "can I opt out of the workplace pension"},
		{ConversationID: "c3", At: now.Add(-24 * time.Hour), Audience: "employer", Outcome: bot.OutcomeAnswered,
			PassageID: "holiday#bank-holidays", Text: "are bank holidays on top of holiday pay"},
		{ConversationID: "c4", At: now.Add(-time.Hour), Audience: "employer", Outcome: bot.OutcomeSmallTalk},
	} {
		if err := store.RecordQuestion(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.RecordFeedback(ctx, bot.Feedback{ConversationID: "c3", PassageID: "holiday#bank-holidays", At: now.Add(-24*time.Hour + time.Minute)}); err != nil {
		t.Fatal(err)
	}
	store.Close()

	out, err := gapsCmd(t, dir)
	if err != nil {
		t.Fatalf("askpa gaps: %v", err)
	}
	for _, want := range []string{
		"Gap report:", "Week of", "Total",
		"Gaps: 3 questions in 2 groups",
		" 1. 2 questions (2 not answered): ", "pension",
		`"can I opt out of the workplace pension"`,
		`"my name is [name], can my PA opt out of the workplace pension? [postcode], [phone number]"`,
		"passages shown: pensions#opting-out (2)",
		" 2. 1 question (1 marked not helpful)", `"are bank holidays on top of holiday pay"`, "holiday#bank-holidays (1)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("askpa gaps lacks %q:\n%s", want, out)
		}
	}
	for _, d := range []string{"Agata", "Kowalska", "EX4 1AA", "07700"} {
		if strings.Contains(out, d) {
			t.Errorf("askpa gaps shows %q:\n%s", d, out)
		}
	}

	out, err = gapsCmd(t, dir, "--json", "--since", "7d")
	if err != nil {
		t.Fatalf("askpa gaps --json --since 7d: %v", err)
	}
	var rep insights.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("askpa gaps --json printed no report: %v\n%s", err, out)
	}
	if rep.Gaps != 2 || len(rep.Clusters) != 2 || rep.Totals.Questions != 2 || rep.Totals.SmallTalk != 1 || rep.Totals.NotHelpful != 1 ||
		rep.To.Sub(rep.From).Round(time.Hour) != 7*24*time.Hour {
		t.Errorf("the last 7 days as JSON: %s", out)
	}
	if strings.Contains(out, "Agata") {
		t.Errorf("the JSON report shows a name: %s", out)
	}

	var ue usageError
	for _, args := range [][]string{{"--since", "fortnight"}, {"--limit", "0"}, {"extra"}} {
		if _, err := gapsCmd(t, dir, args...); !errors.As(err, &ue) {
			t.Errorf("askpa gaps %v: %v, want a usage error", args, err)
		}
	}
	empty := t.TempDir()
	if _, err := gapsCmd(t, empty); err == nil || !strings.Contains(err.Error(), "no askpa database") {
		t.Errorf("askpa gaps without a database: %v", err)
	}
	if matches, _ := filepath.Glob(filepath.Join(empty, "*")); len(matches) != 0 {
		t.Errorf("askpa gaps made %v where there was no database", matches)
	}
}
