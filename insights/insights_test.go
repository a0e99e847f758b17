package insights

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/knowledge"
)

// memStore is an insights.Store over slices, answering as the SQL stores
// do: rows in [from, to), oldest first.
type memStore struct {
	events    []bot.QuestionEvent
	feedback  []bot.Feedback
	handOvers []HandOver
	fail      error
}

func between[T any](rows []T, at func(T) time.Time, from, to time.Time) []T {
	var out []T
	for _, r := range rows {
		if t := at(r); !t.Before(from) && t.Before(to) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b T) int { return at(a).Compare(at(b)) })
	return out
}

func (m *memStore) QuestionEvents(_ context.Context, from, to time.Time) ([]bot.QuestionEvent, error) {
	return between(m.events, func(e bot.QuestionEvent) time.Time { return e.At }, from, to), m.fail
}

func (m *memStore) FeedbackBetween(_ context.Context, from, to time.Time) ([]bot.Feedback, error) {
	return between(m.feedback, func(f bot.Feedback) time.Time { return f.At }, from, to), m.fail
}

func (m *memStore) HandOvers(_ context.Context, from, to time.Time) ([]HandOver, error) {
	return between(m.handOvers, func(h HandOver) time.Time { return h.At }, from, to), m.fail
}

// now is the reports' "now": noon on Monday 7 December 2026.
var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// day returns noon n days before now.
func day(n int) time.Time { return now.Add(-time.Duration(n) * 24 * time.Hour) }

// seeded is four weeks of a question log: four ways of asking whether a
// PA can opt out of the pension that the bot could not answer, and a fifth
// it handed over; two answers about bank holidays marked "Not helpful"; a
// question about mileage kept before names and phone numbers were
// redacted; and questions that are no gap (answered, rated helpful, small
// talk, a crisis).
func seeded() *memStore {
	q := func(conv string, at time.Time, aud, outcome, reason, passage, text string) bot.QuestionEvent {
		return bot.QuestionEvent{ConversationID: conv, At: at, Audience: knowledge.Audience(aud), Outcome: outcome, Reason: reason, PassageID: passage, Text: text}
	}
	un, low := bot.OutcomeUnanswered, bot.ReasonLowConfidence
	m := &memStore{
		events: []bot.QuestionEvent{
			q("c1", day(27), "employer", un, low, "pensions#opting-out", "Can my PA opt out of the workplace pension?"),
			q("c2", day(20), "pa", un, low, "pensions#opting-out", "does a PA have to join a workplace pension or can she opt out"),
			q("c3", day(13), "employer", un, low, "", "PA wants to opt out of pension, what do I do"),
			q("c4", day(6), "pa", un, low, "pensions#auto-enrolment", "opting out of auto enrolment pension for my PA"),
			q("c5", day(1), "employer", bot.OutcomeEscalated, low, "", "PA opting out of pension??"),
			q("c6", day(10), "employer", bot.OutcomeAnswered, "", "holiday#bank-holidays", "are bank holidays on top of the 5.6 weeks"),
			q("c6", day(10).Add(time.Hour), "employer", bot.OutcomeAnswered, "", "pay#minimum-wage", "what is the minimum wage"),
			q("c7", day(3), "employer", bot.OutcomeAnswered, "", "holiday#bank-holidays", "does my PA get bank holidays as well as holiday"),
			q("c8", day(2), "pa", un, low, "travel#mileage", "my PA Sarah Jones rang from 07700 900123 about mileage for her car"),
			q("c9", day(5), "employer", bot.OutcomeAnswered, "", "sick#ssp", "how much sick pay does my PA get"),
			q("c9", day(5).Add(time.Minute), "employer", bot.OutcomeSmallTalk, "", "", ""),
			q("c10", day(4), "employer", bot.OutcomeEscalated, bot.ReasonCrisis, "", ""),
			q("old", day(40), "employer", un, low, "", "can my PA opt out of the pension"), // before the period
		},
		feedback: []bot.Feedback{
			// Rated after the first question, before the second: the first.
			{ConversationID: "c6", PassageID: "holiday#bank-holidays", Helpful: false, At: day(10).Add(time.Minute)},
			{ConversationID: "c6", PassageID: "holiday#bank-holidays", Helpful: false, At: day(10).Add(2 * time.Minute)}, // pressed twice
			{ConversationID: "c7", PassageID: "holiday#bank-holidays", Helpful: false, At: day(3).Add(time.Minute)},
			{ConversationID: "c9", PassageID: "sick#ssp", Helpful: true, At: day(5).Add(time.Second)},
			{ConversationID: "gone", PassageID: "pay#minimum-wage", Helpful: false, At: day(9)}, // its question is gone
		},
		handOvers: []HandOver{
			{At: day(4), Reason: "crisis", Priority: "urgent"},
			{At: day(1), Reason: "low_confidence", Priority: "normal"},
			{At: day(15), Reason: "requested", Priority: "normal"},
			{At: day(16), Reason: "requested", Priority: "normal"},
		},
	}
	return m
}

// TestGapsClusters checks that seeded unanswered and "Not helpful"
// questions cluster as expected: the pension questions together (four
// unanswered, one handed over), the two bank holiday answers marked not
// helpful together by the passage they share, the mileage question alone;
// with counts, keywords, the passages shown and examples; and that
// nothing else counts as a gap.
func TestGapsClusters(t *testing.T) {
	rep, err := Gaps(context.Background(), seeded(), Request{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.From.Equal(now.Add(-DefaultPeriod)) || !rep.To.Equal(now) {
		t.Errorf("period %v to %v, want the 28 days to now", rep.From, rep.To)
	}
	if rep.Gaps != 8 || len(rep.Clusters) != 3 || rep.MoreClusters != 0 || rep.Clipped != 0 {
		t.Fatalf("%d gap questions in %d clusters (%d more, %d clipped); want 8 in 3:\n%+v", rep.Gaps, len(rep.Clusters), rep.MoreClusters, rep.Clipped, rep.Clusters)
	}
	pension, holiday, mileage := rep.Clusters[0], rep.Clusters[1], rep.Clusters[2]
	if pension.Size != 5 || pension.Unanswered != 4 || pension.Escalated != 1 || pension.NotHelpful != 0 {
		t.Errorf("the pension cluster: %+v; want 4 unanswered and 1 handed over", pension)
	}
	if !slices.Contains(pension.Keywords, "pension") || !slices.Contains(pension.Keywords, "opt") {
		t.Errorf("the pension cluster's keywords %q; want pension and opt among them", pension.Keywords)
	}
	if len(pension.Passages) == 0 || pension.Passages[0] != (PassageCount{ID: "pensions#opting-out", Count: 2}) {
		t.Errorf("the pension cluster's passages %+v; want pensions#opting-out twice first", pension.Passages)
	}
	if pension.Audiences["employer"] != 3 || pension.Audiences["pa"] != 2 || !pension.First.Equal(day(27)) || !pension.Last.Equal(day(1)) {
		t.Errorf("the pension cluster's audiences %v, first %v, last %v", pension.Audiences, pension.First, pension.Last)
	}
	if len(pension.Examples) != 2 || pension.Examples[0] == pension.Examples[1] {
		t.Errorf("the pension cluster's examples %q; want two different questions", pension.Examples)
	}
	if holiday.Size != 2 || holiday.NotHelpful != 2 || holiday.Unanswered != 0 || len(holiday.Passages) != 1 ||
		holiday.Passages[0] != (PassageCount{ID: "holiday#bank-holidays", Count: 2}) || !slices.Contains(holiday.Keywords, "bank") {
		t.Errorf("the bank holiday cluster: %+v; want the two answers marked not helpful, each once", holiday)
	}
	for _, ex := range holiday.Examples {
		if strings.Contains(ex, "minimum wage") {
			t.Errorf("the bank holiday cluster shows %q: the verdict was on the question before it", ex)
		}
	}
	if mileage.Size != 1 || mileage.Unanswered != 1 || len(mileage.Examples) != 1 || mileage.Passages[0].ID != "travel#mileage" {
		t.Errorf("the mileage cluster: %+v", mileage)
	}
	if want := "my PA [name] rang from [phone number] about mileage for her car"; mileage.Examples[0] != want {
		t.Errorf("the mileage example %q, want it redacted: %q", mileage.Examples[0], want)
	}

	// The same rows give the same report.
	again, err := Gaps(context.Background(), seeded(), Request{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(rep)
	b, _ := json.Marshal(again)
	if string(a) != string(b) {
		t.Errorf("two reports from the same rows differ:\n%s\n%s", a, b)
	}
	// A limit keeps the largest clusters and counts the rest.
	top, err := Gaps(context.Background(), seeded(), Request{Now: func() time.Time { return now }, MaxClusters: 2})
	if err != nil || len(top.Clusters) != 2 || top.MoreClusters != 1 || !reflect.DeepEqual(top.Clusters, rep.Clusters[:2]) {
		t.Errorf("with a limit of 2: %d clusters, %d more, %v", len(top.Clusters), top.MoreClusters, err)
	}
}

// TestGapsWeeks checks the weekly counts: weeks from Monday, questions by
// outcome (small talk apart), hand-overs by reason, feedback, and the
// totals.
func TestGapsWeeks(t *testing.T) {
	rep, err := Gaps(context.Background(), seeded(), Request{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	var starts []string
	for _, w := range rep.Weeks {
		starts = append(starts, w.Start)
	}
	if want := []string{"2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30", "2026-12-07"}; !slices.Equal(starts, want) {
		t.Fatalf("weeks %q, want %q", starts, want)
	}
	week := func(i int) Week { return rep.Weeks[i] }
	// Week of 30 November: c4 (day 6), c9 answered and small talk (day 5),
	// c10 crisis (day 4), c7 (day 3), c8 (day 2), c5 (day 1).
	w := week(3)
	if w.Questions != 6 || w.Answered != 2 || w.Unanswered != 2 || w.SmallTalk != 1 || w.Helpful != 1 || w.NotHelpful != 1 ||
		w.HandOvers["crisis"] != 1 || w.HandOvers["low_confidence"] != 1 || w.HandOversTotal != 2 {
		t.Errorf("the week of 30 November: %+v", w)
	}
	if w := week(2); w.HandOversTotal != 0 || w.NotHelpful != 3 || w.Answered != 2 || w.Unanswered != 1 {
		t.Errorf("the week of 23 November: %+v; want 3 not helpful (one about a question gone), 2 answers, 1 unanswered", w)
	}
	if w := week(1); w.HandOvers["requested"] != 2 || w.HandOversTotal != 2 || w.Unanswered != 1 {
		t.Errorf("the week of 16 November: %+v; want 2 requests and 1 unanswered", w)
	}
	tot := rep.Totals
	if tot.Questions != 11 || tot.Answered != 4 || tot.Unanswered != 5 || tot.SmallTalk != 1 || tot.Helpful != 1 || tot.NotHelpful != 4 ||
		tot.HandOversTotal != 4 || tot.HandOvers["requested"] != 2 || tot.Start != "2026-11-09" {
		t.Errorf("totals %+v", tot)
	}
	// In another time zone, weeks begin at its own Monday midnight.
	tokyo := time.FixedZone("UTC+9", 9*3600)
	rep, err = Gaps(context.Background(), seeded(), Request{Now: func() time.Time { return now }, Location: tokyo})
	if err != nil || rep.Weeks[0].Start != "2026-11-09" {
		t.Errorf("in UTC+9 the first week starts %q (%v)", rep.Weeks[0].Start, err)
	}
}

// TestGapsRedaction checks that every kind of personal detail kept before
// it was redacted is taken out of the examples a report shows.
func TestGapsRedaction(t *testing.T) {
	m := &memStore{}
	texts := []string{
		"my name is Agata Kowalska, is my PA paid for training",
		"email jo.bloggs@example.com: is my PA paid for training",
		"NI QQ 12 34 56 C: is my PA paid for training",
		"I live at EX4 1AA: is my PA paid for training",
		"Mrs Patel, 020 7946 0018: is my PA paid for training",
	}
	for i, s := range texts {
		m.events = append(m.events, bot.QuestionEvent{ConversationID: "c", At: day(i + 1), Audience: "employer",
			Outcome: bot.OutcomeUnanswered, Reason: bot.ReasonLowConfidence, Text: s})
	}
	rep, err := Gaps(context.Background(), m, Request{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	var shown []string
	for _, c := range rep.Clusters {
		shown = append(append(shown, c.Examples...), c.Keywords...)
	}
	b := strings.Join(shown, "\n")
	for _, detail := range []string{"Agata", "agata", "Kowalska", "kowalska", "bloggs", "example", "QQ", "qq", "EX4", "ex4", "1AA", "1aa", "Patel", "patel", "7946", "0018"} {
		if strings.Contains(b, detail) {
			t.Errorf("the report shows %q:\n%s", detail, b)
		}
	}
	if rep.Gaps != 5 || len(rep.Clusters) != 1 {
		t.Errorf("%d questions in %d clusters; want the five about training pay together (placeholders are not words)", rep.Gaps, len(rep.Clusters))
	}
}

// TestParseSince checks the forms a report's start may take, and those
// refused.
func TestParseSince(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"", now.Add(-DefaultPeriod)},
		{"28d", now.Add(-28 * 24 * time.Hour)},
		{"4w", now.Add(-28 * 24 * time.Hour)},
		{"72h", now.Add(-72 * time.Hour)},
		{"2026-11-01", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
	} {
		got, err := ParseSince(tc.in, now, nil)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"yesterday", "0d", "-5d", "2026-13-01", "2027-01-01", "400d", "2020-01-01", "-3h"} {
		_, err := ParseSince(bad, now, nil)
		var inv *InvalidError
		if !errors.As(err, &inv) || inv.Field != "since" || !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseSince(%q) = %v; want an InvalidError naming since", bad, err)
		}
	}
}

// TestGapsRefuses checks bad requests and a failing store.
func TestGapsRefuses(t *testing.T) {
	ctx := context.Background()
	for _, r := range []Request{
		{From: now, To: now},
		{From: now.Add(-400 * 24 * time.Hour), To: now},
		{To: now, MaxClusters: -1},
		{To: now, MaxClusters: MaxClusters + 1},
	} {
		if _, err := Gaps(ctx, seeded(), r); !errors.Is(err, ErrInvalid) {
			t.Errorf("Gaps(%+v) = %v, want ErrInvalid", r, err)
		}
	}
	boom := errors.New("disk on fire")
	if _, err := Gaps(ctx, &memStore{fail: boom}, Request{To: now}); !errors.Is(err, boom) {
		t.Errorf("a failing store: %v, want its error wrapped", err)
	}
}

// TestStem checks the folding questions are compared by.
func TestStem(t *testing.T) {
	for in, want := range map[string]string{"holidays": "holiday", "paying": "pay", "stories": "story", "taxed": "tax", "stopped": "stop",
		"opting": "opt", "opt": "opt", "paid": "pay", "pass": "pass", "bus": "bus", "boxes": "box", "a": "", "pensions": "pension"} {
		if got := stem(in); got != want {
			t.Errorf("stem(%q) = %q, want %q", in, got, want)
		}
	}
}
