package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/askpa/askpa/support"
)

// TestServeChild is the server process of TestServeCrash; it does nothing
// unless ASKPA_CRASH_CHILD is set.
func TestServeChild(t *testing.T) {
	if os.Getenv("ASKPA_CRASH_CHILD") != "1" {
		t.Skip("runs only as TestServeCrash's child process")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := runServe(ctx, []string{"-webhook-timeout", "1s", "-rate-limit", "0"}, os.Stdout, os.Stderr, os.Getenv); err != nil {
		t.Fatal(err)
	}
}

// warningLines returns the lines of a JSON log above INFO.
func warningLines(log string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if l != "" && !strings.Contains(l, `"level":"INFO"`) && !strings.Contains(l, `"level":"DEBUG"`) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// child is one askpa serve process.
type child struct {
	cmd  *exec.Cmd
	base string
}

func startChild(t *testing.T, env []string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeChild$", "-test.v=false")
	cmd.Env = append(os.Environ(), append(env, "ASKPA_CRASH_CHILD=1")...)
	logs := &syncWriter{}
	cmd.Stderr = logs
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the server's warnings and errors:\n%s", warningLines(logs.String()))
		}
	})
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd}
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
	})
	line := make(chan string, 1)
	go func() {
		l, _ := readLine(out)
		line <- l
		var sink [512]byte
		for {
			if _, err := out.Read(sink[:]); err != nil {
				return
			}
		}
	}()
	select {
	case l := <-line:
		if _, err := fmt.Sscanf(l, "askpa: listening on %s", &c.base); err != nil {
			t.Fatalf("child said %q", l)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("child did not start")
	}
	return c
}

// TestServeCrash kills the server with SIGKILL while escalations are being
// created and checks, after a restart, that every escalation whose creation
// was answered 2xx is there and that every webhook still pending is
// delivered. Traffic goes to 127.0.0.1 only, bounded in count and time.
func TestServeCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	hook := newReceiver(t)
	hook.down = true // nothing is acknowledged before the crash
	dir := t.TempDir()
	env := []string{
		"ASKPA_ADDR=127.0.0.1:0", "ASKPA_DATA_DIR=" + dir,
		"ASKPA_STAFF_TOKENS=alex:" + testStaffToken,
		"ASKPA_WEBHOOK_URLS=" + hook.srv.URL, "ASKPA_WEBHOOK_SECRET=" + testWebhookKey,
	}
	first := startChild(t, env)

	const maxRequests, workers = 600, 4
	var mu sync.Mutex
	var created []string
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				var ans struct {
					EscalationID string `json:"escalation_id"`
				}
				web, err := tryWebSession(first.base) // a new person each time
				if err != nil {
					continue // the server died under this request
				}
				st, err := tryCallAs("POST", first.base+"/v1/messages", web.Token, map[string]string{"text": "I need to speak to a person"}, &ans)
				if err != nil || st/100 != 2 {
					continue // the server died under this request: no promise was made
				}
				if ans.EscalationID == "" {
					t.Errorf("request %d: 2xx without an escalation id", i)
				}
				mu.Lock()
				created = append(created, ans.EscalationID)
				mu.Unlock()
			}
		})
	}
	killed := make(chan struct{})
	go func() {
		deadline := time.After(10 * time.Second)
		for {
			mu.Lock()
			n := len(created)
			mu.Unlock()
			select {
			case <-deadline:
			default:
				if n < 100 {
					time.Sleep(5 * time.Millisecond)
					continue
				}
			}
			first.cmd.Process.Signal(syscall.SIGKILL)
			first.cmd.Wait()
			close(killed)
			return
		}
	}()
feed:
	for i := range maxRequests {
		select {
		case next <- i:
		case <-killed:
			break feed
		}
	}
	close(next)
	wg.Wait()
	<-killed
	if len(created) < 10 {
		t.Fatalf("only %d escalations were created before the kill; the test proves little", len(created))
	}
	t.Logf("%d escalations acknowledged before SIGKILL", len(created))

	hook.mu.Lock()
	hook.down = false
	hook.mu.Unlock()
	second := startChild(t, env)
	for _, id := range created {
		var e support.Escalation
		if st, err := tryCall("GET", second.base+"/api/v1/escalations/"+id, nil, &e); err != nil || st != http.StatusOK || e.ID != id {
			t.Fatalf("escalation %s, acknowledged before the crash, is missing after restart: %d %v", id, st, err)
		}
	}
	eventually(t, 60*time.Second, "every pending escalation.created webhook to be delivered", func() bool {
		for _, id := range created {
			if !hook.has(support.EventCreated, id) {
				return false
			}
		}
		return true
	})
	if hook.bad != 0 {
		t.Errorf("%d webhook requests failed signature checks", hook.bad)
	}
	second.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- second.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after SIGTERM the server exited with %v, want a clean exit", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("the server did not stop within 30s of SIGTERM")
	}
}
