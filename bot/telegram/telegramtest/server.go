// Package telegramtest is a Telegram Bot API server for tests. It speaks the
// real protocol over HTTP ({URL}/bot{token}/{method}, form or JSON
// parameters, {"ok": ..., "result": ...} answers with Telegram's error codes)
// for the methods askpa uses: getMe, getUpdates (long polling with offset
// confirmation), sendMessage (HTML parse mode checked as Telegram does),
// editMessageText, editMessageReplyMarkup, answerCallbackQuery, setWebhook
// (with secret_token; updates are then POSTed to the webhook),
// deleteWebhook, getWebhookInfo, setMyCommands and getMyCommands.
//
// Tests play the people: Send a message, Press a button, Redeliver an
// update; they read what the bot sent with Messages and WaitMessages, and
// inject failures (429 with retry_after, 5xx, a proxy's error page, a
// dropped connection) with Fail. It does not import the Bot API library, so
// it checks the client against the protocol rather than against itself.
package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
)

// Default identities of the server's bot.
const (
	DefaultToken       = "123456789:TEST-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	DefaultBotID       = 123456789
	DefaultBotUsername = "askpa_test_bot"
)

// WaitTimeout bounds how long the Wait methods wait before failing the
// test. It is a safety net for a broken test, not a timing assertion.
var WaitTimeout = 10 * time.Second

// User is a Telegram user (a person or a bot).
type User struct {
	ID        int64
	FirstName string
	Username  string
	IsBot     bool
}

// Chat is a Telegram chat: "private" (its ID is the user's), "group" or
// "supergroup" (negative IDs).
type Chat struct {
	ID    int64
	Type  string
	Title string
}

// Private returns u's private chat with the bot.
func Private(u User) Chat { return Chat{ID: u.ID, Type: "private"} }

// Group returns a supergroup chat.
func Group(id int64, title string) Chat {
	if id > 0 {
		id = -id
	}
	return Chat{ID: id, Type: "supergroup", Title: title}
}

// Button is an inline keyboard button.
type Button struct {
	Text string
	Data string // callback_data
	URL  string
}

// Message is a message in a chat, as the server holds it.
type Message struct {
	ID       int
	ChatID   int64
	From     User
	UpdateID int // for messages people sent: the update that carried it
	// Text is what the person sees: for HTML messages, the parsed text.
	Text string
	// HTML is the text as the bot sent it, before parsing.
	HTML      string
	ParseMode string
	Links     []Link
	Keyboard  [][]Button
	ReplyTo   int // message_id this one replies to
	Edits     int // times edited
	NoPreview bool
}

// Buttons returns the labels of the message's buttons, row by row.
func (m Message) Buttons() [][]string {
	var out [][]string
	for _, row := range m.Keyboard {
		var r []string
		for _, b := range row {
			r = append(r, b.Text)
		}
		out = append(out, r)
	}
	return out
}

// CallbackAnswer is an answerCallbackQuery the bot made.
type CallbackAnswer struct {
	QueryID   string
	Text      string
	ShowAlert bool
}

// Command is an entry of the bot's command menu.
type Command struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// Webhook is the registered webhook.
type Webhook struct {
	URL            string
	SecretToken    string
	AllowedUpdates []string
}

// Delivery is one POST of an update to the webhook.
type Delivery struct {
	UpdateID int
	Status   int // HTTP status; 0 when the request failed
}

// Failure is an injected failure for one call of a method.
type Failure struct {
	// Code is the error_code and HTTP status, e.g. 429, 500, 502, 403.
	Code int
	// Description defaults to Telegram's wording for Code.
	Description string
	// RetryAfter is sent in parameters.retry_after (with 429).
	RetryAfter int
	// Page answers with an HTML error page instead of a Bot API body, as a
	// proxy in front of the Bot API would.
	Page bool
	// Foreign answers with a JSON body that is not in the Bot API's form
	// (no "ok", no "error_code"), as some gateways and emulators do.
	Foreign bool
	// Disconnect closes the connection without an answer.
	Disconnect bool
}

// Options configures a Server; zero values mean the defaults above.
type Options struct {
	Token string
	Bot   User
}

type update struct {
	ID      int
	Message *wireMessage
	Query   *wireCallback
}

// Server is a Bot API server for tests. Its methods are safe for
// concurrent use.
type Server struct {
	tb    testing.TB
	srv   *httptest.Server
	token string
	bot   User

	deliverMu sync.Mutex // orders webhook deliveries

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every change
	closing    chan struct{}
	closed     bool
	nextUpdate int
	nextMsg    map[int64]int
	nextQuery  int
	pending    []update // not yet confirmed (polling) or delivered (webhook)
	all        map[int]update
	pollGen    int
	// brokenPoll makes getUpdates answer at once, ignoring its timeout.
	brokenPoll bool
	chats      map[int64]Chat
	blocked    map[int64]bool
	messages   map[int64][]*Message
	queries    map[string]bool // callback query id -> answered
	answers    []CallbackAnswer
	webhook    Webhook
	deliveries []Delivery
	commands   []Command
	calls      map[string]int
	failures   map[string][]Failure
}

// NewServer starts a server and closes it when the test ends.
func NewServer(tb testing.TB, opts ...Options) *Server {
	tb.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Token == "" {
		o.Token = DefaultToken
	}
	if o.Bot.ID == 0 {
		o.Bot = User{ID: DefaultBotID, FirstName: "askpa", Username: DefaultBotUsername}
	}
	o.Bot.IsBot = true
	s := &Server{
		tb:         tb,
		token:      o.Token,
		bot:        o.Bot,
		changed:    make(chan struct{}),
		closing:    make(chan struct{}),
		nextUpdate: 100000,
		nextMsg:    map[int64]int{},
		all:        map[int]update{},
		chats:      map[int64]Chat{},
		blocked:    map[int64]bool{},
		messages:   map[int64][]*Message{},
		queries:    map[string]bool{},
		calls:      map[string]int{},
		failures:   map[string][]Failure{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// URL is the server's base URL: the Bot API is at URL/bot{token}/{method}.
func (s *Server) URL() string { return s.srv.URL }

// Token is the bot token the server accepts.
func (s *Server) Token() string { return s.token }

// Bot is the server's bot user.
func (s *Server) Bot() User { return s.bot }

// Close stops the server, ending any long poll. It is idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.closing)
	s.mu.Unlock()
	s.srv.Close()
}

// notify wakes everyone waiting for a change. Call with s.mu held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// ---- playing people ----

// Send delivers a text message from a person in chat and returns it. Bot
// commands and @mentions get their entities as Telegram sets them.
func (s *Server) Send(from User, chat Chat, text string) Message {
	return s.post(from, chat, text, 0, false)
}

// Reply delivers a text message from a person replying to message replyTo.
func (s *Server) Reply(from User, chat Chat, replyTo int, text string) Message {
	return s.post(from, chat, text, replyTo, false)
}

// SendSticker delivers a message with nothing to read (a sticker).
func (s *Server) SendSticker(from User, chat Chat) Message {
	return s.post(from, chat, "", 0, true)
}

func (s *Server) post(from User, chat Chat, text string, replyTo int, sticker bool) Message {
	s.tb.Helper()
	s.mu.Lock()
	s.chats[chat.ID] = chat
	m := &Message{ID: s.newMessageID(chat.ID), ChatID: chat.ID, From: from, Text: text, ReplyTo: replyTo}
	s.messages[chat.ID] = append(s.messages[chat.ID], m)
	w := s.wire(m)
	if sticker {
		w.Sticker = &wireSticker{FileID: "sticker-file", FileUniqueID: "sticker-unique", Width: 512, Height: 512}
	}
	u := s.addUpdate(update{Message: w})
	m.UpdateID = u.ID
	out := *m
	s.mu.Unlock()
	s.DeliverPending()
	return out
}

// Press presses the button labelled label on the bot's message m, as from
// would, and returns the callback query id. It fails the test if m has no
// such button.
func (s *Server) Press(from User, m Message, label string) string {
	s.tb.Helper()
	s.mu.Lock()
	msg := s.find(m.ChatID, m.ID)
	var data string
	found := false
	if msg != nil {
		for _, row := range msg.Keyboard {
			for _, b := range row {
				if b.Text == label && !found {
					data, found = b.Data, true
				}
			}
		}
	}
	if !found {
		s.mu.Unlock()
		s.tb.Fatalf("telegramtest: message %d in chat %d has no button %q (buttons %v)", m.ID, m.ChatID, label, m.Buttons())
		return ""
	}
	s.nextQuery++
	id := fmt.Sprintf("q%d", s.nextQuery)
	s.queries[id] = false
	s.addUpdate(update{Query: &wireCallback{
		ID: id, From: wireUserOf(from), Message: s.wire(msg),
		ChatInstance: fmt.Sprintf("ci%d", m.ChatID), Data: data,
	}})
	s.mu.Unlock()
	s.DeliverPending()
	return id
}

// Redeliver queues the update with id again, as Telegram does after a
// webhook timeout or when a poller restarts before confirming.
func (s *Server) Redeliver(id int) {
	s.tb.Helper()
	s.mu.Lock()
	u, ok := s.all[id]
	if !ok {
		s.mu.Unlock()
		s.tb.Fatalf("telegramtest: no update %d", id)
	}
	s.pending = append(s.pending, u)
	s.notify()
	s.mu.Unlock()
	s.DeliverPending()
}

// Block makes sends to u's private chat fail with 403, as when a person
// blocks the bot.
func (s *Server) Block(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked[u.ID] = true
}

// addUpdate queues a new update. Call with s.mu held.
func (s *Server) addUpdate(u update) update {
	s.nextUpdate++
	u.ID = s.nextUpdate
	s.all[u.ID] = u
	s.pending = append(s.pending, u)
	s.notify()
	return u
}

func (s *Server) newMessageID(chat int64) int {
	s.nextMsg[chat]++
	return s.nextMsg[chat]
}

// find returns the message id in chat. Call with s.mu held.
func (s *Server) find(chat int64, id int) *Message {
	for _, m := range s.messages[chat] {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// DeliverPending POSTs every pending update to the webhook, if one is set,
// in order, with the secret token header. Updates the webhook did not
// accept with a 2xx stay pending, as Telegram keeps them for a later retry.
func (s *Server) DeliverPending() {
	s.deliverMu.Lock()
	defer s.deliverMu.Unlock()
	for {
		s.mu.Lock()
		hook := s.webhook
		if hook.URL == "" || len(s.pending) == 0 || s.closed {
			s.mu.Unlock()
			return
		}
		u := s.pending[0]
		body, _ := json.Marshal(u.wire())
		s.mu.Unlock()

		status := 0
		req, err := http.NewRequest(http.MethodPost, hook.URL, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
			if hook.SecretToken != "" {
				req.Header.Set("X-Telegram-Bot-Api-Secret-Token", hook.SecretToken)
			}
			if resp, err := http.DefaultClient.Do(req); err == nil {
				status = resp.StatusCode
				resp.Body.Close()
			}
		}
		s.mu.Lock()
		s.deliveries = append(s.deliveries, Delivery{UpdateID: u.ID, Status: status})
		ok := status >= 200 && status < 300
		if ok && len(s.pending) > 0 && s.pending[0].ID == u.ID {
			s.pending = s.pending[1:]
		}
		s.notify()
		s.mu.Unlock()
		if !ok {
			return
		}
	}
}

// ---- reading what the bot did ----

// Messages returns the messages the bot has sent to chat, oldest first.
func (s *Server) Messages(chat int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.botMessages(chat)
}

func (s *Server) botMessages(chat int64) []Message {
	var out []Message
	for _, m := range s.messages[chat] {
		if m.From.ID == s.bot.ID {
			out = append(out, *m)
		}
	}
	return out
}

// WaitMessages waits until the bot has sent at least n messages to chat
// and returns them all. It fails the test after WaitTimeout.
func (s *Server) WaitMessages(chat int64, n int) []Message {
	s.tb.Helper()
	var out []Message
	s.waitFor(fmt.Sprintf("%d bot messages in chat %d", n, chat), func() bool {
		out = s.botMessages(chat)
		return len(out) >= n
	})
	return out
}

// CallbackAnswers returns the callback queries the bot has answered.
func (s *Server) CallbackAnswers() []CallbackAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.answers)
}

// WaitCallbackAnswer waits until the bot has answered query id.
func (s *Server) WaitCallbackAnswer(id string) CallbackAnswer {
	s.tb.Helper()
	var out CallbackAnswer
	s.waitFor("an answer to callback query "+id, func() bool {
		for _, a := range s.answers {
			if a.QueryID == id {
				out = a
				return true
			}
		}
		return false
	})
	return out
}

// Webhook returns the registered webhook; its URL is empty when none is.
func (s *Server) Webhook() Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook
}

// WaitWebhook waits until a webhook is registered and returns it.
func (s *Server) WaitWebhook() Webhook {
	s.tb.Helper()
	var out Webhook
	s.waitFor("a webhook", func() bool { out = s.webhook; return out.URL != "" })
	return out
}

// Deliveries returns every webhook delivery attempt so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliveries)
}

// Commands returns the bot's command menu.
func (s *Server) Commands() []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands)
}

// Calls returns how many requests for method the server has received
// (including failed ones).
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// WaitCalls waits until method has been called at least n times.
func (s *Server) WaitCalls(method string, n int) {
	s.tb.Helper()
	s.waitFor(fmt.Sprintf("%d calls of %s", n, method), func() bool { return s.calls[method] >= n })
}

// Fail makes the next len(fs) calls of method fail, one failure each, in
// order.
// BreakLongPoll makes getUpdates answer at once when there is nothing to
// send, ignoring its timeout, as a broken gateway in front of the Bot API
// might; false restores the long poll.
func (s *Server) BreakLongPoll(broken bool) {
	s.mu.Lock()
	s.brokenPoll = broken
	s.mu.Unlock()
}

func (s *Server) Fail(method string, fs ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = append(s.failures[method], fs...)
}

// waitFor waits until cond (called with s.mu held) is true.
func (s *Server) waitFor(what string, cond func() bool) {
	s.tb.Helper()
	deadline := time.NewTimer(WaitTimeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			s.tb.Fatalf("telegramtest: timed out waiting for %s", what)
			return
		}
	}
}

// ---- the Bot API ----

// apiError is a Bot API error answer.
type apiError struct {
	Code        int
	Description string
	RetryAfter  int
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{Code: 400, Description: "Bad Request: " + fmt.Sprintf(format, args...)}
}

var pathRE = regexp.MustCompile(`^/bot([^/]+)/([A-Za-z]+)$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	m := pathRE.FindStringSubmatch(r.URL.Path)
	if m == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error_code": 404, "description": "Not Found"})
		return
	}
	if m[1] != s.token {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"ok": false, "error_code": 401, "description": "Unauthorized"})
		return
	}
	method := m[2]
	s.mu.Lock()
	s.calls[method]++
	var fail *Failure
	if fs := s.failures[method]; len(fs) > 0 {
		fail = &fs[0]
		s.failures[method] = fs[1:]
	}
	s.notify()
	s.mu.Unlock()
	if fail != nil {
		s.writeFailure(w, *fail)
		return
	}
	p, err := params(r)
	if err != nil {
		s.writeResult(w, nil, badRequest("%v", err))
		return
	}
	var result any
	var aerr *apiError
	switch method {
	case "getMe":
		result = map[string]any{
			"id": s.bot.ID, "is_bot": true, "first_name": s.bot.FirstName, "username": s.bot.Username,
			"can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false,
		}
	case "getUpdates":
		result, aerr = s.getUpdates(r.Context(), p)
	case "sendMessage":
		result, aerr = s.sendMessage(p)
	case "editMessageText":
		result, aerr = s.editMessage(p, true)
	case "editMessageReplyMarkup":
		result, aerr = s.editMessage(p, false)
	case "answerCallbackQuery":
		result, aerr = s.answerCallbackQuery(p)
	case "setWebhook":
		result, aerr = s.setWebhook(p)
	case "deleteWebhook":
		result, aerr = s.deleteWebhook(p)
	case "getWebhookInfo":
		s.mu.Lock()
		result = map[string]any{"url": s.webhook.URL, "has_custom_certificate": false, "pending_update_count": len(s.pending)}
		s.mu.Unlock()
	case "setMyCommands":
		result, aerr = s.setMyCommands(p)
	case "getMyCommands":
		s.mu.Lock()
		result = slices.Clone(s.commands)
		s.mu.Unlock()
		if result == nil {
			result = []Command{}
		}
	default:
		aerr = &apiError{Code: 404, Description: "Not Found"}
	}
	s.writeResult(w, result, aerr)
}

func (s *Server) writeResult(w http.ResponseWriter, result any, aerr *apiError) {
	if aerr != nil {
		body := map[string]any{"ok": false, "error_code": aerr.Code, "description": aerr.Description}
		if aerr.RetryAfter > 0 {
			body["parameters"] = map[string]any{"retry_after": aerr.RetryAfter}
		}
		writeJSON(w, aerr.Code, body)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": result})
}

func (s *Server) writeFailure(w http.ResponseWriter, f Failure) {
	switch {
	case f.Disconnect:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case f.Page:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Code)
		fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>", f.Code, http.StatusText(f.Code))
		return
	case f.Foreign:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Code)
		fmt.Fprintf(w, `{"message": %q}`, http.StatusText(f.Code))
		return
	}
	d := f.Description
	if d == "" {
		switch f.Code {
		case 429:
			d = fmt.Sprintf("Too Many Requests: retry after %d", f.RetryAfter)
		case 403:
			d = "Forbidden: bot was blocked by the user"
		case 400:
			d = "Bad Request"
		default:
			d = http.StatusText(f.Code)
		}
	}
	s.writeResult(w, nil, &apiError{Code: f.Code, Description: d, RetryAfter: f.RetryAfter})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// params reads a request's parameters from the query string, a form body
// (urlencoded or multipart) or a JSON body, as the Bot API accepts all.
func params(r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var raw map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
			return nil, fmt.Errorf("can't parse JSON: %v", err)
		}
		for k, v := range raw {
			var str string
			if json.Unmarshal(v, &str) == nil {
				out[k] = str
			} else {
				out[k] = string(v)
			}
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return nil, err
		}
	default:
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
	}
	for k, v := range r.Form {
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	return out, nil
}

func intParam(p map[string]string, key string) (int64, bool) {
	v, ok := p[key]
	if !ok || v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

func (s *Server) getUpdates(ctx context.Context, p map[string]string) (any, *apiError) {
	offset, _ := intParam(p, "offset")
	limit, ok := intParam(p, "limit")
	if !ok || limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, _ := intParam(p, "timeout")
	var allowed []string
	if a := p["allowed_updates"]; a != "" {
		if err := json.Unmarshal([]byte(a), &allowed); err != nil {
			return nil, badRequest("can't parse allowed updates")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.brokenPoll {
		timeout = 0
	}
	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()
	if s.webhook.URL != "" {
		return nil, &apiError{Code: 409, Description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	}
	s.pollGen++
	gen := s.pollGen
	s.notify() // an older poll still waiting is terminated
	if offset > 0 {
		s.pending = slices.DeleteFunc(s.pending, func(u update) bool { return int64(u.ID) < offset })
	}
	for {
		if gen != s.pollGen {
			return nil, &apiError{Code: 409, Description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
		}
		out := []any{}
		for _, u := range s.pending {
			if int64(len(out)) >= limit {
				break
			}
			if len(allowed) > 0 && !slices.Contains(allowed, u.kind()) {
				continue
			}
			out = append(out, u.wire())
		}
		if len(out) > 0 || timeout <= 0 || s.closed {
			return out, nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
			s.mu.Lock()
		case <-ctx.Done():
			s.mu.Lock()
			return []any{}, nil
		case <-s.closing:
			s.mu.Lock()
			return []any{}, nil
		case <-deadline.C:
			s.mu.Lock()
			timeout = 0
		}
	}
}

func (s *Server) sendMessage(p map[string]string) (any, *apiError) {
	chatID, ok := intParam(p, "chat_id")
	if !ok {
		return nil, badRequest("chat_id is empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	chat, ok := s.chats[chatID]
	if !ok {
		return nil, badRequest("chat not found")
	}
	if chat.Type == "private" && s.blocked[chatID] {
		return nil, &apiError{Code: 403, Description: "Forbidden: bot was blocked by the user"}
	}
	m := &Message{ChatID: chatID, From: s.bot, NoPreview: p["disable_web_page_preview"] == "true"}
	if err := s.setContent(m, p, true); err != nil {
		return nil, err
	}
	if rt, ok := intParam(p, "reply_to_message_id"); ok && rt != 0 {
		if s.find(chatID, int(rt)) == nil {
			if p["allow_sending_without_reply"] != "true" {
				return nil, badRequest("replied message not found")
			}
		} else {
			m.ReplyTo = int(rt)
		}
	}
	m.ID = s.newMessageID(chatID)
	s.messages[chatID] = append(s.messages[chatID], m)
	s.notify()
	return s.wire(m), nil
}

// setContent validates and sets the text and keyboard of m from p. Call
// with s.mu held.
func (s *Server) setContent(m *Message, p map[string]string, withText bool) *apiError {
	if withText {
		text := p["text"]
		if strings.TrimSpace(text) == "" {
			return badRequest("message text is empty")
		}
		m.HTML, m.ParseMode, m.Text, m.Links = text, p["parse_mode"], text, nil
		switch strings.ToLower(m.ParseMode) {
		case "":
		case "html":
			plain, links, err := ParseHTML(text)
			if err != nil {
				return badRequest("%v", err)
			}
			m.Text, m.Links = plain, links
		default:
			return badRequest("unsupported parse_mode %q in this test server", m.ParseMode)
		}
		if n := len(utf16.Encode([]rune(m.Text))); n > 4096 {
			return badRequest("message is too long")
		}
		if strings.TrimSpace(m.Text) == "" {
			return badRequest("message text is empty")
		}
	}
	m.Keyboard = nil
	if rm := p["reply_markup"]; rm != "" {
		var kb wireKeyboard
		if err := json.Unmarshal([]byte(rm), &kb); err != nil {
			return badRequest("can't parse reply keyboard markup JSON object")
		}
		for _, row := range kb.InlineKeyboard {
			var r []Button
			for _, b := range row {
				if b.Text == "" {
					return badRequest("text buttons are unallowed in the inline keyboard")
				}
				if (b.CallbackData == "") == (b.URL == "") {
					return badRequest("BUTTON_TYPE_INVALID")
				}
				if b.URL == "" && len(b.CallbackData) > 64 {
					return badRequest("BUTTON_DATA_INVALID")
				}
				r = append(r, Button{Text: b.Text, Data: b.CallbackData, URL: b.URL})
			}
			if len(r) > 0 {
				m.Keyboard = append(m.Keyboard, r)
			}
		}
	}
	return nil
}

func (s *Server) editMessage(p map[string]string, withText bool) (any, *apiError) {
	chatID, _ := intParam(p, "chat_id")
	msgID, _ := intParam(p, "message_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.find(chatID, int(msgID))
	if m == nil || m.From.ID != s.bot.ID {
		return nil, badRequest("message to edit not found")
	}
	next := *m
	if err := s.setContent(&next, p, withText); err != nil {
		return nil, err
	}
	if next.HTML == m.HTML && next.ParseMode == m.ParseMode && fmt.Sprint(next.Keyboard) == fmt.Sprint(m.Keyboard) {
		return nil, badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
	}
	next.Edits++
	*m = next
	s.notify()
	return s.wire(m), nil
}

func (s *Server) answerCallbackQuery(p map[string]string) (any, *apiError) {
	id := p["callback_query_id"]
	s.mu.Lock()
	defer s.mu.Unlock()
	answered, ok := s.queries[id]
	if !ok || answered {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	s.queries[id] = true
	s.answers = append(s.answers, CallbackAnswer{QueryID: id, Text: p["text"], ShowAlert: p["show_alert"] == "true"})
	s.notify()
	return true, nil
}

var secretTokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func (s *Server) setWebhook(p map[string]string) (any, *apiError) {
	u := p["url"]
	secret := p["secret_token"]
	if secret != "" && !secretTokenRE.MatchString(secret) {
		return nil, badRequest("secret token contains unallowed characters")
	}
	var allowed []string
	if a := p["allowed_updates"]; a != "" {
		if err := json.Unmarshal([]byte(a), &allowed); err != nil {
			return nil, badRequest("can't parse allowed updates")
		}
	}
	if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return nil, badRequest("bad webhook: invalid URL")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if u == "" {
		s.webhook = Webhook{}
	} else {
		s.webhook = Webhook{URL: u, SecretToken: secret, AllowedUpdates: allowed}
		s.pollGen++ // a waiting poll ends with a conflict
	}
	s.notify()
	return true, nil
}

func (s *Server) deleteWebhook(p map[string]string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook = Webhook{}
	if p["drop_pending_updates"] == "true" {
		s.pending = nil
	}
	s.notify()
	return true, nil
}

var commandRE = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

func (s *Server) setMyCommands(p map[string]string) (any, *apiError) {
	var cmds []Command
	if err := json.Unmarshal([]byte(p["commands"]), &cmds); err != nil {
		return nil, badRequest("can't parse commands JSON object")
	}
	if len(cmds) > 100 {
		return nil, badRequest("too many commands")
	}
	for _, c := range cmds {
		if !commandRE.MatchString(c.Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := len([]rune(c.Description)); n < 1 || n > 256 {
			return nil, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands = cmds
	s.notify()
	return true, nil
}

// ---- wire format ----

type wireUser struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	Username  string `json:"username,omitempty"`
}

type wireChat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Title     string `json:"title,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	Username  string `json:"username,omitempty"`
}

type wireEntity struct {
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
	URL    string `json:"url,omitempty"`
}

type wireButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

type wireKeyboard struct {
	InlineKeyboard [][]wireButton `json:"inline_keyboard"`
}

type wireSticker struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	IsAnimated   bool   `json:"is_animated"`
}

type wireMessage struct {
	MessageID   int           `json:"message_id"`
	From        *wireUser     `json:"from,omitempty"`
	Date        int64         `json:"date"`
	Chat        wireChat      `json:"chat"`
	ReplyTo     *wireMessage  `json:"reply_to_message,omitempty"`
	Text        string        `json:"text,omitempty"`
	Entities    []wireEntity  `json:"entities,omitempty"`
	Sticker     *wireSticker  `json:"sticker,omitempty"`
	ReplyMarkup *wireKeyboard `json:"reply_markup,omitempty"`
}

type wireCallback struct {
	ID           string       `json:"id"`
	From         wireUser     `json:"from"`
	Message      *wireMessage `json:"message,omitempty"`
	ChatInstance string       `json:"chat_instance"`
	Data         string       `json:"data,omitempty"`
}

type wireUpdate struct {
	UpdateID      int           `json:"update_id"`
	Message       *wireMessage  `json:"message,omitempty"`
	CallbackQuery *wireCallback `json:"callback_query,omitempty"`
}

func (u update) kind() string {
	if u.Query != nil {
		return "callback_query"
	}
	return "message"
}

func (u update) wire() wireUpdate {
	return wireUpdate{UpdateID: u.ID, Message: u.Message, CallbackQuery: u.Query}
}

func wireUserOf(u User) wireUser {
	return wireUser{ID: u.ID, IsBot: u.IsBot, FirstName: u.FirstName, Username: u.Username}
}

// wire renders m as the Bot API does. Call with s.mu held.
func (s *Server) wire(m *Message) *wireMessage {
	chat := s.chats[m.ChatID]
	from := wireUserOf(m.From)
	w := &wireMessage{
		MessageID: m.ID, From: &from, Date: time.Now().Unix(),
		Chat: wireChat{ID: chat.ID, Type: chat.Type, Title: chat.Title},
		Text: m.Text,
	}
	if m.From.ID != s.bot.ID {
		w.Entities = entities(m.Text)
	}
	if m.ReplyTo != 0 {
		if r := s.find(m.ChatID, m.ReplyTo); r != nil {
			rw := *r
			rw.ReplyTo = 0
			w.ReplyTo = s.wire(&rw)
		}
	}
	if len(m.Keyboard) > 0 {
		kb := &wireKeyboard{}
		for _, row := range m.Keyboard {
			var r []wireButton
			for _, b := range row {
				r = append(r, wireButton{Text: b.Text, CallbackData: b.Data, URL: b.URL})
			}
			kb.InlineKeyboard = append(kb.InlineKeyboard, r)
		}
		w.ReplyMarkup = kb
	}
	return w
}

var mentionRE = regexp.MustCompile(`(^|[^A-Za-z0-9_])(@[A-Za-z0-9_]{5,32})`)
var commandEntityRE = regexp.MustCompile(`^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{5,32})?`)

// entities finds the bot_command and mention entities Telegram would set
// on text, with offsets and lengths in UTF-16 code units.
func entities(text string) []wireEntity {
	u16 := func(byteOff int) int { return len(utf16.Encode([]rune(text[:byteOff]))) }
	var out []wireEntity
	if loc := commandEntityRE.FindStringIndex(text); loc != nil {
		out = append(out, wireEntity{Type: "bot_command", Offset: 0, Length: u16(loc[1])})
	}
	for _, loc := range mentionRE.FindAllStringSubmatchIndex(text, -1) {
		start, end := loc[4], loc[5]
		if len(out) > 0 && out[0].Type == "bot_command" && u16(start) < out[0].Length {
			continue // the @bot of /command@bot
		}
		out = append(out, wireEntity{Type: "mention", Offset: u16(start), Length: u16(end) - u16(start)})
	}
	return out
}
