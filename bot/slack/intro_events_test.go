package slack

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/telegram/telegramtest"
	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/support"
)

// TestIntroductionsThroughTheOutbox: an introduction's notices are outbox
// rows written with the change. An employer asks to be introduced and
// askpa is killed before anything is delivered: the next process sends
// the PA exactly one DM with Accept and Decline, and delivering its event
// again sends nothing more. The PA accepts and askpa is killed while it
// holds the deliveries of the acceptance: once their lease runs out, the
// next process gives the employer the PA's contact details once, on
// Telegram, and the PA the employer's, and a process after it finds
// nothing left to do. No contact details are in the outbox or the log.
func TestIntroductionsThroughTheOutbox(t *testing.T) {
	s := newNetStackWith(t, true)
	ctx := context.Background()
	// deliver is the next process: a dispatcher of its own, run until the
	// outbox and the Slack intake have nothing left.
	deliver := func(owner string) int {
		t.Helper()
		disp, err := support.NewDispatcher(support.DispatcherConfig{Store: s.store, Targets: s.targets, Owner: owner,
			Now: s.clock.now, Logger: s.ch.log})
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for range 10 {
			s.idle()
			n, err := disp.Pass(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if total += n; n == 0 {
				break
			}
		}
		return total
	}
	s.listed(t)
	l := s.only(t)
	deliver("listing")

	dee := &employer{t: t, s: s, user: telegramtest.User{ID: 7301, FirstName: "Dee"}}
	before := len(s.peer.sent())
	note := "Help getting up and dressed, three days a week, please."
	dee.askToMeetSam(note)
	s.idle()
	if dms := s.dms(before); len(dms) != 0 {
		t.Fatalf("%d DMs before the request was delivered", len(dms))
	}
	// Killed; the next process delivers the request.
	if n := deliver("next-1"); n != 1 {
		t.Errorf("the next process made %d deliveries; want 1 (the PA's request)", n)
	}
	dms := s.dms(before)
	if len(dms) != 1 || !strings.Contains(dms[0].sectionText(), "asked to be introduced") || !strings.Contains(dms[0].sectionText(), note) {
		t.Fatalf("the PA got %d DMs: %+v; want the one request", len(dms), dms)
	}
	request := dms[0]
	accept := request.buttonValue(introAcceptPrefix)
	if accept == "" || request.buttonValue(introDeclinePrefix) == "" {
		t.Fatalf("the request DM has buttons %v", request.buttons())
	}
	// Its event delivered a second time (a crash after delivering, before
	// the delivery was recorded) sends nothing more.
	ds, err := s.store.Deliveries(ctx, support.ListingKey(l.ID))
	if err != nil {
		t.Fatal(err)
	}
	last := ds[len(ds)-1]
	if last.Event.Name != directory.EventIntroRequested || last.Target != ListingTargetName || last.Status != support.DeliveryDelivered {
		t.Fatalf("the request's outbox row: %s to %s, %s", last.Event.Name, last.Target, last.Status)
	}
	if err := s.ch.ListingTarget().Deliver(ctx, last.Event); err != nil {
		t.Fatal(err)
	}
	s.idle()
	if dms := s.dms(before); len(dms) != 1 {
		t.Errorf("%d DMs after the request was delivered twice; want 1", len(dms))
	}

	// The PA accepts; the process dies while it holds the deliveries.
	before = len(s.peer.sent())
	told := len(s.tg.Messages(dee.user.ID))
	s.press(t, request, accept)
	names := []string{ListingTargetName, bot.IntroductionTargetName}
	leased, err := s.store.ClaimDeliveries(ctx, names, "dead", s.clock.now(), s.clock.now().Add(time.Minute), 10)
	if err != nil || len(leased) != 2 {
		t.Fatalf("the dying process leased %d rows (%v); want the PA's and the employer's", len(leased), err)
	}
	for _, d := range leased {
		if d.Event.Name != directory.EventIntroAccepted {
			t.Errorf("leased %s", d.Event.Name)
		}
	}
	if n := deliver("next-2"); n != 0 {
		t.Errorf("the next process delivered %d rows while the dead one's lease held", n)
	}
	if got := len(s.tg.Messages(dee.user.ID)); got != told {
		t.Fatalf("the employer was told before the acceptance was delivered")
	}
	s.clock.advance(2 * time.Minute) // the lease runs out
	if n := deliver("next-2"); n != 2 {
		t.Errorf("the next process made %d deliveries; want 2", n)
	}
	toDee := dee.next()
	if !strings.Contains(toDee.Text, "Sam T. accepted") || !strings.Contains(toDee.Text, samPhone) || !strings.Contains(toDee.Text, "Text first please") {
		t.Errorf("the employer got %q, not the PA's contact details", toDee.Text)
	}
	if got := s.dmSaying(t, before, "You accepted").sectionText(); !strings.Contains(got, "07700900888") || !strings.Contains(got, "after 6pm") {
		t.Errorf("the PA got %q, not the employer's contact details", got)
	}
	// A third process finds nothing to do; nobody is told twice.
	s.clock.advance(time.Hour)
	if n := deliver("next-3"); n != 0 {
		t.Errorf("a third process made %d deliveries", n)
	}
	if got := len(s.tg.Messages(dee.user.ID)); got != told+1 {
		t.Errorf("the employer got %d messages about the acceptance; want 1", got-told)
	}
	if dms := s.dms(before); len(dms) != 1 {
		t.Errorf("the PA got %d DMs after accepting; want 1", len(dms))
	}

	ds, err = s.store.Deliveries(ctx, support.ListingKey(l.ID))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Status != support.DeliveryDelivered {
			t.Errorf("outbox row %s (%s to %s): %s", d.ID, d.Event.Name, d.Target, d.Status)
		}
		payload := string(d.Event.Listing) + string(d.Event.Introduction)
		// As whole words: a time-ordered id may hold "5dee".
		for _, secret := range []string{"07700", "dee", "after 6pm", "three days a week", "telegram:"} {
			if regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(secret)).MatchString(payload) {
				t.Errorf("outbox row %s (%s) carries %q: %s", d.ID, d.Event.Name, secret, payload)
			}
		}
	}
	if strings.Contains(s.logText(), "07700") || strings.Contains(s.logText(), "three days a week") || strings.Contains(s.logText(), "after 6pm") {
		t.Errorf("personal details in the log:\n%s", s.logText())
	}
}
