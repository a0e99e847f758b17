package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
)

// questionLog returns everything in the rig's question log.
func questionLog(t *testing.T, r *rig) []bot.QuestionEvent {
	t.Helper()
	qs, err := r.sqlite.QuestionEvents(context.Background(), time.Unix(0, 1), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return qs
}

// TestQuestionLog checks what the bot writes to the question log the
// editors' gap report reads: each typed question with its outcome, the
// passage shown and its confidence; the text with personal details taken
// out, and only where an editor needs it (not for small talk or a crisis);
// the third miss in a row as a hand-over; and nothing for a button press.
func TestQuestionLog(t *testing.T) {
	r := newRig(t)
	r.say(t, "hello")
	answered := r.say(t, "how many days holiday does my PA get a year")
	r.press(t, bot.ActionNotHelpful)
	misses := []string{
		"my name is Agata Kowalska, does a PA need a zebra telescope for knitting",
		"can my PA bring volcano saxophone origami to EX4 1AA, ring 07700 900123",
		"can my PA teach xylophone velvet origami",
	}
	for _, q := range misses {
		r.say(t, q)
	}
	qs := questionLog(t, r)
	if len(qs) != 5 {
		t.Fatalf("the question log holds %d events, want 5 (small talk, an answer, three misses): %+v", len(qs), qs)
	}
	conv := r.conversation(t).ID
	for i, q := range qs {
		if q.ConversationID != conv || q.Audience != "employer" || q.At.IsZero() {
			t.Errorf("event %d: %+v; want the conversation %s, its audience and a time", i, q, conv)
		}
	}
	if q := qs[0]; q.Outcome != bot.OutcomeSmallTalk || q.Text != "" {
		t.Errorf("the greeting: %+v; want small talk without its text", q)
	}
	if q := qs[1]; q.Outcome != bot.OutcomeAnswered || q.PassageID != answered.Answer.PassageID || q.PassageID == "" ||
		q.Confidence != answered.Answer.Confidence || q.Text != "how many days holiday does my PA get a year" {
		t.Errorf("the answered question: %+v; want answered from %s", q, answered.Answer.PassageID)
	}
	for i, want := range []string{
		"my name is [name], does a PA need a zebra telescope for knitting",
		"can my PA bring volcano saxophone origami to [postcode], ring [phone number]",
	} {
		if q := qs[2+i]; q.Outcome != bot.OutcomeUnanswered || q.Reason != bot.ReasonLowConfidence || q.Text != want {
			t.Errorf("miss %d: %+v; want unanswered, text %q", i+1, q, want)
		}
	}
	if q := qs[4]; q.Outcome != bot.OutcomeEscalated || q.Reason != bot.ReasonLowConfidence || q.Text != misses[2] {
		t.Errorf("the third miss: %+v; want a hand-over for low confidence with its text", q)
	}
	for _, q := range qs {
		if strings.Contains(q.Text, "Agata") || strings.Contains(q.Text, "07700") || strings.Contains(q.Text, "EX4 1AA") {
			t.Errorf("a personal detail reached the question log: %q", q.Text)
		}
	}

	// A crisis is handed over at once, and its words are not logged.
	c := newRig(t)
	c.say(t, "I want to end my life tonight, I have the tablets here")
	cq := questionLog(t, c)
	if len(cq) != 1 || cq[0].Outcome != bot.OutcomeEscalated || cq[0].Reason != bot.ReasonCrisis || cq[0].Text != "" {
		t.Errorf("the crisis message in the question log: %+v; want a hand-over without its words", cq)
	}
}
