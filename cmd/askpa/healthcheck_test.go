package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// runWithEnv runs askpa with args and the environment env and returns its
// output and exit code.
func runWithEnv(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(""), &out, &errOut, func(k string) string { return env[k] })
	var ee exitError
	var ue usageError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.code
	case errors.As(err, &ue):
		code = 2
	default:
		errOut.WriteString(err.Error())
		code = 1
	}
	return out.String(), errOut.String(), code
}

// TestHealthcheck checks what a container runtime sees from askpa
// healthcheck: 0 while the service answers, 1 when it answers badly or not
// at all, with the reason on stderr.
func TestHealthcheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.Write([]byte("ok"))
		case "/readyz":
			http.Error(w, `{"store": "down"}`, http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	closed := func() string { // a port nothing listens on
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}()

	tests := []struct {
		name    string
		addr    string
		args    []string
		code    int
		message string
	}{
		{"wildcard listen address", ":" + port, nil, 0, ""},
		{"all interfaces", "0.0.0.0:" + port, nil, 0, ""},
		{"named host", "127.0.0.1:" + port, nil, 0, ""},
		{"not ready", ":" + port, []string{"-ready"}, 1, "503 Service Unavailable"},
		{"nothing listening", closed, nil, 1, "connection refused"},
		{"explicit URL", "", []string{"-url", srv.URL + "/nowhere"}, 1, "404 Not Found"},
		{"bad ASKPA_ADDR", "8080", nil, 1, "ASKPA_ADDR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runWithEnv(t, map[string]string{"ASKPA_ADDR": tc.addr}, append([]string{"healthcheck"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.message) {
				t.Errorf("exit %d, stderr %q; want %d mentioning %q", code, errOut, tc.code, tc.message)
			}
		})
	}
	if _, _, code := runWithEnv(t, nil, "healthcheck", "extra"); code != 2 {
		t.Errorf("healthcheck with an argument: exit %d, want 2", code)
	}
}
