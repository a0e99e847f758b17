package slack

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/sqlite"
	"github.com/askpa/askpa/support"
)

const (
	supportChannel = "CSUPPORT"
	staffSam       = "USAM0001"
	staffAlex      = "UALEX001"
)

// staffRoom is the support channel wired as in production: a real desk and
// outbox on SQLite, with the channel's SupportTarget among its targets.
type staffRoom struct {
	*harness
	store *sqlite.Store
	desk  *support.Desk
	disp  *support.Dispatcher
}

func newStaffRoom(t *testing.T, store *sqlite.Store, p *peer) *staffRoom {
	t.Helper()
	ctx := context.Background()
	if store == nil {
		var err error
		if store, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "askpa.db")); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
	}
	if p == nil {
		p = newPeer(t)
	}
	h := newHarnessOn(t, p, func(c *Config) { c.SupportChannel = supportChannel })
	h.peer.users[staffSam] = "Sam Staff"
	h.peer.users[staffAlex] = "Alex Other"
	desk, err := support.NewDesk(support.Config{Store: store, Targets: []support.Target{h.ch.SupportTarget()}})
	if err != nil {
		t.Fatal(err)
	}
	h.ch.SetDesk(desk)
	disp, err := support.NewDispatcher(support.DispatcherConfig{Store: store, Targets: desk.Targets()})
	if err != nil {
		t.Fatal(err)
	}
	return &staffRoom{harness: h, store: store, desk: desk, disp: disp}
}

// deliver runs the outbox once, as the dispatcher would, and checks that
// everything due was delivered.
func (r *staffRoom) deliver(t *testing.T) {
	t.Helper()
	if _, err := r.disp.Pass(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// threadMessage posts a message event written in the thread at ts.
func (r *staffRoom) threadMessage(t *testing.T, id, user, ts, text string, extra map[string]any) {
	t.Helper()
	ev := map[string]any{"type": "message", "channel": supportChannel, "channel_type": "channel", "user": user,
		"text": text, "ts": "1700000100." + id, "thread_ts": ts}
	for k, v := range extra {
		ev[k] = v
	}
	r.event(t, "EvT"+id, ev)
	r.idle()
}

func (r *staffRoom) get(t *testing.T, id string) support.Escalation {
	t.Helper()
	e, err := r.desk.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// cardOf returns the current card of the escalation.
func (r *staffRoom) cardOf(t *testing.T, id string) posted {
	t.Helper()
	for _, m := range r.peer.latest(supportChannel) {
		if m.Thread == "" && strings.Contains(mustJSONString(m.Blocks), cardBlockPrefix+id) {
			return m
		}
	}
	t.Fatalf("no card for %s", id)
	return posted{}
}

// thread returns the messages in the card's thread visible to all.
func (r *staffRoom) thread(ts string) []string {
	var out []string
	for _, m := range r.peer.latest(supportChannel) {
		if m.Thread == ts {
			out = append(out, m.sectionText())
		}
	}
	return out
}

// notesTo returns the private notes shown to user in the support channel.
func (r *staffRoom) notesTo(user string) []string {
	var out []string
	for _, m := range r.peer.sent() {
		if m.Method == "chat.postEphemeral" && m.Channel == supportChannel && m.User == user {
			out = append(out, m.Text)
		}
	}
	return out
}

func escalate(t *testing.T, desk *support.Desk) support.Escalation {
	t.Helper()
	e, err := desk.Escalate(context.Background(), support.NewEscalation{
		ConversationID: "conv-1",
		Address:        support.Address{Channel: "slack", UserID: "U1", ChatID: "DU1", Team: testTeam},
		Audience:       "pa", Reason: "requested", Priority: support.PriorityUrgent,
		Summary: "A PA asks whether <!channel> *bold* holiday is paid",
		Messages: []support.Message{
			{From: support.FromUser, Text: "is my holiday paid? <@U999>"},
			{From: support.FromBot, Text: "You get 5.6 weeks of paid holiday."},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestStaffWorkAnEscalationFromSlack(t *testing.T) {
	r := newStaffRoom(t, nil, nil)
	ctx := context.Background()
	e := escalate(t, r.desk)
	r.deliver(t)

	// The escalation is posted as a card with a Claim button.
	c := r.cardOf(t, e.ID)
	text := c.sectionText()
	for _, want := range []string{"URGENT", "requested", "&lt;!channel&gt; ∗bold∗", "is my holiday paid? &lt;@U999&gt;", "5.6 weeks"} {
		if !strings.Contains(text, want) {
			t.Errorf("card lacks %q:\n%s", want, text)
		}
	}
	if c.buttonValue(claimPrefix) != claimPrefix+e.ID {
		t.Fatalf("card buttons = %v", c.buttons())
	}

	// Sam claims it with the button.
	r.interaction(t, buttonPress(staffSam, c, claimPrefix+e.ID, ""))
	r.idle()
	if got := r.get(t, e.ID); got.Status != support.StatusClaimed || got.ClaimedBy != "Sam Staff" {
		t.Fatalf("after claim: %s by %q", got.Status, got.ClaimedBy)
	}
	if notes := r.notesTo(staffSam); len(notes) != 1 || !strings.Contains(notes[0], "You have claimed") {
		t.Fatalf("notes to Sam = %q", notes)
	}
	r.deliver(t)
	c = r.cardOf(t, e.ID)
	if len(c.buttons()) != 0 || !strings.Contains(mustJSONString(c.Blocks), "Claimed by Sam Staff") {
		t.Fatalf("card not updated after claim: %s", mustJSONString(c.Blocks))
	}

	// Alex cannot take it over.
	r.interaction(t, buttonPress(staffAlex, posted{Method: "chat.postMessage", Channel: supportChannel, TS: c.TS, Blocks: []map[string]any{}}, claimPrefix+e.ID, ""))
	r.idle()
	if got := r.get(t, e.ID); got.ClaimedBy != "Sam Staff" {
		t.Fatalf("claimed by %q after Alex pressed Claim", got.ClaimedBy)
	}
	if notes := r.notesTo(staffAlex); len(notes) != 1 || !strings.Contains(notes[0], "Sam Staff has claimed") {
		t.Fatalf("notes to Alex = %q", notes)
	}

	// An internal note stays in Slack; a reply goes to the person.
	r.threadMessage(t, "1", staffSam, c.TS, "NOTE: checking their contract first", nil)
	r.threadMessage(t, "2", staffSam, c.TS, "Hi, yes: you are entitled to 28 days &amp; they are paid.", nil)
	got := r.get(t, e.ID)
	last := got.Messages[len(got.Messages)-1]
	if len(got.Messages) != 3 || last.From != support.FromStaff || last.Author != "Sam Staff" ||
		last.Text != "Hi, yes: you are entitled to 28 days & they are paid." {
		t.Fatalf("messages after thread reply = %+v", got.Messages)
	}
	// Others in the thread, bots, and askpa itself are not replies.
	r.threadMessage(t, "3", staffAlex, c.TS, "I can take this if you like", nil)
	r.threadMessage(t, "4", "UBOTX", c.TS, "a bot", map[string]any{"bot_id": "B9"})
	r.threadMessage(t, "5", testBotUser, c.TS, "askpa itself", nil)
	r.threadMessage(t, "6", staffSam, c.TS, "an edit", map[string]any{"subtype": "message_changed"})
	if got := r.get(t, e.ID); len(got.Messages) != 3 {
		t.Fatalf("non-replies reached the person: %+v", got.Messages[3:])
	}
	if notes := r.notesTo(staffAlex); len(notes) != 2 || !strings.Contains(notes[1], "Not sent to the person: Sam Staff has claimed") {
		t.Fatalf("notes to Alex = %q", notes)
	}

	// The staff API works beside Slack, on the same state; Slack hears of it.
	before := len(r.thread(c.TS))
	if _, err := r.desk.Reply(ctx, e.ID, "Sam Staff", "Also see the holiday guide."); err != nil {
		t.Fatal(err)
	}
	if err := r.desk.AddPersonMessage(ctx, e.ID, "thanks! *so* helpful", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.Resolve(ctx, e.ID, "Sam Staff"); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		r.deliver(t) // one event per escalation and target at a time, in order
	}
	notes := r.thread(c.TS)[before:]
	want := []string{"replied (outside Slack)", "Also see the holiday guide.", "The person wrote", "thanks! ∗so∗ helpful", "resolved this escalation"}
	joined := strings.Join(notes, "\n")
	for _, w := range want {
		if !strings.Contains(joined, w) {
			t.Errorf("thread lacks %q:\n%s", w, joined)
		}
	}
	if strings.Contains(joined, "28 days") {
		t.Errorf("the reply written in the thread was echoed into it:\n%s", joined)
	}
	if c := r.cardOf(t, e.ID); !strings.Contains(mustJSONString(c.Blocks), "Resolved.") || len(c.buttons()) != 0 {
		t.Fatalf("card after resolve: %s", mustJSONString(c.Blocks))
	}

	// A reply to a resolved escalation is refused, with the reason.
	r.threadMessage(t, "7", staffSam, c.TS, "one more thing", nil)
	if got := r.get(t, e.ID); len(got.Messages) != 5 {
		t.Fatalf("reply to a resolved escalation was added: %+v", got.Messages)
	}
	if notes := r.notesTo(staffSam); !strings.Contains(notes[len(notes)-1], "resolved") {
		t.Fatalf("notes to Sam = %q", notes)
	}
}

func TestAnotherProcessFindsTheCardInSlack(t *testing.T) {
	first := newStaffRoom(t, nil, nil)
	e := escalate(t, first.desk)
	first.deliver(t)
	card := first.cardOf(t, e.ID)
	first.interaction(t, buttonPress(staffSam, card, claimPrefix+e.ID, ""))
	first.idle()
	first.deliver(t)

	// A second process (fresh memory, same database and workspace).
	second := newStaffRoom(t, first.store, first.peer)
	second.threadMessage(t, "10", staffSam, card.TS, "Reply from the second process", nil)
	if got := second.get(t, e.ID); got.Messages[len(got.Messages)-1].Text != "Reply from the second process" {
		t.Fatalf("second process did not map the thread: %+v", got.Messages)
	}
	// Delivering the escalation again does not post a second card.
	if err := second.ch.SupportTarget().Deliver(context.Background(), support.Event{Name: support.EventCreated, Escalation: e}); err != nil {
		t.Fatal(err)
	}
	if _, err := second.desk.Resolve(context.Background(), e.ID, "Sam Staff"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		second.deliver(t)
	}
	cards := 0
	for _, m := range first.peer.latest(supportChannel) {
		if m.Thread == "" {
			cards++
		}
	}
	if cards != 1 {
		t.Fatalf("%d cards for one escalation", cards)
	}
	if c := first.cardOf(t, e.ID); !strings.Contains(mustJSONString(c.Blocks), "Resolved.") {
		t.Fatalf("card not updated by the second process: %s", mustJSONString(c.Blocks))
	}
}

func TestSupportTargetIsOffWithoutAChannel(t *testing.T) {
	h := newHarness(t, nil)
	if h.ch.SupportTarget().(support.Filter).Accepts(support.Event{Name: support.EventCreated}) {
		t.Fatal("target accepts events with no support channel configured")
	}
}

// TestCardOfAnotherAppIsNotACard checks that a message another app posts
// in the support channel with a card's block id does not make its thread an
// escalation's: a staff reply there reaches no one, while the same reply in
// askpa's own card's thread does.
func TestCardOfAnotherAppIsNotACard(t *testing.T) {
	r := newStaffRoom(t, nil, nil)
	e := escalate(t, r.desk)
	r.deliver(t)
	real := r.cardOf(t, e.ID)
	fake := r.peer.postAs(supportChannel, "UROGUE1", "B9ROGUE", posted{Text: "Escalation", Blocks: real.Blocks})
	before := len(r.get(t, e.ID).Messages)

	r.threadMessage(t, "1", staffSam, fake, "Hi, I can help with that.", nil)
	if got := r.get(t, e.ID).Messages; len(got) != before {
		t.Fatalf("a reply in another app's look-alike card reached the escalation: %+v", got[before:])
	}
	r.threadMessage(t, "2", staffSam, real.TS, "Hi, I can help with that.", nil)
	if got := r.get(t, e.ID).Messages; len(got) != before+1 || got[before].From != support.FromStaff {
		t.Fatalf("a reply in askpa's card's thread: %+v; want it to reach the person", got[before:])
	}
}
