package bot_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/bottest"
	"github.com/askpa/askpa/bot/safety"
	"github.com/askpa/askpa/knowledge"
	"github.com/askpa/askpa/support"
)

// TestUrgentReplyIsTheScriptAlone checks that an urgent message gets its
// kind's script, for the person it is happening to or for someone worried
// about another, and nothing from the knowledge base after it.
func TestUrgentReplyIsTheScriptAlone(t *testing.T) {
	tests := []struct {
		audience   knowledge.Audience
		msg        string
		reason     string
		must, lack []string
	}{
		{knowledge.Employer, "I want to kill myself, I have the tablets ready", bot.ReasonCrisis,
			[]string{"116 123", "option 2", "85258", "999"}, []string{"If they have"}},
		{knowledge.PA, "my client says she wants to end her life and has been giving her things away", bot.ReasonCrisis,
			[]string{"116 123", "option 2", "call 999 now"}, []string{"I am really glad you told me"}},
		{knowledge.Employer, "my husband hits me and I am scared to go home", bot.ReasonSafeguarding,
			[]string{"0808 2000 247", "press 55", "not with you"}, []string{"Domestic abuse is never the fault of the person it happens to"}},
	}
	for _, tt := range tests {
		a := answer(t, tt.msg, tt.audience)
		if !a.Urgent || !a.Escalate || a.Reason != tt.reason || a.Concern == "" {
			t.Errorf("%q: urgent %v, reason %q, concern %q; want an urgent %s hand-over", tt.msg, a.Urgent, a.Reason, a.Concern, tt.reason)
			continue
		}
		for _, s := range tt.must {
			if !strings.Contains(a.Text, s) {
				t.Errorf("%q: the reply lacks %q:\n%s", tt.msg, s, a.Text)
			}
		}
		for _, s := range tt.lack {
			if strings.Contains(a.Text, s) {
				t.Errorf("%q: the reply speaks to the wrong person (%q):\n%s", tt.msg, s, a.Text)
			}
		}
		for _, src := range a.Sources {
			if src.ID != "emergency-help" {
				t.Errorf("%q: an urgent reply shows %s after its script", tt.msg, src.ID)
			}
		}
	}
}

// cautiousEngine returns an engine whose safety layer treats every danger
// it sees as a caution, never urgent, so that the caution path can be
// tested whatever the classifier's probabilities.
func cautiousEngine(tb testing.TB) *bot.Engine {
	tb.Helper()
	fsys := fstest.MapFS{}
	entries, err := os.ReadDir("safety/data")
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile("safety/data/" + e.Name())
		if err != nil {
			tb.Fatal(err)
		}
		fsys[e.Name()] = &fstest.MapFile{Data: b}
	}
	fsys["thresholds.txt"] = &fstest.MapFile{Data: []byte(`urgent-crisis 0.999
urgent-safeguarding 0.999
caution-crisis 0.01
caution-safeguarding 0.01
requested 0.99
dispute 0.99
offtopic 0.99
situation 0.99
`)}
	c, err := safety.Load(fsys)
	if err != nil {
		tb.Fatal(err)
	}
	base, ix := bottest.Index(tb)
	e, err := bot.NewEngine(base, ix, bot.EngineConfig{Safety: c})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// TestCautionPutsTheLineAboveTheAnswer checks the middle level: the kind's
// signposting line first, then the answer, and no hand-over.
func TestCautionPutsTheLineAboveTheAnswer(t *testing.T) {
	e := cautiousEngine(t)
	a, err := e.Answer(context.Background(), "my PA pushed me and shouted at me, how do I start a disciplinary process with her", knowledge.Employer)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := e.Safety().Reply(safety.Kind(a.Concern))
	if a.Escalate || a.Urgent || a.Concern == "" || !a.Answered || !strings.HasPrefix(a.Text, r.Line+"\n\n") {
		t.Fatalf("escalate %v, urgent %v, concern %q, answered %v; want the signposting line, then the answer:\n%s", a.Escalate, a.Urgent, a.Concern, a.Answered, a.Text)
	}
	if !strings.Contains(strings.ToLower(a.Text), "disciplinary") {
		t.Errorf("the answer itself is missing:\n%s", a.Text)
	}
}

// TestCautionOffersAPersonFirst checks that the reply to a caution puts
// "Talk to a person" on the first row of buttons.
func TestCautionOffersAPersonFirst(t *testing.T) {
	r := newRigWith(t, cautiousEngine(t))
	res := r.say(t, "my PA pushed me and shouted at me, how do I start a disciplinary process with her")
	reply := only(t, res)
	if res.EscalationID != "" || len(reply.Buttons) == 0 || reply.Buttons[0][0].Action != bot.ActionHuman {
		t.Fatalf("escalation %q, buttons %+v: want no hand-over and a person offered first", res.EscalationID, reply.Buttons)
	}
	for _, row := range reply.Buttons[1:] {
		for _, b := range row {
			if b.Action == bot.ActionHuman {
				t.Errorf("a person is offered twice: %+v", reply.Buttons)
			}
		}
	}
}

// TestEscalationCarriesTheSafetyVerdict checks that staff see what the
// safety layer made of the conversation, so they can mark it right or
// wrong.
func TestEscalationCarriesTheSafetyVerdict(t *testing.T) {
	r := newRig(t)
	res := r.say(t, "my husband hits me and I am scared to go home")
	e, err := r.desk.Get(context.Background(), res.EscalationID)
	if err != nil {
		t.Fatal(err)
	}
	if e.Safety == nil || e.Safety.Kind != string(safety.DomesticAbuse) || e.Safety.Level != "urgent" || e.Safety.Probability <= 0 {
		t.Fatalf("safety assessment %+v, want urgent domestic-abuse", e.Safety)
	}
	if _, err := r.desk.LabelSafety(context.Background(), e.ID, "sam", true, "", ""); err != nil {
		t.Errorf("labelling the verdict: %v", err)
	}
}

// TestWorryingSecondMessage checks that an ordinary question answered by
// the bot does not hide the worrying detail that follows it: the detail is
// handed over as urgent, with its kind for staff. (How a conversation's
// messages are weighed together is tested in bot/safety.)
func TestWorryingSecondMessage(t *testing.T) {
	r := newRig(t)
	first := r.say(t, "my mum's PA does her shopping, is that allowed from the direct payment")
	if first.EscalationID != "" {
		t.Fatalf("an ordinary question was handed over: %+v", first.Answer)
	}
	second := r.say(t, "the thing is mum's savings have gone and the PA has a new car and mum won't say why")
	if second.Answer == nil || !second.Answer.Urgent || second.EscalationID == "" {
		t.Fatalf("the worrying second message: %+v", second.Answer)
	}
	e, _ := r.desk.Get(context.Background(), second.EscalationID)
	if e.Priority != support.PriorityUrgent || e.Safety == nil || e.Safety.Kind != string(safety.FinancialAbuse) {
		t.Errorf("escalation %s with %+v, want urgent financial-abuse", e.Priority, e.Safety)
	}
}

// TestQuietAfterASignpostIsFollowedUp checks that someone shown a crisis
// signposting line who then goes quiet is handed to the support team,
// urgently, once; and that someone who writes again is not.
func TestQuietAfterASignpostIsFollowedUp(t *testing.T) {
	ctx := context.Background()
	r := newRigWith(t, cautiousEngine(t))
	r.clock = time.Date(2026, 12, 7, 22, 0, 0, 0, time.UTC)
	res := r.say(t, "some days I wish I would not wake up. anyway, how much holiday does my PA get")
	if res.EscalationID != "" || res.Answer == nil || res.Answer.Concern != string(safety.Suicidal) {
		t.Fatalf("escalation %q, answer %+v: want a caution for suicidal thoughts and no hand-over", res.EscalationID, res.Answer)
	}
	r.clock = r.clock.Add(10 * time.Minute)
	if n, err := r.svc.FollowUpQuiet(ctx); err != nil || n != 0 {
		t.Fatalf("after 10 quiet minutes: %d followed up, %v; want none yet", n, err)
	}
	r.clock = r.clock.Add(25 * time.Minute)
	if n, err := r.svc.FollowUpQuiet(ctx); err != nil || n != 1 {
		t.Fatalf("after 35 quiet minutes: %d followed up, %v; want 1", n, err)
	}
	if n, _ := r.svc.FollowUpQuiet(ctx); n != 0 {
		t.Errorf("followed up %d more times", n)
	}
	page, err := r.desk.List(ctx, support.ListRequest{Limit: 10})
	if err != nil || len(page.Escalations) != 1 {
		t.Fatalf("queue: %+v, %v", page, err)
	}
	e := page.Escalations[0]
	if e.Priority != support.PriorityUrgent || e.Reason != bot.ReasonQuietAfterSignpost || e.Safety == nil || e.Safety.Kind != string(safety.Suicidal) {
		t.Errorf("escalation %s %s %+v, want urgent %s for suicidal", e.Priority, e.Reason, e.Safety, bot.ReasonQuietAfterSignpost)
	}
	if len(e.Messages) == 0 || !strings.Contains(e.Messages[0].Text, "wake up") {
		t.Errorf("the escalation does not carry the conversation: %+v", e.Messages)
	}

	// Someone who writes again has not gone quiet.
	other := newRigWith(t, cautiousEngine(t))
	other.clock = time.Date(2026, 12, 7, 22, 0, 0, 0, time.UTC)
	other.say(t, "some days I wish I would not wake up. anyway, how much holiday does my PA get")
	other.clock = other.clock.Add(time.Minute)
	other.say(t, "thanks")
	other.clock = other.clock.Add(time.Hour)
	if n, err := other.svc.FollowUpQuiet(ctx); err != nil || n != 0 {
		t.Errorf("someone who wrote again: %d followed up, %v; want none", n, err)
	}
}

// TestSituationIsAcknowledgedAndOffersAPerson checks that someone who
// describes their situation rather than asking a question gets an
// acknowledgement, what the guides say, and a person offered first; and
// that accepting hands over as needs-support, not urgent.
func TestSituationIsAcknowledgedAndOffersAPerson(t *testing.T) {
	r := newRig(t)
	res := r.say(t, "my wife has just been told she has motor neurone disease and I am trying to hold everything together, I do not know what help there is or where to begin")
	reply := only(t, res)
	if res.EscalationID != "" || res.Answer == nil || !res.Answer.Situation {
		t.Fatalf("escalation %q, answer %+v: want the situation acknowledged, no hand-over yet", res.EscalationID, res.Answer)
	}
	if len(reply.Buttons) == 0 || reply.Buttons[0][0].Action != bot.ActionSupport {
		t.Fatalf("buttons %+v: want a person offered first", reply.Buttons)
	}
	if !strings.Contains(reply.Text, "You do not have to work it all out at once") {
		t.Errorf("no acknowledgement:\n%s", reply.Text)
	}
	accepted := r.press(t, bot.ActionSupport)
	e, err := r.desk.Get(context.Background(), accepted.EscalationID)
	if err != nil {
		t.Fatal(err)
	}
	if e.Reason != bot.ReasonNeedsSupport || e.Priority != support.PriorityNormal {
		t.Errorf("escalation %s %s, want a normal %s hand-over", e.Reason, e.Priority, bot.ReasonNeedsSupport)
	}
}
