package main

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/sqlite"
)

// TestServePurgesAndForgets checks the privacy wiring of askpa serve: the
// purge runs at start and removes a conversation idle past the retention
// period; a web user's question is kept with their phone number redacted;
// staff export the person's data and erase it, and a read-only token may
// export but not erase.
func TestServePurgesAndForgets(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	seed, err := sqlite.Open(ctx, filepath.Join(dir, "askpa.db"))
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-40 * 24 * time.Hour)
	idle, err := seed.Conversation(ctx, bot.Address{Channel: "telegram", UserID: "idle", ChatID: "idle"}, "employer", old)
	if err == nil {
		err = seed.AppendTurn(ctx, idle.ID, bot.Turn{From: bot.FromUser, Text: "an old question", At: old})
	}
	if err != nil {
		t.Fatal(err)
	}
	seed.Close()

	const readerToken = "reader-token-0123456789"
	base := startServe(t, map[string]string{
		"ASKPA_ADDR":                 "127.0.0.1:0",
		"ASKPA_DATA_DIR":             dir,
		"ASKPA_STAFF_TOKENS":         "alex:" + testStaffToken + ",audit:" + readerToken + ":read",
		"ASKPA_RETAIN_CONVERSATIONS": "30d",
	})
	check, err := sqlite.Open(ctx, filepath.Join(dir, "askpa.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	eventually(t, 10*time.Second, "the purge at start to remove the idle conversation", func() bool {
		_, err := check.ConversationByID(ctx, idle.ID)
		return errors.Is(err, bot.ErrNotFound)
	})

	web := newWebSession(t, base)
	if st := call(t, "POST", base+"/v1/messages", web.Token, map[string]string{"text": "my PA is on 07700 900123, how much holiday does she get"}, nil); st != http.StatusOK {
		t.Fatalf("question: %d", st)
	}
	export := base + "/api/v1/people/export?channel=web&user=" + web.User
	var x bot.Export
	if st := call(t, "GET", export, readerToken, nil, &x); st != http.StatusOK || len(x.Conversations) != 1 || len(x.WebSessions) != 1 {
		t.Fatalf("export: %d %+v", st, x)
	}
	if q := x.Conversations[0].Turns[0].Text; strings.Contains(q, "07700") || !strings.Contains(q, bot.RedactedPhone) {
		t.Errorf("the question was kept as %q; want the phone number redacted", q)
	}
	body := map[string]string{"channel": "web", "user": web.User}
	if st := call(t, "POST", base+"/api/v1/people/forget", readerToken, body, nil); st != http.StatusForbidden {
		t.Errorf("forget with a read-only token: %d, want 403", st)
	}
	var er bot.Erasure
	if st := call(t, "POST", base+"/api/v1/people/forget", testStaffToken, body, &er); st != http.StatusOK || er.Conversations != 1 || er.WebSessions != 1 {
		t.Errorf("forget: %d %+v", st, er)
	}
	if st := call(t, "GET", export, readerToken, nil, nil); st != http.StatusNotFound {
		t.Errorf("export after erasure: %d, want 404", st)
	}
	// The erased session is over.
	if st := call(t, "GET", base+"/v1/messages?after=0", web.Token, nil, nil); st != http.StatusUnauthorized {
		t.Errorf("the erased person's session still works: %d", st)
	}
}
