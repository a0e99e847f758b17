package httpapi

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/insights"
)

// seedGaps writes a question log to store: two unanswered questions about
// a PA's pension (one naming the person and giving a phone number and a
// postcode, as rows kept before those were redacted would), and an answer
// about bank holidays marked "Not helpful".
func seedGaps(t testing.TB, store interface {
	bot.QuestionLog
	bot.Store
}, now time.Time) {
	t.Helper()
	ctx := context.Background()
	for _, e := range []bot.QuestionEvent{
		{ConversationID: "g1", At: now.Add(-3 * 24 * time.Hour), Audience: "employer", Outcome: bot.OutcomeUnanswered, Reason: bot.ReasonLowConfidence,
			PassageID: "pensions#opting-out", Text: "my name is Agata Kowalska, can my PA opt out of the workplace pension? EX4 1AA, 07700 900123"},
		{ConversationID: "g2", At: now.Add(-2 * 24 * time.Hour), Audience: "pa", Outcome: bot.OutcomeUnanswered, Reason: bot.ReasonLowConfidence,
			PassageID: "pensions#opting-out", Text: "can I opt out of the workplace pension"},
		{ConversationID: "g3", At: now.Add(-24 * time.Hour), Audience: "employer", Outcome: bot.OutcomeAnswered,
			PassageID: "holiday#how-much-holiday", Confidence: 0.8, Text: "are bank holidays on top of holiday pay"},
	} {
		if err := store.RecordQuestion(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.RecordFeedback(ctx, bot.Feedback{ConversationID: "g3", PassageID: "holiday#how-much-holiday", At: now.Add(-24*time.Hour + time.Minute)}); err != nil {
		t.Fatal(err)
	}
}

// personalDetails are the details seedGaps wrote that no report may show.
var personalDetails = []string{"Agata", "Kowalska", "EX4 1AA", "07700", "900123"}

// walkInsights is the part of TestAPIAgainstOpenAPI for GET
// /api/v1/insights/gaps: a reader gets the report, the pension questions
// clustered, the unhelpful answer listed, no personal detail anywhere;
// bad parameters name themselves.
func walkInsights(t *testing.T, c *checker, api *testAPI) {
	seedGaps(t, api.store, time.Now())
	c.do(req{name: "gap report", method: "GET", path: "/api/v1/insights/gaps", token: readerToken, status: 200, check: func(t *testing.T, b []byte) {
		rep := decodeInto[insights.Report](t, b)
		if rep.Gaps != 3 || len(rep.Clusters) != 2 || rep.Clusters[0].Size != 2 || rep.Clusters[0].Unanswered != 2 ||
			rep.Clusters[1].NotHelpful != 1 || rep.Clusters[1].Passages[0].ID != "holiday#how-much-holiday" {
			t.Errorf("gap report: %s", b)
		}
		if len(rep.Weeks) < 4 || rep.Totals.NotHelpful != 1 || rep.Totals.Unanswered < 2 {
			t.Errorf("gap report's weeks and totals: %+v %+v", rep.Weeks, rep.Totals)
		}
		for _, d := range personalDetails {
			if strings.Contains(string(b), d) {
				t.Errorf("the gap report shows %q: %s", d, b)
			}
		}
	}})
	c.do(req{name: "gap report for a week", method: "GET", path: "/api/v1/insights/gaps?since=7d&limit=1", token: alexToken, status: 200, check: func(t *testing.T, b []byte) {
		if rep := decodeInto[insights.Report](t, b); len(rep.Clusters) != 1 || rep.MoreClusters != 1 || rep.To.Sub(rep.From) != 7*24*time.Hour {
			t.Errorf("gap report for 7 days, 1 cluster: %s", b)
		}
	}})
	c.do(req{name: "gap report since a date", method: "GET", path: "/api/v1/insights/gaps?since=" + time.Now().AddDate(0, 0, -10).Format("2006-01-02"), token: alexToken, status: 200})
	c.do(req{name: "gap report bad since", method: "GET", path: "/api/v1/insights/gaps?since=fortnight", token: alexToken, status: 400, field: "since"})
	c.do(req{name: "gap report bad limit", method: "GET", path: "/api/v1/insights/gaps?limit=0", token: alexToken, status: 400, invalid: true, field: "limit"})
	c.do(req{name: "gap report without a token", method: "GET", path: "/api/v1/insights/gaps", status: 401})
}
