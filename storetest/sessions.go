package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
)

// testWebSessions checks the web-channel session store as the HTTP edge
// uses it: a session made on one handle is found on another until it
// expires, a use slides its expiry (never backwards) but cannot revive it,
// a deleted session is gone at once, and expired ones are pruned while
// live ones stay.
func testWebSessions(t *testing.T, o Opener) {
	ctx := context.Background()
	a, b := open(t, o), open(t, o)
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 123456789, time.UTC)
	day := 24 * time.Hour
	mk := func(token, user string, expires time.Time) bot.WebSession {
		t.Helper()
		ws := bot.WebSession{TokenHash: bot.WebTokenHash(token), UserID: user, CreatedAt: t0, LastUsedAt: t0, ExpiresAt: expires}
		if err := a.CreateWebSession(ctx, ws); err != nil {
			t.Fatalf("create %s: %v", user, err)
		}
		return ws
	}
	alice := mk("alice-token", "web-alice", t0.Add(30*day))
	bob := mk("bob-token", "web-bob", t0.Add(day))

	if err := b.CreateWebSession(ctx, alice); err == nil {
		t.Error("a second session with the same token hash was stored")
	}
	for _, bad := range []bot.WebSession{{UserID: "web-x", ExpiresAt: t0.Add(day)}, {TokenHash: bot.WebTokenHash("x"), ExpiresAt: t0.Add(day)}} {
		if err := a.CreateWebSession(ctx, bad); err == nil {
			t.Errorf("a session without a token hash or user was stored: %+v", bad)
		}
	}

	got, err := b.WebSession(ctx, alice.TokenHash, t0.Add(time.Hour))
	if err != nil || !sameSession(got, alice) {
		t.Fatalf("alice's session on another handle: %+v, %v; want %+v", got, err, alice)
	}
	for _, tc := range []struct {
		name string
		hash string
		at   time.Time
	}{
		{"unknown token", bot.WebTokenHash("nobody"), t0},
		{"the token itself instead of its hash", "alice-token", t0},
		{"at the moment it expires", bob.TokenHash, bob.ExpiresAt},
		{"after it expired", bob.TokenHash, bob.ExpiresAt.Add(time.Second)},
	} {
		if _, err := b.WebSession(ctx, tc.hash, tc.at); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("%s: %v, want bot.ErrNotFound", tc.name, err)
		}
	}

	// Sliding: a use moves the expiry on; a late (out of order) use does
	// not move either time back.
	used, slid := t0.Add(20*day), t0.Add(50*day)
	if err := b.TouchWebSession(ctx, alice.TokenHash, used, slid); err != nil {
		t.Fatal(err)
	}
	if err := a.TouchWebSession(ctx, alice.TokenHash, t0.Add(10*day), t0.Add(40*day)); err != nil {
		t.Fatal(err)
	}
	got, err = a.WebSession(ctx, alice.TokenHash, t0.Add(45*day))
	if err != nil || !got.LastUsedAt.Equal(used) || !got.ExpiresAt.Equal(slid) || !got.CreatedAt.Equal(t0) || got.UserID != "web-alice" {
		t.Errorf("after two uses: %+v, %v; want last used %v, expiring %v", got, err, used, slid)
	}
	// An expired session cannot be touched back to life.
	if err := a.TouchWebSession(ctx, bob.TokenHash, bob.ExpiresAt.Add(time.Minute), t0.Add(90*day)); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("touching an expired session: %v, want bot.ErrNotFound", err)
	}
	if _, err := a.WebSession(ctx, bob.TokenHash, bob.ExpiresAt.Add(2*time.Minute)); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("an expired session was revived by a touch: %v", err)
	}
	if err := a.TouchWebSession(ctx, bot.WebTokenHash("nobody"), t0, t0.Add(day)); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("touching an unknown session: %v, want bot.ErrNotFound", err)
	}

	// Deleting ends it at once, on every handle.
	carol := mk("carol-token", "web-carol", t0.Add(30*day))
	if err := a.DeleteWebSession(ctx, carol.TokenHash); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WebSession(ctx, carol.TokenHash, t0); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("a deleted session is still found: %v", err)
	}
	if err := b.DeleteWebSession(ctx, carol.TokenHash); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("deleting twice: %v, want bot.ErrNotFound", err)
	}

	// Pruning removes what has expired (bob) and keeps the rest (alice).
	n, err := b.DeleteExpiredWebSessions(ctx, bob.ExpiresAt)
	if err != nil || n != 1 {
		t.Errorf("pruning at bob's expiry removed %d, %v; want 1", n, err)
	}
	if n, _ := b.DeleteExpiredWebSessions(ctx, bob.ExpiresAt); n != 0 {
		t.Errorf("pruning again removed %d", n)
	}
	if _, err := a.WebSession(ctx, alice.TokenHash, t0.Add(45*day)); err != nil {
		t.Errorf("pruning removed a live session: %v", err)
	}
	if err := a.DeleteWebSession(ctx, bob.TokenHash); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("bob's pruned session is still there to delete: %v", err)
	}

	// Sessions made at once from two handles are all kept.
	var wg sync.WaitGroup
	for i := range 20 {
		h := []Store{a, b}[i%2]
		wg.Go(func() {
			ws := bot.WebSession{TokenHash: bot.WebTokenHash(fmt.Sprint("many-", i)), UserID: fmt.Sprint("web-many-", i), CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(day)}
			if err := h.CreateWebSession(ctx, ws); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range 20 {
		if got, err := a.WebSession(ctx, bot.WebTokenHash(fmt.Sprint("many-", i)), t0); err != nil || got.UserID != fmt.Sprint("web-many-", i) {
			t.Errorf("concurrent session %d: %+v, %v", i, got, err)
		}
	}
}

// sameSession reports whether x and y are the same session at the same
// times (to the nanosecond).
func sameSession(x, y bot.WebSession) bool {
	return x.TokenHash == y.TokenHash && x.UserID == y.UserID && x.CreatedAt.Equal(y.CreatedAt) &&
		x.LastUsedAt.Equal(y.LastUsedAt) && x.ExpiresAt.Equal(y.ExpiresAt)
}
