package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeConsole checks the console as askpa serve wires it: staff sign
// in with their token and see the queue, and an open live-update stream
// does not hold up a graceful shutdown.
func TestServeConsole(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &lineWriter{line: make(chan string, 1)}
	var logs syncWriter
	done := make(chan error, 1)
	env := map[string]string{"ASKPA_ADDR": "127.0.0.1:0", "ASKPA_DATA_DIR": t.TempDir(), "ASKPA_STAFF_TOKENS": "alex:" + testStaffToken,
		"ASKPA_CONSOLE_IDLE": "2h"}
	go func() { done <- runServe(ctx, nil, out, &logs, func(k string) string { return env[k] }) }()
	var base string
	select {
	case line := <-out.line:
		base = "http://" + strings.TrimPrefix(line, "askpa: listening on http://")
	case err := <-done:
		t.Fatalf("serve failed to start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	res, err := client.Get(base + "/console")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasSuffix(res.Request.URL.Path, "/console/sign-in") ||
		!strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("/console signed out: %d at %s, CSP %q", res.StatusCode, res.Request.URL, res.Header.Get("Content-Security-Policy"))
	}
	form := regexp.MustCompile(`name="form" value="([^"]+)"`).FindSubmatch(page)
	if form == nil {
		t.Fatalf("no sign-in form:\n%s", page)
	}
	res, err = client.PostForm(base+"/console/sign-in", url.Values{"form": {string(form[1])}, "token": {testStaffToken}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), "<h1>Queue</h1>") {
		t.Fatalf("after signing in: %d\n%s", res.StatusCode, page)
	}

	// A page's live stream stays open until the server shuts down.
	stream, err := http.NewRequest(http.MethodGet, base+"/console/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	sres, err := (&http.Client{Jar: jar}).Do(stream)
	if err != nil {
		t.Fatal(err)
	}
	defer sres.Body.Close()
	if sres.StatusCode != http.StatusOK || !strings.HasPrefix(sres.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("the event stream: %d %s", sres.StatusCode, sres.Header.Get("Content-Type"))
	}
	ended := make(chan struct{})
	go func() { io.Copy(io.Discard, sres.Body); close(ended) }()
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve stopped with %v", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("shutting down took %v with a console open", d)
		}
	case <-time.After(shutdownGrace + 5*time.Second):
		t.Fatal("serve did not stop with a console's event stream open")
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Error("the event stream did not end at shutdown")
	}
	if strings.Contains(logs.String(), testStaffToken) {
		t.Error("the logs hold the staff token")
	}
}
