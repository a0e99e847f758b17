package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/sqlite"
	"github.com/askpa/askpa/support"
)

func TestParseAddressKey(t *testing.T) {
	for _, c := range []struct {
		key  string
		want bot.Address
		ok   bool
	}{
		{"telegram:12345", bot.Address{Channel: "telegram", UserID: "12345", ChatID: "12345"}, true},
		{"web:u-1", bot.Address{Channel: "web", UserID: "u-1", ChatID: "u-1"}, true},
		{"slack:U123", bot.Address{Channel: "slack", UserID: "U123", ChatID: "U123"}, true},
		{"fax:123", bot.Address{}, false},
		{"telegram:", bot.Address{}, false},
		{"telegram", bot.Address{}, false},
		{"telegram:1 2", bot.Address{}, false},
		{"", bot.Address{}, false},
	} {
		got, ok := bot.ParseAddressKey(c.key)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseAddressKey(%q) = %+v, %v; want %+v, %v", c.key, got, ok, c.want, c.ok)
		}
		if ok && got.Key() != c.key {
			t.Errorf("ParseAddressKey(%q).Key() = %q", c.key, got.Key())
		}
	}
}

// TestIntroductionNews: an employer is given the PA's contact details only
// when the introduction was accepted; a refusal or an expiry is told
// kindly, without them, with a way to search again.
func TestIntroductionNews(t *testing.T) {
	l := directory.Listing{DisplayName: "Sam T."}
	in := directory.Introduction{ListingContact: directory.Contact{Phone: "07700 900123", Email: "sam@example.org", Note: "Text first"}}
	if _, ok := bot.IntroductionNews(in, l); ok {
		t.Errorf("a request still waiting has news")
	}
	in.Status = directory.IntroAccepted
	r, ok := bot.IntroductionNews(in, l)
	for _, want := range []string{"Sam T. accepted", "Phone: 07700 900123", "Email: sam@example.org", "Text first", "right to work"} {
		if !ok || !strings.Contains(r.Text, want) {
			t.Errorf("accepted: %q lacks %q", r.Text, want)
		}
	}
	for _, st := range []directory.IntroStatus{directory.IntroDeclined, directory.IntroExpired} {
		in.Status = st
		r, ok := bot.IntroductionNews(in, l)
		if !ok || !strings.Contains(r.Text, "Sam T.") || strings.Contains(r.Text, "07700") || strings.Contains(r.Text, "sam@") {
			t.Errorf("%s: %q", st, r.Text)
		}
		if len(r.Buttons) != 1 || r.Buttons[0][0].Action != bot.ActionFindPA {
			t.Errorf("%s: buttons %+v, want Search the PA network", st, r.Buttons)
		}
	}
}

// TestRelaySendTo: SendTo reaches a person on their own channel, and
// names a channel that is not running with ErrNoChannel.
func TestRelaySendTo(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "askpa.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tg := &sentChannel{name: bot.ChannelTelegram}
	relay, err := bot.NewRelay(bot.RelayConfig{Store: store, Channels: []bot.Channel{tg}})
	if err != nil {
		t.Fatal(err)
	}
	to, _ := bot.ParseAddressKey("telegram:501")
	if err := relay.SendTo(ctx, to, bot.Reply{Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	if err := relay.SendTo(ctx, bot.Address{Channel: "web", UserID: "u"}, bot.Reply{Text: "x"}); !errors.Is(err, bot.ErrNoChannel) {
		t.Errorf("SendTo a channel not running = %v", err)
	}
	got := tg.texts()
	if len(got) != 1 || got[0] != "hello" {
		t.Errorf("sent %q", got)
	}
	if tg.sent[0].to.ChatID != "501" {
		t.Errorf("sent to %+v, want the private chat", tg.sent[0].to)
	}
}

// introductionsMap is an in-memory bot.Introductions.
type introductionsMap map[string]directory.Introduction

func (m introductionsMap) GetIntroduction(_ context.Context, id string) (directory.Introduction, error) {
	in, ok := m[id]
	if !ok {
		return directory.Introduction{}, directory.ErrNotFound
	}
	return in, nil
}

// introEvent is the outbox event of in's change to status, as the store
// writes it: the shared listing and introduction, no contact details.
func introEvent(t *testing.T, in directory.Introduction, l directory.Listing) support.Event {
	t.Helper()
	lj, err := json.Marshal(l.Shared())
	if err != nil {
		t.Fatal(err)
	}
	ij, err := json.Marshal(in.Shared())
	if err != nil {
		t.Fatal(err)
	}
	return support.Event{Name: "introduction." + string(in.Status), DeliveryID: "d-" + in.ID, Listing: lj, Introduction: ij}
}

// TestIntroductionTarget: the relay's introduction target takes an
// answer or an expiry, not a request; it tells the employer on their own
// channel, with the PA's contact details (read from the store, not the
// event) only on acceptance; an introduction forgotten meanwhile tells
// nobody; an employer it cannot reach is a permanent failure, and a
// channel's passing failure is retried.
func TestIntroductionTarget(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "askpa.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tg := &sentChannel{name: bot.ChannelTelegram}
	relay, err := bot.NewRelay(bot.RelayConfig{Store: store, Channels: []bot.Channel{tg}})
	if err != nil {
		t.Fatal(err)
	}
	l := directory.Listing{ID: "l1", DisplayName: "Sam T.", Owner: "slack:T1:U1",
		Details: directory.Details{Contact: directory.Contact{Phone: "07700 900123"}}}
	contact := directory.Contact{Phone: "07700 900123", Note: "Text first"}
	intros := introductionsMap{
		"acc": {ID: "acc", ListingID: "l1", Employer: "telegram:501", Status: directory.IntroAccepted, ListingContact: contact,
			EmployerContact: directory.Contact{Email: "dee@example.org"}, Note: "Mornings, please."},
		"exp":  {ID: "exp", ListingID: "l1", Employer: "telegram:502", Status: directory.IntroExpired},
		"req":  {ID: "req", ListingID: "l1", Employer: "telegram:503", Status: directory.IntroRequested},
		"fax":  {ID: "fax", ListingID: "l1", Employer: "fax:1", Status: directory.IntroDeclined},
		"web":  {ID: "web", ListingID: "l1", Employer: "web:u1", Status: directory.IntroDeclined},
		"gone": {ID: "gone", ListingID: "l1", Employer: "telegram:504", Status: directory.IntroDeclined},
	}
	target := relay.IntroductionTarget(intros)
	if target.Name() != bot.IntroductionTargetName {
		t.Errorf("Name() = %q", target.Name())
	}
	events := map[string]support.Event{}
	for id, in := range intros {
		events[id] = introEvent(t, in, l)
	}
	delete(intros, "gone")
	if support.AcceptsIntroduction(target, events["req"]) {
		t.Errorf("the employer's target takes their own request")
	}
	for _, id := range []string{"acc", "exp", "fax"} {
		if !support.AcceptsIntroduction(target, events[id]) {
			t.Errorf("the employer's target does not take %s", events[id].Name)
		}
	}
	if strings.Contains(string(events["acc"].Introduction)+string(events["acc"].Listing), "07700") ||
		strings.Contains(string(events["acc"].Introduction), "dee@") || strings.Contains(string(events["acc"].Introduction), "Mornings") {
		t.Fatalf("the event carries contact details or the note: %s %s", events["acc"].Listing, events["acc"].Introduction)
	}

	for _, id := range []string{"acc", "exp", "gone"} {
		if err := target.Deliver(ctx, events[id]); err != nil {
			t.Errorf("deliver %s: %v", id, err)
		}
	}
	got := tg.texts()
	if len(got) != 2 || !strings.Contains(got[0], "Sam T. accepted") || !strings.Contains(got[0], "07700 900123") ||
		!strings.Contains(got[0], "Text first") || !strings.Contains(got[1], "did not answer") || strings.Contains(got[1], "07700") {
		t.Errorf("sent %q", got)
	}
	if tg.sent[0].to.ChatID != "501" || tg.sent[1].to.ChatID != "502" {
		t.Errorf("sent to %+v and %+v", tg.sent[0].to, tg.sent[1].to)
	}
	for _, id := range []string{"fax", "web"} {
		if err := target.Deliver(ctx, events[id]); !support.IsPermanent(err) {
			t.Errorf("deliver to an employer askpa cannot reach (%s) = %v; want a permanent failure", id, err)
		}
	}
	tg.mu.Lock()
	tg.fail = errors.New("telegram is down")
	tg.mu.Unlock()
	if err := target.Deliver(ctx, events["exp"]); err == nil || support.IsPermanent(err) {
		t.Errorf("deliver while the channel fails = %v; want a failure to retry", err)
	}
}
