package main

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/askpa/askpa/postgres/pgtest"
	"github.com/askpa/askpa/support"
)

// TestServeOnCallGauges checks what a person on call sees on /metrics
// while the helpdesk's webhook receiver is down: an urgent escalation
// nobody has claimed, and how long it has waited; the outbox backlog; and
// the same figures once staff claim it. It also runs askpa healthcheck
// against the live service, as the container's HEALTHCHECK does.
func TestServeOnCallGauges(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testOnCallGauges(t, "") })
	t.Run("postgres", func(t *testing.T) { testOnCallGauges(t, pgtest.URL(t)) })
}

func testOnCallGauges(t *testing.T, databaseURL string) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "helpdesk down for maintenance", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	base := startServe(t, map[string]string{
		"ASKPA_ADDR":           "127.0.0.1:0",
		"ASKPA_DATABASE_URL":   databaseURL,
		"ASKPA_DATA_DIR":       t.TempDir(),
		"ASKPA_STAFF_TOKENS":   "alex:" + testStaffToken,
		"ASKPA_WEBHOOK_URLS":   down.URL + "/askpa",
		"ASKPA_WEBHOOK_SECRET": testWebhookKey,
	})
	addr := strings.TrimPrefix(base, "http://")
	for _, args := range [][]string{{"healthcheck"}, {"healthcheck", "-ready"}} {
		if out, errOut, code := runWithEnv(t, map[string]string{"ASKPA_ADDR": addr}, args...); code != 0 {
			t.Errorf("%v against a running serve: exit %d (%s%s), want 0", args, code, out, errOut)
		}
	}

	var ans struct {
		Urgent       bool   `json:"urgent"`
		EscalationID string `json:"escalation_id"`
	}
	scared := newWebSession(t, base)
	call(t, "POST", base+"/v1/messages", scared.Token, map[string]string{"audience": "employer", "text": "my PA hit me yesterday and I am scared of her"}, &ans)
	if !ans.Urgent || ans.EscalationID == "" {
		t.Fatalf("a safeguarding message gave %+v; want an urgent escalation", ans)
	}
	urgent := ans.EscalationID
	asks := newWebSession(t, base)
	call(t, "POST", base+"/v1/messages", asks.Token, map[string]string{"audience": "employer", "text": "I'd like to talk to a person please"}, &ans)
	if ans.EscalationID == "" || ans.Urgent {
		t.Fatalf("asking for a person gave %+v; want a normal escalation", ans)
	}

	var m map[string]float64
	eventually(t, 10*time.Second, "the failed webhook deliveries to be retried, still pending", func() bool {
		m = scrapeServe(t, base)
		return m[`askpa_deliveries_total{outcome="retry",target="webhook"}`] >= 1
	})
	for series, want := range map[string]float64{
		`askpa_oncall_stats_up`: 1,
		`askpa_escalations_unresolved{priority="urgent",status="open"}`:    1,
		`askpa_escalations_unresolved{priority="urgent",status="claimed"}`: 0,
		`askpa_escalations_unresolved{priority="normal",status="open"}`:    1,
		`askpa_intake_waiting{source="telegram"}`:                          0,
	} {
		if got, ok := m[series]; !ok || got != want {
			t.Errorf("%s = %v (reported: %v), want %v", series, got, ok, want)
		}
	}
	if age := m[`askpa_escalation_oldest_unclaimed_seconds{priority="urgent"}`]; age <= 0 || age > 60 {
		t.Errorf("oldest unclaimed urgent escalation %vs old, want a few seconds", age)
	}
	if n, age := m[`askpa_outbox_pending_deliveries`], m[`askpa_outbox_oldest_pending_seconds`]; n < 2 || age <= 0 {
		t.Errorf("outbox while the receiver is down: %v pending, oldest %vs; want both escalations' events waiting", n, age)
	}

	var e support.Escalation
	if st := call(t, "POST", base+"/api/v1/escalations/"+urgent+"/claim", testStaffToken, nil, &e); st != http.StatusOK {
		t.Fatalf("claim: %d", st)
	}
	m = scrapeServe(t, base)
	if m[`askpa_escalations_unresolved{priority="urgent",status="open"}`] != 0 || m[`askpa_escalations_unresolved{priority="urgent",status="claimed"}`] != 1 ||
		m[`askpa_escalation_oldest_unclaimed_seconds{priority="urgent"}`] != 0 {
		t.Errorf("after the urgent escalation was claimed the gauges still page: %v", m)
	}
}

// scrapeServe reads /metrics and returns each series (as written in the
// exposition format, name{label="value",...}) with its value.
func scrapeServe(t testing.TB, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("/metrics: %s %s", resp.Status, b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); i > 0 && err == nil {
			out[line[:i]] = v
		}
	}
	return out
}
