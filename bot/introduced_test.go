package bot_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/sqlite"
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
// names a channel that is not running with ErrNoChannel; TellEmployer
// tells an employer of their introduction's outcome at once.
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
	in := directory.Introduction{ID: "i1", Employer: "telegram:501", Status: directory.IntroExpired}
	relay.TellEmployer(ctx, in, directory.Listing{DisplayName: "Sam T."})
	in.Status = directory.IntroRequested
	relay.TellEmployer(ctx, in, directory.Listing{DisplayName: "Sam T."})
	got := tg.texts()
	if len(got) != 2 || got[0] != "hello" || !strings.Contains(got[1], "did not answer") {
		t.Errorf("sent %q", got)
	}
	if tg.sent[0].to.ChatID != "501" {
		t.Errorf("sent to %+v, want the private chat", tg.sent[0].to)
	}
}
