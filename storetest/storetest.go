// Package storetest is the one conformance suite for askpa's stores. Every
// store of everything askpa keeps (Store below: the support desk, the
// bot's conversations and intake, web sessions, the PA network) runs it
// from its own tests:
//
//	storetest.Run(t, func(t *testing.T) storetest.Opener { ... })
//
// It drives the store through support.Desk and support.Dispatcher, so what
// it checks is the behaviour staff and people see: the state machine, the
// outbox, the conversation store and the mailboxes.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/insights"
	"github.com/askpa/askpa/retention"
	"github.com/askpa/askpa/support"
)

// Store is what an implementation provides.
type Store interface {
	support.Store
	support.StatsSource
	bot.Store
	bot.ExchangeStore
	bot.Mailbox
	bot.WebSessions
	support.StaffSessions
	support.Watcher
	bot.Intake
	bot.Leader
	bot.PersonStore
	retention.Store
	directory.Store
	bot.QuestionLog
	insights.Store
	// SetListingEvents makes every listing change write the outbox rows
	// the function returns in the change's own transaction (see
	// directory.Change and sqlstore's Store.SetListingEvents).
	SetListingEvents(func(directory.Change) ([]support.Delivery, error))
}

// Opener opens a new handle on one database; each call returns another
// handle on the same data. The suite closes the handles it opens.
type Opener func(t testing.TB) Store

// NewDB makes an empty database for one test and returns its Opener.
type NewDB func(t *testing.T) Opener

// Run runs the whole suite, giving each test its own database.
func Run(t *testing.T, newDB NewDB) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"StateMachine", testStateMachine},
		{"ConcurrentClaims", testConcurrentClaims},
		{"ListOrderAndPaging", testList},
		{"HelpdeskReplyIdempotent", testHelpdeskIdempotent},
		{"OutboxSurvivesReopen", testOutboxSurvivesReopen},
		{"OutboxOrderPerEscalation", testOutboxOrder},
		{"OutboxLeases", testLeases},
		{"OutboxRetriesThenGivesUp", testGiveUp},
		{"RelayDeliveryStatus", testRelayStatus},
		{"Conversations", testConversations},
		{"Exchange", testExchange},
		{"TurnSources", testTurnSources},
		{"FirstDeliveryAcrossHandles", testFirstDelivery},
		{"Mailbox", testMailbox},
		{"WebSessions", testWebSessions},
		{"StaffSessions", testStaffSessions},
		{"Revisions", testRevisions},
		{"Notes", testNotes},
		{"ListUpdatedSince", testListUpdatedSince},
		{"ListByArea", testListByArea},
		{"QuietCautions", testQuietCautions},
		{"OnCallStats", testStats},
		{"TextFromOutside", testTextFromOutside},
		{"IntakeDeduplicates", testIntakeDeduplicates},
		{"IntakeOrderPerConversation", testIntakeOrderPerConversation},
		{"IntakeLeaseRunsOut", testIntakeLeaseRunsOut},
		{"IntakeRetry", testIntakeRetry},
		{"IntakeSurvivesReopen", testIntakeSurvivesReopen},
		{"IntakeConcurrentWorkers", testIntakeConcurrentWorkers},
		{"IntakeReceivedTogether", testIntakeReceivedTogether},
		{"Leader", testLeader},
		{"ListingStateMachine", testListingStateMachine},
		{"ListingModerationQueue", testListingModerationQueue},
		{"ListingSearchOrder", testListingSearchOrder},
		{"ListingExpiry", testListingExpiry},
		{"ListingConcurrentApprovals", testListingConcurrentApprovals},
		{"ListingSurvivesReopen", testListingSurvivesReopen},
		{"Introductions", testIntroductions},
		{"QuestionLog", testQuestionLog},
		{"Purge", testPurge},
		{"PurgeIntroductions", testPurgeIntroductions},
		{"Forget", testForget},
		{"Export", testExport},
		{"ForgetInNetwork", testForgetInNetwork},
		{"ListingEventsCommitWithChange", testListingEventsCommit},
		{"ListingEventsFailedChange", testListingEventsFailedChange},
		{"ListingEventsOrderPerTarget", testListingEventsOrder},
		{"ListingEventsSurviveCrash", testListingEventsSurviveCrash},
		{"IntroductionEventsCommitWithChange", testIntroductionEventsCommit},
		{"IntroductionEventsFailedChange", testIntroductionEventsFailedChange},
		{"IntroductionEventsSurviveCrash", testIntroductionEventsSurviveCrash},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newDB(t)) })
	}
}

// clock is a settable clock shared by desk and dispatcher.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// recorder is a Target that records what it is given and fails while fail
// says so.
type recorder struct {
	name string
	mu   sync.Mutex
	got  []support.Event
	fail func(support.Event) error
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Deliver(_ context.Context, ev support.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(ev); err != nil {
			return err
		}
	}
	r.got = append(r.got, ev)
	return nil
}

func (r *recorder) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ns []string
	for _, ev := range r.got {
		ns = append(ns, ev.Name)
	}
	return ns
}

// relay records relayed replies and status changes.
type relay struct {
	mu      sync.Mutex
	replies []string
	states  []support.Status
	fail    error
}

func (r *relay) DeliverReply(_ context.Context, e support.Escalation, m support.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.replies = append(r.replies, m.Text)
	return nil
}

func (r *relay) StatusChanged(_ context.Context, e support.Escalation) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, e.Status)
	return nil
}

type rig struct {
	store support.Store
	desk  *support.Desk
	disp  *support.Dispatcher
	clock *clock
	hook  *recorder
	relay *relay
}

// newRig builds a desk and dispatcher on s with one recording webhook-like
// target and a recording relay.
func newRig(t testing.TB, s support.Store, c *clock, owner string) *rig {
	t.Helper()
	r := &rig{store: s, clock: c, hook: &recorder{name: "webhook:test"}, relay: &relay{}}
	var err error
	r.desk, err = support.NewDesk(support.Config{Store: s, Targets: []support.Target{r.hook}, Relay: r.relay, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	r.disp, err = support.NewDispatcher(support.DispatcherConfig{Store: s, Targets: r.desk.Targets(), Owner: owner, Now: c.Now,
		Rand: func() float64 { return 0.5 }, Timeout: time.Second, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func open(t testing.TB, o Opener) Store {
	s := o(t)
	t.Cleanup(func() { s.Close() })
	return s
}

func newEscalation(user string, p support.Priority) support.NewEscalation {
	return support.NewEscalation{
		ConversationID: "conv-" + user,
		Address:        support.Address{Channel: "web", UserID: user, ChatID: user},
		Audience:       "employer",
		Reason:         "requested",
		Priority:       p,
		Summary:        "wants to talk to a person",
		Messages: []support.Message{
			{From: support.FromUser, Text: "how much holiday does my PA get?"},
			{From: support.FromBot, Text: "5.6 weeks a year."},
		},
	}
}

func escalate(t testing.TB, r *rig, user string, p support.Priority) support.Escalation {
	t.Helper()
	e, err := r.desk.Escalate(context.Background(), newEscalation(user, p))
	if err != nil {
		t.Fatalf("Escalate: %v", err)
	}
	return e
}

// drain runs dispatcher passes until nothing is due.
func drain(t testing.TB, d *support.Dispatcher) {
	t.Helper()
	for i := 0; i < 100; i++ {
		n, err := d.Pass(context.Background())
		if err != nil {
			t.Fatalf("Pass: %v", err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("the outbox never emptied")
}

func testStateMachine(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	r := newRig(t, s, newClock(), "a")
	// setups put a fresh escalation into a state.
	setups := map[string]func(t testing.TB, id string){
		"open":     func(t testing.TB, _ string) {},
		"claimed":  func(t testing.TB, id string) { noErr(t)(r.desk.Claim(ctx, id, "alex")) },
		"resolved": func(t testing.TB, id string) { noErr(t)(r.desk.Resolve(ctx, id, "alex")) },
		"reopened": func(t testing.TB, id string) {
			noErr(t)(r.desk.Resolve(ctx, id, "alex"))
			noErr(t)(r.desk.Reopen(ctx, id, "alex"))
		},
		"withdrawn":  func(t testing.TB, id string) { mustErr(t, r.desk.Withdraw(ctx, id, "cancelled")) },
		"replied":    func(t testing.TB, id string) { noErr(t)(r.desk.Reply(ctx, id, "alex", "hello")) },
		"by-someone": func(t testing.TB, id string) { noErr(t)(r.desk.Claim(ctx, id, "sam")) },
	}
	type move struct {
		name string
		do   func(id string) error
	}
	act := func(f func(id string) (support.Escalation, error)) func(string) error {
		return func(id string) error { _, err := f(id); return err }
	}
	moves := map[string]move{
		"claim":    {"claim", act(func(id string) (support.Escalation, error) { return r.desk.Claim(ctx, id, "alex") })},
		"reply":    {"reply", act(func(id string) (support.Escalation, error) { return r.desk.Reply(ctx, id, "alex", "we can help") })},
		"resolve":  {"resolve", act(func(id string) (support.Escalation, error) { return r.desk.Resolve(ctx, id, "alex") })},
		"reopen":   {"reopen", act(func(id string) (support.Escalation, error) { return r.desk.Reopen(ctx, id, "alex") })},
		"person":   {"person", func(id string) error { return r.desk.AddPersonMessage(ctx, id, "are you there?", time.Time{}) }},
		"withdraw": {"withdraw", func(id string) error { return r.desk.Withdraw(ctx, id, "") }},
	}
	tests := []struct {
		state, move string
		err         error
		status      support.Status
		claimedBy   string
		events      []string // outbox events the move adds for the webhook target
	}{
		{"open", "claim", nil, support.StatusClaimed, "alex", []string{support.EventClaimed}},
		{"open", "reply", nil, support.StatusClaimed, "alex", []string{support.EventClaimed, support.EventReplied}},
		{"open", "resolve", nil, support.StatusResolved, "", []string{support.EventResolved}},
		{"open", "reopen", support.ErrNotResolved, support.StatusOpen, "", nil},
		{"open", "person", nil, support.StatusOpen, "", []string{support.EventMessageReceived}},
		{"open", "withdraw", nil, support.StatusResolved, "", []string{support.EventResolved}},
		{"claimed", "claim", nil, support.StatusClaimed, "alex", nil},
		{"claimed", "reply", nil, support.StatusClaimed, "alex", []string{support.EventReplied}},
		{"claimed", "resolve", nil, support.StatusResolved, "alex", []string{support.EventResolved}},
		{"claimed", "reopen", support.ErrNotResolved, support.StatusClaimed, "alex", nil},
		{"claimed", "person", nil, support.StatusClaimed, "alex", []string{support.EventMessageReceived}},
		{"claimed", "withdraw", nil, support.StatusResolved, "alex", []string{support.EventResolved}},
		{"by-someone", "claim", support.ErrConflict, support.StatusClaimed, "sam", nil},
		{"by-someone", "reply", support.ErrConflict, support.StatusClaimed, "sam", nil},
		{"by-someone", "resolve", support.ErrConflict, support.StatusClaimed, "sam", nil},
		{"by-someone", "reopen", support.ErrNotResolved, support.StatusClaimed, "sam", nil},
		{"resolved", "claim", support.ErrResolved, support.StatusResolved, "", nil},
		{"resolved", "reply", support.ErrResolved, support.StatusResolved, "", nil},
		{"resolved", "resolve", support.ErrResolved, support.StatusResolved, "", nil},
		{"resolved", "reopen", nil, support.StatusOpen, "", nil}, // reopen is told to the relay only
		{"resolved", "person", support.ErrResolved, support.StatusResolved, "", nil},
		{"resolved", "withdraw", nil, support.StatusResolved, "", nil},
		{"withdrawn", "reopen", nil, support.StatusOpen, "", nil},
		{"reopened", "claim", nil, support.StatusClaimed, "alex", []string{support.EventClaimed}},
		{"replied", "resolve", nil, support.StatusResolved, "alex", []string{support.EventResolved}},
	}
	for i, tc := range tests {
		t.Run(tc.state+"/"+tc.move, func(t *testing.T) {
			e := escalate(t, r, fmt.Sprintf("sm%d", i), support.PriorityNormal)
			setups[tc.state](t, e.ID)
			before := deliveriesFor(t, s, e.ID, "webhook:test")
			err := moves[tc.move].do(e.ID)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("%s on a %s escalation: error %v, want %v", tc.move, tc.state, err, tc.err)
			}
			got, err := s.Get(ctx, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tc.status || got.ClaimedBy != tc.claimedBy {
				t.Errorf("after %s on %s: status %s claimed by %q, want %s by %q", tc.move, tc.state, got.Status, got.ClaimedBy, tc.status, tc.claimedBy)
			}
			added := deliveriesFor(t, s, e.ID, "webhook:test")[len(before):]
			if !slices.Equal(added, tc.events) {
				t.Errorf("after %s on %s: outbox gained %v, want %v", tc.move, tc.state, added, tc.events)
			}
		})
	}
	t.Run("audit", func(t *testing.T) {
		e := escalate(t, r, "audit", support.PriorityUrgent)
		noErr(t)(r.desk.Claim(ctx, e.ID, "alex"))
		noErr(t)(r.desk.Reply(ctx, e.ID, "alex", "hello"))
		noErr(t)(r.desk.Resolve(ctx, e.ID, "alex"))
		noErr(t)(r.desk.Reopen(ctx, e.ID, "sam"))
		got, _ := s.Get(ctx, e.ID)
		var who []string
		for _, a := range got.Audit {
			who = append(who, a.Who+" "+a.What)
		}
		want := []string{"person escalated (requested)", "alex claimed", "alex replied (message 3)", "alex resolved", "sam reopened"}
		if !slices.Equal(who, want) {
			t.Errorf("audit trail %q, want %q", who, want)
		}
		if len(got.Messages) != 3 || got.Messages[2].From != support.FromStaff || got.Messages[2].Author != "alex" || got.Messages[2].Seq != 3 {
			t.Errorf("messages %+v: want the two carried over and alex's reply as message 3", got.Messages)
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		if _, err := r.desk.Claim(ctx, "no-such-id", "alex"); !errors.Is(err, support.ErrNotFound) {
			t.Errorf("claim of an unknown id: %v, want ErrNotFound", err)
		}
		if err := r.desk.AddPersonMessage(ctx, "no-such-id", "hi", time.Time{}); !errors.Is(err, support.ErrNotFound) {
			t.Errorf("message for an unknown id: %v, want ErrNotFound", err)
		}
	})
	t.Run("invalid input", func(t *testing.T) {
		e := escalate(t, r, "invalid", support.PriorityNormal)
		if _, err := r.desk.Reply(ctx, e.ID, "alex", "  "); !errors.Is(err, support.ErrInvalid) {
			t.Errorf("empty reply: %v, want ErrInvalid", err)
		}
		if _, err := r.desk.Claim(ctx, e.ID, ""); !errors.Is(err, support.ErrInvalid) {
			t.Errorf("claim with no staff name: %v, want ErrInvalid", err)
		}
		n := newEscalation("x", "soon")
		if _, err := r.desk.Escalate(ctx, n); !errors.Is(err, support.ErrInvalid) {
			t.Errorf("escalation with priority %q: %v, want ErrInvalid", n.Priority, err)
		}
	})
}

// noErr returns a function that fails t when an action returns an error.
func noErr(t testing.TB) func(support.Escalation, error) {
	return func(_ support.Escalation, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

func mustErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// deliveriesFor returns the event names of an escalation's outbox rows for
// one target, in order.
func deliveriesFor(t testing.TB, s support.Store, id, target string) []string {
	t.Helper()
	ds, err := s.Deliveries(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, d := range ds {
		if d.Target == target {
			ns = append(ns, d.Event.Name)
		}
	}
	return ns
}

func testConcurrentClaims(t *testing.T, o Opener) {
	ctx := context.Background()
	c := newClock()
	a, b := newRig(t, open(t, o), c, "a"), newRig(t, open(t, o), c, "b")
	for i := range 20 {
		e := escalate(t, a, fmt.Sprintf("race%d", i), support.PriorityNormal)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j, who := range []string{"alex", "sam"} {
			desk := []*support.Desk{a.desk, b.desk}[j]
			wg.Go(func() { _, errs[j] = desk.Claim(ctx, e.ID, who) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, support.ErrConflict):
				t.Fatalf("a losing claim returned %v, want ErrConflict", err)
			}
		}
		if won != 1 {
			t.Fatalf("escalation %d: %d claims won, want exactly 1 (errors %v)", i, won, errs)
		}
		got, _ := a.store.Get(ctx, e.ID)
		winner := "alex"
		if errs[0] != nil {
			winner = "sam"
		}
		if got.ClaimedBy != winner {
			t.Errorf("claimed by %q, but %q's claim succeeded", got.ClaimedBy, winner)
		}
		if n := deliveriesFor(t, a.store, e.ID, "webhook:test"); len(n) != 2 {
			t.Errorf("outbox holds %v, want created and one claimed", n)
		}
	}
}

func testList(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	c := newClock()
	r := newRig(t, s, c, "a")
	var want []string
	var urgent, normal []string
	for i := range 7 {
		p := support.PriorityNormal
		if i%3 == 1 {
			p = support.PriorityUrgent
		}
		e := escalate(t, r, fmt.Sprintf("list%d", i), p)
		if p == support.PriorityUrgent {
			urgent = append(urgent, e.ID)
		} else {
			normal = append(normal, e.ID)
		}
		c.Add(time.Minute)
	}
	want = append(append(want, urgent...), normal...)
	noErr(t)(r.desk.Claim(ctx, normal[0], "alex"))
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging never ended")
		}
		p, err := r.desk.List(ctx, support.ListRequest{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Escalations {
			got = append(got, e.ID)
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if !slices.Equal(got, want) {
		t.Errorf("queue order %v, want urgent first then oldest first %v", got, want)
	}
	p, err := r.desk.List(ctx, support.ListRequest{Status: support.StatusOpen, Priority: support.PriorityNormal})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range p.Escalations {
		ids = append(ids, e.ID)
	}
	if !slices.Equal(ids, normal[1:]) || p.Next != "" {
		t.Errorf("open normal escalations %v (next %q), want %v", ids, p.Next, normal[1:])
	}
	for _, bad := range []support.ListRequest{{Cursor: "nonsense"}, {Status: "closed"}, {Priority: "high"}, {Limit: 10000}} {
		if _, err := r.desk.List(ctx, bad); !errors.Is(err, support.ErrInvalid) {
			t.Errorf("List(%+v): %v, want ErrInvalid", bad, err)
		}
	}
}

func testHelpdeskIdempotent(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	r := newRig(t, s, newClock(), "a")
	e := escalate(t, r, "helpdesk", support.PriorityNormal)
	if _, err := r.desk.HelpdeskReply(ctx, "d-1", e.ID, "Jo at the helpdesk", "We will call you"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.HelpdeskReply(ctx, "d-1", e.ID, "Jo at the helpdesk", "We will call you"); !errors.Is(err, support.ErrDuplicate) {
		t.Fatalf("the same delivery again: %v, want ErrDuplicate", err)
	}
	drain(t, r.disp)
	if len(r.relay.replies) != 1 {
		t.Errorf("the person was sent %d copies of the reply, want 1", len(r.relay.replies))
	}
	got, _ := s.Get(ctx, e.ID)
	if n := len(got.Messages); n != 3 {
		t.Errorf("escalation has %d messages, want 3 (two carried over, one reply)", n)
	}
}

func testOutboxSurvivesReopen(t *testing.T, o Opener) {
	ctx := context.Background()
	c := newClock()
	s1 := o(t)
	r1 := newRig(t, s1, c, "first")
	e := escalate(t, r1, "survivor", support.PriorityUrgent)
	noErr(t)(r1.desk.Reply(ctx, e.ID, "alex", "hello"))
	want, _ := s1.Deliveries(ctx, e.ID)
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s1.Close(); err != nil {
		t.Errorf("a second Close: %v, want nil", err)
	}
	r2 := newRig(t, open(t, o), c, "second")
	drain(t, r2.disp)
	if got := r2.hook.names(); !slices.Equal(got, []string{support.EventCreated, support.EventClaimed, support.EventReplied}) {
		t.Errorf("after reopening, the target got %v", got)
	}
	ds, _ := r2.store.Deliveries(ctx, e.ID)
	if len(ds) != len(want) {
		t.Fatalf("%d deliveries after reopening, want %d", len(ds), len(want))
	}
	for i, d := range ds {
		if d.ID != want[i].ID || d.Status != support.DeliveryDelivered || d.Attempts != 1 {
			t.Errorf("delivery %d: %s %s after %d attempts, want %s delivered after 1", i, d.ID, d.Status, d.Attempts, want[i].ID)
		}
	}
	for _, ev := range r2.hook.got {
		if ev.Escalation.ID != e.ID || ev.DeliveryID == "" {
			t.Errorf("event %s carries escalation %q and delivery %q", ev.Name, ev.Escalation.ID, ev.DeliveryID)
		}
	}
}

func testOutboxOrder(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	c := newClock()
	r := newRig(t, s, c, "a")
	down := true
	r.hook.fail = func(ev support.Event) error {
		if down && ev.Name == support.EventCreated {
			return errors.New("receiver is down")
		}
		return nil
	}
	e := escalate(t, r, "order", support.PriorityNormal)
	noErr(t)(r.desk.Claim(ctx, e.ID, "alex"))
	noErr(t)(r.desk.Reply(ctx, e.ID, "alex", "hi"))
	other := escalate(t, r, "other", support.PriorityNormal)
	drain(t, r.disp)
	if got := r.hook.names(); len(got) != 0 {
		t.Fatalf("while escalation.created kept failing the target got %v; later events must wait", got)
	}
	ds, _ := s.Deliveries(ctx, e.ID)
	if ds[0].Status != support.DeliveryPending || ds[0].Attempts != 1 || ds[0].LastError != "receiver is down" {
		t.Errorf("failed head delivery: %+v", ds[0])
	}
	down = false
	c.Add(time.Hour)
	drain(t, r.disp)
	var mine []string
	for _, ev := range r.hook.got {
		if ev.Escalation.ID == e.ID {
			mine = append(mine, ev.Name)
		}
	}
	if want := []string{support.EventCreated, support.EventClaimed, support.EventReplied}; !slices.Equal(mine, want) {
		t.Errorf("events arrived as %v, want %v", mine, want)
	}
	if n := len(r.hook.got); n != 4 || !slices.ContainsFunc(r.hook.got, func(ev support.Event) bool { return ev.Escalation.ID == other.ID }) {
		t.Errorf("the target got %d events, want 4 (three for one escalation, and the other's created)", n)
	}
}

func testLeases(t *testing.T, o Opener) {
	ctx := context.Background()
	s1, s2 := open(t, o), open(t, o)
	c := newClock()
	r := newRig(t, s1, c, "a")
	escalate(t, r, "lease", support.PriorityNormal)
	now := c.Now()
	targets := []string{"webhook:test"}
	got1, err := s1.ClaimDeliveries(ctx, targets, "a", now, now.Add(time.Minute), 10)
	if err != nil || len(got1) != 1 {
		t.Fatalf("first lease: %d rows, %v; want 1", len(got1), err)
	}
	got2, err := s2.ClaimDeliveries(ctx, targets, "b", now, now.Add(time.Minute), 10)
	if err != nil || len(got2) != 0 {
		t.Fatalf("second process leased %d rows (%v) while the first held them", len(got2), err)
	}
	later := now.Add(2 * time.Minute)
	got2, err = s2.ClaimDeliveries(ctx, targets, "b", later, later.Add(time.Minute), 10)
	if err != nil || len(got2) != 1 || got2[0].ID != got1[0].ID {
		t.Fatalf("after the lease expired the second process leased %d rows (%v), want the same one", len(got2), err)
	}
	err = s1.Settle(ctx, support.Settlement{DeliveryID: got1[0].ID, Owner: "a", Status: support.DeliveryDelivered, Attempts: 1, At: later})
	if !errors.Is(err, support.ErrConflict) {
		t.Errorf("settling a lost lease: %v, want ErrConflict", err)
	}
	if err := s2.Settle(ctx, support.Settlement{DeliveryID: got1[0].ID, Owner: "b", Status: support.DeliveryDelivered, Attempts: 1, At: later}); err != nil {
		t.Errorf("settling by the lease holder: %v", err)
	}
}

func testGiveUp(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	c := newClock()
	r := newRig(t, s, c, "a")
	var attempts atomic.Int32
	r.hook.fail = func(support.Event) error { attempts.Add(1); return errors.New("503 Service Unavailable") }
	e := escalate(t, r, "giveup", support.PriorityNormal)
	var last support.Delivery
	for i := 0; i < 200; i++ {
		drain(t, r.disp)
		ds, _ := s.Deliveries(ctx, e.ID)
		last = ds[0]
		if last.Status != support.DeliveryPending {
			break
		}
		if !last.NextAttempt.After(c.Now()) {
			t.Fatalf("a failed delivery is due again at once (next %v, now %v)", last.NextAttempt, c.Now())
		}
		c.Add(last.NextAttempt.Sub(c.Now()))
	}
	if last.Status != support.DeliveryFailed || last.LastError != "503 Service Unavailable" {
		t.Fatalf("delivery ended %s (%q), want failed with the receiver's answer", last.Status, last.LastError)
	}
	if span := last.UpdatedAt.Sub(last.CreatedAt); span < 24*time.Hour {
		t.Errorf("gave up after %v, want at least 24 hours of retries", span)
	}
	if n := attempts.Load(); n < 10 || n > 200 {
		t.Errorf("%d attempts in a day: want backoff, neither hammering nor giving up early", n)
	}
	if int(attempts.Load()) != last.Attempts {
		t.Errorf("store counted %d attempts, target saw %d", last.Attempts, attempts.Load())
	}
}

func testRelayStatus(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	c := newClock()
	r := newRig(t, s, c, "a")
	e := escalate(t, r, "relay", support.PriorityNormal)
	noErr(t)(r.desk.Reply(ctx, e.ID, "alex", "first"))
	drain(t, r.disp)
	got, _ := s.Get(ctx, e.ID)
	if m := got.Messages[2]; m.Delivery != support.DeliveryDelivered {
		t.Errorf("a relayed reply is %q, want delivered", m.Delivery)
	}
	if !slices.Equal(r.relay.replies, []string{"first"}) || !slices.Equal(r.relay.states, []support.Status{support.StatusClaimed}) {
		t.Errorf("relay got replies %v and states %v", r.relay.replies, r.relay.states)
	}
	r.relay.fail = support.Permanent(errors.New("the person blocked the bot"))
	noErr(t)(r.desk.Reply(ctx, e.ID, "alex", "second"))
	drain(t, r.disp)
	got, _ = s.Get(ctx, e.ID)
	if m := got.Messages[3]; m.Delivery != support.DeliveryFailed || m.DeliveryError != "the person blocked the bot" {
		t.Errorf("an undeliverable reply is %q (%q), want failed with the reason", m.Delivery, m.DeliveryError)
	}
	if got.Status != support.StatusClaimed {
		t.Errorf("recording a delivery changed the status to %s", got.Status)
	}
	mustErr(t, r.desk.Withdraw(ctx, e.ID, ""))
	drain(t, r.disp)
	if len(r.relay.states) != 1 {
		t.Errorf("the relay was told of the person's own withdrawal: %v", r.relay.states)
	}
}

func testConversations(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	addr := bot.Address{Channel: "slack", UserID: "U1", ChatID: "D1", Team: "T1"}
	c, err := s.Conversation(ctx, addr, "pa", now)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID == "" || c.Mode != bot.ModeBot || c.Audience != "pa" || c.Address != addr || !c.CreatedAt.Equal(now) {
		t.Errorf("new conversation %+v", c)
	}
	moved := addr
	moved.ChatID, moved.ThreadID = "C9", "171.1"
	again, err := s.Conversation(ctx, moved, "employer", now.Add(time.Hour))
	if err != nil || again.ID != c.ID || again.Address != moved || again.Audience != "pa" {
		t.Errorf("the same person again: %+v, %v; want the same conversation with the new address", again, err)
	}
	again.Mode, again.EscalationID, again.Misses, again.AudienceChosen, again.ToldWaiting = bot.ModeHuman, "esc-1", 2, true, true
	again.LastPassageID, again.LastQuestion, again.UpdatedAt = "doc#a", "q?", now.Add(2*time.Hour)
	again.Awaiting, again.Draft, again.Search = "intro-contact:l-1", "Help in the mornings", "EX4\tpersonal-care\t"
	again.CreatedAt = now.Add(99 * time.Hour) // must be ignored
	if err := s.SaveConversation(ctx, again); err != nil {
		t.Fatal(err)
	}
	byID, err := s.ConversationByID(ctx, c.ID)
	again.CreatedAt = now
	if err != nil || byID != again {
		t.Errorf("saved and read back:\n%+v\nwant\n%+v (%v)", byID, again, err)
	}
	if _, err := s.ConversationByID(ctx, "nope"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if err := s.SaveConversation(ctx, bot.Conversation{ID: "nope"}); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("saving an unknown id: %v", err)
	}
	for i := range 5 {
		if err := s.AppendTurn(ctx, c.ID, bot.Turn{From: bot.FromUser, Text: fmt.Sprint(i), At: now.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	ts, err := s.Turns(ctx, c.ID, 3)
	if err != nil || len(ts) != 3 || ts[0].Text != "2" || ts[2].Text != "4" || !ts[2].At.Equal(now.Add(4*time.Second)) {
		t.Errorf("last three turns: %+v, %v", ts, err)
	}
	if err := s.AppendTurn(ctx, "nope", bot.Turn{From: "user", Text: "x"}); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("turn for an unknown conversation: %v", err)
	}
	if err := s.RecordFeedback(ctx, bot.Feedback{ConversationID: c.ID, PassageID: "doc#a", Helpful: true, At: now}); err != nil {
		t.Error(err)
	}
	// Two handles creating one person's conversation at once agree on it.
	other := open(t, o)
	ids := make([]string, 2)
	var wg sync.WaitGroup
	for i, h := range []Store{s, other} {
		wg.Go(func() {
			c, err := h.Conversation(ctx, bot.Address{Channel: "telegram", UserID: "42", ChatID: "42"}, "employer", now)
			if err != nil {
				t.Error(err)
			}
			ids[i] = c.ID
		})
	}
	wg.Wait()
	if ids[0] != ids[1] {
		t.Errorf("two handles made two conversations for one person: %v", ids)
	}
}

func testFirstDelivery(t *testing.T, o Opener) {
	ctx := context.Background()
	a, b := open(t, o), open(t, o)
	now := time.Now()
	first, err := a.FirstDelivery(ctx, "telegram", "1001", now)
	if err != nil || !first {
		t.Fatalf("first sight: %v, %v", first, err)
	}
	for _, h := range []Store{a, b} {
		if again, err := h.FirstDelivery(ctx, "telegram", "1001", now); err != nil || again {
			t.Errorf("a repeat was reported as first (%v, %v)", again, err)
		}
	}
	if other, _ := b.FirstDelivery(ctx, "slack", "1001", now); !other {
		t.Error("the same id from another source was reported as a repeat")
	}
}

func testMailbox(t *testing.T, o Opener) {
	ctx := context.Background()
	a, b := open(t, o), open(t, o)
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	seqs := make(chan int64, 20)
	for i := range 20 {
		h := []Store{a, b}[i%2]
		wg.Go(func() {
			n, err := h.Post(ctx, "web-1", bot.MailMessage{From: bot.FromStaff, Text: fmt.Sprint(i), At: at})
			if err != nil {
				t.Error(err)
			}
			seqs <- n
		})
	}
	wg.Wait()
	close(seqs)
	var got []int64
	for n := range seqs {
		got = append(got, n)
	}
	slices.Sort(got)
	for i, n := range got {
		if n != int64(i+1) {
			t.Fatalf("sequence numbers %v, want 1..20 each once", got)
		}
	}
	if n, _ := a.Post(ctx, "web-2", bot.MailMessage{From: bot.FromBot, Text: "x", At: at, Sources: []bot.Source{{ID: "d", Title: "D", Kind: "guidance"}}}); n != 1 {
		t.Errorf("another user's first message is %d, want 1", n)
	}
	ms, err := b.Since(ctx, "web-1", 17, 10)
	if err != nil || len(ms) != 3 || ms[0].Seq != 18 || ms[2].Seq != 20 || !ms[0].At.Equal(at) || ms[0].From != bot.FromStaff {
		t.Errorf("since 17: %+v, %v", ms, err)
	}
	ms, _ = b.Since(ctx, "web-1", 0, 5)
	if len(ms) != 5 || ms[4].Seq != 5 {
		t.Errorf("limit 5 returned %d messages", len(ms))
	}
	ms, _ = a.Since(ctx, "web-2", 0, 10)
	if len(ms) != 1 || len(ms[0].Sources) != 1 || ms[0].Sources[0].ID != "d" {
		t.Errorf("sources did not survive: %+v", ms)
	}
	// A keyed message posted again, from either handle or both at once,
	// is kept once, under the number it first got.
	keyed := bot.MailMessage{From: bot.FromStaff, Text: "are you safe?", At: at, Key: "staff:e1#3"}
	var kw sync.WaitGroup
	keySeqs := make(chan int64, 6)
	for i := range 6 {
		h := []Store{a, b}[i%2]
		kw.Go(func() {
			n, err := h.Post(ctx, "web-3", keyed)
			if err != nil {
				t.Error(err)
			}
			keySeqs <- n
		})
	}
	kw.Wait()
	close(keySeqs)
	for n := range keySeqs {
		if n != 1 {
			t.Errorf("a keyed message posted again got number %d, want 1 each time", n)
		}
	}
	if n, err := a.Post(ctx, "web-3", bot.MailMessage{From: bot.FromStaff, Text: "another", At: at, Key: "staff:e1#4"}); err != nil || n != 2 {
		t.Errorf("another key: %d, %v; want 2", n, err)
	}
	if n, err := a.Post(ctx, "web-4", keyed); err != nil || n != 1 {
		t.Errorf("the same key for another user: %d, %v; want their own first message", n, err)
	}
	if ms, err := b.Since(ctx, "web-3", 0, 10); err != nil || len(ms) != 2 || ms[0].Text != "are you safe?" {
		t.Errorf("web-3's mailbox: %+v, %v; want the keyed message once, then the other", ms, err)
	}
}

// testQuietCautions checks that conversations quiet since a caution are
// taken once, oldest first, with their caution, and only when due; and
// that a caution cleared by the person writing again is not taken.
func testQuietCautions(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	var ids []string
	for i, at := range []time.Duration{-50 * time.Minute, -40 * time.Minute, -5 * time.Minute, -45 * time.Minute} {
		c, err := s.Conversation(ctx, bot.Address{Channel: "web", UserID: fmt.Sprintf("quiet-%d", i)}, "employer", now)
		if err != nil {
			t.Fatal(err)
		}
		c.Caution, c.CautionAt = "suicidal", now.Add(at)
		if i == 3 {
			// The person wrote again: the service clears the caution.
			c.Caution, c.CautionAt = "", time.Time{}
		}
		if err := s.SaveConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	got, err := s.TakeQuietCautions(ctx, now.Add(-30*time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != ids[0] || got[1].ID != ids[1] || got[0].Caution != "suicidal" || !got[0].CautionAt.Equal(now.Add(-50*time.Minute)) {
		t.Fatalf("taken %+v, want the two conversations quiet for more than 30 minutes, oldest first, with their caution", got)
	}
	if again, err := s.TakeQuietCautions(ctx, now.Add(time.Hour), 10); err != nil || len(again) != 1 || again[0].ID != ids[2] {
		t.Errorf("taken again later: %+v, %v; want only the one not yet taken", again, err)
	}
	if c, _ := s.ConversationByID(ctx, ids[0]); c.Caution != "" || !c.CautionAt.IsZero() {
		t.Errorf("a taken conversation keeps its caution: %+v", c)
	}
}

// testTextFromOutside checks that text with NUL characters and invalid
// UTF-8, as a person or a helpdesk may send it, is kept (cleaned) rather
// than refused: PostgreSQL refuses NUL in text, and a refused message is a
// lost one.
func testTextFromOutside(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	desk, err := support.NewDesk(support.Config{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	dirty := "help\x00 me \xff please"
	e, err := desk.Escalate(ctx, support.NewEscalation{
		Address: support.Address{Channel: "web", UserID: "nul"}, Reason: "crisis", Priority: support.PriorityUrgent,
		Summary: dirty, Messages: []support.Message{{From: support.FromUser, Text: dirty}},
	})
	if err != nil {
		t.Fatalf("escalating a message with NUL and invalid UTF-8: %v", err)
	}
	if err := desk.AddPersonMessage(ctx, e.ID, dirty, time.Time{}); err != nil {
		t.Fatalf("adding a message with NUL: %v", err)
	}
	if _, err := desk.Reply(ctx, e.ID, "sam", dirty); err != nil {
		t.Fatalf("a staff reply with NUL: %v", err)
	}
	got, err := desk.Get(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range got.Messages {
		if m.Text != "help me \uFFFD please" {
			t.Errorf("stored %q, want the text cleaned", m.Text)
		}
	}
}

// testListByArea: the queue can be limited to some areas (what staff
// limited to areas see), escalations without one being in area "";
// paging keeps to the areas; an empty list of areas shows none.
func testListByArea(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	desk, err := support.NewDesk(support.Config{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	byArea := map[string][]string{}
	for i, area := range []string{"devon", "somerset", "devon", "", "devon"} {
		e, err := desk.Escalate(ctx, support.NewEscalation{Address: support.Address{Channel: "web", UserID: fmt.Sprintf("area-%d", i)},
			Reason: "requested", Area: area, Summary: "call me"})
		if err != nil {
			t.Fatal(err)
		}
		byArea[area] = append(byArea[area], e.ID)
	}
	list := func(areas []string, limit int) []string {
		t.Helper()
		var ids []string
		r := support.ListRequest{Areas: areas, Limit: limit}
		for {
			p, err := desk.List(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range p.Escalations {
				ids = append(ids, e.ID)
			}
			if p.Next == "" {
				return ids
			}
			r.Cursor = p.Next
		}
	}
	if got := list([]string{"devon"}, 2); !slices.Equal(got, byArea["devon"]) {
		t.Errorf("Devon's queue in pages of 2: %v, want %v", got, byArea["devon"])
	}
	if got := list([]string{"somerset", ""}, 0); len(got) != 2 {
		t.Errorf("Somerset's and no area's queue: %v", got)
	}
	if got := list(nil, 0); len(got) != 5 {
		t.Errorf("every area's queue: %d escalations, want 5", len(got))
	}
	if got := list([]string{}, 0); len(got) != 0 {
		t.Errorf("no area's queue: %v", got)
	}
}
