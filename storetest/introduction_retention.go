package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/retention"
)

// This file checks the retention of PA network introductions: the purge
// deletes those answered, declined or expired before the cutoff (their
// last change), with the note and contact details they hold, and never a
// request still waiting; the daily limit of requests still holds after it.

// testPurgeIntroductions: of introductions answered (accepted or
// declined) or expired, those last changed before the cutoff go and those
// after it stay; a request still waiting stays however old; the purge
// counts what it removed, in batches, and a second purge finds nothing.
// An employer whose introductions are all gone is held to the daily limit
// afresh, also by concurrent requests; one who asked today is still held
// to it, whatever the purge removed.
func testPurgeIntroductions(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	c := newClock()
	n := newNetwork(t, s, c)
	cut := retention.DefaultPolicy().Cutoffs(privacyNow)
	if want := privacyNow.Add(-90 * day); !cut.Introductions.Equal(want) {
		t.Fatalf("the default cutoff of introductions is %v, want 90 days before now (%v)", cut.Introductions, want)
	}
	i := 0
	listing := func() directory.Listing { // approved now, by its own PA
		t.Helper()
		i++
		l, err := n.Draft(ctx, fmt.Sprintf("slack:T1:URET%d", i), paDetails(fmt.Sprintf("PA %d", i), []string{"EX4"}, "personal-care"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Submit(ctx, l.ID, directory.ByOwner); err != nil {
			t.Fatal(err)
		}
		if l, err = n.Approve(ctx, l.ID, "alex"); err != nil {
			t.Fatal(err)
		}
		return l
	}
	ask := func(l directory.Listing, employer string) directory.Introduction {
		t.Helper()
		in, err := n.RequestIntroduction(ctx, l.ID, employer, "Help with personal care, please.", directory.Contact{Phone: "07700 900777", Email: "emp@example.org"})
		if err != nil {
			t.Fatalf("%s asking for %s: %v", employer, l.ID, err)
		}
		return in
	}
	answer := func(l directory.Listing, in directory.Introduction, accept bool) directory.Introduction {
		t.Helper()
		var err error
		if accept {
			in, err = n.AcceptIntroduction(ctx, in.ID, l.Owner)
		} else {
			in, err = n.DeclineIntroduction(ctx, in.ID, l.Owner)
		}
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	set := func(at time.Time) { c.mu.Lock(); c.now = at; c.mu.Unlock() }

	// 200 days ago: one accepted, one declined, one left to expire a week
	// later: all three go.
	set(privacyNow.Add(-200 * day))
	old := listing()
	oldAcc := ask(old, "telegram:6001")
	oldDec := ask(old, "telegram:6002")
	oldExp := ask(old, "telegram:6003")
	c.Add(time.Hour)
	oldAcc = answer(old, oldAcc, true)
	oldDec = answer(old, oldDec, false)
	c.Add(directory.IntroductionWait)
	if got, err := n.ExpireIntroductions(ctx); err != nil || len(got) != 1 || got[0].ID != oldExp.ID {
		t.Fatalf("ExpireIntroductions = %+v, %v; want the 200-day-old request", got, err)
	}
	// A request made 190 days ago that nobody answered and the sweep has not
	// expired yet: still waiting, it stays.
	set(privacyNow.Add(-190 * day))
	waiting := ask(listing(), "telegram:6004")

	// Either side of the cutoff: asked 100 days ago, answered a second
	// before it (goes) and a second after it (stays).
	set(privacyNow.Add(-100 * day))
	edge := listing()
	before := ask(edge, "telegram:6005")
	after := ask(edge, "telegram:6006")
	set(cut.Introductions.Add(-time.Second))
	before = answer(edge, before, false)
	set(cut.Introductions.Add(time.Second))
	after = answer(edge, after, true)

	// Recent: declined 10 days ago, and today's requests of one employer,
	// two of five answered at once (at the limit of 5 a day).
	set(privacyNow.Add(-10 * day))
	recent := listing()
	recentDec := answer(recent, ask(recent, "telegram:6007"), false)
	set(privacyNow.Add(-time.Hour))
	var today []directory.Introduction
	for k := range directory.MaxIntroductionsPerDay {
		l := listing()
		in := ask(l, "telegram:6008")
		if k < 2 {
			in = answer(l, in, k == 0)
		}
		today = append(today, in)
	}
	set(privacyNow)

	got, err := s.Purge(ctx, cut, 2) // small batches: it takes several
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	if want := (retention.Counts{Introductions: 4}); got != want {
		t.Errorf("Purge removed %+v; want %+v", got, want)
	}
	for _, in := range []directory.Introduction{oldAcc, oldDec, oldExp, before} {
		if _, err := s.GetIntroduction(ctx, in.ID); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("introduction %s (%s at %v) is still there after the purge (%v)", in.ID, in.Status, in.UpdatedAt, err)
		}
	}
	for _, in := range append([]directory.Introduction{waiting, after, recentDec}, today...) {
		kept, err := s.GetIntroduction(ctx, in.ID)
		if err != nil || kept.Status != in.Status || kept.Note != in.Note || kept.EmployerContact != in.EmployerContact || !kept.UpdatedAt.Equal(in.UpdatedAt) {
			t.Errorf("introduction %s (%s at %v) after the purge: %+v, %v; want it untouched", in.ID, in.Status, in.UpdatedAt, kept, err)
		}
	}
	// An export of a purged employer finds nothing; of a kept one, theirs.
	for employer, want := range map[string]int{"6001": 0, "6003": 0, "6005": 0, "6004": 1, "6006": 1} {
		d, err := s.PersonData(ctx, bot.Person{Channel: bot.ChannelTelegram, UserID: employer})
		if err != nil || len(d.Introductions) != want {
			t.Errorf("the data of telegram:%s after the purge: %d introductions (%v); want %d", employer, len(d.Introductions), err, want)
		}
	}
	if again, err := s.Purge(ctx, cut, 2); err != nil || again != (retention.Counts{}) {
		t.Errorf("a second purge removed %+v (%v); want nothing", again, err)
	}

	// The daily limit counts the employer's requests of the last 24 hours,
	// which no purge can reach (the shortest retention is a week after the
	// last change, which is after the request): telegram:6008 is still
	// held to it, after a purge at the shortest retention too.
	short, err := s.Purge(ctx, retention.MinimumPolicy().Cutoffs(privacyNow), 2)
	if err != nil || short != (retention.Counts{Introductions: 2}) {
		t.Errorf("a purge at the shortest retention removed %+v (%v); want the 2 introductions answered 90 days and 10 days ago", short, err)
	}
	if _, err := n.RequestIntroduction(ctx, listing().ID, "telegram:6008", "Evenings, please.", directory.Contact{Phone: "07700 900778"}); !errors.Is(err, directory.ErrRateLimited) {
		t.Errorf("a sixth request today after the purges: %v; want ErrRateLimited", err)
	}
	for _, in := range today {
		if _, err := s.GetIntroduction(ctx, in.ID); err != nil {
			t.Errorf("today's introduction %s (%s) was purged: %v", in.ID, in.Status, err)
		}
	}

	// telegram:6001's introductions are all gone: concurrent requests from
	// two processes are held to the limit all the same.
	var ls []directory.Listing
	for range directory.MaxIntroductionsPerDay + 2 {
		ls = append(ls, listing())
	}
	other := newNetwork(t, open(t, o), c)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, limited := 0, 0
	for k, l := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			net := n
			if k%2 == 1 {
				net = other
			}
			_, err := net.RequestIntroduction(ctx, l.ID, "telegram:6001", "Mornings, please.", directory.Contact{Email: "emp@example.org"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, directory.ErrRateLimited):
				limited++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != directory.MaxIntroductionsPerDay || limited != 2 {
		t.Errorf("after the purge, %d requests of telegram:6001 went through and %d were limited; want %d and 2", ok, limited, directory.MaxIntroductionsPerDay)
	}
}
