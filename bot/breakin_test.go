package bot_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/sqlite"
	"github.com/askpa/askpa/support"
)

// newRigOn is newRig with its one channel named channel.
func newRigOn(tb testing.TB, channel string) *rig {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "askpa.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	fs := &feedbackStore{Store: st}
	ch := &sentChannel{name: channel}
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
	r := &rig{store: fs, sqlite: st, desk: desk, disp: disp, channel: ch}
	if r.svc, err = bot.NewService(bot.ServiceConfig{Engine: realEngine(tb), Store: fs, Desk: desk, Questions: st}); err != nil {
		tb.Fatal(err)
	}
	return r
}

// TestStaffRepliesStayPrivate (issue 10): a person who handed their
// conversation over in private (a Telegram private chat, a Slack DM) and
// then mentions askpa where others read (a Telegram group, a Slack
// channel) must not have staff's replies, or the news that staff picked
// them up, posted there for everyone: they go to the private chat the
// escalation began in. A conversation that moves from a group to a
// private chat follows the person there.
func TestStaffRepliesStayPrivate(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		channel               string
		private, public, back bot.Address
	}{
		{"telegram group", bot.ChannelTelegram,
			bot.Address{Channel: bot.ChannelTelegram, UserID: "1001", ChatID: "1001"},
			bot.Address{Channel: bot.ChannelTelegram, UserID: "1001", ChatID: "-100200300"},
			bot.Address{}},
		{"slack channel", bot.ChannelSlack,
			bot.Address{Channel: bot.ChannelSlack, UserID: "U1", ChatID: "DU1", Team: "T1"},
			bot.Address{Channel: bot.ChannelSlack, UserID: "U1", ChatID: "CGENERAL", ThreadID: "1700000000.000100", Team: "T1"},
			bot.Address{}},
		{"escalated in a group, then in private", bot.ChannelTelegram,
			bot.Address{Channel: bot.ChannelTelegram, UserID: "1001", ChatID: "-100200300"},
			bot.Address{Channel: bot.ChannelTelegram, UserID: "1001", ChatID: "1001"},
			bot.Address{Channel: bot.ChannelTelegram, UserID: "1001", ChatID: "1001"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRigOn(t, tc.channel)
			ctx := context.Background()
			r.addr = tc.private
			res := r.say(t, "can I speak to a real person please")
			if res.EscalationID == "" {
				t.Fatal("asking for a person did not escalate")
			}
			r.addr = tc.public
			r.say(t, "what is the minimum wage for a PA aged 25")
			if _, err := r.desk.Claim(ctx, res.EscalationID, "sam"); err != nil {
				t.Fatal(err)
			}
			if _, err := r.desk.Reply(ctx, res.EscalationID, "sam", "About your employer hitting you: we have told the council's safeguarding team."); err != nil {
				t.Fatal(err)
			}
			r.deliver(t)
			want := tc.private
			if tc.back.ChatID != "" {
				want = tc.back
			}
			r.channel.mu.Lock()
			defer r.channel.mu.Unlock()
			if len(r.channel.sent) != 2 {
				t.Fatalf("sent %+v, want the claim note and the reply", r.channel.sent)
			}
			for _, s := range r.channel.sent {
				if s.to.ChatID != want.ChatID {
					t.Errorf("%q sent to chat %q, want %q", strings.SplitN(s.r.Text, ":", 2)[0], s.to.ChatID, want.ChatID)
				}
			}
		})
	}
}
