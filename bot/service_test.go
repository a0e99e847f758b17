package bot_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/bottest"
	"github.com/askpa/askpa/knowledge"
	"github.com/askpa/askpa/sqlite"
	"github.com/askpa/askpa/support"
)

// realEngine returns the engine over the built-in knowledge base.
func realEngine(tb testing.TB) *bot.Engine { return bottest.Engine(tb) }

// sentChannel is a bot.Channel that records what it is asked to send.
type sentChannel struct {
	name string
	mu   sync.Mutex
	sent []sent
	fail error
}

type sent struct {
	to bot.Address
	r  bot.Reply
}

func (c *sentChannel) Name() string { return c.name }

func (c *sentChannel) Send(_ context.Context, to bot.Address, r bot.Reply) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return c.fail
	}
	c.sent = append(c.sent, sent{to, r})
	return nil
}

func (c *sentChannel) texts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, s := range c.sent {
		out = append(out, s.r.Text)
	}
	return out
}

// feedbackStore records feedback on top of a real store.
type feedbackStore struct {
	bot.Store
	mu       sync.Mutex
	feedback []bot.Feedback
}

func (s *feedbackStore) RecordFeedback(ctx context.Context, f bot.Feedback) error {
	s.mu.Lock()
	s.feedback = append(s.feedback, f)
	s.mu.Unlock()
	return s.Store.RecordFeedback(ctx, f)
}

// rig is a bot service with a real SQLite store, desk, relay and outbox.
type rig struct {
	svc     *bot.Service
	store   *feedbackStore
	sqlite  *sqlite.Store
	desk    *support.Desk
	disp    *support.Dispatcher
	channel *sentChannel
	addr    bot.Address
	// clock, when set, is the service's time; otherwise the real time.
	clock time.Time
}

func newRig(tb testing.TB) *rig {
	tb.Helper()
	return newRigWith(tb, realEngine(tb))
}

// newRigWith is newRig with the given engine.
func newRigWith(tb testing.TB, engine *bot.Engine) *rig {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "askpa.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	fs := &feedbackStore{Store: st}
	ch := &sentChannel{name: bot.ChannelTelegram}
	relay, err := bot.NewRelay(bot.RelayConfig{Store: fs, Channels: []bot.Channel{ch}})
	if err != nil {
		tb.Fatal(err)
	}
	desk, err := support.NewDesk(support.Config{Store: st, Relay: relay})
	if err != nil {
		tb.Fatal(err)
	}
	disp, err := support.NewDispatcher(support.DispatcherConfig{Store: st, Targets: desk.Targets()})
	if err != nil {
		tb.Fatal(err)
	}
	r := &rig{store: fs, sqlite: st, desk: desk, disp: disp, channel: ch,
		addr: bot.Address{Channel: bot.ChannelTelegram, UserID: "1001", ChatID: "1001"}}
	now := func() time.Time {
		if r.clock.IsZero() {
			return time.Now()
		}
		return r.clock
	}
	if r.svc, err = bot.NewService(bot.ServiceConfig{Engine: engine, Store: fs, Desk: desk, Questions: st, Now: now}); err != nil {
		tb.Fatal(err)
	}
	return r
}

func (r *rig) say(tb testing.TB, text string) bot.Result {
	tb.Helper()
	res, err := r.svc.Handle(context.Background(), bot.Message{Address: r.addr, Text: text})
	if err != nil {
		tb.Fatalf("Handle(%q): %v", text, err)
	}
	return res
}

func (r *rig) press(tb testing.TB, action string) bot.Result {
	tb.Helper()
	res, err := r.svc.Handle(context.Background(), bot.Message{Address: r.addr, Action: action})
	if err != nil {
		tb.Fatalf("Handle(action %q): %v", action, err)
	}
	return res
}

// deliver runs the outbox until nothing is due.
func (r *rig) deliver(tb testing.TB) {
	tb.Helper()
	for i := 0; i < 10; i++ {
		n, err := r.disp.Pass(context.Background())
		if err != nil {
			tb.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func (r *rig) conversation(tb testing.TB) bot.Conversation {
	tb.Helper()
	c, err := r.store.Conversation(context.Background(), r.addr, knowledge.Employer, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func hasButton(r bot.Reply, action string) bool {
	for _, row := range r.Buttons {
		for _, b := range row {
			if b.Action == action {
				return true
			}
		}
	}
	return false
}

func only(tb testing.TB, res bot.Result) bot.Reply {
	tb.Helper()
	if len(res.Replies) != 1 {
		tb.Fatalf("%d replies, want 1: %+v", len(res.Replies), res.Replies)
	}
	return res.Replies[0]
}

func TestWholePathThroughTheDesk(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()

	// /start: welcome, privacy notice and the employer/PA choice.
	start := only(t, r.say(t, "/start"))
	if !strings.Contains(start.Text, "Privacy") || !hasButton(start, bot.ActionAudience+"pa") || !hasButton(start, bot.ActionAudience+"employer") {
		t.Errorf("/start reply: %+v", start)
	}

	// A question is answered with feedback buttons and a source.
	res := r.say(t, "how many days holiday does my PA get a year")
	ans := only(t, res)
	if res.Answer == nil || !res.Answer.Answered || !strings.Contains(ans.Text, "5.6 weeks") {
		t.Fatalf("holiday answer: %+v", ans)
	}
	for _, a := range []string{bot.ActionHelpful, bot.ActionNotHelpful, bot.ActionHuman} {
		if !hasButton(ans, a) {
			t.Errorf("answer lacks the %q button", a)
		}
	}
	if len(ans.Sources) == 0 || ans.Sources[0].URL == "" {
		t.Errorf("answer has no source link: %+v", ans.Sources)
	}

	// "Not helpful" is recorded against the passage shown, and offers a rephrase or a person.
	nh := only(t, r.press(t, bot.ActionNotHelpful))
	if !hasButton(nh, bot.ActionRephrase) || !hasButton(nh, bot.ActionHuman) {
		t.Errorf("not helpful reply: %+v", nh)
	}
	if len(r.store.feedback) != 1 || r.store.feedback[0].Helpful || r.store.feedback[0].PassageID != res.Answer.PassageID {
		t.Errorf("feedback = %+v, want not helpful on %s", r.store.feedback, res.Answer.PassageID)
	}

	// "Talk to a person" hands over: an open escalation with the conversation so far.
	hand := r.press(t, bot.ActionHuman)
	if hand.EscalationID == "" || !strings.Contains(only(t, hand).Text, "support team") {
		t.Fatalf("hand-over: %+v", hand)
	}
	e, err := r.desk.Get(ctx, hand.EscalationID)
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != support.StatusOpen || e.Reason != bot.ReasonRequested || e.Priority != support.PriorityNormal || e.Address.ChatID != "1001" {
		t.Errorf("escalation = %+v", e)
	}
	if !containsMessage(e, support.FromUser, "holiday does my PA get") {
		t.Errorf("escalation does not carry the earlier question: %+v", e.Messages)
	}
	if c := r.conversation(t); c.Mode != bot.ModeWaiting || c.EscalationID != e.ID {
		t.Errorf("conversation after hand-over: %+v", c)
	}

	// While waiting, messages go to staff; the person is not told again.
	wait := r.say(t, "it's about my PA's holiday in August")
	if len(wait.Replies) != 0 {
		t.Errorf("a second notice while waiting: %+v", wait.Replies)
	}
	if e, _ = r.desk.Get(ctx, e.ID); !containsMessage(e, support.FromUser, "holiday in August") {
		t.Errorf("message while waiting did not reach the desk: %+v", e.Messages)
	}

	// Staff claim and reply; both reach the person on their channel.
	if _, err := r.desk.Claim(ctx, e.ID, "sam"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.Reply(ctx, e.ID, "sam", "Hello, I can help with August."); err != nil {
		t.Fatal(err)
	}
	r.deliver(t)
	texts := r.channel.texts()
	if len(texts) != 2 || !strings.Contains(texts[0], "picked up") || texts[1] != "Hello, I can help with August." {
		t.Fatalf("sent to the person: %q", texts)
	}
	if !r.channel.sent[1].r.FromStaff || r.channel.sent[1].to.ChatID != "1001" {
		t.Errorf("staff reply sent as %+v", r.channel.sent[1])
	}
	if c := r.conversation(t); c.Mode != bot.ModeHuman {
		t.Errorf("mode after claim = %s, want human", c.Mode)
	}
	if e, _ = r.desk.Get(ctx, e.ID); e.Messages[len(e.Messages)-1].Delivery != support.DeliveryDelivered {
		t.Errorf("staff reply not marked delivered: %+v", e.Messages[len(e.Messages)-1])
	}

	// Resolving returns the person to the bot, which answers again.
	if _, err := r.desk.Resolve(ctx, e.ID, "sam"); err != nil {
		t.Fatal(err)
	}
	r.deliver(t)
	if texts := r.channel.texts(); !strings.Contains(texts[len(texts)-1], "back with askpa") {
		t.Errorf("no note on resolve: %q", texts)
	}
	again := r.say(t, "what is the minimum wage for a PA aged 25")
	if again.Answer == nil || !again.Answer.Answered || again.EscalationID != "" {
		t.Errorf("after resolve the bot should answer: %+v", again)
	}
}

func containsMessage(e support.Escalation, from, text string) bool {
	for _, m := range e.Messages {
		if m.From == from && strings.Contains(m.Text, text) {
			return true
		}
	}
	return false
}

func TestCancelWithdrawsTheEscalation(t *testing.T) {
	r := newRig(t)
	res := r.say(t, "can I speak to a real person please")
	if res.EscalationID == "" {
		t.Fatal("asking for a person did not escalate")
	}
	cancel := only(t, r.say(t, "/cancel"))
	if !strings.Contains(cancel.Text, "back with askpa") {
		t.Errorf("cancel reply: %q", cancel.Text)
	}
	e, err := r.desk.Get(context.Background(), res.EscalationID)
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != support.StatusResolved {
		t.Errorf("escalation after cancel: %s", e.Status)
	}
	if c := r.conversation(t); c.Mode != bot.ModeBot || c.EscalationID != "" {
		t.Errorf("conversation after cancel: %+v", c)
	}
	if again := only(t, r.say(t, "/cancel")); !strings.Contains(again.Text, "nothing to cancel") {
		t.Errorf("second cancel: %q", again.Text)
	}
}

func TestUrgentMessageEscalatesAtOnce(t *testing.T) {
	r := newRig(t)
	res := r.say(t, "my carer keeps taking money from my purse and I'm scared of her")
	if res.Answer == nil || !res.Answer.Urgent || res.EscalationID == "" {
		t.Fatalf("safeguarding message: %+v", res.Answer)
	}
	e, _ := r.desk.Get(context.Background(), res.EscalationID)
	if e.Priority != support.PriorityUrgent || e.Reason != bot.ReasonSafeguarding {
		t.Errorf("escalation = %s %s", e.Priority, e.Reason)
	}
	reply := only(t, res)
	if !strings.Contains(reply.Text, "999") || !strings.Contains(reply.Text, "safeguarding") {
		t.Errorf("urgent reply lacks signposting: %q", reply.Text)
	}
	if hasButton(reply, bot.ActionHelpful) {
		t.Error("an urgent reply must not ask for feedback like a search answer")
	}
	// A new urgent message while waiting still gets signposting at once.
	more := r.say(t, "he has a knife and is threatening to kill her")
	if len(more.Replies) == 0 || !strings.Contains(more.Replies[0].Text, "999") {
		t.Fatalf("urgent message while waiting: %+v", more.Replies)
	}
	// Staff see it as the person did: their message, then that signposting.
	e, _ = r.desk.Get(context.Background(), res.EscalationID)
	n := len(e.Messages)
	if n < 2 || e.Messages[n-2].From != support.FromUser || !strings.Contains(e.Messages[n-2].Text, "knife") ||
		e.Messages[n-1].From != support.FromBot || e.Messages[n-1].Text != more.Replies[0].Text {
		t.Errorf("escalation ends %+v; want the message and then the signposting it got", e.Messages[max(0, n-2):])
	}
}

func TestRepeatedMissesOfferThenHandOver(t *testing.T) {
	r := newRig(t)
	// On the subject (a PA), so not off-topic, but nothing the guides say.
	questions := []string{"does a PA need a zebra telescope for knitting", "can my PA bring volcano saxophone origami", "can my PA teach xylophone velvet origami"}
	first := only(t, r.say(t, questions[0]))
	if strings.Contains(first.Text, "talk to a person on the support team") {
		t.Errorf("offered a person after one miss: %q", first.Text)
	}
	second := only(t, r.say(t, questions[1]))
	if !strings.Contains(second.Text, "Would you like to talk to a person") || !hasButton(second, bot.ActionHuman) {
		t.Errorf("no offer after two misses: %+v", second)
	}
	third := r.say(t, questions[2])
	if third.EscalationID == "" {
		t.Fatalf("three misses in a row did not hand over: %+v", third)
	}
	e, _ := r.desk.Get(context.Background(), third.EscalationID)
	if e.Reason != bot.ReasonLowConfidence {
		t.Errorf("reason = %q", e.Reason)
	}
}

// TestMessagesSentTogetherAreHandledInTurn checks that three misses sent
// at once by one person (two browser tabs, a double tap) are counted as
// three, so that the conversation is handed over once, as if they came one
// by one.
func TestMessagesSentTogetherAreHandledInTurn(t *testing.T) {
	r := newRig(t)
	questions := []string{"does a PA need a zebra telescope for knitting", "can my PA bring volcano saxophone origami", "can my PA teach xylophone velvet origami"}
	results := make(chan bot.Result, len(questions))
	var wg sync.WaitGroup
	for _, q := range questions {
		wg.Go(func() {
			res, err := r.svc.Handle(context.Background(), bot.Message{Address: r.addr, Text: q})
			if err != nil {
				t.Errorf("Handle(%q): %v", q, err)
			}
			results <- res
		})
	}
	wg.Wait()
	close(results)
	var escalations []string
	for res := range results {
		if res.EscalationID != "" {
			escalations = append(escalations, res.EscalationID)
		}
	}
	if len(escalations) != 1 {
		t.Fatalf("three misses sent together were handed over %d times; want once, on the third", len(escalations))
	}
	if c := r.conversation(t); c.Mode == bot.ModeBot {
		t.Errorf("after three misses the conversation is still with the bot (%d misses counted)", c.Misses)
	}
}

func TestGreetingIsNotAMiss(t *testing.T) {
	r := newRig(t)
	for _, m := range []string{"hello", "thanks", "hi there", "cheers"} {
		res := r.say(t, m)
		if res.EscalationID != "" || len(res.Replies) != 1 {
			t.Errorf("%q: %+v", m, res)
		}
	}
	if c := r.conversation(t); c.Misses != 0 {
		t.Errorf("greetings counted as %d misses", c.Misses)
	}
}

func TestTopicsAndAudience(t *testing.T) {
	r := newRig(t)
	topics := only(t, r.say(t, "/topics"))
	if !hasButton(topics, bot.ActionTopic+"holiday") {
		t.Fatalf("topics menu lacks holiday: %+v", topics.Buttons)
	}
	holiday := only(t, r.press(t, bot.ActionTopic+"holiday"))
	if len(holiday.Buttons) == 0 {
		t.Fatal("holiday topic offers nothing")
	}
	passage := only(t, r.press(t, holiday.Buttons[0][0].Action))
	if !hasButton(passage, bot.ActionHelpful) || passage.Text == "" {
		t.Errorf("passage from a topic: %+v", passage)
	}

	// Choosing PA changes what is found: PA-only guides become visible.
	only(t, r.press(t, bot.ActionAudience+"pa"))
	if c := r.conversation(t); c.Audience != knowledge.PA || !c.AudienceChosen {
		t.Errorf("audience after choosing PA: %+v", c)
	}
	// Every passage a topic offers a PA may be shown to them: "pay" holds a
	// guide for both whose first section speaks to employers.
	for _, tp := range realEngine(t).Base().Topics {
		if !knowledge.PA.Sees(tp.Audience) {
			continue
		}
		for _, row := range only(t, r.press(t, bot.ActionTopic+tp.ID)).Buttons {
			for _, b := range row {
				if !strings.HasPrefix(b.Action, bot.ActionPassage) {
					continue
				}
				res := r.press(t, b.Action)
				if res.Answer == nil {
					t.Fatalf("topic %s, button %q: no passage", tp.ID, b.Label)
				}
				if p, _ := realEngine(t).Base().Passage(res.Answer.PassageID); !knowledge.PA.Sees(p.Audience()) {
					t.Errorf("topic %s offers a PA %s, which speaks to employers", tp.ID, res.Answer.PassageID)
				}
			}
		}
	}
	res := r.say(t, "how much sick pay will I get")
	if res.Answer == nil || res.Answer.Audience != knowledge.PA {
		t.Fatalf("answer audience: %+v", res.Answer)
	}
	for _, s := range res.Answer.Sources {
		if d := realEngine(t).Base().Document(s.ID); d.Audience == knowledge.Employer {
			t.Errorf("a PA was shown an employer-only guide: %s", s.ID)
		}
	}
}

func TestStaffReplyFailureIsRecorded(t *testing.T) {
	r := newRig(t)
	res := r.say(t, "/human")
	r.channel.fail = support.Permanent(context.DeadlineExceeded)
	if _, err := r.desk.Reply(context.Background(), res.EscalationID, "sam", "Hello"); err != nil {
		t.Fatal(err)
	}
	r.deliver(t)
	e, _ := r.desk.Get(context.Background(), res.EscalationID)
	last := e.Messages[len(e.Messages)-1]
	if last.Delivery != support.DeliveryFailed || last.DeliveryError == "" {
		t.Errorf("undeliverable reply: %+v", last)
	}
}

func TestLongMessageIsCut(t *testing.T) {
	r := newRig(t)
	res := r.say(t, "holiday "+strings.Repeat("a", 10000))
	if len(res.Replies) == 0 {
		t.Fatal("no reply to a long message")
	}
	turns, err := r.store.Turns(context.Background(), res.ConversationID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(turns[0].Text); n > 4000 {
		t.Errorf("stored %d characters of one message", n)
	}
}

// TestMessageWithNULIsKept checks that a message with a NUL character and
// invalid UTF-8 is answered and recorded, cleaned, not refused.
func TestMessageWithNULIsKept(t *testing.T) {
	r := newRig(t)
	res := r.say(t, "how much holiday does my PA get\x00 if she works \xff three days")
	if len(res.Replies) == 0 {
		t.Fatal("no reply")
	}
	turns, err := r.store.Turns(context.Background(), res.ConversationID, 10)
	if err != nil || len(turns) == 0 || strings.ContainsRune(turns[0].Text, 0) || !utf8.ValidString(turns[0].Text) {
		t.Errorf("recorded %+v, %v; want the message kept without NUL, valid UTF-8", turns, err)
	}
}

// TestMessageHandledAgainAfterACrash checks that a message handed over
// once and then handled again (its process died after saving, before
// sending the reply) is neither handed over nor passed to staff twice, and
// that the person is told again that a person will reply.
func TestMessageHandledAgainAfterACrash(t *testing.T) {
	r := newRig(t)
	m := bot.Message{Address: r.addr, Text: "I need to speak to a person please", ID: "100170"}
	first, err := r.svc.Handle(context.Background(), m)
	if err != nil || first.EscalationID == "" {
		t.Fatalf("first handling: %+v, %v; want a hand-over", first, err)
	}
	again, err := r.svc.Handle(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Replies) != 1 || !strings.Contains(again.Replies[0].Text, "person") {
		t.Errorf("handled again, the person was told %+v; want the hand-over confirmed again", again.Replies)
	}
	e, err := r.desk.Get(context.Background(), first.EscalationID)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := r.sqlite.List(context.Background(), support.ListQuery{Limit: 10})
	if len(list) != 1 {
		t.Errorf("%d escalations; want the one", len(list))
	}
	n := 0
	for _, msg := range e.Messages {
		if msg.Text == m.Text {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the message reached staff %d times; want once", n)
	}
}
