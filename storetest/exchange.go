package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
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
