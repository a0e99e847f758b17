package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/support"
)

// testExchange checks SaveExchange: the turns appended in order and the
// conversation saved together, and nothing written for an unknown
// conversation.
func testExchange(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	c, err := s.Conversation(ctx, bot.Address{Channel: "web", UserID: "w1", ChatID: "w1"}, "employer", now)
	if err != nil {
		t.Fatal(err)
	}
	c.LastQuestion, c.Misses, c.UpdatedAt = "how much holiday?", 1, now.Add(time.Minute)
	turns := []bot.Turn{
		{From: bot.FromUser, Text: "how much holiday?", At: now.Add(time.Minute)},
		{From: bot.FromBot, Text: "5.6 weeks", At: now.Add(time.Minute)},
		{From: bot.FromBot, Text: "Was this helpful?", At: now.Add(time.Minute)},
	}
	if err := s.SaveExchange(ctx, c, turns); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConversationByID(ctx, c.ID)
	if err != nil || got != c {
		t.Errorf("saved with the exchange and read back:\n%+v\nwant\n%+v (%v)", got, c, err)
	}
	ts, err := s.Turns(ctx, c.ID, 10)
	if err != nil || len(ts) != len(turns) {
		t.Fatalf("turns after the exchange: %+v, %v", ts, err)
	}
	for i, tn := range ts {
		if tn.From != turns[i].From || tn.Text != turns[i].Text || !tn.At.Equal(turns[i].At) {
			t.Errorf("turn %d = %+v, want %+v", i, tn, turns[i])
		}
	}
	// No turns at all (a message already recorded) still saves.
	c.Misses = 0
	if err := s.SaveExchange(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ConversationByID(ctx, c.ID); err != nil || got.Misses != 0 {
		t.Errorf("saved without turns: %+v, %v", got, err)
	}
	unknown := bot.Conversation{ID: "nope", UpdatedAt: now}
	if err := s.SaveExchange(ctx, unknown, turns); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("exchange of an unknown conversation: %v, want bot.ErrNotFound", err)
	}
	if ts, err := s.Turns(ctx, "nope", 10); err != nil || len(ts) != 0 {
		t.Errorf("turns written for an unknown conversation: %+v, %v", ts, err)
	}
}

// testTurnSources checks that a bot turn keeps the sources of its answer,
// whether appended alone or with an exchange, and that turns without
// sources (the person's, staff's, and every turn kept before sources were)
// read back with none.
func testTurnSources(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	c, err := s.Conversation(ctx, bot.Address{Channel: "telegram", UserID: "7", ChatID: "7"}, "employer", now)
	if err != nil {
		t.Fatal(err)
	}
	holiday := []bot.Source{
		{ID: "holiday-entitlement", Title: "Holiday entitlement for your PA", Kind: "guidance", URL: "https://askpa.example/guides/holiday-entitlement#how-much"},
		{ID: "bank-holidays", Title: "Bank holidays & \"extra\" days <2026>", Kind: "good-practice"},
	}
	if err := s.AppendTurn(ctx, c.ID, bot.Turn{From: bot.FromUser, Text: "how much holiday?", At: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendTurn(ctx, c.ID, bot.Turn{From: bot.FromBot, Text: "5.6 weeks", Sources: holiday, At: now}); err != nil {
		t.Fatal(err)
	}
	c.UpdatedAt = now.Add(time.Minute)
	pay := []bot.Source{{ID: "holiday-pay", Title: "Holiday pay", Kind: "guidance", URL: "/guides/holiday-pay"}}
	if err := s.SaveExchange(ctx, c, []bot.Turn{
		{From: bot.FromUser, Text: "and the pay?", At: c.UpdatedAt},
		{From: bot.FromBot, Text: "Their usual pay.", Sources: pay, At: c.UpdatedAt},
		{From: bot.FromBot, Text: "Was this helpful?", At: c.UpdatedAt},
	}); err != nil {
		t.Fatal(err)
	}
	ts, err := s.Turns(ctx, c.ID, 0)
	if err != nil || len(ts) != 5 {
		t.Fatalf("turns: %+v, %v", ts, err)
	}
	for i, want := range [][]bot.Source{nil, holiday, nil, pay, nil} {
		if got := ts[i].Sources; !slices.Equal(got, want) {
			t.Errorf("turn %d (%q) sources = %+v, want %+v", i, ts[i].Text, got, want)
		}
	}
	// The last turns only: each keeps its own sources.
	if ts, err := s.Turns(ctx, c.ID, 2); err != nil || len(ts) != 2 || !slices.Equal(ts[0].Sources, pay) || ts[1].Sources != nil {
		t.Errorf("last two turns: %+v, %v", ts, err)
	}

	// An escalation's bot messages keep theirs too, through every change
	// and in another handle.
	desk, err := support.NewDesk(support.Config{Store: s, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	want := []support.Source{{ID: "holiday-pay", Title: "Holiday pay", URL: "/guides/holiday-pay"}, {ID: "bank-holidays", Title: "Bank holidays"}}
	n := newEscalation("7", support.PriorityNormal)
	n.Messages[1].Sources = want
	e, err := desk.Escalate(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := desk.Claim(ctx, e.ID, "alex"); err != nil {
		t.Fatal(err)
	}
	other := open(t, o)
	got, err := other.Get(ctx, e.ID)
	if err != nil || len(got.Messages) != 2 {
		t.Fatalf("escalation read back: %+v, %v", got, err)
	}
	if got.Messages[0].Sources != nil || !slices.Equal(got.Messages[1].Sources, want) {
		t.Errorf("escalation messages' sources = %+v and %+v, want none and %+v", got.Messages[0].Sources, got.Messages[1].Sources, want)
	}
}
