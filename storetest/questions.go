package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/insights"
	"github.com/askpa/askpa/support"
)

// questionTexts returns the text of every event in s's question log,
// sorted.
func questionTexts(t testing.TB, s Store) []string {
	t.Helper()
	qs, err := s.QuestionEvents(context.Background(), time.Unix(0, 1), time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, q := range qs {
		out = append(out, q.Text)
	}
	slices.Sort(out)
	return out
}

// testQuestionLog checks the question log and what the gap report reads
// (insights.Store), as another process sharing the store sees them: events
// round-trip whole, are read oldest first within a half-open period, and
// keep their text clean; feedback and hand-overs are read by period, the
// hand-overs with their reason and priority; and a report made from the
// store clusters the gap questions.
func testQuestionLog(t *testing.T, o Opener) {
	ctx := context.Background()
	w, r := open(t, o), open(t, o)
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC) // a Monday
	events := []bot.QuestionEvent{
		{ConversationID: "c1", At: t0, Audience: "employer", Outcome: bot.OutcomeUnanswered, Reason: bot.ReasonLowConfidence,
			PassageID: "pensions#opting-out", Confidence: 0.31, Text: "can my PA opt out of the workplace pension"},
		{ConversationID: "c2", At: t0.Add(time.Hour), Audience: "pa", Outcome: bot.OutcomeUnanswered, Reason: bot.ReasonLowConfidence,
			PassageID: "pensions#opting-out", Confidence: 0.28, Text: "can I opt out of the workplace pension"},
		{ConversationID: "c3", At: t0.Add(time.Hour), Audience: "employer", Outcome: bot.OutcomeAnswered,
			PassageID: "holiday#bank-holidays", Confidence: 0.82, Text: "are bank holidays on top of holiday pay"},
		{ConversationID: "c4", At: t0.Add(2 * time.Hour), Audience: "employer", Outcome: bot.OutcomeSmallTalk},
		{ConversationID: "c5", At: t0.Add(3 * time.Hour), Audience: "employer", Outcome: bot.OutcomeEscalated, Reason: bot.ReasonCrisis, Confidence: 0.97},
		{ConversationID: "c6", At: t0.Add(7 * 24 * time.Hour), Audience: "pa", Outcome: bot.OutcomeUnanswered, Reason: bot.ReasonLowConfidence,
			Text: "bad \xff text\x00 here"},
	}
	for _, e := range events {
		if err := w.RecordQuestion(ctx, e); err != nil {
			t.Fatalf("RecordQuestion: %v", err)
		}
	}
	got, err := r.QuestionEvents(ctx, t0, t0.Add(7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("QuestionEvents over the first week: %d events, want 5 (the start is in, the end is out)", len(got))
	}
	for i, e := range got {
		want := events[i]
		if !e.At.Equal(want.At) || e.ConversationID != want.ConversationID || e.Audience != want.Audience || e.Outcome != want.Outcome ||
			e.Reason != want.Reason || e.PassageID != want.PassageID || e.Confidence != want.Confidence || e.Text != want.Text {
			t.Errorf("event %d read back as %+v, want %+v", i, e, want)
		}
	}
	if got[1].ConversationID != "c2" || got[2].ConversationID != "c3" {
		t.Errorf("two events at the same moment read back in the order %s, %s; want the order they were written in", got[1].ConversationID, got[2].ConversationID)
	}
	late, err := r.QuestionEvents(ctx, t0.Add(7*24*time.Hour), t0.Add(8*24*time.Hour))
	if err != nil || len(late) != 1 || late[0].Text != "bad \uFFFD text here" {
		t.Errorf("the event with bad text: %+v, %v; want it kept, cleaned", late, err)
	}

	for _, f := range []bot.Feedback{
		{ConversationID: "c3", PassageID: "holiday#bank-holidays", Helpful: false, At: t0.Add(90 * time.Minute)},
		{ConversationID: "c9", PassageID: "pay#minimum", Helpful: true, At: t0.Add(-time.Minute)},
	} {
		if err := w.RecordFeedback(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	fb, err := r.FeedbackBetween(ctx, t0, t0.Add(24*time.Hour))
	if err != nil || len(fb) != 1 || fb[0].ConversationID != "c3" || fb[0].Helpful || fb[0].PassageID != "holiday#bank-holidays" || !fb[0].At.Equal(t0.Add(90*time.Minute)) {
		t.Errorf("FeedbackBetween: %+v, %v; want the one verdict inside the period", fb, err)
	}

	c := newClock()
	c.now = t0.Add(-time.Hour)
	rig := newRig(t, w, c, "questions")
	escalate(t, rig, "before", support.PriorityNormal) // outside the period
	c.now = t0.Add(3 * time.Hour)
	n := newEscalation("crisis", support.PriorityUrgent)
	n.Reason = "crisis"
	if _, err := rig.desk.Escalate(ctx, n); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Minute)
	escalate(t, rig, "asked", support.PriorityNormal)
	hs, err := r.HandOvers(ctx, t0, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 2 || hs[0].Reason != "crisis" || hs[0].Priority != "urgent" || !hs[0].At.Equal(t0.Add(3*time.Hour)) ||
		hs[1].Reason != "requested" || hs[1].Priority != "normal" {
		t.Errorf("HandOvers: %+v; want the crisis, then the request, inside the period", hs)
	}

	rep, err := insights.Gaps(ctx, r, insights.Request{From: t0, To: t0.Add(7 * 24 * time.Hour)})
	if err != nil {
		t.Fatalf("Gaps: %v", err)
	}
	if rep.Totals.Questions != 4 || rep.Totals.Answered != 1 || rep.Totals.Unanswered != 2 || rep.Totals.SmallTalk != 1 ||
		rep.Totals.NotHelpful != 1 || rep.Totals.HandOvers["crisis"] != 1 || rep.Totals.HandOversTotal != 2 {
		t.Errorf("the report's totals: %+v", rep.Totals)
	}
	if rep.Gaps != 3 || len(rep.Clusters) != 2 || rep.Clusters[0].Size != 2 || rep.Clusters[0].Unanswered != 2 ||
		rep.Clusters[1].NotHelpful != 1 || !strings.Contains(rep.Clusters[1].Examples[0], "bank holidays") {
		t.Errorf("the report's clusters: %+v; want the two pension questions together, then the bank holiday answer marked not helpful", rep.Clusters)
	}
}
