package httpapi

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/bottest"
	"github.com/askpa/askpa/support"
)

// sourcesRig is the console rig with the real bot behind the web channel,
// and a web user who asked a question, was answered from a guide, and then
// asked for a person: id is the escalation, source the answer's first
// source.
type sourcesRig struct {
	*consoleRig
	id     string
	source bot.Source
}

func newSourcesRig(t *testing.T, now func() time.Time, tweak func(*Config)) *sourcesRig {
	t.Helper()
	var svc *bot.Service
	r := newConsoleRigAt(t, now, func(c *Config) {
		c.Handler = handlerFunc(func(ctx context.Context, m bot.Message) (bot.Result, error) { return svc.Handle(ctx, m) })
		if tweak != nil {
			tweak(c)
		}
	})
	var err error
	if svc, err = bot.NewService(bot.ServiceConfig{Engine: bottest.Engine(t), Store: r.store, Desk: r.desk, Now: now}); err != nil {
		t.Fatal(err)
	}
	web := webSession(t, r.h)
	var ans struct {
		Answered bool         `json:"answered"`
		Sources  []bot.Source `json:"sources"`
	}
	decodeJSON(t, callJSON(t, r.h, http.MethodPost, "/v1/messages", web.Token, `{"text": "how many days holiday does my PA get a year"}`), &ans)
	if !ans.Answered || len(ans.Sources) == 0 || ans.Sources[0].Title == "" || ans.Sources[0].URL == "" {
		t.Fatalf("the bot's answer has no source with a title and a link: %+v", ans)
	}
	var out struct {
		EscalationID string `json:"escalation_id"`
	}
	decodeJSON(t, callJSON(t, r.h, http.MethodPost, "/v1/messages", web.Token, `{"text": "/human"}`), &out)
	if out.EscalationID == "" {
		t.Fatal("asking for a person made no escalation")
	}
	return &sourcesRig{consoleRig: r, id: out.EscalationID, source: ans.Sources[0]}
}

// handlerFunc is a function as the web channel's Handler.
type handlerFunc func(context.Context, bot.Message) (bot.Result, error)

func (f handlerFunc) Handle(ctx context.Context, m bot.Message) (bot.Result, error) { return f(ctx, m) }

// TestEscalationShowsAnswerSources checks that an escalation reached after
// a bot answer shows the answer's sources: in GET /api/v1/escalations/{id}
// (as openapi.json describes it) and on the console's escalation page,
// where the guide's title links to it.
func TestEscalationShowsAnswerSources(t *testing.T) {
	r := newSourcesRig(t, newTestClock().Now, nil)
	_, router := spec(t)
	c := &checker{t: t, h: r.h, router: router, seen: map[string]bool{}}
	body := c.do(req{name: "escalation with sources", method: "GET", path: "/api/v1/escalations/" + r.id, token: alexToken, status: 200})
	e := decodeInto[support.Escalation](t, body)
	var answer *support.Message
	for i, m := range e.Messages {
		if m.From == support.FromBot && answer == nil {
			answer = &e.Messages[i] // the answer, before the hand-over reply
		} else if m.From != support.FromBot && len(m.Sources) > 0 {
			t.Errorf("a %s message has sources: %+v", m.From, m)
		}
	}
	want := support.Source{ID: r.source.ID, Title: r.source.Title, URL: r.source.URL}
	if answer == nil || len(answer.Sources) == 0 || answer.Sources[0] != want {
		t.Fatalf("the escalation's bot answer does not carry its source %+v: %s", want, body)
	}

	alex := r.visitor()
	alex.mustSignIn(alexToken)
	_, page := alex.get("/console/escalations/" + r.id)
	link := `<a href="` + template.HTMLEscapeString(want.URL) + `" rel="noreferrer">` + template.HTMLEscapeString(want.Title) + `</a>`
	for _, s := range []string{`<p class="message-sources-label">Sources:</p>`, link} {
		if !strings.Contains(page, s) {
			t.Errorf("the escalation page lacks %s:\n%s", s, page)
		}
	}
	// The sources are under the bot's message, not the person's.
	bot := page[strings.Index(page, `message-bot`):]
	if i := strings.Index(bot, `</li>`); i < 0 || !strings.Contains(bot[:i], link) {
		t.Errorf("the source is not under the bot's message:\n%s", page)
	}
}

// TestConsoleSourcesEscaped checks that a source's title and address
// cannot inject markup or script, and that a source without a page is
// plain text.
func TestConsoleSourcesEscaped(t *testing.T) {
	r := newConsoleRig(t, nil)
	e, err := r.desk.Escalate(context.Background(), support.NewEscalation{ConversationID: "c-x",
		Address: support.Address{Channel: "web", UserID: "x", ChatID: "x"}, Audience: "employer", Reason: "requested",
		Messages: []support.Message{{From: support.FromUser, Text: "holiday?"}, {From: support.FromBot, Text: "5.6 weeks", Sources: []support.Source{
			{ID: "evil", Title: `<script>alert(1)</script> & "pay"`, URL: "javascript:alert(1)"},
			{ID: "plain", Title: "Holiday on a page of its own"},
		}}}})
	if err != nil {
		t.Fatal(err)
	}
	alex := r.visitor()
	alex.mustSignIn(alexToken)
	_, page := alex.get("/console/escalations/" + e.ID)
	if strings.Contains(page, "<script>alert") || strings.Contains(page, `href="javascript:`) {
		t.Errorf("a source's title or address reached the page unescaped:\n%s", page)
	}
	for _, s := range []string{`&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;pay&#34;</a>`, `<li>Holiday on a page of its own</li>`} {
		if !strings.Contains(page, s) {
			t.Errorf("the page lacks %s:\n%s", s, page)
		}
	}
}

// TestConsoleSourcesInBrowser opens, in headless Chromium, an escalation
// reached after a bot answer and finds the guide's title as a link to it
// under the bot's message.
func TestConsoleSourcesInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the browser test starts Chromium")
	}
	tab := newBrowser(t, 2*time.Minute)
	shutdown := make(chan struct{})
	r := newSourcesRig(t, time.Now, func(c *Config) { c.ConsolePoll, c.Shutdown = 100*time.Millisecond, shutdown })
	srv := httptest.NewServer(r.h)
	defer srv.Close()
	defer close(shutdown) // ends the browser's event stream first
	signInAs(t, tab, srv.URL, alexToken)
	run(t, tab, "open the escalation", 20*time.Second,
		chromedp.Navigate(srv.URL+"/console/escalations/"+r.id),
		chromedp.WaitVisible(chromedp.CSS(`#conversation .message-bot .source-list a`)))
	title := value(t, tab, "the link's text", chromedp.Text(chromedp.CSS(`#conversation .message-bot .source-list a`)))
	href := value(t, tab, "the link's address", chromedp.Evaluate[string](`document.querySelector('#conversation .message-bot .source-list a').href`))
	label := value(t, tab, "the label", chromedp.Text(chromedp.CSS(`#conversation .message-bot .message-sources-label`)))
	if strings.TrimSpace(title) != r.source.Title || href != r.source.URL || strings.TrimSpace(label) != "Sources:" {
		t.Errorf("under the bot's message: %q %q linking to %q, want Sources: and %q linking to %q", label, title, href, r.source.Title, r.source.URL)
	}
}
