package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// runHealthcheck asks the askpa serve running on this machine whether it
// is alive: it GETs /healthz (/readyz with -ready) on the port ASKPA_ADDR
// names, through the loopback address, and returns nil on 200 and exit
// status 1 on anything else, saying why on stderr. It needs no shell and no
// curl, so a distroless image's HEALTHCHECK can run it.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fl := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fl.SetOutput(stderr)
	ready := fl.Bool("ready", false, "check /readyz (store reachable, index open) instead of /healthz")
	rawURL := fl.String("url", "", "the address to check instead (default http://127.0.0.1:PORT/healthz, PORT from ASKPA_ADDR)")
	timeout := fl.Duration("timeout", 3*time.Second, "give up after this long")
	if err := fl.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fl.NArg() > 0 {
		return usageError{"healthcheck takes no arguments"}
	}
	u := *rawURL
	if u == "" {
		host, err := loopbackAddr(orDefault(getenv("ASKPA_ADDR"), ":8080"))
		if err != nil {
			return fmt.Errorf("ASKPA_ADDR: %w", err)
		}
		path := "/healthz"
		if *ready {
			path = "/readyz"
		}
		u = "http://" + host + path
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return usageError{"healthcheck: " + err.Error()}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "askpa healthcheck: %s: %v\n", u, err)
		return exitError{1}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "askpa healthcheck: %s: %s\n", u, resp.Status)
		return exitError{1}
	}
	fmt.Fprintf(stdout, "ok: %s\n", u)
	return nil
}

// loopbackAddr turns a listen address (":8080", "0.0.0.0:8080",
// "10.0.0.5:8080") into host:port to dial from the same machine: a
// wildcard or empty host becomes 127.0.0.1, a named host stays.
func loopbackAddr(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}
