package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// slackWeb is the Slack Web API as askpa serve calls it for the PA
// network: it opens direct messages, records views.open and the messages
// posted.
type slackWeb struct {
	srv   *httptest.Server
	mu    sync.Mutex
	views []string          // the triggers of views.open
	posts map[string]string // channel -> the text of everything posted there
}

func newSlackWeb(t *testing.T) *slackWeb {
	s := &slackWeb{posts: map[string]string{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		s.mu.Lock()
		defer s.mu.Unlock()
		switch r.URL.Path {
		case "/views.open":
			var body struct {
				TriggerID string `json:"trigger_id"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			s.views = append(s.views, body.TriggerID)
			io.WriteString(w, `{"ok": true, "view": {"id": "V1", "hash": "h1"}}`)
		case "/conversations.open":
			_ = r.ParseForm()
			fmt.Fprintf(w, `{"ok": true, "channel": {"id": "D%s"}}`, r.Form.Get("users"))
		case "/chat.postMessage":
			_ = r.ParseForm()
			ch := r.Form.Get("channel")
			s.posts[ch] += r.Form.Get("blocks") + "\n"
			fmt.Fprintf(w, `{"ok": true, "channel": %q, "ts": "1700000000.%06d"}`, ch, len(s.posts[ch]))
		default:
			io.WriteString(w, `{"ok": true}`)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// waitFor polls cond until it holds, failing the test after 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (s *slackWeb) dm(channel string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posts[channel]
}

// postSigned posts a form to askpa as Slack does, signed with secret.
func postSigned(t *testing.T, u, secret string, form url.Values) (int, string) {
	t.Helper()
	body := form.Encode()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeWiresTheSlackListing: askpa serve with Slack on lets a PA list
// themselves as serve wires it: a signed "/askpa listing" opens the modal
// with views.open, a signed view_submission is stored pending for
// moderation, staff approve it through the API, and the PA is told of each
// step in a direct message.
func TestServeWiresTheSlackListing(t *testing.T) {
	const secret = "listing-signing-secret"
	sl := newSlackWeb(t)
	base := startServe(t, map[string]string{
		"ASKPA_ADDR":           "127.0.0.1:0",
		"ASKPA_DATA_DIR":       t.TempDir(),
		"ASKPA_STAFF_TOKENS":   "alex:" + testStaffToken,
		"SLACK_BOT_TOKEN":      "xoxb-listing",
		"SLACK_SIGNING_SECRET": secret,
		"SLACK_API_URL":        sl.srv.URL + "/",
	})

	status, _ := postSigned(t, base+"/webhooks/slack/commands", secret, url.Values{"command": {"/askpa"}, "text": {"listing"},
		"team_id": {"T1"}, "user_id": {"UPA1"}, "channel_id": {"C1"}, "trigger_id": {"trig-1"}})
	sl.mu.Lock()
	views := append([]string(nil), sl.views...)
	sl.mu.Unlock()
	if status != http.StatusOK || len(views) != 1 || views[0] != "trig-1" {
		t.Fatalf("/askpa listing answered %d; views.open with %v", status, views)
	}

	value := func(typ, key string, v any) map[string]any {
		return map[string]any{"value": map[string]any{"type": typ, key: v}}
	}
	submission, _ := json.Marshal(map[string]any{
		"type": "view_submission", "trigger_id": "trig-2", "team": map[string]any{"id": "T1"}, "user": map[string]any{"id": "UPA1"},
		"view": map[string]any{"id": "V1", "callback_id": "askpa_listing", "type": "modal", "state": map[string]any{"values": map[string]any{
			"kind":          value("radio_buttons", "selected_option", map[string]any{"value": "pa"}),
			"name":          value("plain_text_input", "value", "Sam Taylor"),
			"areas":         value("plain_text_input", "value", "EX4, Exeter"),
			"services":      value("multi_static_select", "selected_options", []map[string]any{{"value": "personal-care"}}),
			"contact_phone": value("plain_text_input", "value", "07700 900123"),
		}}},
	})
	status, body := postSigned(t, base+"/webhooks/slack/interactions", secret, url.Values{"payload": {string(submission)}})
	if status != http.StatusOK || body != "" {
		t.Fatalf("the submission answered %d %q", status, body)
	}
	var list struct {
		Listings []struct {
			ID    string `json:"id"`
			Owner string `json:"owner"`
		} `json:"listings"`
	}
	waitFor(t, "the listing pending", func() bool {
		return call(t, "GET", base+"/api/v1/listings?status=pending", testStaffToken, nil, &list) == http.StatusOK && len(list.Listings) == 1
	})
	if list.Listings[0].Owner != "slack:T1:UPA1" {
		t.Errorf("owner = %q", list.Listings[0].Owner)
	}
	waitFor(t, "the DM that it was sent for moderation", func() bool { return strings.Contains(sl.dm("DUPA1"), "sent for moderation") })

	if st := call(t, "POST", base+"/api/v1/listings/"+list.Listings[0].ID+"/approve", testStaffToken, nil, nil); st != http.StatusOK {
		t.Fatalf("approve: %d", st)
	}
	waitFor(t, "the DM that it was approved", func() bool { return strings.Contains(sl.dm("DUPA1"), "is approved") })
}
