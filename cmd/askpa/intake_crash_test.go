package main

import (
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/askpa/askpa/bot/telegram/telegramtest"
	"github.com/askpa/askpa/postgres/pgtest"
)

// TestTelegramUpdatesSurviveSIGKILL sends people's messages through the
// Telegram emulator (webhook mode, delivered in order and retried as
// Telegram does) to askpa serve, kills the server with SIGKILL while they
// are being answered, restarts it, and checks that every update the
// webhook acknowledged is answered. It runs on SQLite, and on PostgreSQL
// when ASKPA_TEST_DATABASE_URL is set.
func TestTelegramUpdatesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	t.Run("sqlite", func(t *testing.T) { testTelegramCrash(t, "") })
	t.Run("postgres", func(t *testing.T) { testTelegramCrash(t, pgtest.URL(t)) })
}

func testTelegramCrash(t *testing.T, databaseURL string) {
	tg := telegramtest.NewServer(t)
	addr := freeAddr(t)
	env := []string{
		"ASKPA_ADDR=" + addr, "ASKPA_DATA_DIR=" + t.TempDir(), "ASKPA_DATABASE_URL=" + databaseURL,
		"TELEGRAM_BOT_TOKEN=" + tg.Token(), "TELEGRAM_API_URL=" + tg.URL(),
		"TELEGRAM_WEBHOOK_URL=http://" + addr + "/webhooks/telegram", "TELEGRAM_WEBHOOK_SECRET=crash-test-secret",
		"ASKPA_INTAKE_LEASE=10s", // long enough for a slow answer on a busy machine
	}
	first := startChild(t, env)
	tg.WaitWebhook()

	const people = 240
	person := func(i int) telegramtest.User {
		return telegramtest.User{ID: int64(7000 + i), FirstName: fmt.Sprint("Person", i)}
	}
	acknowledged := func() map[int]bool {
		ok := map[int]bool{}
		for _, d := range tg.Deliveries() {
			if d.Status == 200 {
				ok[d.UpdateID] = true
			}
		}
		return ok
	}
	var killOnce sync.Once
	kill := func() {
		killOnce.Do(func() {
			first.cmd.Process.Signal(syscall.SIGKILL)
			first.cmd.Wait()
		})
	}
	for i := range people {
		tg.Send(person(i), telegramtest.Private(person(i)), "how many days holiday does my PA get")
		if i == people/2 {
			kill() // half-way, with updates acknowledged and not yet answered
		}
	}
	before := len(acknowledged())
	if before < 20 {
		t.Fatalf("only %d updates were acknowledged before the kill; the test proves little", before)
	}
	answeredBefore := 0
	for i := range people {
		if len(tg.Messages(person(i).ID)) > 0 {
			answeredBefore++
		}
	}
	t.Logf("%d updates acknowledged before SIGKILL, %d of them answered by then", before, answeredBefore)

	second := startChild(t, env)
	eventually(t, 60*time.Second, "every update to be delivered to the restarted server", func() bool {
		tg.DeliverPending() // Telegram retries what was not acknowledged
		return len(acknowledged()) == people
	})
	unanswered := func() []int {
		var missing []int
		for i := range people {
			if len(tg.Messages(person(i).ID)) == 0 {
				missing = append(missing, i)
			}
		}
		return missing
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(unanswered()) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if u := unanswered(); len(u) > 0 {
		t.Fatalf("unanswered %v", u)
	}
	twice := 0
	for i := range people {
		if len(tg.Messages(person(i).ID)) > 1 {
			twice++
		}
	}
	// An update being answered at the moment of the kill may be answered
	// again by the next process (at least once, not exactly once); there
	// are at most as many as the server's workers.
	if twice > 8 {
		t.Errorf("%d people were answered more than once; at most the 8 in flight at the kill may be", twice)
	}
	t.Logf("lost: 0 of %d; answered twice: %d", people, twice)
	second.cmd.Process.Signal(syscall.SIGTERM)
	second.cmd.Wait()
}

// freeAddr returns a local address no one is listening on, for a server
// that must come back on the same address after a restart.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
