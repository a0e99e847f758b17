package bot_test

import (
	"context"
	"testing"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/support"
)

// TestEscalationCarriesAnswerSources checks that a bot answer's sources
// are kept with its turn and reach the escalation that follows: staff see
// the guides the person was shown, and the person's own messages carry
// none.
func TestEscalationCarriesAnswerSources(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	res := r.say(t, "how many days holiday does my PA get a year")
	ans := only(t, res)
	if len(ans.Sources) == 0 || ans.Sources[0].Title == "" {
		t.Fatalf("answer without sources: %+v", ans)
	}
	c := r.conversation(t)
	turns, err := r.store.Turns(ctx, c.ID, 0)
	if err != nil || len(turns) != 2 {
		t.Fatalf("turns: %+v, %v", turns, err)
	}
	if turns[0].From != bot.FromUser || turns[0].Sources != nil {
		t.Errorf("the person's turn: %+v", turns[0])
	}
	if turns[1].From != bot.FromBot || len(turns[1].Sources) != len(ans.Sources) || turns[1].Sources[0] != ans.Sources[0] {
		t.Errorf("the answer's turn: %+v, want the sources %+v", turns[1], ans.Sources)
	}

	hand := r.say(t, "/human")
	if hand.EscalationID == "" {
		t.Fatalf("no hand-over: %+v", hand)
	}
	e, err := r.desk.Get(ctx, hand.EscalationID)
	if err != nil {
		t.Fatal(err)
	}
	// The escalation holds the answer with its sources, then the
	// hand-over reply the person got, which drew on no guide.
	var bots []support.Message
	for _, m := range e.Messages {
		switch m.From {
		case support.FromBot:
			bots = append(bots, m)
		default:
			if m.Sources != nil {
				t.Errorf("%s message %q has sources %+v", m.From, m.Text, m.Sources)
			}
		}
	}
	if len(bots) != 2 || e.Messages[len(e.Messages)-1].Seq != bots[1].Seq {
		t.Fatalf("bot messages %+v, want the answer and then the hand-over reply, last", bots)
	}
	if len(bots[0].Sources) != len(ans.Sources) {
		t.Fatalf("answer %q has sources %+v, want %+v", bots[0].Text, bots[0].Sources, ans.Sources)
	}
	for i, s := range ans.Sources {
		if want := (support.Source{ID: s.ID, Title: s.Title, URL: s.URL}); bots[0].Sources[i] != want {
			t.Errorf("source %d = %+v, want %+v", i, bots[0].Sources[i], want)
		}
	}
	if got := hand.Replies[0].Text; bots[1].Text != got || bots[1].Sources != nil {
		t.Errorf("last bot message %q with sources %+v, want the hand-over reply %q without any", bots[1].Text, bots[1].Sources, got)
	}
}
