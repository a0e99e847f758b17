package main

import (
	"bytes"
	"context"
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
	"regexp"
	"slices"
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
	hook := newReceiver(t)
	c := startScaleCluster(t, hook.srv.URL, 0)
	tg, sl, proxy, addrs := c.tg, c.sl, c.proxy, c.addrs
	const slackSecret = scaleSlackSecret

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
		c.kill(1)
		close(killed)
	}()
	wg.Wait()
	<-killed
	c.restart(1, "r1b")

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
	c.stop()
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
// records chat.postMessage by channel, and by replica when askpa's API URL
// names one (SLACK_API_URL=URL/r1/).
type slackAPI struct {
	srv  *httptest.Server
	mu   sync.Mutex
	by   map[string]int
	sent *sendLog
}

func newSlackAPI(t *testing.T, delay time.Duration) *slackAPI {
	s := &slackAPI{by: map[string]int{}, sent: &sendLog{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		replica, method, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if method == "" {
			replica, method = "", replica
		}
		if method != "chat.postMessage" {
			io.WriteString(w, `{"ok": true}`)
			return
		}
		arrived := time.Now()
		time.Sleep(delay)
		ch := r.Form.Get("channel")
		s.mu.Lock()
		s.by[ch]++
		n := s.by[ch]
		s.mu.Unlock()
		s.sent.add(replica, ch, r.Form.Get("text"), arrived)
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

// sendLog records the messages a chat platform accepted: who sent each
// (the replica's name), to which chat, what, and when the request arrived.
type sendLog struct {
	mu   sync.Mutex
	sent []sentMessage
}

type sentMessage struct {
	Replica, Chat, Text string
	At                  time.Time
}

func (l *sendLog) add(replica, chat, text string, arrived time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = append(l.sent, sentMessage{replica, chat, text, arrived})
}

func (l *sendLog) all() []sentMessage {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]sentMessage(nil), l.sent...)
}

// newTelegramRecorder stands in front of the Telegram test server: a
// replica's API URL is URL/NAME, and every sendMessage the server accepts is
// recorded under NAME after delay. A request is carried to the end even when
// its sender dies meanwhile, as it would be once it had reached Telegram.
func newTelegramRecorder(t *testing.T, upstream string, delay time.Duration) (*httptest.Server, *sendLog) {
	sent := &sendLog{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		replica, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		body, _ := io.ReadAll(r.Body)
		arrived := time.Now()
		send := strings.HasSuffix(rest, "/sendMessage")
		if send {
			time.Sleep(delay)
		}
		req, _ := http.NewRequestWithContext(context.Background(), r.Method, upstream+"/"+rest, bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if send && resp.StatusCode == http.StatusOK {
			chat, text := sentTo(r.Header.Get("Content-Type"), body)
			sent.add(replica, chat, text, arrived)
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv, sent
}

// sentTo reads chat_id and text from a sendMessage request's body.
func sentTo(contentType string, body []byte) (chat, text string) {
	if strings.HasPrefix(contentType, "application/json") {
		var p struct {
			ChatID json.Number `json:"chat_id"`
			Text   string      `json:"text"`
		}
		json.Unmarshal(body, &p)
		return p.ChatID.String(), p.Text
	}
	if strings.HasPrefix(contentType, "multipart/form-data") {
		r := &http.Request{Method: "POST", Header: http.Header{"Content-Type": {contentType}}, Body: io.NopCloser(bytes.NewReader(body))}
		if r.ParseMultipartForm(1<<20) == nil {
			return r.FormValue("chat_id"), r.FormValue("text")
		}
		return "", ""
	}
	v, _ := url.ParseQuery(string(body))
	return v.Get("chat_id"), v.Get("text")
}

// scaleCluster is three askpa serve processes on one PostgreSQL database
// behind a round-robin proxy, answering people through the Telegram test
// server and a fake Slack Web API, and telling a webhook of every
// escalation event. Replica i calls the chat APIs as "r<i>", so that what
// each process sent can be told apart.
type scaleCluster struct {
	t        *testing.T
	tg       *telegramtest.Server
	tgSent   *sendLog // sendMessage calls Telegram accepted, by replica
	sl       *slackAPI
	addrs    []string
	proxy    *httptest.Server
	replicas []*child
	env      func(addr, name string) []string
}

const scaleSlackSecret = "scale-test-signing-secret"

// startScaleCluster starts the cluster, its webhooks going to hookURL;
// sendDelay is how long the chat APIs take to accept a message.
func startScaleCluster(t *testing.T, hookURL string, sendDelay time.Duration) *scaleCluster {
	dbURL := pgtest.URL(t)
	c := &scaleCluster{t: t, tg: telegramtest.NewServer(t), sl: newSlackAPI(t, sendDelay)}
	var tgAPI *httptest.Server
	tgAPI, c.tgSent = newTelegramRecorder(t, c.tg.URL(), sendDelay)
	c.addrs = []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	c.proxy = newRoundRobin(t, c.addrs)
	c.env = func(addr, name string) []string {
		return []string{
			"ASKPA_ADDR=" + addr, "ASKPA_DATA_DIR=" + t.TempDir(), "ASKPA_DATABASE_URL=" + dbURL,
			"ASKPA_STAFF_TOKENS=alex:" + testStaffToken,
			"ASKPA_WEBHOOK_URLS=" + hookURL, "ASKPA_WEBHOOK_SECRET=" + testWebhookKey,
			"TELEGRAM_BOT_TOKEN=" + c.tg.Token(), "TELEGRAM_API_URL=" + tgAPI.URL + "/" + name,
			"TELEGRAM_WEBHOOK_URL=" + c.proxy.URL + "/webhooks/telegram", "TELEGRAM_WEBHOOK_SECRET=scale-secret",
			"SLACK_BOT_TOKEN=xoxb-scale", "SLACK_SIGNING_SECRET=" + scaleSlackSecret, "SLACK_API_URL=" + c.sl.srv.URL + "/" + name + "/",
			"ASKPA_INTAKE_LEASE=10s",
		}
	}
	c.replicas = make([]*child, len(c.addrs))
	for i, a := range c.addrs {
		c.replicas[i] = startChild(t, c.env(a, fmt.Sprint("r", i)))
	}
	c.tg.WaitWebhook()
	return c
}

// kill ends replica i with SIGKILL and returns when it is gone.
func (c *scaleCluster) kill(i int) time.Time {
	c.replicas[i].cmd.Process.Signal(syscall.SIGKILL)
	c.replicas[i].cmd.Wait()
	return time.Now()
}

// restart starts replica i again, calling the chat APIs as name.
func (c *scaleCluster) restart(i int, name string) {
	c.replicas[i] = startChild(c.t, c.env(c.addrs[i], name))
}

// stop ends every replica with SIGTERM.
func (c *scaleCluster) stop() {
	for _, r := range c.replicas {
		r.cmd.Process.Signal(syscall.SIGTERM)
		r.cmd.Wait()
	}
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

// TestReplicasDeliverStaffRepliesAcrossAKill has staff reply to people on
// Telegram, Slack and the web channel continuously, through the
// round-robin proxy, before, while and after one of three replicas is
// killed with SIGKILL and restarted. Every reply answered 201 must reach its
// person once, in their own channel; and every webhook event must reach
// the helpdesk under one delivery id, however often it is sent.
//
// Replies go out through the outbox, at least once: a reply the killed
// process had handed to Telegram or Slack (or written to a web user's
// mailbox) but not yet marked delivered is sent again by another replica
// once its lease ends. Neither platform can be asked to drop a repeat, so
// such a reply may arrive twice; the test allows that only for a reply
// whose first copy the killed process sent before it died, at most one
// for each of its dispatcher's workers, and fails on any other repeat.
func TestReplicasDeliverStaffRepliesAcrossAKill(t *testing.T) {
	if testing.Short() {
		t.Skip("scale test skipped in -short mode")
	}
	events := newEventLog(t)
	c := startScaleCluster(t, events.srv.URL, 15*time.Millisecond)
	const perChannel = 15
	const askForPerson = "I need to speak to a person please"

	// People ask for a person: on Telegram, Slack and the web channel.
	person := map[string]string{} // channel:user -> where replies reach them (chat, or web token)
	for i := range perChannel {
		u := telegramtest.User{ID: int64(95000 + i), FirstName: "R"}
		c.tg.Send(u, telegramtest.Private(u), askForPerson)
		person[fmt.Sprint("telegram:", u.ID)] = fmt.Sprint(u.ID)

		body, _ := json.Marshal(map[string]any{
			"type": "event_callback", "team_id": "T1", "event_id": fmt.Sprint("EvReply", i),
			"event": map[string]any{"type": "message", "channel_type": "im", "channel": fmt.Sprint("DR", i), "user": fmt.Sprint("UR", i), "text": askForPerson, "ts": "1.1"},
		})
		if st := postSlack(c.proxy.URL, scaleSlackSecret, body); st != http.StatusOK {
			t.Fatalf("Slack event: %d", st)
		}
		person[fmt.Sprint("slack:UR", i)] = fmt.Sprint("DR", i)

		s := newWebSession(t, c.proxy.URL)
		var ans struct {
			EscalationID string `json:"escalation_id"`
		}
		if st := call(t, "POST", c.proxy.URL+"/v1/messages", s.Token, map[string]string{"text": askForPerson}, &ans); st != http.StatusOK || ans.EscalationID == "" {
			t.Fatalf("web message: %d, escalation %q", st, ans.EscalationID)
		}
		person["web:"+s.User] = s.Token
	}
	var escs []support.Escalation
	eventually(t, 60*time.Second, "an escalation for everyone who asked", func() bool {
		c.tg.DeliverPending()
		var list struct {
			Escalations []support.Escalation `json:"escalations"`
		}
		st, err := tryCall("GET", c.proxy.URL+"/api/v1/escalations?limit=200", nil, &list)
		escs = list.Escalations
		return err == nil && st == http.StatusOK && len(escs) >= len(person)
	})
	who := func(e support.Escalation) string { return e.Address.Channel + ":" + e.Address.UserID }
	seen := map[string]bool{}
	for _, e := range escs {
		if seen[who(e)] || person[who(e)] == "" {
			t.Fatalf("escalation %s for %s: a second one, or for no one who asked", e.ID, who(e))
		}
		seen[who(e)] = true
	}

	// Staff reply continuously, each member of staff to their own
	// escalations; the second replica dies a third of the way through and
	// comes back a second later.
	const repliers, before, after = 5, 150, 300
	var (
		mu       sync.Mutex
		acked    = map[string]string{} // marker of a reply answered 201 -> its escalation
		notAcked int                   // replies answered otherwise, or not at all
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	ackedCount := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	for g := range repliers {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				e := escs[(g+n*repliers)%len(escs)]
				marker := fmt.Sprintf("[sr-%d-%d]", g, n)
				text := "From the support team: we have your message " + marker
				st, err := tryCall("POST", c.proxy.URL+"/api/v1/escalations/"+e.ID+"/replies", map[string]string{"text": text}, nil)
				mu.Lock()
				if err == nil && st == http.StatusCreated {
					acked[marker] = e.ID
				} else {
					notAcked++
				}
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	waitAcked := func(n int) {
		eventually(t, 60*time.Second, fmt.Sprintf("%d staff replies answered 201", n), func() bool { return ackedCount() >= n })
	}
	waitAcked(before)
	killedAt := c.kill(1)
	atKill := ackedCount()
	time.Sleep(time.Second)
	c.restart(1, "r1b")
	waitAcked(atKill + after)
	close(stop)
	wg.Wait()

	// What the desk holds: every staff message, by marker, and whom it is
	// for. A POST the proxy sent again after the replica died under it may
	// have been taken twice, as two messages: each is to arrive once.
	markerOf := regexp.MustCompile(`\[sr-\d+-\d+\]`)
	want := map[string]int{}       // marker -> staff messages carrying it
	forWhom := map[string]string{} // marker -> channel:user
	byID := map[string]support.Escalation{}
	eventually(t, 60*time.Second, "every staff reply marked delivered", func() bool {
		clear(want)
		for _, e := range escs {
			var got support.Escalation
			if st, err := tryCall("GET", c.proxy.URL+"/api/v1/escalations/"+e.ID, nil, &got); err != nil || st != http.StatusOK {
				return false
			}
			byID[e.ID] = got
			for _, m := range got.Messages {
				if m.From != support.FromStaff {
					continue
				}
				if m.Delivery != support.DeliveryDelivered {
					return false
				}
				k := markerOf.FindString(m.Text)
				want[k]++
				forWhom[k] = who(got)
			}
		}
		return true
	})
	mu.Lock()
	for k, id := range acked {
		if want[k] == 0 {
			t.Errorf("reply %s to %s was answered 201 and is not in the escalation", k, id)
		}
	}
	twiceTaken := 0
	for _, n := range want {
		if n > 1 {
			twiceTaken++
		}
	}
	mu.Unlock()

	// What people got: one copy of each, in their own channel.
	type copyOf struct {
		who, replica string
		at           time.Time
	}
	received := func() map[string][]copyOf {
		got := map[string][]copyOf{}
		for _, m := range c.tgSent.all() {
			if k := markerOf.FindString(m.Text); k != "" {
				got[k] = append(got[k], copyOf{"telegram:" + m.Chat, m.Replica, m.At})
			}
		}
		for _, m := range c.sl.sent.all() {
			if k := markerOf.FindString(m.Text); k != "" {
				got[k] = append(got[k], copyOf{"slack:" + strings.Replace(m.Chat, "DR", "UR", 1), m.Replica, m.At})
			}
		}
		for w, token := range person {
			if !strings.HasPrefix(w, "web:") {
				continue
			}
			for after := int64(0); ; {
				var box struct {
					Messages []struct {
						Seq  int64     `json:"seq"`
						Text string    `json:"text"`
						At   time.Time `json:"at"`
					} `json:"messages"`
				}
				if st, err := tryCallAs("GET", fmt.Sprintf("%s/v1/messages?after=%d", c.proxy.URL, after), token, nil, &box); err != nil || st != http.StatusOK {
					t.Fatalf("GET /v1/messages for %s: %d %v", w, st, err)
				}
				for _, m := range box.Messages {
					if k := markerOf.FindString(m.Text); k != "" {
						got[k] = append(got[k], copyOf{w, "", m.At})
					}
					after = m.Seq
				}
				if len(box.Messages) < 100 {
					break
				}
			}
		}
		return got
	}
	var got map[string][]copyOf
	deadline := time.Now().Add(60 * time.Second)
	for {
		got = received()
		missing := 0
		for k := range want {
			if len(got[k]) == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d staff replies never reached their person", missing, len(want))
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // time for a second copy, were one on its way
	got = received()
	inFlight := 0
	for k, copies := range got {
		if want[k] == 0 {
			t.Errorf("%s reached %s but is no staff message", k, copies[0].who)
			continue
		}
		for _, cp := range copies {
			if cp.who != forWhom[k] {
				t.Errorf("%s, for %s, reached %s", k, forWhom[k], cp.who)
			}
		}
		extra := len(copies) - want[k]
		if extra <= 0 {
			continue
		}
		slices.SortFunc(copies, func(a, b copyOf) int { return a.at.Compare(b.at) })
		first, last := copies[0], copies[len(copies)-1]
		// The killed process called the chat APIs as r1 (the restarted one
		// as r1b); a web copy is known by when it was written.
		byKilled := first.replica == "r1" || first.replica == "" && !first.at.After(killedAt)
		if extra == 1 && byKilled && last.at.After(killedAt) {
			inFlight++ // sent by the killed process, not yet marked delivered when it died
			t.Logf("%s reached %s twice: at %s (by %q, before the kill at %s) and at %s (by %q)", k, first.who,
				first.at.Format("15:04:05.000"), first.replica, killedAt.Format("15:04:05.000"), last.at.Format("15:04:05.000"), last.replica)
			continue
		}
		var when []string
		for _, cp := range copies {
			when = append(when, fmt.Sprintf("%s by %q", cp.at.Format("15:04:05.000"), cp.replica))
		}
		t.Errorf("%s reached %s %d times (%s; the kill at %s); want %d", k, forWhom[k], len(copies),
			strings.Join(when, ", "), killedAt.Format("15:04:05.000"), want[k])
	}
	if inFlight > 4 { // the dispatcher's workers: at most that many in flight at the kill
		t.Errorf("%d replies the killed replica had in flight reached their person twice; want at most 4", inFlight)
	}

	// Every event reached the helpdesk, each under one delivery id.
	eventually(t, 60*time.Second, "a webhook for every escalation, claim and reply", func() bool {
		for _, e := range byID {
			if !events.has(support.EventCreated, e.ID, 0) || !events.has(support.EventClaimed, e.ID, 0) {
				return false
			}
			for _, m := range e.Messages {
				if m.From == support.FromStaff && !events.has(support.EventReplied, e.ID, m.Seq) {
					return false
				}
			}
		}
		return true
	})
	deliveries, repeats := events.check(t)
	t.Logf("%d escalations; %d staff replies answered 201, %d not (the kill), %d taken twice after a proxy retry; each reached its person once but %d the killed replica had in flight, sent again; %d webhook events under one delivery id each, %d of them delivered more than once",
		len(escs), len(acked), notAcked, twiceTaken, inFlight, deliveries, repeats)
	c.stop()
}

// eventLog is a webhook endpoint that checks signatures and records each
// event's delivery ids, the event known by its name, escalation and, for a
// reply, message.
type eventLog struct {
	mu  sync.Mutex
	ids map[string]map[string]int // event -> delivery id -> times received
	bad int
	srv *httptest.Server
}

func newEventLog(t *testing.T) *eventLog {
	l := &eventLog{ids: map[string]map[string]int{}}
	l.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var ev support.Event
		l.mu.Lock()
		defer l.mu.Unlock()
		if err := support.Verify([]byte(testWebhookKey), req.Header.Get(support.HeaderTimestamp), req.Header.Get(support.HeaderSignature), body, time.Now()); err != nil ||
			json.Unmarshal(body, &ev) != nil || ev.DeliveryID == "" || ev.DeliveryID != req.Header.Get(support.HeaderDelivery) {
			l.bad++
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		seq := 0
		if ev.Message != nil {
			seq = ev.Message.Seq
		}
		k := eventKey(ev.Name, ev.Escalation.ID, seq)
		if l.ids[k] == nil {
			l.ids[k] = map[string]int{}
		}
		l.ids[k][ev.DeliveryID]++
	}))
	t.Cleanup(l.srv.Close)
	return l
}

func eventKey(name, escalation string, seq int) string {
	return fmt.Sprintf("%s %s %d", name, escalation, seq)
}

func (l *eventLog) has(name, escalation string, seq int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ids[eventKey(name, escalation, seq)]) > 0
}

// check fails t for an event received under two delivery ids, or for a
// request that was not a well-signed event, and returns how many events
// were received and how many of them more than once.
func (l *eventLog) check(t *testing.T) (events, repeated int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bad > 0 {
		t.Errorf("the webhook got %d requests that were not a well-signed event", l.bad)
	}
	for k, ids := range l.ids {
		if len(ids) != 1 {
			t.Errorf("event %q came under %d delivery ids; want one", k, len(ids))
		}
		for _, n := range ids {
			if n > 1 {
				repeated++
			}
		}
	}
	return len(l.ids), repeated
}
