package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/askpa/askpa/bot/telegram/telegramtest"
	"github.com/askpa/askpa/postgres/pgtest"
	"github.com/askpa/askpa/support"
)

// TestReplicasShareTheWorkAndLoseNothing runs three askpa serve processes
// on one PostgreSQL database behind a round-robin proxy, sends web
// messages, Telegram updates (some delivered to two replicas at once) and
// Slack events (some sent twice), kills one replica with SIGKILL half-way
// and restarts it, and checks that every acknowledged message is answered,
// at most a few twice, and that every person who asked for a person has one
// escalation.
func TestReplicasShareTheWorkAndLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("scale test skipped in -short mode")
	}
	dbURL := pgtest.URL(t)
	tg := telegramtest.NewServer(t)
	sl := newSlackAPI(t)
	const slackSecret = "scale-test-signing-secret"
	hook := newReceiver(t)
	addrs := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	proxy := newRoundRobin(t, addrs)
	env := func(addr string) []string {
		return []string{
			"ASKPA_ADDR=" + addr, "ASKPA_DATA_DIR=" + t.TempDir(), "ASKPA_DATABASE_URL=" + dbURL,
			"ASKPA_STAFF_TOKENS=alex:" + testStaffToken,
			"ASKPA_WEBHOOK_URLS=" + hook.srv.URL, "ASKPA_WEBHOOK_SECRET=" + testWebhookKey,
			"TELEGRAM_BOT_TOKEN=" + tg.Token(), "TELEGRAM_API_URL=" + tg.URL(),
			"TELEGRAM_WEBHOOK_URL=" + proxy.URL + "/webhooks/telegram", "TELEGRAM_WEBHOOK_SECRET=scale-secret",
			"SLACK_BOT_TOKEN=xoxb-scale", "SLACK_SIGNING_SECRET=" + slackSecret, "SLACK_API_URL=" + sl.srv.URL + "/",
			"ASKPA_INTAKE_LEASE=10s",
		}
	}
	replicas := make([]*child, len(addrs))
	for i, a := range addrs {
		replicas[i] = startChild(t, env(a))
	}
	tg.WaitWebhook()

	const each = 340 // of web messages, Telegram updates and Slack events: 1,020 in all
	var (
		webAnswered, webAsked atomic.Int64
		slackAcked            sync.Map // event id -> the DM channel it came from
		askedForPerson        sync.Map // who asked for a person -> true
		killed                = make(chan struct{})
		wg                    sync.WaitGroup
		telegramUser          = func(i int) telegramtest.User { return telegramtest.User{ID: int64(90000 + i), FirstName: "T"} }
		needsPerson           = func(i int) bool { return i%10 == 0 }
		question              = func(i int) string {
			if needsPerson(i) {
				return "I need to speak to a person please"
			}
			return "how much holiday does my PA get"
		}
	)
	wg.Go(func() { // web
		for i := range each {
			s, err := tryWebSession(proxy.URL)
			if err != nil {
				continue
			}
			webAsked.Add(1)
			var ans struct {
				Text         string `json:"answer"`
				EscalationID string `json:"escalation_id"`
			}
			st, err := tryCallAs("POST", proxy.URL+"/v1/messages", s.Token, map[string]string{"text": question(i)}, &ans)
			if err == nil && st == http.StatusOK && (ans.Text != "" || ans.EscalationID != "") {
				webAnswered.Add(1)
				if needsPerson(i) {
					askedForPerson.Store("web:"+s.User, true)
				}
			}
		}
	})
	wg.Go(func() { // Telegram, in order as Telegram delivers, some twice
		for i := range each {
			m := tg.Send(telegramUser(i), telegramtest.Private(telegramUser(i)), question(i))
			if i%7 == 0 { // delivered to a second replica as well
				body := fmt.Sprintf(`{"update_id": %d, "message": {"message_id": %d, "date": 1, "text": %q, "from": {"id": %d, "first_name": "T"}, "chat": {"id": %d, "type": "private"}}}`,
					m.UpdateID, m.ID, question(i), telegramUser(i).ID, telegramUser(i).ID)
				req, _ := http.NewRequest("POST", "http://"+addrs[(i+1)%3]+"/webhooks/telegram", bytes.NewReader([]byte(body)))
				req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "scale-secret")
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
			if needsPerson(i) {
				askedForPerson.Store(fmt.Sprint("telegram:", telegramUser(i).ID), true)
			}
		}
	})
	wg.Go(func() { // Slack, some sent twice (Slack retries with the same event id)
		for i := range each {
			id, channel := fmt.Sprint("EvScale", i), fmt.Sprint("D", i)
			body, _ := json.Marshal(map[string]any{
				"type": "event_callback", "team_id": "T1", "event_id": id,
				"event": map[string]any{"type": "message", "channel_type": "im", "channel": channel, "user": fmt.Sprint("U", i), "text": question(i), "ts": "1.1"},
			})
			for try := 0; try < 1+i%5/4; try++ {
				if postSlack(proxy.URL, slackSecret, body) == http.StatusOK {
					slackAcked.Store(id, channel)
				}
			}
			if needsPerson(i) {
				askedForPerson.Store("slack:"+fmt.Sprint("U", i), true)
			}
		}
	})
	go func() { // kill replica 1 half-way, restart it a little later
		for tg.Calls("sendMessage") < each/2 {
			time.Sleep(10 * time.Millisecond)
		}
		replicas[1].cmd.Process.Signal(syscall.SIGKILL)
		replicas[1].cmd.Wait()
		close(killed)
	}()
	wg.Wait()
	<-killed
	replicas[1] = startChild(t, env(addrs[1]))

	eventually(t, 90*time.Second, "every Telegram update to be delivered", func() bool {
		tg.DeliverPending()
		return len(tg.Deliveries()) > 0 && pendingUpdates(tg) == 0
	})
	missing := func() (tgMissing, slMissing int) {
		for i := range each {
			if len(tg.Messages(telegramUser(i).ID)) == 0 {
				tgMissing++
			}
		}
		slackAcked.Range(func(_, ch any) bool {
			if sl.posts(ch.(string)) == 0 {
				slMissing++
			}
			return true
		})
		return tgMissing, slMissing
	}
	deadline := time.Now().Add(90 * time.Second)
	for a, b := missing(); (a > 0 || b > 0) && time.Now().Before(deadline); a, b = missing() {
		time.Sleep(100 * time.Millisecond)
	}
	if a, b := missing(); a > 0 || b > 0 {
		t.Fatalf("acknowledged but never answered: %d Telegram updates, %d Slack events", a, b)
	}
	twice := 0
	for i := range each {
		if n := len(tg.Messages(telegramUser(i).ID)); n > 2 { // a hand-over may send two
			twice++
		}
	}
	slackTwice := 0
	slackAcked.Range(func(_, ch any) bool {
		if sl.posts(ch.(string)) > 2 {
			slackTwice++
		}
		return true
	})
	if twice+slackTwice > 24 { // at most the 8 workers of each channel in flight at the kill
		t.Errorf("%d Telegram and %d Slack conversations were answered more than once", twice, slackTwice)
	}
	if webAnswered.Load() < webAsked.Load()*9/10 {
		t.Errorf("only %d of %d web messages were answered; the proxy routes around a dead replica only after it fails", webAnswered.Load(), webAsked.Load())
	}

	// One escalation for each person who asked for one, none twice.
	var list struct {
		Escalations []support.Escalation `json:"escalations"`
	}
	if st, err := tryCall("GET", proxy.URL+"/api/v1/escalations?limit=200", nil, &list); err != nil || st != http.StatusOK {
		t.Fatalf("listing escalations: %d %v", st, err)
	}
	seen := map[string]int{}
	for _, e := range list.Escalations {
		seen[e.Address.Channel+":"+e.Address.UserID]++
	}
	for who, n := range seen {
		if n > 1 {
			t.Errorf("%s has %d escalations; want one", who, n)
		}
	}
	askedForPerson.Range(func(who, _ any) bool {
		if w := who.(string); seen[w] == 0 {
			t.Errorf("%s asked for a person and has no escalation", w)
		}
		return true
	})
	// Every escalation reached the helpdesk webhook, under one delivery id
	// however often it was sent.
	eventually(t, 60*time.Second, "every escalation.created webhook", func() bool {
		for _, e := range list.Escalations {
			if !hook.has(support.EventCreated, e.ID) {
				return false
			}
		}
		return true
	})
	hook.mu.Lock()
	ids := map[string]map[string]bool{}
	for _, ev := range hook.events {
		if ev.Name == support.EventCreated {
			if ids[ev.Escalation.ID] == nil {
				ids[ev.Escalation.ID] = map[string]bool{}
			}
			ids[ev.Escalation.ID][ev.Delivery] = true
		}
	}
	hook.mu.Unlock()
	for id, deliveries := range ids {
		if len(deliveries) != 1 {
			t.Errorf("escalation %s was announced under %d delivery ids; want one", id, len(deliveries))
		}
	}

	// A staff reply reaches the person in Telegram once.
	replied := map[int64]string{}
	for _, e := range list.Escalations {
		if e.Address.Channel != "telegram" {
			continue
		}
		text := "From the support team: we will ring you today (" + e.ID[:8] + ")"
		if st, err := tryCall("POST", proxy.URL+"/api/v1/escalations/"+e.ID+"/claim", nil, nil); err != nil || st != http.StatusOK {
			t.Fatalf("claim %s: %d %v", e.ID, st, err)
		}
		if st, err := tryCall("POST", proxy.URL+"/api/v1/escalations/"+e.ID+"/replies", map[string]string{"text": text}, nil); err != nil || st != http.StatusCreated {
			t.Fatalf("reply to %s: %d %v", e.ID, st, err)
		}
		chat, _ := strconv.ParseInt(e.Address.ChatID, 10, 64)
		replied[chat] = text
	}
	timesSeen := func(chat int64, text string) int {
		n := 0
		for _, m := range tg.Messages(chat) {
			if strings.Contains(m.Text, text) {
				n++
			}
		}
		return n
	}
	eventually(t, 60*time.Second, "every staff reply to reach its person", func() bool {
		for chat, text := range replied {
			if timesSeen(chat, text) == 0 {
				return false
			}
		}
		return true
	})
	time.Sleep(2 * time.Second) // time for a second copy, were one on its way
	for chat, text := range replied {
		if n := timesSeen(chat, text); n != 1 {
			t.Errorf("a staff reply reached chat %d %d times; want once", chat, n)
		}
	}
	t.Logf("acknowledged and answered: %d Telegram updates, %d Slack events, %d of %d web messages; answered twice: %d Telegram, %d Slack; escalations: %d, each announced under one delivery id; staff replies delivered once: %d",
		each, countMap(&slackAcked), webAnswered.Load(), webAsked.Load(), twice, slackTwice, len(list.Escalations), len(replied))
	for _, r := range replicas {
		r.cmd.Process.Signal(syscall.SIGTERM)
		r.cmd.Wait()
	}
}

func countMap(m *sync.Map) int {
	n := 0
	m.Range(func(_, _ any) bool { n++; return true })
	return n
}

// pendingUpdates is how many updates the emulator has not had acknowledged.
func pendingUpdates(tg *telegramtest.Server) int {
	acked := map[int]bool{}
	all := map[int]bool{}
	for _, d := range tg.Deliveries() {
		all[d.UpdateID] = true
		if d.Status == http.StatusOK {
			acked[d.UpdateID] = true
		}
	}
	return len(all) - len(acked)
}

// postSlack sends one signed Events API request and returns the status, 0
// when the request failed.
func postSlack(base, secret string, body []byte) int {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	req, _ := http.NewRequest("POST", base+"/webhooks/slack/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// slackAPI is the part of the Slack Web API askpa calls to answer: it
// records chat.postMessage by channel.
type slackAPI struct {
	srv *httptest.Server
	mu  sync.Mutex
	by  map[string]int
}

func newSlackAPI(t *testing.T) *slackAPI {
	s := &slackAPI{by: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/chat.postMessage" {
			io.WriteString(w, `{"ok": true}`)
			return
		}
		ch := r.Form.Get("channel")
		s.mu.Lock()
		s.by[ch]++
		n := s.by[ch]
		s.mu.Unlock()
		fmt.Fprintf(w, `{"ok": true, "channel": %q, "ts": "1700000000.%06d"}`, ch, n)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *slackAPI) posts(channel string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.by[channel]
}

// newRoundRobin is a load balancer in front of the replicas: each request
// goes to the next replica; one that cannot be reached is skipped, as a
// balancer's health check would.
func newRoundRobin(t *testing.T, addrs []string) *httptest.Server {
	var next atomic.Int64
	proxies := make([]*httputil.ReverseProxy, len(addrs))
	for i, a := range addrs {
		u, _ := url.Parse("http://" + a)
		proxies[i] = httputil.NewSingleHostReverseProxy(u)
		proxies[i].ErrorLog = log.New(io.Discard, "", 0) // a dead replica is expected
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		for range addrs {
			i := int(next.Add(1)) % len(addrs)
			rec := httptest.NewRecorder()
			r2 := r.Clone(r.Context())
			r2.Body = io.NopCloser(bytes.NewReader(body))
			proxies[i].ServeHTTP(rec, r2)
			if rec.Code == http.StatusBadGateway {
				continue // the replica is down: try the next
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		http.Error(w, "no replica", http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	return srv
}
