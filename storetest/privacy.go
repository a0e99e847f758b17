package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/retention"
	"github.com/askpa/askpa/support"
)

// privacyNow is "now" in the retention and privacy tests.
var privacyNow = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// conversationAt makes the conversation of user on channel, last written
// in at last, in mode, with turns at the given times (each from the person,
// "turn N"), and returns it.
func conversationAt(t testing.TB, s Store, channel, user string, last time.Time, mode bot.Mode, turns ...time.Time) bot.Conversation {
	t.Helper()
	ctx := context.Background()
	addr := bot.Address{Channel: channel, UserID: user, ChatID: user}
	c, err := s.Conversation(ctx, addr, "employer", last)
	if err != nil {
		t.Fatal(err)
	}
	for i, at := range turns {
		if err := s.AppendTurn(ctx, c.ID, bot.Turn{From: bot.FromUser, Text: fmt.Sprintf("%s turn %d", user, i), At: at}); err != nil {
			t.Fatal(err)
		}
	}
	c.Mode, c.LastQuestion, c.LastPassageID, c.UpdatedAt = mode, user+" asked something", "doc#a", last
	if mode != bot.ModeBot {
		c.EscalationID = "esc-" + user
	}
	if err := s.SaveConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func turnCount(t testing.TB, s Store, id string) int {
	t.Helper()
	ts, err := s.Turns(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(ts)
}

// testPurge checks that a purge removes exactly what is past each cutoff,
// and nothing newer or still open, in small batches; and that a second
// purge finds nothing.
func testPurge(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	pol := retention.DefaultPolicy()
	cut := pol.Cutoffs(privacyNow)
	old := privacyNow.Add(-40 * day)

	// Conversations: idle in bot mode (goes), long-running (loses its old
	// turn only), idle but with staff (kept without its text), just inside
	// the period (kept).
	idle := conversationAt(t, s, "telegram", "idle", old, bot.ModeBot, old, old.Add(time.Second), old.Add(2*time.Second))
	long := conversationAt(t, s, "telegram", "long", privacyNow.Add(-day), bot.ModeBot, old, privacyNow.Add(-day))
	waiting := conversationAt(t, s, "slack", "waiting", old, bot.ModeWaiting, old, old.Add(time.Minute))
	edge := conversationAt(t, s, "web", "edge", cut.Conversations.Add(time.Second), bot.ModeBot, cut.Conversations.Add(time.Second))
	for _, f := range []bot.Feedback{
		{ConversationID: idle.ID, PassageID: "doc#a", Helpful: true, At: old},
		{ConversationID: long.ID, PassageID: "doc#b", Helpful: false, At: privacyNow.Add(-day)},
	} {
		if err := s.RecordFeedback(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	// The question log: the idle conversation's goes with it; the long
	// one's loses its 40-day-old question; the waiting one's goes with its
	// text; the edge one's stays.
	for _, q := range []bot.QuestionEvent{
		{ConversationID: idle.ID, At: old.Add(time.Second), Outcome: bot.OutcomeUnanswered, Text: "idle question"},
		{ConversationID: long.ID, At: old, Outcome: bot.OutcomeUnanswered, Text: "long old question"},
		{ConversationID: long.ID, At: privacyNow.Add(-day), Outcome: bot.OutcomeAnswered, Text: "long new question"},
		{ConversationID: waiting.ID, At: cut.Conversations.Add(time.Hour), Outcome: bot.OutcomeEscalated, Text: "waiting question"},
		{ConversationID: edge.ID, At: cut.Conversations.Add(time.Second), Outcome: bot.OutcomeUnanswered, Text: "edge question"},
	} {
		q.Audience = "employer"
		if err := s.RecordQuestion(ctx, q); err != nil {
			t.Fatal(err)
		}
	}

	// Escalations: resolved 400 days ago (goes, with its outbox rows),
	// resolved 300 days ago (stays; its delivered payloads are cleared),
	// open since 400 days ago (stays), and one with pending deliveries
	// from 10 days ago (left alone).
	c := newClock()
	c.now = privacyNow.Add(-400 * day)
	r := newRig(t, s, c, "purge")
	gone := escalate(t, r, "gone", support.PriorityNormal)
	noErr(t)(r.desk.Resolve(ctx, gone.ID, "alex"))
	stillOpen := escalate(t, r, "still-open", support.PriorityUrgent)
	drain(t, r.disp)
	c.Add(100 * day)
	kept := escalate(t, r, "kept", support.PriorityNormal)
	noErr(t)(r.desk.Resolve(ctx, kept.ID, "alex"))
	drain(t, r.disp)
	c.now = privacyNow.Add(-10 * day)
	pending := escalate(t, r, "pending", support.PriorityNormal)
	rowsOf := func(id string) []support.Delivery {
		t.Helper()
		ds, err := s.Deliveries(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	goneRows, clearedRows := len(rowsOf(gone.ID)), len(rowsOf(kept.ID))+len(rowsOf(stillOpen.ID))
	if goneRows == 0 || clearedRows == 0 || len(rowsOf(pending.ID)) == 0 {
		t.Fatal("the escalations have no outbox rows to purge")
	}

	// De-duplication keys, mailboxes, sessions and the intake.
	for _, d := range []struct {
		id string
		at time.Time
	}{{"old", privacyNow.Add(-4 * day)}, {"new", privacyNow.Add(-2 * day)}} {
		if first, err := s.FirstDelivery(ctx, "telegram", d.id, d.at); err != nil || !first {
			t.Fatalf("FirstDelivery: %v, %v", first, err)
		}
	}
	receive(t, s, "telegram", "in-1", "idle", privacyNow.Add(-100*day)) // its seen row goes, the delivery stays
	for _, m := range []bot.MailMessage{{From: bot.FromStaff, Text: "old reply", At: privacyNow.Add(-31 * day)}, {From: bot.FromStaff, Text: "new reply", At: privacyNow.Add(-29 * day)}} {
		if _, err := s.Post(ctx, "web-mail", m); err != nil {
			t.Fatal(err)
		}
	}
	for _, ws := range []bot.WebSession{
		{TokenHash: bot.WebTokenHash("expired"), UserID: "web-a", CreatedAt: old, LastUsedAt: old, ExpiresAt: privacyNow.Add(-time.Second)},
		{TokenHash: bot.WebTokenHash("live"), UserID: "web-b", CreatedAt: old, LastUsedAt: old, ExpiresAt: privacyNow.Add(time.Hour)},
	} {
		if err := s.CreateWebSession(ctx, ws); err != nil {
			t.Fatal(err)
		}
	}

	got, err := s.Purge(ctx, cut, 2) // small batches: every kind takes several
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	want := retention.Counts{
		Turns: 3 + 1 + 2, Feedback: 1, Questions: 3, Conversations: 1, ConversationsCleared: 1,
		Escalations: 1, Deliveries: int64(goneRows), Payloads: int64(clearedRows),
		Seen: 2, Mail: 1, WebSessions: 1,
	}
	if got != want {
		t.Errorf("Purge removed\n%+v\nwant\n%+v", got, want)
	}

	if _, err := s.ConversationByID(ctx, idle.ID); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("the idle conversation is still there (%v)", err)
	}
	if n := turnCount(t, s, idle.ID); n != 0 {
		t.Errorf("the idle conversation kept %d turns", n)
	}
	if lc, err := s.ConversationByID(ctx, long.ID); err != nil || lc.LastQuestion == "" || turnCount(t, s, long.ID) != 1 {
		t.Errorf("the long-running conversation: %+v, %v, %d turns; want it whole but for its 40-day-old turn", lc, err, turnCount(t, s, long.ID))
	}
	wc, err := s.ConversationByID(ctx, waiting.ID)
	if err != nil || wc.Mode != bot.ModeWaiting || wc.EscalationID != waiting.EscalationID || wc.LastQuestion != "" || wc.LastPassageID != "" || wc.Address != waiting.Address {
		t.Errorf("the idle conversation with staff: %+v, %v; want it kept, still waiting, without its last question", wc, err)
	}
	if n := turnCount(t, s, waiting.ID); n != 0 {
		t.Errorf("the idle conversation with staff kept %d turns", n)
	}
	if ec, err := s.ConversationByID(ctx, edge.ID); err != nil || ec.LastQuestion == "" || turnCount(t, s, edge.ID) != 1 {
		t.Errorf("the conversation a second inside the period: %+v, %v; want it untouched", ec, err)
	}

	if qs := questionTexts(t, s); !slices.Equal(qs, []string{"edge question", "long new question"}) {
		t.Errorf("the question log after the purge: %q; want the edge conversation's and the long one's recent question", qs)
	}

	if _, err := s.Get(ctx, gone.ID); !errors.Is(err, support.ErrNotFound) {
		t.Errorf("the escalation resolved 400 days ago is still there (%v)", err)
	}
	if n := len(rowsOf(gone.ID)); n != 0 {
		t.Errorf("the purged escalation kept %d outbox rows", n)
	}
	for _, e := range []support.Escalation{kept, stillOpen, pending} {
		if _, err := s.Get(ctx, e.ID); err != nil {
			t.Errorf("escalation %s (%s) was purged: %v", e.ID, e.Address.UserID, err)
		}
	}
	for _, d := range append(rowsOf(kept.ID), rowsOf(stillOpen.ID)...) {
		if d.Event.Name == "" || d.Event.DeliveryID != d.ID || d.Event.Escalation.ID != "" || d.Status != support.DeliveryDelivered {
			t.Errorf("a settled row after its payload was cleared: %+v; want its event name and delivery id only", d)
		}
	}
	for _, d := range rowsOf(pending.ID) {
		if d.Status != support.DeliveryPending || d.Event.Escalation.ID != pending.ID || len(d.Event.Escalation.Messages) == 0 {
			t.Errorf("a pending row was touched: %+v", d)
		}
	}

	if ms, err := s.Since(ctx, "web-mail", 0, 10); err != nil || len(ms) != 1 || ms[0].Text != "new reply" {
		t.Errorf("mailbox after the purge: %+v, %v; want the 29-day-old reply only", ms, err)
	}
	if n, err := s.Post(ctx, "web-mail", bot.MailMessage{From: bot.FromBot, Text: "next", At: privacyNow}); err != nil || n != 3 {
		t.Errorf("the next mailbox message is number %d (%v), want 3: numbers are never reused", n, err)
	}
	if _, err := s.WebSession(ctx, bot.WebTokenHash("live"), privacyNow); err != nil {
		t.Errorf("a live session was purged: %v", err)
	}
	if ids, _ := leaseIDs(t, s, "telegram", "w", privacyNow, 10); !slices.Equal(ids, []string{"in-1"}) {
		t.Errorf("the intake after the purge: %v; want the unhandled delivery kept", ids)
	}

	again, err := s.Purge(ctx, cut, 2)
	if err != nil || again != (retention.Counts{}) {
		t.Errorf("a second purge removed %+v (%v); want nothing", again, err)
	}
	if first, _ := s.FirstDelivery(ctx, "telegram", "old", privacyNow); !first {
		t.Error("the 4-day-old de-duplication key survived the purge")
	}
	if first, _ := s.FirstDelivery(ctx, "telegram", "new", privacyNow); first {
		t.Error("the 2-day-old de-duplication key was purged")
	}
	// A kept conversation written in again is looked at afresh.
	wc.UpdatedAt = privacyNow.Add(-35 * day)
	if err := s.SaveConversation(ctx, wc); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Purge(ctx, cut, 2); err != nil || n.ConversationsCleared != 1 {
		t.Errorf("purge after a save: %+v, %v; want the conversation cleared again", n, err)
	}
}

// privacyRig is a desk and a Privacy on one store.
type privacyRig struct {
	*rig
	s  Store
	pv *bot.Privacy
}

func newPrivacyRig(t *testing.T, s Store) *privacyRig {
	t.Helper()
	c := newClock()
	c.now = privacyNow.Add(-day)
	r := newRig(t, s, c, "privacy")
	pv, err := bot.NewPrivacy(bot.PrivacyConfig{Store: s, Desk: r.desk, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &privacyRig{rig: r, s: s, pv: pv}
}

// person gives user on channel a conversation with two messages of their
// own (their phone number among them) and a bot reply, a feedback, a
// question in the question log, and an
// escalation carrying the conversation, with a staff reply and a further
// message from the person. It returns the escalation.
func (p *privacyRig) person(t *testing.T, channel, user string) support.Escalation {
	t.Helper()
	ctx := context.Background()
	now := p.clock.Now()
	addr := bot.Address{Channel: channel, UserID: user, ChatID: user}
	c, err := p.s.Conversation(ctx, addr, "employer", now)
	if err != nil {
		t.Fatal(err)
	}
	turns := []bot.Turn{
		{From: bot.FromUser, Text: user + " secret: my PA hurt me", At: now},
		{From: bot.FromBot, Text: "Call 999 if you are in danger.", At: now},
		{From: bot.FromUser, Text: user + " secret: call me on 07700 900123", At: now},
	}
	var msgs []support.Message
	for _, tn := range turns {
		if err := p.s.AppendTurn(ctx, c.ID, tn); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, support.Message{From: tn.From, Text: tn.Text, At: tn.At})
	}
	if err := p.s.RecordFeedback(ctx, bot.Feedback{ConversationID: c.ID, PassageID: "doc#safe", Helpful: true, At: now}); err != nil {
		t.Fatal(err)
	}
	if err := p.s.RecordQuestion(ctx, bot.QuestionEvent{ConversationID: c.ID, At: now, Audience: "employer", Outcome: bot.OutcomeUnanswered,
		Reason: bot.ReasonLowConfidence, Text: user + " secret: how do I report it?"}); err != nil {
		t.Fatal(err)
	}
	e, err := p.desk.Escalate(ctx, support.NewEscalation{
		ConversationID: c.ID, Address: support.Address{Channel: channel, UserID: user, ChatID: user},
		Audience: "employer", Reason: "safeguarding", Priority: support.PriorityUrgent,
		Summary:  "URGENT: possible safeguarding concern. Last question: " + user + " secret: call me on 07700 900123",
		Messages: msgs,
		Safety:   &support.SafetyAssessment{Kind: "abuse", Level: "urgent", Probability: 0.9, By: "model"},
	})
	if err != nil {
		t.Fatal(err)
	}
	noErr(t)(p.desk.Reply(ctx, e.ID, "alex", "We will ring you today."))
	if err := p.desk.AddPersonMessage(ctx, e.ID, user+" secret: thank you", now); err != nil {
		t.Fatal(err)
	}
	c.Mode, c.EscalationID, c.LastQuestion, c.UpdatedAt = bot.ModeHuman, e.ID, user+" secret: call me", now
	if err := p.s.SaveConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	e, err = p.s.Get(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// holds reports whether anything stored about e (the escalation, or any
// of its outbox rows' copies of it) still says text.
func holds(t *testing.T, s Store, id, text string) bool {
	t.Helper()
	e, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fmt.Sprintf("%+v", e), text) {
		return true
	}
	ds, err := s.Deliveries(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if strings.Contains(fmt.Sprintf("%+v %+v", d.Event.Escalation, d.Event.Message), text) {
			return true
		}
	}
	return false
}

// testForget checks erasure: everything held about one person goes,
// everywhere (conversation, turns, feedback, intake, mailbox, sessions,
// their words in escalations and in the outbox's copies), the escalation
// stays for staff with an audit line and without content, nobody else's
// data is touched, and a second erasure changes nothing.
func testForget(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	p := newPrivacyRig(t, s)
	alice := p.person(t, "telegram", "alice")
	bob := p.person(t, "telegram", "bob")
	carol := p.person(t, "web", "web-carol")
	// An older escalation of alice's, already resolved.
	older, err := p.desk.Escalate(ctx, support.NewEscalation{ConversationID: "old", Address: support.Address{Channel: "telegram", UserID: "alice", ChatID: "alice"},
		Reason: "requested", Summary: "Asked to talk to a person. Last question: alice secret: old", Messages: []support.Message{{From: support.FromUser, Text: "alice secret: old"}}})
	if err != nil {
		t.Fatal(err)
	}
	noErr(t)(p.desk.Resolve(ctx, older.ID, "sam"))
	drain(t, p.disp)
	relayed := len(p.relay.states)

	// Alice has two deliveries waiting: one a worker holds, one not yet
	// taken; bob one.
	now := privacyNow
	receive(t, s, "telegram", "a-1", "alice", now.Add(-time.Minute))
	receive(t, s, "telegram", "a-2", "alice", now.Add(-time.Second))
	receive(t, s, "telegram", "b-1", "bob", now)
	ids, held := leaseIDs(t, s, "telegram", "worker", now, 1)
	if !slices.Equal(ids, []string{"a-1"}) {
		t.Fatalf("leased %v, want a-1", ids)
	}
	// Carol and another web user have mailboxes and sessions.
	for _, u := range []string{"web-carol", "web-dan"} {
		if _, err := s.Post(ctx, u, bot.MailMessage{From: bot.FromStaff, Text: u + " secret: reply", At: now}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateWebSession(ctx, bot.WebSession{TokenHash: bot.WebTokenHash(u), UserID: u, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(day)}); err != nil {
			t.Fatal(err)
		}
	}
	bobBefore, err := p.pv.Export(ctx, bot.Person{Channel: "telegram", UserID: "bob"})
	if err != nil {
		t.Fatal(err)
	}

	er, err := p.pv.Forget(ctx, bot.Person{Channel: "telegram", UserID: "alice"})
	if err != nil {
		t.Fatalf("Forget: %v", err)
	}
	if er.Conversations != 1 || er.Messages != 3 || er.Feedback != 1 || er.Unhandled != 1 || er.Mailbox != 0 ||
		er.Escalations != 2 || er.Erasure.Messages != 4 || er.Withdrawn != 1 || er.Deliveries == 0 {
		t.Errorf("Forget(alice) = %+v; want 1 conversation, 3 messages, 1 feedback, 1 unhandled delivery, 2 escalations with 4 messages erased, 1 withdrawn, some deliveries rewritten", er)
	}

	if f, err := s.ForgetPerson(ctx, bot.Person{Channel: "telegram", UserID: "alice"}, now); err != nil || f.Questions != 0 {
		t.Errorf("a second ForgetPerson(alice) deleted %d questions (%v); the first should have taken them", f.Questions, err)
	}
	if qs := questionTexts(t, s); slices.ContainsFunc(qs, func(q string) bool { return strings.Contains(q, "alice secret") }) ||
		!slices.Contains(qs, "bob secret: how do I report it?") {
		t.Errorf("the question log after alice's erasure: %q; want bob's question and none of alice's", qs)
	}

	// Her conversation is gone: her next message starts a new one.
	c, err := s.Conversation(ctx, bot.Address{Channel: "telegram", UserID: "alice", ChatID: "alice"}, "pa", now)
	if err != nil || c.ID == alice.ConversationID || c.Audience != "pa" || turnCount(t, s, alice.ConversationID) != 0 {
		t.Errorf("alice's conversation after erasure: %+v, %v; want a new one, and no turns left of the old", c, err)
	}
	// Her escalations stay, withdrawn, without a word of hers.
	for _, id := range []string{alice.ID, older.ID} {
		e, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if holds(t, s, id, "alice secret") || holds(t, s, id, "07700") {
			t.Errorf("escalation %s still holds alice's words: %+v", id, e)
		}
		if e.Status != support.StatusResolved || e.Summary != support.ErasedText {
			t.Errorf("escalation %s after erasure: status %s, summary %q", id, e.Status, e.Summary)
		}
		last := e.Audit[len(e.Audit)-1]
		if last.Who != support.ByPerson || !strings.Contains(last.What, "erased at their request") {
			t.Errorf("escalation %s's last audit line %+v; want the person's erasure", id, last)
		}
		for _, m := range e.Messages {
			if (m.From == support.FromUser) != (m.Text == support.ErasedText) {
				t.Errorf("escalation %s message %d from %s: %q", id, m.Seq, m.From, m.Text)
			}
		}
	}
	if e, _ := s.Get(ctx, alice.ID); e.Safety == nil || len(e.Messages) != len(alice.Messages) {
		t.Errorf("staff lost the shape of the escalation: %+v", e)
	}
	if evs := deliveriesFor(t, s, alice.ID, "webhook:test"); evs[len(evs)-1] != support.EventResolved {
		t.Errorf("webhook events of alice's escalation %v; want the withdrawal told last", evs)
	}
	drain(t, p.disp)
	if len(p.relay.states) != relayed {
		t.Errorf("the relay was told of the withdrawal (%v): the bot must not be told what the person did", p.relay.states)
	}
	// Only her waiting delivery went; the one being handled is removed
	// when done.
	if err := s.Done(ctx, held[0].Seq, "worker"); err != nil {
		t.Fatalf("the worker could not settle the delivery it held: %v", err)
	}
	if ids, _ := leaseIDs(t, s, "telegram", "w2", now, 10); !slices.Equal(ids, []string{"b-1"}) {
		t.Errorf("intake after erasure: %v; want bob's delivery only", ids)
	}

	// Nobody else lost anything.
	bobAfter, err := p.pv.Export(ctx, bot.Person{Channel: "telegram", UserID: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	bobAfter.ExportedAt = bobBefore.ExportedAt
	before, _ := json.Marshal(bobBefore)
	after, _ := json.Marshal(bobAfter)
	if string(before) != string(after) || !holds(t, s, bob.ID, "bob secret") {
		t.Errorf("bob's data changed:\nbefore %s\nafter  %s", before, after)
	}

	// A web user's mailbox and sessions go too, and only theirs.
	er, err = p.pv.Forget(ctx, bot.Person{Channel: "web", UserID: "web-carol"})
	if err != nil || er.Mailbox != 1 || er.WebSessions != 1 || er.Escalations != 1 {
		t.Errorf("Forget(web-carol) = %+v, %v; want her mailbox message, session and escalation", er, err)
	}
	if ms, _ := s.Since(ctx, "web-carol", 0, 10); len(ms) != 0 {
		t.Errorf("carol's mailbox after erasure: %+v", ms)
	}
	if _, err := s.WebSession(ctx, bot.WebTokenHash("web-carol"), now); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("carol's session after erasure: %v", err)
	}
	if ms, _ := s.Since(ctx, "web-dan", 0, 10); len(ms) != 1 {
		t.Errorf("dan's mailbox after carol's erasure: %+v", ms)
	}
	if _, err := s.WebSession(ctx, bot.WebTokenHash("web-dan"), now); err != nil {
		t.Errorf("dan's session after carol's erasure: %v", err)
	}
	if holds(t, s, carol.ID, "web-carol secret") {
		t.Error("carol's escalation still holds her words")
	}

	// Again: nothing more to erase, and no error while escalations show
	// the erasure; a person never known is not found.
	again, err := p.pv.Forget(ctx, bot.Person{Channel: "telegram", UserID: "alice"})
	if err != nil || again.Escalations != 2 || again.Erasure.Messages != 0 || again.Withdrawn != 0 || again.Deliveries != 0 || again.Messages != 0 {
		t.Errorf("a second Forget(alice) = %+v, %v; want the two escalations found and nothing changed", again, err)
	}
	if _, err := p.pv.Forget(ctx, bot.Person{Channel: "slack", UserID: "U-never"}); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Forget of someone never known: %v, want bot.ErrNotFound", err)
	}
	if _, err := p.pv.Forget(ctx, bot.Person{Channel: "fax", UserID: "alice"}); !errors.Is(err, bot.ErrInvalidPerson) {
		t.Errorf("Forget on an unknown channel: %v, want bot.ErrInvalidPerson", err)
	}
	// Erased words are not training data.
	if _, err := p.desk.LabelSafety(ctx, alice.ID, "alex", true, "", ""); err != nil {
		t.Fatal(err)
	}
	for l, err := range p.desk.SafetyLabels(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if l.EscalationID == alice.ID {
			t.Error("an erased escalation was exported for training")
		}
	}
}

// testExport checks that a person's export holds everything stored about
// them, and nothing about anyone else.
func testExport(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	p := newPrivacyRig(t, s)
	e := p.person(t, "web", "web-erin")
	p.person(t, "web", "web-frank")
	now := privacyNow
	if _, err := s.Post(ctx, "web-erin", bot.MailMessage{From: bot.FromStaff, Text: "We will ring you today.", At: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateWebSession(ctx, bot.WebSession{TokenHash: bot.WebTokenHash("erin"), UserID: "web-erin", CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(day)}); err != nil {
		t.Fatal(err)
	}
	x, err := p.pv.Export(ctx, bot.Person{Channel: "web", UserID: "web-erin"})
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	if x.Channel != "web" || x.User != "web-erin" || len(x.Conversations) != 1 {
		t.Fatalf("export %+v; want erin's one conversation", x)
	}
	conv := x.Conversations[0]
	var texts []string
	for _, tn := range conv.Turns {
		texts = append(texts, tn.From+": "+tn.Text)
	}
	want := []string{"user: web-erin secret: my PA hurt me", "bot: Call 999 if you are in danger.", "user: web-erin secret: call me on 07700 900123"}
	if !slices.Equal(texts, want) || conv.ID != e.ConversationID || conv.Mode != bot.ModeHuman || conv.EscalationID != e.ID {
		t.Errorf("exported conversation %+v with turns %q; want %q", conv, texts, want)
	}
	if len(conv.Feedback) != 1 || conv.Feedback[0].PassageID != "doc#safe" || !conv.Feedback[0].Helpful {
		t.Errorf("exported feedback %+v", conv.Feedback)
	}
	if len(conv.Questions) != 1 || conv.Questions[0].Text != "web-erin secret: how do I report it?" || conv.Questions[0].Outcome != bot.OutcomeUnanswered {
		t.Errorf("exported questions %+v; want her one unanswered question", conv.Questions)
	}
	if len(x.Escalations) != 1 {
		t.Fatalf("exported %d escalations, want 1", len(x.Escalations))
	}
	xe := x.Escalations[0]
	if xe.ID != e.ID || len(xe.Messages) != 5 || xe.Messages[3].From != support.FromStaff || xe.Messages[4].Text != "web-erin secret: thank you" ||
		len(xe.Audit) < 3 || xe.Safety == nil {
		t.Errorf("exported escalation %+v; want its 5 messages (staff reply, then hers), its audit trail and safety assessment", xe)
	}
	if len(x.Mailbox) != 1 || x.Mailbox[0].Text != "We will ring you today." || len(x.WebSessions) != 1 || !x.WebSessions[0].ExpiresAt.Equal(now.Add(day)) {
		t.Errorf("exported mailbox %+v and sessions %+v", x.Mailbox, x.WebSessions)
	}
	if strings.Contains(fmt.Sprintf("%+v", x), "web-frank") {
		t.Error("erin's export holds frank's data")
	}
	if _, err := p.pv.Export(ctx, bot.Person{Channel: "telegram", UserID: "web-erin"}); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("export of the same id on another channel: %v, want bot.ErrNotFound", err)
	}
	if _, err := p.pv.Export(ctx, bot.Person{Channel: "web", UserID: ""}); !errors.Is(err, bot.ErrInvalidPerson) {
		t.Errorf("export without a user: %v, want bot.ErrInvalidPerson", err)
	}
}

// purgeBacklog is one round of benchPurge's backlog: conversations and the
// turns of each, de-duplication keys, mailbox messages, expired sessions.
const (
	backlogConversations = 100
	backlogTurns         = 60
	backlogSeen          = 2000
	backlogMail          = 1000
	backlogSessions      = 500
)

// seedBacklog writes one round of records past every cutoff, from 8
// goroutines.
func seedBacklog(b *testing.B, s Store, round int, old time.Time) {
	ctx := context.Background()
	jobs := make(chan func() error, 64)
	var wg sync.WaitGroup
	var failed atomic.Value
	for range 8 {
		wg.Go(func() {
			for j := range jobs {
				if err := j(); err != nil {
					failed.Store(err)
				}
			}
		})
	}
	for c := range backlogConversations {
		jobs <- func() error {
			addr := bot.Address{Channel: "telegram", UserID: fmt.Sprintf("b%d-%d", round, c)}
			conv, err := s.Conversation(ctx, addr, "employer", old)
			if err != nil {
				return err
			}
			for i := range backlogTurns {
				if err := s.AppendTurn(ctx, conv.ID, bot.Turn{From: bot.FromUser, Text: "a question of some length, as people type them", At: old.Add(time.Duration(i) * time.Second)}); err != nil {
					return err
				}
			}
			return s.RecordFeedback(ctx, bot.Feedback{ConversationID: conv.ID, PassageID: "doc#a", Helpful: true, At: old})
		}
	}
	for i := range backlogSeen {
		jobs <- func() error {
			_, err := s.FirstDelivery(ctx, "telegram", fmt.Sprintf("%d-%d", round, i), old)
			return err
		}
	}
	for i := range backlogMail {
		jobs <- func() error {
			_, err := s.Post(ctx, fmt.Sprintf("web-%d-%d", round, i%50), bot.MailMessage{From: bot.FromStaff, Text: "a reply", At: old})
			return err
		}
	}
	for i := range backlogSessions {
		jobs <- func() error {
			return s.CreateWebSession(ctx, bot.WebSession{TokenHash: bot.WebTokenHash(fmt.Sprintf("%d-%d", round, i)), UserID: "web", CreatedAt: old, LastUsedAt: old, ExpiresAt: old})
		}
	}
	close(jobs)
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
}

// benchPurge measures the purge's throughput, in rows removed a second:
// each round seeds a backlog of 9,800 rows past their cutoffs (6,000
// turns, 100 feedback, 100 conversations, 2,000 de-duplication keys,
// 1,000 mailbox messages, 500 expired sessions) and purges it in
// transactions of 500 rows.
func benchPurge(b *testing.B, newDB BenchNewDB) {
	s := open(b, newDB(b))
	ctx := context.Background()
	cut := retention.DefaultPolicy().Cutoffs(privacyNow)
	old := privacyNow.Add(-40 * day)
	want := int64(backlogConversations*(backlogTurns+2) + backlogSeen + backlogMail + backlogSessions)
	var rows int64
	var took time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		seedBacklog(b, s, i, old)
		b.StartTimer()
		start := time.Now()
		n, err := s.Purge(ctx, cut, 500)
		took += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if n.Total() != want {
			b.Fatalf("purged %+v (%d rows), want %d rows", n, n.Total(), want)
		}
		rows += n.Total()
	}
	b.ReportMetric(float64(rows)/took.Seconds(), "rows/s")
}
