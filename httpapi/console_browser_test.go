package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/knowledge"
	"github.com/askpa/askpa/sqlite"
	"github.com/askpa/askpa/support"
)

// The console in a real browser: headless Chromium driven by chromedp
// against the real router on a real HTTP server. The tests skip, saying
// so, when no Chromium can be found; .ci/run installs Debian's.

// chromiumPath finds Chromium or Chrome: $ASKPA_CHROMIUM, /usr/bin/chromium,
// or the usual names on PATH. It returns "" when there is none.
func chromiumPath() string {
	if p := os.Getenv("ASKPA_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts headless Chromium for the test and returns the
// context of its first tab; it skips the test when there is no Chromium.
func newBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		t.Skip("no Chromium found (looked at $ASKPA_CHROMIUM, /usr/bin/chromium, and chromium, chromium-browser, google-chrome on PATH): " +
			"the console's browser tests need it; install it with apt-get install -y chromium (.ci/run does)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-device-scale-factor", "1"),
		chromedp.WindowSize(1200, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelTab)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("starting Chromium at %s: %v", path, err)
	}
	return tab
}

// otherPerson opens a tab in a new browser context of the same browser:
// its own cookies, as a colleague on another computer has.
func otherPerson(t *testing.T, first context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(first, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// run runs browser actions for one step, failing the test with the step's
// name, the page's address and text when they fail.
func run(t *testing.T, ctx context.Context, step string, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v\n%s", step, err, pageState(ctx))
	}
}

// value runs one browser action that gives a value, failing the test
// with the step's name when it fails.
func value[T any](t *testing.T, ctx context.Context, step string, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatalf("%s: %v\n%s", step, err, pageState(ctx))
	}
	return v
}

// pageState says where the tab is and what its page says, for a failure.
func pageState(ctx context.Context) string {
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(sctx, chromedp.Location())
	text, _ := chromedp.Run(sctx, chromedp.Text(chromedp.CSS("body")))
	return "at " + loc + ":\n" + text
}

// submit clicks the button sel, which submits a form, and waits for the
// page the browser lands on (after the server's redirect), failing the
// test unless it came with a 2xx.
func submit(t *testing.T, ctx context.Context, step, sel string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	res, err := chromedp.RunResponse(sctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("%s: %v\n%s", step, err, pageState(ctx))
	}
	if res.Status >= 300 {
		t.Fatalf("%s: the page came with status %d\n%s", step, res.Status, pageState(ctx))
	}
}

// signInAs signs in through the form in the browser and waits for the
// queue with its live updates running.
func signInAs(t *testing.T, ctx context.Context, base, token string) {
	t.Helper()
	run(t, ctx, "sign in", 20*time.Second,
		chromedp.Navigate(base+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)), // signed out: sent to the form
		chromedp.SendKeys(chromedp.CSS(`#token`), token),
		chromedp.Click(chromedp.CSS(`#sign-in`)),
		chromedp.WaitVisible(chromedp.CSS(`#queue`)),
		chromedp.WaitReady(chromedp.CSS(`html[data-live="on"]`)),
	)
}

// waitFor polls a JavaScript condition until it holds.
func waitFor(cond string, d time.Duration) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingTimeout(d), chromedp.WithPollingInterval(50*time.Millisecond))
}

// webPost sends a web user's message through the real router over HTTP
// and returns the escalation it made or joined.
func webPost(t *testing.T, base, token, text string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"text": text})
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/messages", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		EscalationID string `json:"escalation_id"`
	}
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&out) != nil {
		t.Fatalf("POST /v1/messages: %d", res.StatusCode)
	}
	return out.EscalationID
}

// webInbox returns the web user's messages as JSON, fetched over HTTP.
func webInbox(t *testing.T, base, token string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/messages?after=0", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

// TestConsoleInBrowser works the console as a support team does, in
// headless Chromium: sign in; an escalation made by a web-channel message
// appears in the queue without a reload; claim it; a colleague signed in
// in another browser context sees the claim without a reload; reply, and
// the web user gets the reply; the person writes again and it appears; an
// internal note never reaches the person; a pending listing of the PA
// network is approved from the moderation page; sign out; a forged form
// without the CSRF token is refused; a read-only token sees no buttons.
func TestConsoleInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the browser test starts Chromium")
	}
	alex := newBrowser(t, 3*time.Minute)
	shutdown := make(chan struct{})
	var dir *directory.Network
	r := newConsoleRigAt(t, time.Now, func(c *Config) {
		c.ConsolePoll = 100 * time.Millisecond
		c.Shutdown = shutdown
		withDirectory(t, &dir)(c)
	})
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go r.disp.Run(ctx) // delivers replies to the web user as askpa serve does
	srv := httptest.NewServer(r.h)
	defer srv.Close()
	defer close(shutdown) // ends the browsers' event streams first
	base := srv.URL

	signInAs(t, alex, base, alexToken)
	run(t, alex, "mark the page", 5*time.Second, chromedp.Evaluate[chromedp.Void](`window.askpaNoReload = 42, undefined`))

	// A web user asks for a person through the real router.
	web := webSession(t, r.h)
	id := webPost(t, base, web.Token, "Could I talk to a person about my PA's holiday pay, please?")
	if id == "" {
		t.Fatal("the web message made no escalation")
	}
	link := fmt.Sprintf(`#queue a[href="/console/escalations/%s"]`, id)
	run(t, alex, "the escalation appears in the queue by itself", 15*time.Second,
		chromedp.WaitVisible(chromedp.CSS(link)))
	if still := value(t, alex, "the page is the same", chromedp.Evaluate[int](`window.askpaNoReload`)); still != 42 {
		t.Fatal("the queue page was reloaded; it should have updated in place")
	}

	// A colleague in another browser context watches the escalation.
	sam := otherPerson(t, alex)
	signInAs(t, sam, base, samToken)
	run(t, sam, "sam opens the escalation", 15*time.Second,
		chromedp.Navigate(base+"/console/escalations/"+id),
		chromedp.WaitVisible(chromedp.CSS(`#claim`)),
		chromedp.WaitReady(chromedp.CSS(`html[data-live="on"]`)),
		chromedp.Evaluate[chromedp.Void](`window.askpaNoReload = 7, undefined`),
	)

	run(t, alex, "alex opens the escalation", 15*time.Second,
		chromedp.Click(chromedp.CSS(link)),
		chromedp.WaitVisible(chromedp.CSS(`#claim`)))
	submit(t, alex, "alex claims it", `#claim`)
	run(t, alex, "the page says alex has it", 15*time.Second,
		waitFor(`document.getElementById('status').textContent.includes('by you')`, 5*time.Second),
		chromedp.WaitReady(chromedp.CSS(`html[data-live="on"]`)))
	run(t, sam, "sam sees the claim by itself", 15*time.Second,
		chromedp.WaitVisible(chromedp.CSS(`#claimed-warning`)),
		waitFor(`document.getElementById('claimed-warning').textContent.includes('alex has claimed')`, 5*time.Second),
		waitFor(`!document.getElementById('claim')`, 5*time.Second),
	)
	if still := value(t, sam, "sam's page is the same", chromedp.Evaluate[int](`window.askpaNoReload`)); still != 7 {
		t.Fatal("sam's page was reloaded; it should have updated in place")
	}

	const reply = "Hello, I'm Alex from the direct payment support service. Bank holidays count towards your PA's 5.6 weeks."
	run(t, alex, "alex writes a reply", 15*time.Second, chromedp.SendKeys(chromedp.CSS(`#reply`), reply))
	submit(t, alex, "alex sends it", `#send-reply`)
	run(t, alex, "the page says it is on its way", 15*time.Second,
		waitFor(`document.getElementById('flash').textContent.includes('on its way')`, 10*time.Second),
		chromedp.WaitReady(chromedp.CSS(`html[data-live="on"]`)))
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(webInbox(t, base, web.Token), "Bank holidays count towards") {
		if time.Now().After(deadline) {
			t.Fatalf("the web user never got the reply: %s", webInbox(t, base, web.Token))
		}
		time.Sleep(100 * time.Millisecond)
	}
	run(t, alex, "the reply shows as delivered by itself", 15*time.Second,
		chromedp.WaitVisible(chromedp.CSS(`#conversation .delivery-delivered`)))

	// The person writes again: it appears on both pages.
	if got := webPost(t, base, web.Token, "Thank you, that really helps."); got != id {
		t.Fatalf("the person's second message went to %q, not the escalation %s", got, id)
	}
	cond := `document.getElementById('conversation').innerText.includes('Thank you, that really helps.')`
	run(t, alex, "the person's new message appears for alex", 15*time.Second, waitFor(cond, 14*time.Second))
	run(t, sam, "and for sam", 15*time.Second, waitFor(cond, 14*time.Second))

	const secret = "NOTE-4412 she may need a safeguarding referral"
	run(t, alex, "alex writes an internal note", 15*time.Second, chromedp.SendKeys(chromedp.CSS(`#note`), secret))
	submit(t, alex, "alex adds it", `#add-note`)
	run(t, alex, "the note is in the trail", 15*time.Second,
		waitFor(`document.getElementById('audit').innerText.includes('NOTE-4412')`, 10*time.Second))
	run(t, sam, "sam sees the note by itself", 15*time.Second,
		waitFor(`document.getElementById('audit').innerText.includes('NOTE-4412')`, 14*time.Second))
	time.Sleep(500 * time.Millisecond) // the dispatcher had its chance
	if inbox := webInbox(t, base, web.Token); strings.Contains(inbox, "NOTE-4412") || strings.Contains(inbox, "safeguarding referral") {
		t.Fatalf("the internal note reached the person: %s", inbox)
	}

	// A forged form (another site, a script) without the CSRF token.
	forger := r.visitor()
	forger.mustSignIn(samToken)
	res, _ := forger.do(http.MethodPost, "/console/escalations/"+id+"/resolve", url.Values{})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("a forged resolve without the CSRF token: %d, want 403", res.StatusCode)
	}
	if e, _ := r.desk.Get(context.Background(), id); e.Status != support.StatusClaimed {
		t.Errorf("after the forged form the escalation is %s", e.Status)
	}

	// The PA network: alex approves a listing waiting for moderation.
	listing := pendingListing(t, dir, "Jo Bloggs")
	run(t, alex, "alex opens the PA network", 15*time.Second,
		chromedp.Click(chromedp.CSS(`.console-nav a[href="/console/listings"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#approve-`+listing)))
	if contact := value(t, alex, "the pending listing's contact", chromedp.Text(chromedp.CSS(`#listing-`+listing+` .contact`))); !strings.Contains(contact, "pa@example.org") {
		t.Errorf("the pending listing shows contact %q, want its email", contact)
	}
	submit(t, alex, "alex approves the listing", `#approve-`+listing)
	run(t, alex, "the page says it is published", 15*time.Second,
		waitFor(`document.getElementById('flash').textContent.includes('approved and published')`, 10*time.Second))
	if l, err := dir.Get(context.Background(), listing); err != nil || l.Status != directory.StatusApproved {
		t.Errorf("after alex approved it in the browser the listing is %s (%v)", l.Status, err)
	}

	submit(t, alex, "alex signs out", `#sign-out`)
	run(t, alex, "alex is signed out", 15*time.Second,
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.Navigate(base+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
	)
	loc := value(t, alex, "where /console went", chromedp.Location())
	if !strings.HasSuffix(loc, "/console/sign-in") {
		t.Errorf("after signing out /console went to %s", loc)
	}

	// Read-only staff see everything and no button but sign-out.
	reader := otherPerson(t, alex)
	signInAs(t, reader, base, readerToken)
	run(t, reader, "the read-only page", 15*time.Second,
		chromedp.Navigate(base+"/console/escalations/"+id),
		chromedp.WaitVisible(chromedp.CSS(`#conversation`)),
	)
	forms := value(t, reader, "count forms", chromedp.Evaluate[int](`document.querySelectorAll('main form, main button, main textarea').length`))
	buttons := value(t, reader, "count buttons", chromedp.Evaluate[int](`document.querySelectorAll('button').length`))
	text := value(t, reader, "the conversation", chromedp.Text(chromedp.CSS(`#conversation`)))
	if forms != 0 || buttons != 1 {
		t.Errorf("a read-only member of staff sees %d forms or controls in the page and %d buttons (want 0 and sign-out only)", forms, buttons)
	}
	if !strings.Contains(text, "Thank you, that really helps.") {
		t.Errorf("the read-only page does not show the conversation: %s", text)
	}
}

// TestConsoleScreenshots draws the queue, an escalation, the PA network's
// moderation and the insights page with realistic data into
// $ASKPA_CONSOLE_SCREENSHOTS (docs/console-queue.png,
// docs/console-escalation.png, docs/console-listings.png and
// docs/console-insights.png in the README come from it):
//
//	ASKPA_CONSOLE_SCREENSHOTS=$PWD/docs go test ./httpapi -run TestConsoleScreenshots
//
// Without the variable it is skipped.
func TestConsoleScreenshots(t *testing.T) {
	dir := os.Getenv("ASKPA_CONSOLE_SCREENSHOTS")
	if dir == "" {
		t.Skip("set ASKPA_CONSOLE_SCREENSHOTS to a directory to draw the console's screenshots there")
	}
	tab := newBrowser(t, 2*time.Minute)
	shutdown := make(chan struct{})
	var network *directory.Network
	base, err := knowledge.Load(os.DirFS("../content"))
	if err != nil {
		t.Fatalf("loading the knowledge base for the passages' titles: %v", err)
	}
	r := newConsoleRig(t, func(c *Config) {
		c.ConsolePoll, c.Shutdown = time.Hour, shutdown
		c.Insights, c.Guides = c.Console.(*sqlite.Store), base
		withDirectory(t, &network)(c)
	})
	ctx := context.Background()
	seedScreenshotInsights(t, r, base)
	seedScreenshotListings(t, network)
	r.clock.Add(-30 * time.Minute) // 08:30 on Monday 7 December 2026
	type seed struct {
		ch, user, reason, aud string
		p                     support.Priority
		at                    time.Duration // after 08:30
		msgs                  []support.Message
	}
	user, botm := func(s string) support.Message { return support.Message{From: support.FromUser, Text: s} },
		func(s string) support.Message { return support.Message{From: support.FromBot, Text: s} }
	seeds := []seed{
		{"telegram", "5561", "dispute", "employer", support.PriorityNormal, 0, []support.Message{
			user("My PA says I owe her two weeks' notice pay but she walked out"), botm("This sounds like a disagreement about notice. I'll pass you to someone who can help.")}},
		{"web", "web-41", "requested", "employer", support.PriorityNormal, 25 * time.Minute, []support.Message{
			user("How much holiday does my PA get if she works 3 days a week?"),
			botm("A PA who works 3 days a week is entitled to 16.8 days' paid holiday a year (5.6 weeks × 3 days), including bank holidays if you choose."),
			user("Can I talk to a person about bank holidays? She wants them on top.")}},
		{"slack", "U07PA", "low_confidence", "pa", support.PriorityNormal, 52 * time.Minute, []support.Message{
			user("Do I get a pension if I work 12 hours a week for two employers?"), botm("I'm not sure I have the right answer to that. Would you like to talk to a person?")}},
		{"telegram", "7702", "safeguarding", "employer", support.PriorityUrgent, 63 * time.Minute, []support.Message{
			user("Money keeps going missing from my purse since my new PA started and I'm scared to say anything")}},
	}
	var ids []string
	start := r.clock.Now()
	for _, s := range seeds {
		r.clock.Add(start.Add(s.at).Sub(r.clock.Now()))
		summary := "" // the person's last words, as the bot sums up
		for _, m := range s.msgs {
			if m.From == support.FromUser {
				summary = m.Text
			}
		}
		e, err := r.desk.Escalate(ctx, support.NewEscalation{ConversationID: "c-" + s.user, Address: support.Address{Channel: s.ch, UserID: s.user, ChatID: s.user},
			Audience: s.aud, Reason: s.reason, Priority: s.p, Summary: summary, Messages: s.msgs})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	r.clock.Add(start.Add(70 * time.Minute).Sub(r.clock.Now())) // 09:40
	for _, step := range []func() error{
		func() error { _, err := r.desk.Claim(ctx, ids[0], "sam"); return err },
		func() error { _, err := r.desk.Claim(ctx, ids[1], "alex"); return err },
		func() error {
			_, err := r.desk.Reply(ctx, ids[1], "alex", "Hello, I'm Alex from the support service. Bank holidays can be part of the 5.6 weeks or on top: it depends on her contract. Could you tell me what her contract says about holidays?")
			return err
		},
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	r.deliver()
	r.clock.Add(3 * time.Minute)
	if err := r.desk.AddPersonMessage(ctx, ids[1], "It says 28 days including bank holidays.", r.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.Note(ctx, ids[1], "alex", "Contract includes bank holidays; explain that 28 days is the legal minimum for a 5-day week, pro rata for 3 days."); err != nil {
		t.Fatal(err)
	}
	r.clock.Add(2 * time.Minute) // 09:45
	srv := httptest.NewServer(r.h)
	defer srv.Close()
	defer close(shutdown)
	signInAs(t, tab, srv.URL, alexToken)
	shot := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		run(t, tab, "open "+name, 30*time.Second, actions...)
		png := value(t, tab, "screenshot "+name, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	shot("console-queue.png", chromedp.Navigate(srv.URL+"/console"), chromedp.WaitVisible(chromedp.CSS(`#queue table`)),
		chromedp.WaitReady(chromedp.CSS(`html[data-live="on"]`)))
	shot("console-escalation.png", chromedp.Navigate(srv.URL+"/console/escalations/"+ids[1]), chromedp.WaitVisible(chromedp.CSS(`#reply`)),
		chromedp.WaitReady(chromedp.CSS(`html[data-live="on"]`)))
	shot("console-listings.png", chromedp.Navigate(srv.URL+"/console/listings"), chromedp.WaitVisible(chromedp.CSS(`#listings-pending`)))
	shot("console-insights.png", chromedp.Navigate(srv.URL+"/console/insights"), chromedp.WaitVisible(chromedp.CSS(`#clusters`)))
}

// passageID returns the id of the passage of base whose heading begins
// with heading.
func passageID(t *testing.T, base *knowledge.Base, heading string) string {
	t.Helper()
	for _, p := range base.Passages() {
		if strings.HasPrefix(p.Section.Heading, heading) {
			return p.ID()
		}
	}
	t.Fatalf("no passage's heading begins %q", heading)
	return ""
}

// seedScreenshotInsights writes four weeks of a question log before the
// rig's clock: ordinary traffic, three groups of questions the guides do
// not answer well, and hand-overs for their reasons.
func seedScreenshotInsights(t *testing.T, r *consoleRig, base *knowledge.Base) {
	t.Helper()
	ctx := context.Background()
	now := r.clock.Now()
	pension, sleepIn, bank := passageID(t, base, "If your PA opts out"), passageID(t, base, "Does a PA's sleep-in shift"), passageID(t, base, "Do bank holidays count")
	at := func(daysAgo, hour int) time.Time {
		return now.Add(-time.Duration(daysAgo) * 24 * time.Hour).Truncate(24 * time.Hour).Add(time.Duration(hour) * time.Hour)
	}
	record := func(e bot.QuestionEvent) {
		if err := r.store.RecordQuestion(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// Ordinary traffic: more each week, most answered.
	for d := 27; d >= 1; d-- {
		for i := 0; i < 6+(27-d)/4; i++ {
			outcome := bot.OutcomeAnswered
			switch {
			case i%7 == 3:
				outcome = bot.OutcomeUnanswered
			case i%9 == 5:
				outcome = bot.OutcomeSmallTalk
			}
			conv := fmt.Sprintf("t-%d-%d", d, i)
			record(bot.QuestionEvent{ConversationID: conv, At: at(d, 9+i%9), Audience: "employer", Outcome: outcome, Reason: bot.ReasonLowConfidence})
			if outcome == bot.OutcomeAnswered && i%4 == 0 {
				if err := r.store.RecordFeedback(ctx, bot.Feedback{ConversationID: conv, PassageID: "p", Helpful: i%8 == 0 || d%3 == 0, At: at(d, 9+i%9).Add(time.Minute)}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	gaps := []struct {
		days    int
		aud     string
		outcome string
		passage string
		text    string
	}{
		{25, "employer", bot.OutcomeUnanswered, pension, "Can my PA choose not to be in the workplace pension?"},
		{19, "pa", bot.OutcomeUnanswered, pension, "I want to opt out of the pension my employer put me in, how?"},
		{12, "employer", bot.OutcomeUnanswered, "", "my PA Mrs Okafor wants to opt out of her pension, what do I do"},
		{6, "employer", bot.OutcomeEscalated, "", "does my PA have to stay in the pension or can she opt out"},
		{3, "pa", bot.OutcomeUnanswered, pension, "opting out of workplace pension after 3 months"},
		{22, "employer", bot.OutcomeUnanswered, sleepIn, "how do I pay my PA for a sleep in night"},
		{9, "pa", bot.OutcomeUnanswered, sleepIn, "is a sleep in night paid at minimum wage or a flat rate"},
		{2, "employer", bot.OutcomeUnanswered, "", "sleep in night pay for my PA, call me on 07700 900123"},
	}
	for i, g := range gaps {
		record(bot.QuestionEvent{ConversationID: fmt.Sprintf("g-%d", i), At: at(g.days, 14), Audience: knowledge.Audience(g.aud), Outcome: g.outcome,
			Reason: bot.ReasonLowConfidence, PassageID: g.passage, Text: g.text})
	}
	for i, q := range []string{"are bank holidays on top of her 28 days", "does my PA get bank holidays as well as holiday", "bank holidays for a PA who works Mondays"} {
		conv := fmt.Sprintf("b-%d", i)
		record(bot.QuestionEvent{ConversationID: conv, At: at(20-7*i, 11), Audience: "employer", Outcome: bot.OutcomeAnswered, PassageID: bank, Confidence: 0.8, Text: q})
		if err := r.store.RecordFeedback(ctx, bot.Feedback{ConversationID: conv, PassageID: bank, At: at(20-7*i, 11).Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	// Hand-overs, by the reasons the bot gives.
	for i, reason := range []string{"requested", "requested", "low_confidence", "requested", "dispute", "safeguarding", "requested", "low_confidence", "needs-support", "requested", "crisis"} {
		r.clock.Add(at(26-i*2-i%2, 10+i%5).Sub(r.clock.Now()))
		p := support.PriorityNormal
		if reason == "safeguarding" || reason == "crisis" {
			p = support.PriorityUrgent
		}
		if _, err := r.desk.Escalate(ctx, support.NewEscalation{ConversationID: fmt.Sprintf("h-%d", i), Address: support.Address{Channel: "web", UserID: fmt.Sprintf("h-%d", i), ChatID: fmt.Sprintf("h-%d", i)},
			Audience: "employer", Reason: reason, Priority: p, Summary: "Earlier hand-over"}); err != nil {
			t.Fatal(err)
		}
	}
	resolved, err := r.desk.List(ctx, support.ListRequest{Limit: support.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range resolved.Escalations { // out of today's queue
		if _, err := r.desk.Resolve(ctx, e.ID, "sam"); err != nil {
			t.Fatal(err)
		}
	}
	r.clock.Add(now.Sub(r.clock.Now()))
}

// seedScreenshotListings puts two listings in the moderation queue and one
// in the network.
func seedScreenshotListings(t *testing.T, n *directory.Network) {
	t.Helper()
	ctx := context.Background()
	rate := 1450
	for _, d := range []directory.Details{
		{Kind: directory.KindPA, Name: "Priya Sharma", Areas: []string{"EX4", "EX2", "Exeter"}, Services: []string{"personal-care", "shopping"},
			Availability: "Weekday mornings, and some Saturdays", Languages: []string{"English", "Gujarati"},
			About: "Patient and cheerful; I like getting people out and about.", Experience: "Four years as a PA for two employers, one living with MS.",
			Training: []string{"Care Certificate", "Moving and handling"}, DBSUpdateService: true, HourlyRatePence: &rate,
			Employment: directory.LookingForEmployer, Contact: directory.Contact{Phone: "07700 900456", Email: "priya.pa@example.org"}},
		{Kind: directory.KindMicroProvider, Name: "Exe Valley Support", Areas: []string{"EX5", "EX16"}, Services: []string{"personal-care"},
			Availability: "Seven days, 7am to 10pm", About: "A small team of four local carers.", Contact: directory.Contact{Phone: "01392 000000"}},
	} {
		l, err := n.Draft(ctx, "slack:T1:U-"+d.Name, d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Submit(ctx, l.ID, directory.ByOwner); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.AddByStaff(ctx, "sam", directory.Details{Kind: directory.KindPA, Name: "Sam Taylor", Areas: []string{"EX4"}, Services: []string{"shopping"},
		Contact: directory.Contact{Phone: "07700 900789"}}); err != nil {
		t.Fatal(err)
	}
}
