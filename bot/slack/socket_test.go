package slack

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/bottest"
)

// hangGuard is how long a test waits for something that should happen at
// once before it gives up; it only stops a broken test from hanging.
const hangGuard = 30 * time.Second

func TestSocketModeRoutesLikeHTTP(t *testing.T) {
	p := newPeer(t)
	acks := make(chan string, 16)
	go func() {
		for m := range p.srv.SeenFeed { // what askpa wrote on the socket
			acks <- m
		}
	}()
	h := &fakeHandler{answer: answerWithButtons}
	ch, err := New(Config{BotToken: "xoxb-test", AppToken: "xapp-test", APIURL: p.apiURL(), Handler: h, Intake: bottest.NewIntake(), Poll: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ch.Run(ctx) }()

	send := func(envelopeID, typ string, payload any) {
		t.Helper()
		js, _ := json.Marshal(map[string]any{"envelope_id": envelopeID, "type": typ, "payload": payload, "accepts_response_payload": false})
		p.srv.SendToWebsocket(string(js))
		select {
		case m := <-acks:
			if !strings.Contains(m, envelopeID) {
				t.Fatalf("acknowledged %s, want %s", m, envelopeID)
			}
		case <-time.After(hangGuard):
			t.Fatalf("envelope %s not acknowledged", envelopeID)
		}
	}
	callback := func(eventID string, inner map[string]any) map[string]any {
		return map[string]any{"type": "event_callback", "team_id": testTeam, "event_id": eventID, "event": inner,
			"authorizations": []map[string]any{{"user_id": testBotUser, "is_bot": true}}}
	}
	send("env-1", "events_api", callback("EvS1", dm("U1", "holiday pay", "1700000000.000100")))
	send("env-2", "events_api", callback("EvS1", dm("U1", "holiday pay", "1700000000.000100"))) // redelivered
	send("env-3", "events_api", callback("EvS2", map[string]any{"type": "app_mention", "user": "U2", "channel": "C1",
		"ts": "1700000000.000200", "text": "<@" + testBotUser + "> sick pay"}))
	send("env-4", "slash_commands", map[string]any{"command": "/askpa", "text": "topics", "user_id": "U3", "channel_id": "C7",
		"team_id": testTeam, "trigger_id": "trig-s", "response_url": p.responseURL("sock")})
	send("env-5", "events_api", callback("EvS3", map[string]any{"type": "message", "channel": "D1", "channel_type": "im",
		"user": testBotUser, "bot_id": "B1", "text": "askpa's own message", "ts": "1.9"}))

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("Run did not return after cancel")
	}

	// Run has returned, so all accepted work is done.
	got := h.messages()
	if len(got) != 3 {
		t.Fatalf("handled %d messages, want 3: %+v", len(got), got)
	}
	byText := map[string]bot.Message{}
	for _, m := range got {
		byText[m.Text] = m
	}
	if m := byText["holiday pay"]; m.Address.ChatID != "DU1" || m.Address.ThreadID != "" {
		t.Errorf("DM = %+v", m)
	}
	if m := byText["sick pay"]; m.Address.ChatID != "C1" || m.Address.ThreadID != "1700000000.000200" {
		t.Errorf("mention = %+v", m)
	}
	if m := byText["/topics"]; !m.Private || m.Address.ChatID != "C7" {
		t.Errorf("command = %+v", m)
	}
	var dmAnswered, threadAnswered, privateAnswered bool
	for _, s := range p.sent() {
		switch {
		case s.Method == "chat.postMessage" && s.Channel == "DU1":
			dmAnswered = true
		case s.Method == "chat.postMessage" && s.Channel == "C1" && s.Thread == "1700000000.000200":
			threadAnswered = true
		case s.Method == "response_url" && s.ResponseType == "ephemeral":
			privateAnswered = true
		}
	}
	if !dmAnswered || !threadAnswered || !privateAnswered {
		t.Fatalf("answers: dm %v, thread %v, private %v: %+v", dmAnswered, threadAnswered, privateAnswered, p.sent())
	}
}
