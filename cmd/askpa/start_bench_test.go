package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// BenchmarkServeStart is how long askpa serve takes from the start of its
// process to being ready (GET /readyz answers 200) on a restart: SQLite,
// the built-in knowledge base, its index already on disk. The process is
// this test binary running TestServeChild; each is stopped (not counted)
// before the next starts, and the first, which builds the index, is not
// counted either.
//
//	go test -run '^$' -bench ServeStart -count 5 ./cmd/askpa
func BenchmarkServeStart(b *testing.B) {
	env := []string{"ASKPA_ADDR=127.0.0.1:0", "ASKPA_DATA_DIR=" + b.TempDir()}
	startChildUntilReady(b, env)()
	for b.Loop() {
		stop := startChildUntilReady(b, env)
		b.StopTimer()
		stop()
		b.StartTimer()
	}
}

// startChildUntilReady starts askpa serve in a child process with env and
// returns once /readyz answers 200, with the function that stops it.
func startChildUntilReady(tb testing.TB, env []string) (stop func()) {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeChild$", "-test.v=false")
	cmd.Env = append(os.Environ(), append(env, "ASKPA_CRASH_CHILD=1")...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		for sc.Scan() {
		}
	}()
	var base string
	select {
	case l := <-line:
		if _, err := fmt.Sscanf(l, "askpa: listening on %s", &base); err != nil {
			stop()
			tb.Fatalf("serve said %q", l)
		}
	case <-time.After(time.Minute):
		stop()
		tb.Fatal("serve did not start within a minute")
	}
	for deadline := time.Now().Add(time.Minute); ; {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return stop
			}
		}
		if time.Now().After(deadline) {
			stop()
			tb.Fatalf("serve was not ready within a minute: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}
