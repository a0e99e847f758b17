package bot_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/knowledge"
	"github.com/askpa/askpa/sqlite"
	"github.com/askpa/askpa/support"
)

// TestPeopleChooseTheirArea: a service answering for two councils asks a
// new person for their area after they say who they are; a postcode, a
// council's name or a button picks it, and their safeguarding script then
// gives that council's number; /area changes it, "not listed" goes back to
// the national wording, and an unknown area is asked again.
func TestPeopleChooseTheirArea(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "askpa.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ts := testshire()
	ts.Districts = []string{"TS"}
	ob := &knowledge.Area{ID: "otherborough", Name: "Otherborough Council", Districts: []string{"OB1", "OB2"},
		Safeguarding: knowledge.Safeguarding{Phone: "01632 960500"}}
	svc, err := bot.NewService(bot.ServiceConfig{Engine: localEngine(t, nil), Store: st,
		Areas: []bot.AreaEngine{{Area: ts, Engine: localEngine(t, ts)}, {Area: ob, Engine: localEngine(t, ob)}}})
	if err != nil {
		t.Fatal(err)
	}
	addr := bot.Address{Channel: bot.ChannelTelegram, UserID: "4242", ChatID: "4242"}
	send := func(m bot.Message) []bot.Reply {
		t.Helper()
		m.Address = addr
		res, err := svc.Handle(ctx, m)
		if err != nil {
			t.Fatalf("Handle(%+v): %v", m, err)
		}
		return res.Replies
	}
	last := func(m bot.Message) bot.Reply {
		t.Helper()
		rs := send(m)
		if len(rs) == 0 {
			t.Fatalf("no reply to %+v", m)
		}
		return rs[len(rs)-1]
	}
	const worry = "my PA hits me and shouts at me, I am scared of her"

	asked := last(bot.Message{Action: bot.ActionAudience + "employer"})
	if !strings.Contains(asked.Text, "Which council's area") || len(asked.Buttons) != 2 ||
		asked.Buttons[0][0].Action != bot.ActionArea+"testshire" || asked.Buttons[0][1].Action != bot.ActionArea+"otherborough" {
		t.Fatalf("after choosing employer: %q %+v", asked.Text, asked.Buttons)
	}
	if got := last(bot.Message{Text: "TS4 1AA"}).Text; !strings.Contains(got, "Testshire Council's details") {
		t.Fatalf("a postcode as the answer: %q", got)
	}
	if got := last(bot.Message{Text: worry}).Text; !strings.Contains(got, "01632 960200") {
		t.Errorf("Testshire's safeguarding script:\n%s", got)
	}

	if got := last(bot.Message{Text: "/area Otherborough"}).Text; !strings.Contains(got, "Otherborough Council's details") {
		t.Fatalf("/area Otherborough: %q", got)
	}
	if got := last(bot.Message{Text: worry}).Text; !strings.Contains(got, "01632 960500") || strings.Contains(got, "01632 960200") {
		t.Errorf("Otherborough's safeguarding script:\n%s", got)
	}
	if got := last(bot.Message{Text: "/area"}).Text; !strings.Contains(got, "Your area is Otherborough Council.") {
		t.Errorf("/area alone: %q", got)
	}
	if got := last(bot.Message{Text: "narnia"}).Text; strings.Contains(got, "details where they help") {
		t.Errorf("an unknown place taken as an area: %q", got)
	}
	if got := last(bot.Message{Text: "/area ZZ9"}).Text; !strings.Contains(got, `could not find an area for "ZZ9"`) {
		t.Errorf("/area ZZ9: %q", got)
	}
	if got := last(bot.Message{Action: bot.ActionArea}).Text; !strings.Contains(got, "national details") {
		t.Errorf("not listed: %q", got)
	}
	if got := last(bot.Message{Text: worry}).Text; strings.Contains(got, "01632") || !strings.Contains(got, "your council's adult safeguarding team") {
		t.Errorf("the national script after 'not listed':\n%s", got)
	}

	single, err := bot.NewService(bot.ServiceConfig{Engine: localEngine(t, ts), Store: st})
	if err != nil {
		t.Fatal(err)
	}
	res, err := single.Handle(ctx, bot.Message{Address: bot.Address{Channel: bot.ChannelTelegram, UserID: "4343"}, Text: "/area"})
	if err != nil || len(res.Replies) != 1 || !strings.Contains(res.Replies[0].Text, "one area") {
		t.Errorf("/area with one area: %+v, %v", res.Replies, err)
	}
}

// TestEscalationCarriesTheArea: a person who picked an area and asks for
// a person is handed over with that area on the escalation, so staff know
// whose numbers and services apply.
func TestEscalationCarriesTheArea(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "askpa.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	desk, err := support.NewDesk(support.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ts := testshire()
	ts.Districts = []string{"TS"}
	svc, err := bot.NewService(bot.ServiceConfig{Engine: localEngine(t, nil), Store: st, Desk: desk,
		Areas: []bot.AreaEngine{{Area: ts, Engine: localEngine(t, ts)}}})
	if err != nil {
		t.Fatal(err)
	}
	addr := bot.Address{Channel: bot.ChannelTelegram, UserID: "5151", ChatID: "5151"}
	for _, text := range []string{"/area TS2", "can I talk to a real person please"} {
		if _, err := svc.Handle(ctx, bot.Message{Address: addr, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := desk.List(ctx, support.ListRequest{})
	if err != nil || len(page.Escalations) != 1 || page.Escalations[0].Area != "testshire" {
		t.Fatalf("escalations %+v, %v; want one for area testshire", page.Escalations, err)
	}
}
