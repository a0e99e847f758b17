package bot_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/bottest"
	"github.com/askpa/askpa/knowledge"
	"github.com/askpa/askpa/sqlite"
)

// testshire is a council's local pack; its numbers are Ofcom's drama
// numbers.
func testshire() *knowledge.Area {
	return &knowledge.Area{
		ID: "testshire", Name: "Testshire Council",
		Safeguarding:   knowledge.Safeguarding{Phone: "01632 960200", OutOfHours: "01632 960201"},
		SupportService: knowledge.SupportService{Name: "Testshire Direct Payment Support", Phone: "01632 960300", Hours: "9am to 5pm, Monday to Friday"},
	}
}

// localEngine is the built-in knowledge base answered for area, ranked by
// the index alone (enough for hand-overs and safety).
func localEngine(tb testing.TB, area *knowledge.Area) *bot.Engine {
	tb.Helper()
	base, ix := bottest.Index(tb)
	e, err := bot.NewEngine(base, ix, bot.EngineConfig{Area: area})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// TestHandOverSaysWhenTheSupportServiceIsOpen: with a local pack that
// gives the support service's hours, the hand-over says them and what to
// do outside them; without one it reads as before.
func TestHandOverSaysWhenTheSupportServiceIsOpen(t *testing.T) {
	const asks = "I want to talk to a real person please"
	r := newRigWith(t, localEngine(t, testshire()))
	got := only(t, r.say(t, asks)).Text
	want := "A person will reply here, usually within one working day. Testshire Direct Payment Support is open 9am to 5pm, Monday to Friday; " +
		"outside those hours, if you are worried someone is being harmed, call Testshire Council's out-of-hours safeguarding number, 01632 960201, and if anyone is in danger, call 999. You can keep writing"
	if !strings.Contains(got, want) {
		t.Errorf("hand-over with a pack:\n%s\nwant it to contain:\n%s", got, want)
	}

	noOOH := testshire()
	noOOH.Safeguarding.OutOfHours = ""
	r = newRigWith(t, localEngine(t, noOOH))
	if got := only(t, r.say(t, asks)).Text; !strings.Contains(got, "is open 9am to 5pm, Monday to Friday; outside those hours, if anyone is in danger, call 999. You can keep writing") {
		t.Errorf("hand-over without an out-of-hours number:\n%s", got)
	}

	r = newRigWith(t, localEngine(t, nil))
	if got := only(t, r.say(t, asks)).Text; !strings.Contains(got, "usually within one working day. You can keep writing") || strings.Contains(got, "is open") {
		t.Errorf("hand-over without a pack:\n%s", got)
	}
}

// TestNoDeskNamesTheLocalSupportService: a service with no support desk
// sends people to the pack's support service, or to the national words.
func TestNoDeskNamesTheLocalSupportService(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "askpa.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	addr := bot.Address{Channel: bot.ChannelTelegram, UserID: "7", ChatID: "7"}
	for area, want := range map[*knowledge.Area]string{
		testshire(): "Please contact Testshire Direct Payment Support on 01632 960300 (open 9am to 5pm, Monday to Friday).",
		nil:         "Please contact your council's direct payments team or your direct payment support service.",
	} {
		svc, err := bot.NewService(bot.ServiceConfig{Engine: localEngine(t, area), Store: st})
		if err != nil {
			t.Fatal(err)
		}
		res, err := svc.Handle(context.Background(), bot.Message{Address: addr, Text: "can I speak to a human"})
		if err != nil {
			t.Fatal(err)
		}
		if got := only(t, res).Text; !strings.Contains(got, want) {
			t.Errorf("no desk:\n%s\nwant it to contain %q", got, want)
		}
	}
}

// TestUrgentScriptGivesTheLocalNumber: the engine localises the safety
// replies with its area.
func TestUrgentScriptGivesTheLocalNumber(t *testing.T) {
	const msg = "my PA hits me and shouts at me, I am scared of her"
	a, err := localEngine(t, testshire()).Answer(context.Background(), msg, knowledge.Employer)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Urgent || !strings.Contains(a.Text, "Testshire Council's adult safeguarding team on 01632 960200 (out of hours: 01632 960201)") {
		t.Errorf("with a pack: urgent %v\n%s", a.Urgent, a.Text)
	}
	if got := localEngine(t, testshire()).Area(); got == nil || got.ID != "testshire" {
		t.Errorf("Area() = %+v", got)
	}
	a, err = localEngine(t, nil).Answer(context.Background(), msg, knowledge.Employer)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Urgent || !strings.Contains(a.Text, "your council's adult safeguarding team (most councils have an out-of-hours number)") || strings.Contains(a.Text, "Testshire") {
		t.Errorf("without a pack: urgent %v\n%s", a.Urgent, a.Text)
	}
}
