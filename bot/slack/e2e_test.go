package slack

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/bottest"
	"github.com/askpa/askpa/sqlite"
	"github.com/askpa/askpa/support"
)

// lateDesk lets the bot be built before the desk that needs the Slack
// channel's support target: the same wiring order cmd/askpa uses.
type lateDesk struct {
	mu sync.Mutex
	d  *support.Desk
}

func (l *lateDesk) desk() *support.Desk { l.mu.Lock(); defer l.mu.Unlock(); return l.d }
func (l *lateDesk) Escalate(ctx context.Context, n support.NewEscalation) (support.Escalation, error) {
	return l.desk().Escalate(ctx, n)
}
func (l *lateDesk) AddPersonMessage(ctx context.Context, id, text string, at time.Time) error {
	return l.desk().AddPersonMessage(ctx, id, text, at)
}
func (l *lateDesk) AddBotMessages(ctx context.Context, id string, ms []support.Message, at time.Time) error {
	return l.desk().AddBotMessages(ctx, id, ms, at)
}
func (l *lateDesk) Withdraw(ctx context.Context, id, note string) error {
	return l.desk().Withdraw(ctx, id, note)
}

// service is askpa as served: the real knowledge base, index, engine,
// conversation store, desk, outbox and relay, with Slack as the channel
// and slacktest as Slack.
type service struct {
	*harness
	store *sqlite.Store
	desk  *support.Desk
	disp  *support.Dispatcher
	seq   int
}

func newService(t *testing.T) *service {
	t.Helper()
	ctx := context.Background()
	engine := bottest.Engine(t)
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "askpa.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	late := &lateDesk{}
	svc, err := bot.NewService(bot.ServiceConfig{Engine: engine, Store: store, Desk: late})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(c *Config) {
		c.Handler, c.SupportChannel = svc, supportChannel
	})
	h.peer.users[staffSam] = "Sam Staff"
	relay, err := bot.NewRelay(bot.RelayConfig{Store: store, Channels: []bot.Channel{h.ch}})
	if err != nil {
		t.Fatal(err)
	}
	desk, err := support.NewDesk(support.Config{Store: store, Relay: relay, Targets: []support.Target{h.ch.SupportTarget()}})
	if err != nil {
		t.Fatal(err)
	}
	late.mu.Lock()
	late.d = desk
	late.mu.Unlock()
	h.ch.SetDesk(desk)
	disp, err := support.NewDispatcher(support.DispatcherConfig{Store: store, Targets: desk.Targets()})
	if err != nil {
		t.Fatal(err)
	}
	return &service{harness: h, store: store, desk: desk, disp: disp}
}

// deliverAll runs the outbox until nothing is due.
func (s *service) deliverAll(t *testing.T) {
	t.Helper()
	for range 20 {
		n, err := s.disp.Pass(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("outbox never emptied")
}

// say sends a DM from the person and returns what askpa posted in reply.
func (s *service) say(t *testing.T, text string) []posted {
	t.Helper()
	before := len(s.peer.sent())
	s.seq++
	ts := "1700000500." + itoa(int64(100000+s.seq))
	s.event(t, "EvE2E"+itoa(int64(s.seq)), dm("UPA00001", text, ts))
	s.idle()
	return s.peer.sentSince(before)
}

// press presses the button with value on m and returns what askpa posted
// in reply (the acknowledgement of the press left out).
func (s *service) press(t *testing.T, m posted, value string) []posted {
	t.Helper()
	before := len(s.peer.sent())
	s.interaction(t, buttonPress("UPA00001", m, value, ""))
	s.idle()
	var out []posted
	for _, p := range s.peer.sentSince(before) {
		if p.Method != "chat.update" {
			out = append(out, p)
		}
	}
	return out
}

func lastWithButton(t *testing.T, ps []posted, value string) posted {
	t.Helper()
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].buttonValue(value) == value {
			return ps[i]
		}
	}
	t.Fatalf("no %q button in %+v", value, ps)
	return posted{}
}

func inDM(t *testing.T, ps []posted) string {
	t.Helper()
	var b strings.Builder
	for _, p := range ps {
		if p.Channel != "DUPA00001" || p.Method != "chat.postMessage" {
			t.Fatalf("posted outside the person's DM: %+v", p)
		}
		b.WriteString(p.sectionText() + "\n")
	}
	return b.String()
}

func TestEndToEndAPersonOnSlackIsHandedToStaffAndBack(t *testing.T) {
	s := newService(t)
	ctx := context.Background()

	// /start (typed as "start": Slack keeps "/" for its own commands).
	welcome := s.say(t, "start")
	lastWithButton(t, welcome, bot.ActionAudience+"pa")

	// A question, answered with the feedback buttons.
	answer := s.say(t, "How much holiday does a PA get?")
	text := inDM(t, answer)
	if !strings.Contains(text, "5.6 weeks") || !strings.Contains(text, "<https://") {
		t.Fatalf("answer:\n%s", text)
	}
	a := lastWithButton(t, answer, bot.ActionNotHelpful)
	lastWithButton(t, answer, bot.ActionHelpful)
	lastWithButton(t, answer, bot.ActionHuman)

	// "Not helpful" offers other wording or a person.
	offer := s.press(t, a, bot.ActionNotHelpful)
	inDM(t, offer)
	o := lastWithButton(t, offer, bot.ActionHuman)
	lastWithButton(t, offer, bot.ActionRephrase)

	// "Talk to a person" hands over: the escalation is in the store.
	handed := inDM(t, s.press(t, o, bot.ActionHuman))
	page, err := s.desk.List(ctx, support.ListRequest{})
	if err != nil || len(page.Escalations) != 1 {
		t.Fatalf("escalations = %+v, %v (person was told %q)", page.Escalations, err, handed)
	}
	e := page.Escalations[0]
	if e.Status != support.StatusOpen || e.Address.Channel != "slack" || e.Address.ChatID != "DUPA00001" || e.Reason != bot.ReasonRequested {
		t.Fatalf("escalation = %+v", e)
	}
	s.deliverAll(t) // the support channel hears of it
	card := (&staffRoom{harness: s.harness}).cardOf(t, e.ID)

	// While waiting, what the person writes goes to staff, not the bot.
	waiting := inDM(t, s.say(t, "Are you there?"))
	if strings.Contains(waiting, "5.6 weeks") {
		t.Fatalf("bot answered while handed over: %s", waiting)
	}

	// A staff reply through the staff API reaches the person's DM.
	if _, err := s.desk.Reply(ctx, e.ID, "Sam Staff", "Hello, I'm Sam. 28 days for 5 days a week."); err != nil {
		t.Fatal(err)
	}
	before := len(s.peer.sent())
	s.deliverAll(t)
	dm := s.peer.sentSince(before)
	relayed := ""
	for _, p := range dm {
		if p.Channel == "DUPA00001" {
			relayed += p.sectionText() + mustJSONString(p.Blocks)
		}
	}
	if !strings.Contains(relayed, "Hello, I'm Sam. 28 days for 5 days a week.") || !strings.Contains(relayed, "Reply from the support team") {
		t.Fatalf("staff reply not relayed to the DM: %+v", dm)
	}

	// A reply written in the Slack support thread reaches the person too.
	before = len(s.peer.sent())
	s.event(t, "EvStaff1", map[string]any{"type": "message", "channel": supportChannel, "channel_type": "channel",
		"user": staffSam, "text": "And bank holidays can count towards it.", "ts": "1700000900.000001", "thread_ts": card.TS})
	s.idle()
	s.deliverAll(t)
	got := ""
	for _, p := range s.peer.sentSince(before) {
		if p.Channel == "DUPA00001" {
			got += p.sectionText()
		}
	}
	if !strings.Contains(got, "And bank holidays can count towards it.") {
		t.Fatalf("thread reply not relayed: %+v", s.peer.sentSince(before))
	}
	e, _ = s.desk.Get(ctx, e.ID)
	for _, m := range e.Messages {
		if m.From == support.FromStaff && m.Delivery != support.DeliveryDelivered {
			t.Fatalf("staff message %d is %s (%s)", m.Seq, m.Delivery, m.DeliveryError)
		}
	}

	// Staff resolve it: the person is told, and the bot answers again.
	if _, err := s.desk.Resolve(ctx, e.ID, "Sam Staff"); err != nil {
		t.Fatal(err)
	}
	s.deliverAll(t)
	again := s.say(t, "How much holiday does a PA get?")
	if text := inDM(t, again); !strings.Contains(text, "5.6 weeks") {
		t.Fatalf("bot did not answer after resolve:\n%s", text)
	}
	lastWithButton(t, again, bot.ActionHelpful)

	// Handing over again and cancelling returns to the bot as well.
	a = lastWithButton(t, again, bot.ActionHuman)
	s.press(t, a, bot.ActionHuman)
	s.say(t, "cancel")
	page, _ = s.desk.List(ctx, support.ListRequest{Status: support.StatusOpen})
	if len(page.Escalations) != 0 {
		t.Fatalf("open escalations after cancel: %d", len(page.Escalations))
	}
	if text := inDM(t, s.say(t, "How much holiday does a PA get?")); !strings.Contains(text, "5.6 weeks") {
		t.Fatalf("bot did not answer after cancel:\n%s", text)
	}
}
