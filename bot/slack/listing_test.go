package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/bottest"
	"github.com/askpa/askpa/bot/telegram"
	"github.com/askpa/askpa/bot/telegram/telegramtest"
	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/httpapi"
	"github.com/askpa/askpa/internal/sqlstore"
	"github.com/askpa/askpa/sqlite"
	"github.com/askpa/askpa/support"
)

const (
	paUser          = "UPA00001"
	paDM            = "D" + paUser
	paOwner         = "slack:" + testTeam + ":" + paUser
	netStaffToken   = "staff-token-kim"
	samPhone        = "07700 900123"
	employerContact = "07700 900888, after 6pm please"
)

// testClock is the PA network's clock, moved on by the tests.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// netStack is askpa as serve wires it for the PA network: the Slack
// channel (with the fake Web API peer) and the Telegram channel (with the
// Bot API test server) on one SQLite store, the real engine and bot
// service, the support desk and relay, the PA network (on a clock the test
// moves) telling Slack of every change, introductions told through the
// outbox (Slack's ListingTarget for the PA, the relay's
// IntroductionTarget for the employer), and the staff API.
type netStack struct {
	*harness
	store *sqlite.Store
	net   *directory.Network
	relay *bot.Relay
	clock *testClock
	tg    *telegramtest.Server
	api   *httptest.Server
	// targets are the outbox targets; disp delivers to them on idle
	// unless manual (then the test runs a dispatcher itself).
	targets []support.Target
	disp    *support.Dispatcher
	manual  bool
}

// idle waits until the Slack intake is empty and, unless s.manual, the
// outbox has nothing due: what one delivers may give work to the other.
func (s *netStack) idle() {
	for range 20 {
		s.harness.idle()
		if s.manual {
			return
		}
		n, err := s.disp.Pass(context.Background())
		if err != nil {
			panic("slack test: outbox: " + err.Error())
		}
		if n == 0 {
			return
		}
	}
	panic("slack test: the outbox did not empty")
}

// introductionsOnly is a target that takes the introduction events its
// target takes and no listing event: Slack's ListingTarget when listings
// are told through Config.Notify.
type introductionsOnly struct{ support.Target }

func (t introductionsOnly) AcceptsIntroduction(ev support.Event) bool {
	return t.Target.(support.IntroductionFilter).AcceptsIntroduction(ev)
}

func newNetStack(t *testing.T) *netStack {
	t.Helper()
	return newNetStackWith(t, false)
}

// newNetStackWith is newNetStack; with durable, listing notices go through
// the outbox as in askpa serve (the store writes each change's event for
// ListingTarget in the change's transaction) instead of Config.Notify, and
// nothing delivers the outbox (listing and introduction events) until the
// test runs a dispatcher. Without durable, the outbox (introduction
// events) is delivered whenever the test waits for idle.
func newNetStackWith(t *testing.T, durable bool) *netStack {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "askpa.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var svc atomic.Pointer[bot.Service]
	handler := bot.HandlerFunc(func(ctx context.Context, m bot.Message) (bot.Result, error) { return svc.Load().Handle(ctx, m) })
	h := newHarness(t, func(c *Config) { c.Handler = handler; c.SupportChannel = supportChannel })
	relay, err := bot.NewRelay(bot.RelayConfig{Store: store, Channels: []bot.Channel{h.ch}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	tg := telegramtest.NewServer(t)
	tgch, err := telegram.New(telegram.Config{Token: tg.Token(), APIURL: tg.URL(), Handler: handler, Intake: store, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	relay.AddChannel(tgch)
	desk, err := support.NewDesk(support.Config{Store: store, Relay: relay, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Now().UTC().Truncate(24 * time.Hour).Add(9 * time.Hour)}
	netCfg := directory.Config{Store: store, Now: clock.now, Logger: log}
	targets := []support.Target{h.ch.ListingTarget(), relay.IntroductionTarget(store)}
	if durable {
		store.SetListingEvents(sqlstore.WebhookListingEvents(targets, nil))
	} else {
		netCfg.Notify = h.ch.NotifyListing
		store.SetListingEvents(sqlstore.WebhookListingEvents([]support.Target{introductionsOnly{targets[0]}, targets[1]}, nil))
	}
	disp, err := support.NewDispatcher(support.DispatcherConfig{Store: store, Targets: targets, Now: clock.now, Logger: h.ch.log})
	if err != nil {
		t.Fatal(err)
	}
	network, err := directory.NewNetwork(netCfg)
	if err != nil {
		t.Fatal(err)
	}
	h.ch.SetNetwork(network, relay)
	s, err := bot.NewService(bot.ServiceConfig{Engine: bottest.Engine(t), Store: store, Desk: desk, Network: network, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	svc.Store(s)
	router, err := httpapi.New(httpapi.Config{Desk: desk, Directory: network, Handler: s, Mailbox: store, Logger: log,
		Staff: []httpapi.Staff{{Name: "kim", Token: netStaffToken}}})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(router)
	t.Cleanup(api.Close)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- tgch.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("telegram Run: %v", err)
		}
	})
	return &netStack{harness: h, store: store, net: network, relay: relay, clock: clock, tg: tg, api: api,
		targets: targets, disp: disp, manual: durable}
}

// staff calls the staff API and returns the status.
func (s *netStack) staff(t *testing.T, method, path string, body any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.api.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+netStaffToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// listingCommand sends a signed "/askpa listing" from the PA.
func (s *netStack) listingCommand(t *testing.T, trigger string) (int, string) {
	t.Helper()
	v := url.Values{"command": {"/askpa"}, "text": {"listing"}, "team_id": {testTeam}, "user_id": {paUser},
		"channel_id": {"C0GENERAL"}, "trigger_id": {trigger}, "response_url": {s.peer.responseURL("cmd")}}
	return s.post(t, PathCommands, "application/x-www-form-urlencoded", v.Encode(), testSecret, time.Now())
}

// form is what the PA types into the listing modal.
type form struct {
	kind, employment                  string
	text                              map[string]string // block id -> text typed
	services                          []string
	dbs                               bool
	phone, email, note, trigger, hash string
}

// samsForm is a PA's listing with every field filled in.
func samsForm() form {
	return form{kind: "pa", employment: "self-employed", services: []string{"personal-care", "dementia"}, dbs: true,
		text: map[string]string{"name": "Sam Taylor", "areas": "ex4, EX5 2AB,  Exeter", "availability": "Weekday mornings",
			"languages": "English, Polish", "experience": "Six years supporting people living with dementia.",
			"training": "Care Certificate\nFirst aid at work", "rate": "£15.50"},
		phone: samPhone, note: "Text first please", trigger: "trig-submit-1"}
}

// submission is the view_submission payload of f.
func (f form) submission() map[string]any {
	values := map[string]any{}
	put := func(block string, action map[string]any) { values[block] = map[string]any{valueAction: action} }
	put("kind", map[string]any{"type": "radio_buttons", "selected_option": map[string]any{"value": f.kind}})
	for _, b := range []string{"name", "areas", "availability", "languages", "about", "experience", "training", "rate"} {
		put(b, map[string]any{"type": "plain_text_input", "value": f.text[b]})
	}
	var svcs []map[string]any
	for _, sv := range f.services {
		svcs = append(svcs, map[string]any{"value": sv})
	}
	put("services", map[string]any{"type": "multi_static_select", "selected_options": svcs})
	dbs := []map[string]any{}
	if f.dbs {
		dbs = append(dbs, map[string]any{"value": "yes"})
	}
	put("dbs", map[string]any{"type": "checkboxes", "selected_options": dbs})
	if f.employment != "" {
		put("employment", map[string]any{"type": "radio_buttons", "selected_option": map[string]any{"value": f.employment}})
	}
	put("contact_phone", map[string]any{"type": "plain_text_input", "value": f.phone})
	put("contact_email", map[string]any{"type": "plain_text_input", "value": f.email})
	put("contact_note", map[string]any{"type": "plain_text_input", "value": f.note})
	return map[string]any{
		"type": "view_submission", "trigger_id": f.trigger,
		"team": map[string]any{"id": testTeam}, "user": map[string]any{"id": paUser, "team_id": testTeam},
		"view": map[string]any{"id": "VSUB1", "hash": f.hash, "type": "modal", "callback_id": listingCallback,
			"team_id": testTeam, "state": map[string]any{"values": values}},
	}
}

// submit posts f's submission, signed with secret, and returns the answer.
func (s *netStack) submit(t *testing.T, f form, secret string) (int, string) {
	t.Helper()
	js, _ := json.Marshal(f.submission())
	body := url.Values{"payload": {string(js)}}.Encode()
	status, resp := s.post(t, PathInteractions, "application/x-www-form-urlencoded", body, secret, time.Now())
	s.idle()
	return status, resp
}

// listings returns the PA's listings.
func (s *netStack) listings(t *testing.T) []directory.Listing {
	t.Helper()
	p, err := s.net.List(context.Background(), directory.ListRequest{Owner: paOwner})
	if err != nil {
		t.Fatal(err)
	}
	return p.Listings
}

// only returns the PA's one listing.
func (s *netStack) only(t *testing.T) directory.Listing {
	t.Helper()
	ls := s.listings(t)
	if len(ls) != 1 {
		t.Fatalf("the PA has %d listings, want 1", len(ls))
	}
	return ls[0]
}

// dms returns what was posted in the PA's direct messages after the first
// n posts to anyone.
func (s *netStack) dms(n int) []posted {
	var out []posted
	for _, p := range s.peer.sentSince(n) {
		if p.Channel == paDM && p.Method == "chat.postMessage" {
			out = append(out, p)
		}
	}
	return out
}

// dmSaying returns the one DM after the first n posts whose text has want.
func (s *netStack) dmSaying(t *testing.T, n int, want string) posted {
	t.Helper()
	var texts []string
	for _, p := range s.dms(n) {
		if strings.Contains(p.sectionText(), want) {
			return p
		}
		texts = append(texts, p.sectionText())
	}
	t.Fatalf("no DM to the PA says %q; the DMs say %q", want, texts)
	return posted{}
}

// press presses the button with value on m as the PA and waits for the
// work it causes.
func (s *netStack) press(t *testing.T, m posted, value string) {
	t.Helper()
	if status := s.interaction(t, buttonPress(paUser, m, value, "")); status != http.StatusOK {
		t.Fatalf("button press answered %d", status)
	}
	s.idle()
}

// listed has the PA list themselves through Slack and staff approve the
// listing over HTTP; it returns the listing.
func (s *netStack) listed(t *testing.T) directory.Listing {
	t.Helper()
	if status, body := s.submit(t, samsForm(), testSecret); status != http.StatusOK || body != "" {
		t.Fatalf("submission answered %d %q", status, body)
	}
	l := s.only(t)
	if status := s.staff(t, http.MethodPost, "/api/v1/listings/"+l.ID+"/approve", nil); status != http.StatusOK {
		t.Fatalf("approve: %d", status)
	}
	s.idle()
	return s.only(t)
}

// TestListingCommandOpensTheModal: a signed "/askpa listing" opens the
// listing modal with views.open, using the command's trigger, before
// Slack is answered; the modal offers the directory's whole service
// vocabulary and says contact details are private.
func TestListingCommandOpensTheModal(t *testing.T) {
	s := newNetStack(t)
	status, body := s.listingCommand(t, "trig-cmd-1")
	if status != http.StatusOK || body != "" {
		t.Fatalf("/askpa listing answered %d %q", status, body)
	}
	views := s.peer.openedViews()
	if len(views) != 1 || views[0].Method != "views.open" || views[0].TriggerID != "trig-cmd-1" {
		t.Fatalf("views = %+v", views)
	}
	v := views[0]
	if v.View["callback_id"] != listingCallback {
		t.Errorf("callback_id = %v", v.View["callback_id"])
	}
	for _, id := range []string{"kind", "name", "areas", "services", "availability", "languages", "experience", "training",
		"dbs", "rate", "employment", "contact_phone", "contact_email", "contact_note"} {
		if v.block(id) == nil {
			t.Errorf("the modal has no %q block", id)
		}
	}
	var offered []string
	for _, o := range v.block("services")["element"].(map[string]any)["options"].([]any) {
		offered = append(offered, o.(map[string]any)["value"].(string))
	}
	var vocab []string
	for _, sv := range s.net.Services().Services() {
		vocab = append(vocab, sv.ID)
	}
	if !slices.Equal(offered, vocab) {
		t.Errorf("services offered %v, want the vocabulary %v", offered, vocab)
	}
	js, _ := json.Marshal(v.View)
	if !strings.Contains(string(js), "never shown in searches") {
		t.Errorf("the modal does not say contact details are private")
	}
	if len(v.buttons()) != 0 {
		t.Errorf("a new listing's modal offers %v", v.buttons())
	}
	if got := s.handler.messages(); len(got) != 0 {
		t.Errorf("the bot was asked %+v", got)
	}

	// When Slack refuses the modal, the person is told so at once.
	s.peer.fail("views.open", 5, slackError("expired_trigger_id"))
	status, body = s.listingCommand(t, "trig-cmd-2")
	if status != http.StatusOK || !strings.Contains(body, "could not open your listing") {
		t.Errorf("a failed views.open answered %d %q", status, body)
	}
}

// TestListingSubmission: a signed view_submission with valid values is
// answered 200 with an empty body (Slack closes the modal); the listing
// is then pending with what was typed, and the PA is told in a DM that it
// was sent for moderation. A phone number in "experience" is answered
// with response_action errors naming that block, and nothing is stored;
// a forged signature is refused with 401, and nothing is stored.
func TestListingSubmission(t *testing.T) {
	s := newNetStack(t)

	bad := samsForm()
	bad.text["experience"] = "Ten years of home care, call me on 07700 900 555"
	status, body := s.submit(t, bad, testSecret)
	var answer struct {
		Action string            `json:"response_action"`
		Errors map[string]string `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &answer); status != http.StatusOK || err != nil {
		t.Fatalf("contact details in experience answered %d %q", status, body)
	}
	if answer.Action != "errors" || len(answer.Errors) != 1 || !strings.Contains(answer.Errors["experience"], "phone number") {
		t.Errorf("errors = %+v, want one naming the experience block", answer)
	}
	badRate := samsForm()
	badRate.text["rate"] = "fifteen"
	if _, body := s.submit(t, badRate, testSecret); !strings.Contains(body, `"rate"`) {
		t.Errorf("an unreadable rate answered %q", body)
	}
	noArea := samsForm()
	noArea.text["areas"] = "EX4, ZZ9"
	if _, body := s.submit(t, noArea, testSecret); !strings.Contains(body, `"areas"`) || !strings.Contains(body, "ZZ9") {
		t.Errorf("an unknown district answered %q", body)
	}

	forged, _ := json.Marshal(samsForm().submission())
	status, _ = s.post(t, PathInteractions, "application/x-www-form-urlencoded", url.Values{"payload": {string(forged)}}.Encode(),
		"not-the-signing-secret", time.Now())
	s.idle()
	if status != http.StatusUnauthorized {
		t.Errorf("a forged submission answered %d", status)
	}
	if ls := s.listings(t); len(ls) != 0 || len(s.dms(0)) != 0 {
		t.Fatalf("refused submissions stored %d listings and sent %d DMs", len(ls), len(s.dms(0)))
	}

	status, body = s.submit(t, samsForm(), testSecret)
	if status != http.StatusOK || body != "" {
		t.Fatalf("a valid submission answered %d %q", status, body)
	}
	l := s.only(t)
	rate := 1550
	want := directory.Details{Kind: directory.KindPA, Name: "Sam Taylor", Areas: []string{"EX4", "EX5", "Exeter"},
		Services: []string{"personal-care", "dementia"}, Availability: "Weekday mornings", Languages: []string{"English", "Polish"},
		Experience: "Six years supporting people living with dementia.", Training: []string{"Care Certificate", "First aid at work"},
		DBSUpdateService: true, HourlyRatePence: &rate, Employment: directory.SelfEmployed,
		Contact: directory.Contact{Phone: samPhone, Note: "Text first please"}}
	gotJS, _ := json.Marshal(l.Details)
	wantJS, _ := json.Marshal(want)
	if string(gotJS) != string(wantJS) {
		t.Errorf("stored\n%s\nwant\n%s", gotJS, wantJS)
	}
	if l.Status != directory.StatusPending || l.Owner != paOwner || l.DisplayName != "Sam T." {
		t.Errorf("listing status %s owner %q name %q", l.Status, l.Owner, l.DisplayName)
	}
	s.dmSaying(t, 0, "sent for moderation")

	// The same submission again (Slack retried, or a second modal) changes
	// that listing rather than making another.
	again := samsForm()
	again.trigger, again.text["availability"] = "trig-submit-2", "Weekday mornings and Saturdays"
	s.submit(t, again, testSecret)
	if l := s.only(t); l.Availability != "Weekday mornings and Saturdays" || l.Status != directory.StatusPending {
		t.Errorf("after a second submission: %s, %q", l.Status, l.Availability)
	}
	if strings.Contains(s.logText(), samPhone) || strings.Contains(s.logText(), "dementia.") {
		t.Errorf("personal details in the log:\n%s", s.logText())
	}
}

// TestListingWordInADirectMessage: "listing" in a DM is not a question for
// the bot: askpa answers with an "Open my listing" button, whose press
// opens the modal prefilled with the PA's listing and offering what they
// may do with it; Pause in the modal pauses it, redraws the modal and
// tells the PA.
func TestListingWordInADirectMessage(t *testing.T) {
	s := newNetStack(t)
	l := s.listed(t)

	before := len(s.peer.sent())
	s.event(t, "EvListing1", dm(paUser, "Listing", "1700000100.000001"))
	s.idle()
	reply := s.dms(before)
	if len(reply) != 1 || !slices.Contains(reply[0].buttons(), listingOpen) {
		t.Fatalf("\"listing\" in a DM got %+v", reply)
	}
	if got := s.handler.messages(); len(got) != 0 {
		t.Errorf("the bot was asked %+v", got)
	}

	s.press(t, reply[0], listingOpen)
	views := s.peer.openedViews()
	if len(views) != 1 || views[0].Method != "views.open" || views[0].TriggerID == "" {
		t.Fatalf("views = %+v", views)
	}
	v := views[0]
	for block, want := range map[string]string{"name": "Sam Taylor", "areas": "EX4, EX5, Exeter", "services": "personal-care,dementia",
		"rate": "15.50", "dbs": "yes", "employment": "self-employed", "contact_phone": samPhone, "kind": "pa"} {
		if got := v.initial(block); got != want {
			t.Errorf("modal %s = %q, want %q", block, got, want)
		}
	}
	for _, move := range []string{movePause, moveRenew, moveWithdraw} {
		if !slices.Contains(v.buttons(), listingActionPrefix+move+":"+l.ID) {
			t.Errorf("the modal of an approved listing lacks %s: %v", move, v.buttons())
		}
	}

	// Pause, pressed in the modal.
	before = len(s.peer.sent())
	pause := buttonPress(paUser, posted{Blocks: v.blocks()}, listingActionPrefix+movePause+":"+l.ID, "")
	delete(pause, "message")
	pause["container"] = map[string]any{"type": "view", "view_id": "V0001"}
	pause["view"] = map[string]any{"id": "V0001", "hash": "h-V0001", "type": "modal", "callback_id": listingCallback}
	delete(pause, "channel")
	s.interaction(t, pause)
	s.idle()
	if got := s.only(t); got.Status != directory.StatusPaused {
		t.Fatalf("after Pause the listing is %s", got.Status)
	}
	s.dmSaying(t, before, "paused")
	views = s.peer.openedViews()
	if last := views[len(views)-1]; last.Method != "views.update" || last.ViewID != "V0001" ||
		!slices.Contains(last.buttons(), listingActionPrefix+moveResume+":"+l.ID) {
		t.Errorf("the modal was not redrawn with Resume: %+v", last)
	}
}

// TestListingModerationAndExpiryInDirectMessages: staff approve over HTTP
// and the PA is told in a DM; a rejection reaches them with its reason, and
// a pause by staff says so; a week before the 90 days run out they are reminded once, with a Renew
// button that renews it; a listing not renewed expires, and they are told.
func TestListingModerationAndExpiryInDirectMessages(t *testing.T) {
	s := newNetStack(t)
	ctx := context.Background()

	// Rejected with a reason, changed, sent again, approved.
	s.submit(t, samsForm(), testSecret)
	l := s.only(t)
	before := len(s.peer.sent())
	reason := "Please say which towns near Exeter you cover."
	if status := s.staff(t, http.MethodPost, "/api/v1/listings/"+l.ID+"/reject", map[string]string{"reason": reason}); status != http.StatusOK {
		t.Fatalf("reject: %d", status)
	}
	s.idle()
	rejected := s.dmSaying(t, before, "was not approved")
	if !strings.Contains(rejected.sectionText(), reason) || !slices.Contains(rejected.buttons(), listingOpen) {
		t.Errorf("the rejection DM lacks the reason or the Open button: %q %v", rejected.sectionText(), rejected.buttons())
	}
	fixed := samsForm()
	fixed.trigger, fixed.text["areas"] = "trig-submit-2", "EX4, Exeter, Crediton"
	s.submit(t, fixed, testSecret)
	if l = s.only(t); l.Status != directory.StatusPending {
		t.Fatalf("a rejected listing sent again is %s", l.Status)
	}
	before = len(s.peer.sent())
	s.staff(t, http.MethodPost, "/api/v1/listings/"+l.ID+"/approve", nil)
	s.idle()
	approved := s.dmSaying(t, before, "is approved")
	expires := day(s.clock.now().Add(directory.Lifetime))
	if !strings.Contains(approved.sectionText(), expires) {
		t.Errorf("the approval DM does not say until when: %q", approved.sectionText())
	}

	// Paused by staff (after a complaint, say): the PA is told who, and
	// offered a person to ask.
	before = len(s.peer.sent())
	if _, err := s.net.Pause(ctx, l.ID, "kim"); err != nil {
		t.Fatal(err)
	}
	s.idle()
	if paused := s.dmSaying(t, before, "The network team has paused"); !slices.Contains(paused.buttons(), bot.ActionHuman) {
		t.Errorf("the staff pause DM offers %v", paused.buttons())
	}
	if _, err := s.net.Resume(ctx, l.ID, "kim"); err != nil {
		t.Fatal(err)
	}

	// 82 days on, no reminder yet; 84 days on, one, with Renew.
	s.clock.advance(82 * 24 * time.Hour)
	if n, err := s.net.RemindDue(ctx); err != nil || n != 0 {
		t.Fatalf("RemindDue after 82 days = %d, %v", n, err)
	}
	s.clock.advance(2 * 24 * time.Hour)
	before = len(s.peer.sent())
	if n, err := s.net.RemindDue(ctx); err != nil || n != 1 {
		t.Fatalf("RemindDue after 84 days = %d, %v", n, err)
	}
	s.idle()
	reminder := s.dmSaying(t, before, "expires on "+expires+", in 6 days")
	if n, _ := s.net.RemindDue(ctx); n != 0 {
		t.Errorf("reminded twice")
	}
	s.press(t, reminder, listingActionPrefix+moveRenew+":"+l.ID)
	renewed := s.only(t)
	if !renewed.ExpiresAt.Equal(s.clock.now().Add(directory.Lifetime)) {
		t.Errorf("renewed until %v", renewed.ExpiresAt)
	}
	s.dmSaying(t, before, "Renewed")

	// Not renewed again: reminded, then expired.
	s.clock.advance(directory.Lifetime - 6*24*time.Hour)
	if n, _ := s.net.RemindDue(ctx); n != 1 {
		t.Errorf("the renewed listing was not reminded in its new period")
	}
	s.clock.advance(7 * 24 * time.Hour)
	before = len(s.peer.sent())
	if n, err := s.net.ExpireDue(ctx); err != nil || n != 1 {
		t.Fatalf("ExpireDue = %d, %v", n, err)
	}
	s.idle()
	expired := s.dmSaying(t, before, "has expired")
	if !slices.Contains(expired.buttons(), listingActionPrefix+moveRenew+":"+l.ID) {
		t.Errorf("the expiry DM has no Renew: %v", expired.buttons())
	}
}

// employer is a person on Telegram using the bot in a private chat.
type employer struct {
	t    *testing.T
	s    *netStack
	user telegramtest.User
	seen int
}

func (e *employer) say(text string) telegramtest.Message {
	e.t.Helper()
	e.s.tg.Send(e.user, telegramtest.Private(e.user), text)
	return e.next()
}

func (e *employer) press(m telegramtest.Message, label string) telegramtest.Message {
	e.t.Helper()
	e.s.tg.WaitCallbackAnswer(e.s.tg.Press(e.user, m, label))
	return e.next()
}

func (e *employer) next() telegramtest.Message {
	e.t.Helper()
	e.seen++
	return e.s.tg.WaitMessages(e.user.ID, e.seen)[e.seen-1]
}

// askToMeetSam searches with /findpa, asks to be introduced to Sam T.
// with a note and contact details, and checks it was sent.
func (e *employer) askToMeetSam(note string) {
	e.t.Helper()
	found := e.say("/findpa EX4 personal care")
	if !strings.Contains(found.Text, "Sam T.") || strings.Contains(found.Text, "07700") {
		e.t.Fatalf("/findpa shows %q", found.Text)
	}
	if got := e.press(found, "Ask to be introduced to Sam T."); !strings.Contains(got.Text, "short note") {
		e.t.Fatalf("asking to be introduced: %q", got.Text)
	}
	if got := e.say(note); !strings.Contains(got.Text, "How should they contact you") {
		e.t.Fatalf("the note: %q", got.Text)
	}
	if got := e.say(employerContact); !strings.Contains(got.Text, "Sent.") {
		e.t.Fatalf("the contact details: %q", got.Text)
	}
}

// TestIntroductionsBetweenTelegramAndSlack: an employer in Telegram finds
// the PA who listed in Slack (/findpa EX4, "Ask to be introduced", a
// note, contact details); the PA gets the note in a Slack DM with Accept
// and Decline. Accepting gives each the other's contact details on their
// own channel. A second employer is declined and told kindly, with none
// of the PA's details; a third gets no answer and is told so after 7
// days.
func TestIntroductionsBetweenTelegramAndSlack(t *testing.T) {
	s := newNetStack(t)
	ctx := context.Background()
	s.listed(t)

	// Accepted.
	dee := &employer{t: t, s: s, user: telegramtest.User{ID: 7201, FirstName: "Dee"}}
	before := len(s.peer.sent())
	note := "My mum needs help getting up and dressed, three mornings a week."
	dee.askToMeetSam(note)
	s.idle()
	request := s.dmSaying(t, before, "asked to be introduced")
	if !strings.Contains(request.sectionText(), note) || strings.Contains(request.sectionText(), "07700 900888") {
		t.Errorf("the request DM shows %q", request.sectionText())
	}
	accept := request.buttonValue(introAcceptPrefix)
	if accept == "" || request.buttonValue(introDeclinePrefix) == "" {
		t.Fatalf("the request DM has buttons %v", request.buttons())
	}
	before = len(s.peer.sent())
	s.press(t, request, accept)
	s.idle()
	if got := s.dmSaying(t, before, "You accepted").sectionText(); !strings.Contains(got, "07700900888") || !strings.Contains(got, "after 6pm") {
		t.Errorf("the PA got %q, not the employer's contact details", got)
	}
	toDee := dee.next()
	if !strings.Contains(toDee.Text, "Sam T. accepted") || !strings.Contains(toDee.Text, samPhone) || !strings.Contains(toDee.Text, "Text first please") {
		t.Errorf("the employer got %q, not the PA's contact details", toDee.Text)
	}
	// Pressing Accept again changes nothing and sends nothing more.
	before = len(s.peer.sent())
	s.press(t, request, accept)
	if extra := s.dms(before); len(extra) != 0 {
		t.Errorf("a second Accept sent %+v", extra)
	}

	// Declined: told kindly, without the PA's details.
	eve := &employer{t: t, s: s, user: telegramtest.User{ID: 7202, FirstName: "Eve"}}
	before = len(s.peer.sent())
	eve.askToMeetSam("Looking for someone for Saturday shopping trips.")
	s.idle()
	request = s.dmSaying(t, before, "Saturday shopping")
	s.press(t, request, request.buttonValue(introDeclinePrefix))
	s.dmSaying(t, before, "Declined")
	toEve := eve.next()
	if !strings.Contains(toEve.Text, "not able to take on your request") || strings.Contains(toEve.Text, "07700") {
		t.Errorf("the declined employer got %q", toEve.Text)
	}

	// No answer in 7 days: the employer is told.
	fay := &employer{t: t, s: s, user: telegramtest.User{ID: 7203, FirstName: "Fay"}}
	fay.askToMeetSam("Help with meals in the evenings, please.")
	s.idle()
	s.clock.advance(6 * 24 * time.Hour)
	if ins, err := s.net.ExpireIntroductions(ctx); err != nil || len(ins) != 0 {
		t.Fatalf("after 6 days ExpireIntroductions = %v, %v", ins, err)
	}
	s.clock.advance(24*time.Hour + time.Minute)
	if ins, err := s.net.ExpireIntroductions(ctx); err != nil || len(ins) != 1 {
		t.Fatalf("after 7 days ExpireIntroductions = %v, %v", ins, err)
	}
	s.idle()
	toFay := fay.next()
	if !strings.Contains(toFay.Text, "did not answer your request") || strings.Contains(toFay.Text, "07700") {
		t.Errorf("the employer whose request expired got %q", toFay.Text)
	}
	if strings.Contains(s.logText(), "07700") || strings.Contains(s.logText(), "mornings a week") {
		t.Errorf("personal details in the log:\n%s", s.logText())
	}
}

// TestSocketModeListingSubmission: over Socket Mode, a listing submitted
// with contact details in free text is acknowledged with the
// response_action errors as the acknowledgement's payload, and nothing is
// stored; a valid one is acknowledged and stored.
func TestSocketModeListingSubmission(t *testing.T) {
	ctx := context.Background()
	p := newPeer(t)
	acks := make(chan string, 16)
	go func() {
		for m := range p.srv.SeenFeed {
			acks <- m
		}
	}()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "askpa.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ch, err := New(Config{BotToken: "xoxb-test", AppToken: "xapp-test", APIURL: p.apiURL(), Handler: &fakeHandler{},
		Intake: bottest.NewIntake(), Poll: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	network, err := directory.NewNetwork(directory.Config{Store: store, Notify: ch.NotifyListing})
	if err != nil {
		t.Fatal(err)
	}
	ch.SetNetwork(network, nil)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- ch.Run(runCtx) }()
	send := func(envelopeID string, f form) string {
		t.Helper()
		js, _ := json.Marshal(map[string]any{"envelope_id": envelopeID, "type": "interactive", "payload": f.submission(), "accepts_response_payload": true})
		p.srv.SendToWebsocket(string(js))
		select {
		case m := <-acks:
			if !strings.Contains(m, envelopeID) {
				t.Fatalf("acknowledged %s, want %s", m, envelopeID)
			}
			return m
		case <-time.After(hangGuard):
			t.Fatalf("envelope %s not acknowledged", envelopeID)
		}
		return ""
	}
	bad := samsForm()
	bad.text["about"] = "Find me at www.samcares.co.uk"
	if ack := send("env-bad", bad); !strings.Contains(ack, `"response_action":"errors"`) || !strings.Contains(ack, `"about"`) {
		t.Errorf("the acknowledgement of a refused listing is %s", ack)
	}
	if ack := send("env-good", samsForm()); strings.Contains(ack, "errors") {
		t.Errorf("the acknowledgement of a valid listing is %s", ack)
	}
	// The acknowledged submission is worked from the intake, after the
	// acknowledgement (a draft, then sent for moderation): wait for it
	// before stopping.
	var page directory.Page
	for deadline := time.Now().Add(hangGuard); ; time.Sleep(10 * time.Millisecond) {
		page, err = network.List(ctx, directory.ListRequest{Owner: paOwner})
		if err != nil || len(page.Listings) > 0 && page.Listings[0].Status != directory.StatusDraft || time.Now().After(deadline) {
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err != nil || len(page.Listings) != 1 || page.Listings[0].Status != directory.StatusPending {
		t.Fatalf("listings after Socket Mode submissions: %+v, %v", page.Listings, err)
	}
}
