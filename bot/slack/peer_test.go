package slack

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/bottest"
)

const (
	testSecret  = "8f742231b10e8888abcd99yyyzzz85a5"
	testBotUser = "UBOT0001"
	testTeam    = "T0001"
)

// posted is one message the Slack peer received.
type posted struct {
	Method  string // chat.postMessage, chat.postEphemeral, chat.update, response_url
	Channel string
	User    string // postEphemeral's recipient
	Thread  string
	TS      string // the message's ts (assigned, or updated)
	Text    string
	Blocks  []map[string]any
	// ResponseType, ReplaceOriginal and DeleteOriginal are set for response_url posts.
	ResponseType    string
	DeleteOriginal  bool
	ReplaceOriginal bool
	// Author and BotID are set for a message another app posted (see
	// postAs); empty for askpa's own.
	Author, BotID string
}

// sectionText returns the mrkdwn text of all section blocks, joined.
func (p posted) sectionText() string {
	var parts []string
	for _, b := range p.Blocks {
		if b["type"] == "section" {
			if t, ok := b["text"].(map[string]any); ok {
				parts = append(parts, t["text"].(string))
			}
		}
	}
	return strings.Join(parts, "\n")
}

// buttons returns the values of all buttons, in order.
func (p posted) buttons() []string {
	var out []string
	for _, b := range p.Blocks {
		if b["type"] != "actions" {
			continue
		}
		for _, e := range b["elements"].([]any) {
			out = append(out, e.(map[string]any)["value"].(string))
		}
	}
	return out
}

// buttonValue returns the value of the button whose value starts with prefix.
func (p posted) buttonValue(prefix string) string {
	for _, v := range p.buttons() {
		if strings.HasPrefix(v, prefix) {
			return v
		}
	}
	return ""
}

// peer is slack-go's slacktest server, with the Web API methods askpa uses
// recorded, response URLs served, and failures injectable per method.
type peer struct {
	srv *slacktest.Server

	mu       sync.Mutex
	posts    []posted
	attempts map[string]int
	failures map[string][]func(w http.ResponseWriter) // served before success, in order
	seq      int
	users    map[string]string // users.info: id -> display name
	views    []openedView      // views.open and views.update, in order
}

// openedView is a modal askpa opened (views.open) or redrew (views.update).
type openedView struct {
	Method    string // views.open or views.update
	TriggerID string
	ViewID    string // views.update's view_id
	View      map[string]any
}

// blocks returns the view's blocks.
func (v openedView) blocks() []map[string]any {
	var out []map[string]any
	list, _ := v.View["blocks"].([]any)
	for _, b := range list {
		out = append(out, b.(map[string]any))
	}
	return out
}

// block returns the view's block with block_id id, or nil.
func (v openedView) block(id string) map[string]any {
	for _, b := range v.blocks() {
		if b["block_id"] == id {
			return b
		}
	}
	return nil
}

// initial returns the initial value of input block id: its text, or the
// values of its initial option(s), joined by commas.
func (v openedView) initial(id string) string {
	b := v.block(id)
	if b == nil {
		return ""
	}
	el, _ := b["element"].(map[string]any)
	if s, ok := el["initial_value"].(string); ok {
		return s
	}
	if o, ok := el["initial_option"].(map[string]any); ok {
		return o["value"].(string)
	}
	var vals []string
	if os, ok := el["initial_options"].([]any); ok {
		for _, o := range os {
			vals = append(vals, o.(map[string]any)["value"].(string))
		}
	}
	return strings.Join(vals, ",")
}

// buttons returns the values of the buttons in the view's actions blocks.
func (v openedView) buttons() []string {
	return posted{Blocks: v.blocks()}.buttons()
}

// views returns the modals opened or redrawn so far.
func (p *peer) openedViews() []openedView {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]openedView(nil), p.views...)
}

// view serves views.open and views.update, recording the view.
func (p *peer) view(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if f := p.takeFailure(method); f != nil {
			f(w)
			return
		}
		var body struct {
			TriggerID string         `json:"trigger_id"`
			ViewID    string         `json:"view_id"`
			View      map[string]any `json:"view"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.View["type"] != "modal" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"ok":false,"error":"invalid_arguments"}`)
			return
		}
		p.mu.Lock()
		p.views = append(p.views, openedView{Method: method, TriggerID: body.TriggerID, ViewID: body.ViewID, View: body.View})
		id := body.ViewID
		if id == "" {
			id = fmt.Sprintf("V%04d", len(p.views))
		}
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "view": map[string]any{"id": id, "hash": "h-" + id, "type": "modal"}})
	}
}

// openDM serves conversations.open: a user's direct message channel is
// "D" and their user id.
func (p *peer) openDM(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	users := r.PostForm.Get("users")
	p.takeFailure("conversations.open")
	w.Header().Set("Content-Type", "application/json")
	if users == "" || strings.Contains(users, ",") {
		_, _ = io.WriteString(w, `{"ok":false,"error":"users_list_not_supplied"}`)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": map[string]any{"id": "D" + users}})
}

func newPeer(tb testing.TB) *peer {
	tb.Helper()
	p := &peer{attempts: map[string]int{}, failures: map[string][]func(http.ResponseWriter){},
		users: map[string]string{}}
	p.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", p.chat("chat.postMessage"))
		c.Handle("/chat.postEphemeral", p.chat("chat.postEphemeral"))
		c.Handle("/chat.update", p.chat("chat.update"))
		c.Handle("/response/", p.serveResponseURL)
		c.Handle("/users.info", p.usersInfo)
		c.Handle("/conversations.replies", p.replies)
		c.Handle("/conversations.history", p.history)
		c.Handle("/conversations.open", p.openDM)
		c.Handle("/views.open", p.view("views.open"))
		c.Handle("/views.update", p.view("views.update"))
	})
	p.srv.Start()
	tb.Cleanup(p.srv.Stop)
	return p
}

// apiURL is the Web API base URL to configure.
func (p *peer) apiURL() string { return p.srv.GetAPIURL() }

// responseURL returns a response URL served by the peer.
func (p *peer) responseURL(name string) string { return p.srv.GetAPIURL() + "response/" + name }

// fail makes the next n calls of method fail with f.
func (p *peer) fail(method string, n int, f func(w http.ResponseWriter)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range n {
		p.failures[method] = append(p.failures[method], f)
	}
}

func rateLimited(seconds int) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", strconv.Itoa(seconds))
		w.WriteHeader(http.StatusTooManyRequests)
	}
}

func serverError(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) }

func slackError(code string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"ok":false,"error":%q}`, code)
	}
}

// takeFailure counts an attempt at method and returns the failure to serve, if any.
func (p *peer) takeFailure(method string) func(http.ResponseWriter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.attempts[method]++
	if q := p.failures[method]; len(q) > 0 {
		p.failures[method] = q[1:]
		return q[0]
	}
	return nil
}

func (p *peer) attemptsOf(method string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.attempts[method]
}

func (p *peer) chat(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if f := p.takeFailure(method); f != nil {
			f(w)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var blocks []map[string]any
		if b := r.PostForm.Get("blocks"); b != "" {
			if err := json.Unmarshal([]byte(b), &blocks); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		p.mu.Lock()
		ts := r.PostForm.Get("ts")
		if ts == "" {
			p.seq++
			ts = fmt.Sprintf("1700000000.%06d", p.seq)
		}
		m := posted{Method: method, Channel: r.PostForm.Get("channel"), User: r.PostForm.Get("user"),
			Thread: r.PostForm.Get("thread_ts"), TS: ts, Text: r.PostForm.Get("text"), Blocks: blocks}
		p.posts = append(p.posts, m)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": m.Channel, "ts": ts, "message_ts": ts})
	}
}

func (p *peer) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	if f := p.takeFailure("response_url"); f != nil {
		f(w)
		return
	}
	var body struct {
		Text            string           `json:"text"`
		Blocks          []map[string]any `json:"blocks"`
		ResponseType    string           `json:"response_type"`
		ReplaceOriginal bool             `json:"replace_original"`
		DeleteOriginal  bool             `json:"delete_original"`
		ThreadTS        string           `json:"thread_ts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.posts = append(p.posts, posted{Method: "response_url", Channel: strings.TrimPrefix(r.URL.Path, "/response/"),
		Thread: body.ThreadTS, Text: body.Text, Blocks: body.Blocks, ResponseType: body.ResponseType,
		ReplaceOriginal: body.ReplaceOriginal, DeleteOriginal: body.DeleteOriginal})
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true}`)
}

func (p *peer) usersInfo(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id := r.PostForm.Get("user")
	p.mu.Lock()
	name, ok := p.users[id]
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		_, _ = io.WriteString(w, `{"ok":false,"error":"user_not_found"}`)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "user": map[string]any{
		"id": id, "name": strings.ToLower(name), "profile": map[string]any{"display_name": name, "real_name": name}}})
}

// asSlackMessage returns a message askpa posted as Slack's API returns it.
func (m posted) asSlackMessage() map[string]any {
	out := map[string]any{"type": "message", "ts": m.TS, "text": m.Text, "blocks": m.Blocks, "bot_id": "B0001", "user": testBotUser}
	if m.Author != "" {
		out["bot_id"], out["user"] = m.BotID, m.Author
	}
	if m.Thread != "" {
		out["thread_ts"] = m.Thread
	}
	return out
}

// postAs adds m to channel as if another app (bot user author, bot botID)
// had posted it, and returns its ts.
func (p *peer) postAs(channel, author, botID string, m posted) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	m.Method, m.Channel, m.Author, m.BotID = "chat.postMessage", channel, author, botID
	m.TS = fmt.Sprintf("1700009999.%06d", p.seq)
	p.posts = append(p.posts, m)
	return m.TS
}

// latest returns the current version of each message posted to channel
// (chat.update applied), top-level only when topLevel is set.
func (p *peer) latest(channel string) []posted {
	p.mu.Lock()
	defer p.mu.Unlock()
	var order []string
	byTS := map[string]posted{}
	for _, m := range p.posts {
		if m.Channel != channel || (m.Method != "chat.postMessage" && m.Method != "chat.update") {
			continue
		}
		if m.Method == "chat.update" {
			old, ok := byTS[m.TS]
			if !ok {
				continue
			}
			m.Thread = old.Thread
		} else {
			order = append(order, m.TS)
		}
		byTS[m.TS] = m
	}
	var out []posted
	for _, ts := range order {
		out = append(out, byTS[ts])
	}
	return out
}

func (p *peer) replies(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	ts := r.PostForm.Get("ts")
	var msgs []map[string]any
	for _, m := range p.latest(r.PostForm.Get("channel")) {
		if m.TS == ts || m.Thread == ts {
			msgs = append(msgs, m.asSlackMessage())
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if msgs == nil {
		_, _ = io.WriteString(w, `{"ok":false,"error":"thread_not_found"}`)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "messages": msgs})
}

// history serves conversations.history, newest first, one message a page
// so that paging is exercised.
func (p *peer) history(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	var top []posted
	for _, m := range p.latest(r.PostForm.Get("channel")) {
		if m.Thread == "" {
			top = append([]posted{m}, top...)
		}
	}
	start, _ := strconv.Atoi(r.PostForm.Get("cursor"))
	resp := map[string]any{"ok": true, "messages": []map[string]any{}, "has_more": false}
	if start < len(top) {
		resp["messages"] = []map[string]any{top[start].asSlackMessage()}
		if start+1 < len(top) {
			resp["has_more"] = true
			resp["response_metadata"] = map[string]any{"next_cursor": strconv.Itoa(start + 1)}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// sent returns everything posted so far.
func (p *peer) sent() []posted {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]posted(nil), p.posts...)
}

// sentSince returns what was posted after the first n posts.
func (p *peer) sentSince(n int) []posted { return p.sent()[n:] }

// fakeHandler is a bot.Handler that records messages and answers with a
// reply built by answer.
type fakeHandler struct {
	mu     sync.Mutex
	got    []bot.Message
	answer func(m bot.Message) []bot.Reply
	err    error
}

func (h *fakeHandler) Handle(_ context.Context, m bot.Message) (bot.Result, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, m)
	if h.err != nil {
		return bot.Result{}, h.err
	}
	if h.answer == nil {
		return bot.Result{Replies: []bot.Reply{{Text: "You said: " + m.Text + m.Action}}}, nil
	}
	return bot.Result{Replies: h.answer(m)}, nil
}

func (h *fakeHandler) messages() []bot.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]bot.Message(nil), h.got...)
}

// answerWithButtons answers every question like the engine does: text, a
// source and the three feedback buttons.
func answerWithButtons(m bot.Message) []bot.Reply {
	if m.Action != "" {
		return []bot.Reply{{Text: "Thanks, noted: " + m.Action}}
	}
	return []bot.Reply{{
		Text:    "Holiday: 5.6 weeks a year for " + m.Text,
		Sources: []bot.Source{{ID: "holiday", Title: "Holiday entitlement", URL: "https://example.org/holiday"}},
		Buttons: [][]bot.Button{{{Label: "Helpful", Action: bot.ActionHelpful}, {Label: "Not helpful", Action: bot.ActionNotHelpful}, {Label: "Talk to a person", Action: bot.ActionHuman}}},
		Answer:  &bot.Answer{Answered: true, Text: "Holiday: 5.6 weeks"},
	}}
}

// harness is a Channel wired to a Slack peer, served over real HTTP.
type harness struct {
	ch      *Channel
	peer    *peer
	handler *fakeHandler
	intake  *bottest.Intake
	srv     *httptest.Server
	logs    *bytes.Buffer
	waits   []time.Duration // back-off waits asked for, instead of sleeping
	mu      sync.Mutex
}

func newHarness(tb testing.TB, modify func(*Config)) *harness {
	tb.Helper()
	return newHarnessOn(tb, newPeer(tb), modify)
}

// newHarnessOn is newHarness talking to an existing Slack peer.
func newHarnessOn(tb testing.TB, p *peer, modify func(*Config)) *harness {
	tb.Helper()
	h := &harness{peer: p, handler: &fakeHandler{}, intake: bottest.NewIntake(), logs: &bytes.Buffer{}}
	cfg := Config{
		BotToken:      "xoxb-test-token",
		SigningSecret: testSecret,
		APIURL:        h.peer.apiURL(),
		Handler:       h.handler,
		Intake:        h.intake,
		Poll:          5 * time.Millisecond,
		Logger:        slog.New(slog.NewTextHandler(&lockedWriter{w: h.logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if modify != nil {
		modify(&cfg)
	}
	ch, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ch.sleep = func(ctx context.Context, d time.Duration) error {
		h.mu.Lock()
		h.waits = append(h.waits, d)
		h.mu.Unlock()
		return ctx.Err()
	}
	h.ch = ch
	mux := http.NewServeMux()
	for path, hd := range ch.Handlers() {
		mux.Handle("POST "+path, hd)
	}
	h.srv = httptest.NewServer(mux)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- ch.Run(ctx) }()
	tb.Cleanup(func() {
		h.srv.Close()
		cancel()
		if err := <-ran; err != nil {
			tb.Errorf("Run: %v", err)
		}
	})
	return h
}

// idle waits until all accepted work is done.
func (h *harness) idle() {
	for deadline := time.Now().Add(hangGuard); h.intake.Pending() > 0; {
		if time.Now().After(deadline) {
			panic("slack test: the intake did not empty")
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *harness) logText() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.logs.String()
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// sign returns Slack's v0 signature of body at ts with secret.
func sign(secret string, ts time.Time, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%d:%s", ts.Unix(), body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// post sends body to path as Slack does, signed at ts with secret (no
// signature headers when secret is empty), and returns the response.
func (h *harness) post(tb testing.TB, path, contentType, body, secret string, ts time.Time) (int, string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if secret != "" {
		req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts.Unix(), 10))
		req.Header.Set("X-Slack-Signature", sign(secret, ts, body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// event posts an Events API event_callback with the given inner event.
func (h *harness) event(tb testing.TB, eventID string, inner map[string]any) int {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{
		"token": "legacy", "team_id": testTeam, "api_app_id": "A0001", "type": "event_callback",
		"event_id": eventID, "event_time": 1700000000, "event": inner,
		"authorizations": []map[string]any{{"team_id": testTeam, "user_id": testBotUser, "is_bot": true}},
	})
	status, _ := h.post(tb, PathEvents, "application/json", string(body), testSecret, time.Now())
	return status
}

// interaction posts a block_actions payload.
func (h *harness) interaction(tb testing.TB, payload map[string]any) int {
	tb.Helper()
	js, _ := json.Marshal(payload)
	body := url.Values{"payload": {string(js)}}.Encode()
	status, _ := h.post(tb, PathInteractions, "application/x-www-form-urlencoded", body, testSecret, time.Now())
	return status
}

// command posts a slash command.
func (h *harness) command(tb testing.TB, v url.Values) int {
	tb.Helper()
	status, _ := h.post(tb, PathCommands, "application/x-www-form-urlencoded", v.Encode(), testSecret, time.Now())
	return status
}

func dm(user, text, ts string) map[string]any {
	return map[string]any{"type": "message", "channel": "D" + user, "channel_type": "im", "user": user, "text": text, "ts": ts, "event_ts": ts}
}

// buttonPress returns a block_actions payload for pressing the button with
// value on message m, as user.
func buttonPress(user string, m posted, value, responseURL string) map[string]any {
	label := ""
	for _, b := range m.Blocks {
		if b["type"] != "actions" {
			continue
		}
		for _, e := range b["elements"].([]any) {
			el := e.(map[string]any)
			if el["value"] == value {
				label = el["text"].(map[string]any)["text"].(string)
			}
		}
	}
	container := map[string]any{"type": "message", "message_ts": m.TS, "channel_id": m.Channel, "is_ephemeral": m.Method != "chat.postMessage"}
	if m.Thread != "" {
		container["thread_ts"] = m.Thread
	}
	msg := map[string]any{"type": "message", "ts": m.TS, "text": m.Text, "blocks": m.Blocks, "bot_id": "B0001"}
	if m.Thread != "" {
		msg["thread_ts"] = m.Thread
	}
	p := map[string]any{
		"type": "block_actions", "trigger_id": "trig-" + user + "-" + value + "-" + m.TS, "response_url": responseURL,
		"user":      map[string]any{"id": user, "username": "pat", "name": "pat", "team_id": testTeam},
		"team":      map[string]any{"id": testTeam},
		"channel":   map[string]any{"id": m.Channel},
		"container": container,
		"actions": []map[string]any{{"type": "button", "action_id": "askpa_0_0", "block_id": "askpa_buttons_0", "value": value,
			"text": map[string]any{"type": "plain_text", "text": label}, "action_ts": "1700000001.000001"}},
	}
	if m.Method == "chat.postMessage" {
		p["message"] = msg
	}
	return p
}
