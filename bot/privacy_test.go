package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/retention"
	"github.com/askpa/askpa/support"
)

// withPrivacy gives r's service a Privacy (and policy) over its store and
// desk.
func withPrivacy(tb testing.TB, r *rig, policy retention.Policy) *bot.Privacy {
	tb.Helper()
	pv, err := bot.NewPrivacy(bot.PrivacyConfig{Store: r.sqlite, Desk: r.desk})
	if err != nil {
		tb.Fatal(err)
	}
	r.svc, err = bot.NewService(bot.ServiceConfig{Engine: realEngine(tb), Store: r.store, Desk: r.desk, Privacy: pv, Retention: policy})
	if err != nil {
		tb.Fatal(err)
	}
	return pv
}

func userTurns(tb testing.TB, r *rig, conversationID string) []string {
	tb.Helper()
	ts, err := r.sqlite.Turns(context.Background(), conversationID, 0)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, t := range ts {
		if t.From == bot.FromUser {
			out = append(out, t.Text)
		}
	}
	return out
}

// TestForgetThenConfirm walks a person through redaction, a hand-over and
// /forget: "Keep it" keeps everything; "Erase my data" erases it, the
// escalation keeps only an audit line, and the next message starts a new
// conversation.
func TestForgetThenConfirm(t *testing.T) {
	r := newRig(t)
	withPrivacy(t, r, retention.Policy{})
	ctx := context.Background()

	// While the bot answers, the person's words are kept redacted.
	res := r.say(t, "my PA's number is 07700 900123, how much holiday does she get a year?")
	conv := res.ConversationID
	if got := userTurns(t, r, conv); len(got) != 1 || strings.Contains(got[0], "07700") || !strings.Contains(got[0], bot.RedactedPhone) {
		t.Errorf("kept turn %q; want the phone number redacted", got)
	}
	if c := r.conversation(t); strings.Contains(c.LastQuestion, "07700") {
		t.Errorf("last question kept as %q", c.LastQuestion)
	}
	// Handed over: staff get the message that asked as written.
	res = r.say(t, "I want to talk to a real person, ring me on 07700 900124")
	if res.EscalationID == "" {
		t.Fatalf("no hand-over: %+v", res.Replies)
	}
	e, err := r.desk.Get(ctx, res.EscalationID)
	if err != nil {
		t.Fatal(err)
	}
	if last := e.Messages[len(e.Messages)-2]; last.From != support.FromUser || !strings.Contains(last.Text, "07700 900124") {
		t.Errorf("staff got %q from %s; want the person's words as written, before the hand-over reply", last.Text, last.From)
	}
	r.deliver(t)

	// /forget says what would go, and asks.
	ask := only(t, r.say(t, "/forget"))
	if !hasButton(ask, bot.ActionErase) || !hasButton(ask, bot.ActionKeepData) ||
		!strings.Contains(ask.Text, "2 messages from you") || !strings.Contains(ask.Text, "1 conversation") || !strings.Contains(ask.Text, "withdrawn") {
		t.Errorf("/forget reply: %+v", ask)
	}
	if kept := only(t, r.press(t, bot.ActionKeepData)); !strings.Contains(kept.Text, "nothing has been erased") {
		t.Errorf("Keep it: %q", kept.Text)
	}
	if c := r.conversation(t); c.ID != conv || c.Mode == bot.ModeBot {
		t.Fatalf("after Keep it the conversation is %+v", c)
	}

	// Erase my data.
	r.say(t, "/forget")
	res = r.press(t, bot.ActionErase)
	if done := only(t, res); !strings.Contains(done.Text, "erased") || res.ConversationID != "" || res.EscalationID != "" {
		t.Errorf("Erase my data: %+v", res)
	}
	if _, err := r.sqlite.ConversationByID(ctx, conv); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("the conversation survived erasure (%v)", err)
	}
	if got := userTurns(t, r, conv); len(got) != 0 {
		t.Errorf("turns survived erasure: %q", got)
	}
	e, err = r.desk.Get(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != support.StatusResolved || e.Summary != support.ErasedText {
		t.Errorf("escalation after erasure: %s, %q", e.Status, e.Summary)
	}
	for _, m := range e.Messages {
		if m.From == support.FromUser && m.Text != support.ErasedText {
			t.Errorf("escalation message %d kept %q", m.Seq, m.Text)
		}
	}
	sentBefore := len(r.channel.texts())
	r.deliver(t)
	if got := r.channel.texts()[sentBefore:]; len(got) != 0 {
		t.Errorf("the person was sent %q after erasing: the withdrawal is theirs", got)
	}

	// The next message starts afresh, and is answered by the bot.
	res = r.say(t, "how much is statutory sick pay")
	if res.ConversationID == "" || res.ConversationID == conv || res.EscalationID != "" {
		t.Errorf("after erasure: conversation %q escalation %q; want a new conversation with the bot", res.ConversationID, res.EscalationID)
	}
	if got := userTurns(t, r, res.ConversationID); len(got) != 1 {
		t.Errorf("the new conversation holds %q", got)
	}
}

// TestForgetWithoutPrivacy checks the answer when erasure is not set up.
func TestForgetWithoutPrivacy(t *testing.T) {
	r := newRig(t)
	if got := only(t, r.say(t, "/forget")); !strings.Contains(got.Text, "cannot erase") || len(got.Buttons) != 0 {
		t.Errorf("/forget without Privacy: %+v", got)
	}
	if got := only(t, r.press(t, bot.ActionErase)); !strings.Contains(got.Text, "cannot erase") {
		t.Errorf("Erase without Privacy: %+v", got)
	}
	if _, err := r.svc.Forget(context.Background(), bot.PersonOf(r.addr)); err == nil {
		t.Error("Service.Forget without Privacy succeeded")
	}
}

// TestPrivacyNotice checks /privacy says the periods in force, and /help
// and /start point to it.
func TestPrivacyNotice(t *testing.T) {
	r := newRig(t)
	got := only(t, r.say(t, "/privacy")).Text
	for _, want := range []string{"30 days after your last message", "for 1 year after they close it", "until 90 days after it was answered", "/forget", "/human", "phone numbers"} {
		if !strings.Contains(got, want) {
			t.Errorf("/privacy lacks %q:\n%s", want, got)
		}
	}
	withPrivacy(t, r, retention.Policy{Conversations: 14 * retention.Day, Escalations: 2 * 365 * retention.Day})
	got = only(t, r.say(t, "/privacy")).Text
	if !strings.Contains(got, "14 days after") || !strings.Contains(got, "2 years after") {
		t.Errorf("/privacy with a 14-day policy:\n%s", got)
	}
	for _, cmd := range []string{"/help", "/start"} {
		if got := only(t, r.say(t, cmd)).Text; !strings.Contains(got, "/privacy") || !strings.Contains(got, "/forget") {
			t.Errorf("%s does not mention /privacy and /forget:\n%s", cmd, got)
		}
	}
}

// TestServiceForgetAndExport checks the staff path: Service.Export shows
// what the person said, Service.Forget erases it in order with their
// messages, and a person never known is not found.
func TestServiceForgetAndExport(t *testing.T) {
	r := newRig(t)
	withPrivacy(t, r, retention.Policy{})
	ctx := context.Background()
	r.clock = time.Time{}
	r.say(t, "how much holiday does a PA get")
	p := bot.PersonOf(r.addr)
	x, err := r.svc.Export(ctx, p)
	if err != nil || len(x.Conversations) != 1 || len(x.Conversations[0].Turns) < 2 {
		t.Fatalf("Export: %+v, %v", x, err)
	}
	er, err := r.svc.Forget(ctx, p)
	if err != nil || er.Conversations != 1 || er.Messages < 2 {
		t.Errorf("Forget: %+v, %v", er, err)
	}
	if _, err := r.svc.Export(ctx, p); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Export after Forget: %v, want bot.ErrNotFound", err)
	}
	if _, err := r.svc.Forget(ctx, bot.Person{Channel: "telegram", UserID: "never"}); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Forget of someone never known: %v", err)
	}
	if _, err := r.svc.Forget(ctx, bot.Person{Channel: "telegram"}); !errors.Is(err, bot.ErrInvalidPerson) {
		t.Errorf("Forget without a user: %v", err)
	}
}

// TestForgetTypedOnTheWeb checks that a web user, who has no buttons to
// press, is told to type the confirmation, and that typing it erases.
func TestForgetTypedOnTheWeb(t *testing.T) {
	r := newRig(t)
	withPrivacy(t, r, retention.Policy{})
	r.addr = bot.Address{Channel: bot.ChannelWeb, UserID: "web-1", ChatID: "web-1"}
	first := r.say(t, "how much holiday does a PA get")
	if ask := only(t, r.say(t, "/forget")); !strings.Contains(ask.Text, "/forget erase") {
		t.Errorf("/forget on the web: %q", ask.Text)
	}
	if done := only(t, r.say(t, "/forget erase")); !strings.Contains(done.Text, "erased") {
		t.Errorf("/forget erase: %q", done.Text)
	}
	if _, err := r.sqlite.ConversationByID(context.Background(), first.ConversationID); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("the conversation survived /forget erase (%v)", err)
	}
}
