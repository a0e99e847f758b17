package telegram

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/telegram/telegramtest"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// longReply is a reply of about 10,000 characters: ordinary paragraphs, a
// paragraph far over the limit made of sentences with figures and phone
// numbers, a list, and text that needs escaping.
func longReply() bot.Reply {
	var b strings.Builder
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&b, "Paragraph %d. Your PA is paid at least £12.21 an hour (April 2025). Holiday is 5.6 weeks a year & pay in lieu is not allowed <except> when they leave.\n\n", i)
	}
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "Sentence %d says that the rate of £12.71 applies from April 2026, and you can call Acas on 0300 123 1100 or the helpline on +44 800 123 4567 for advice. ", i)
	}
	b.WriteString("\n\n")
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&b, "• Item %d: keep payslips, timesheets and records of <pension> contributions for 6 years\n", i)
	}
	b.WriteString("\nThat is all.")
	return bot.Reply{
		Text:    b.String(),
		Sources: []bot.Source{{Title: "Paying your PA", URL: "https://example.org/pay"}},
		Buttons: [][]bot.Button{{{Label: "Helpful", Action: bot.ActionHelpful}}},
	}
}

var renderCases = []struct {
	name  string
	reply bot.Reply
}{
	{"answer", bot.Reply{
		Text: "You must pay your PA at least the National Living Wage: £12.21 an hour from 1 April 2025.\n\n" +
			"• If your PA is under 21, a lower rate may apply\n• Check the rate each April\n\n" +
			"Ask your council's direct payment support service if you are unsure.",
		Sources: []bot.Source{
			{ID: "minimum-wage", Title: "Minimum wage for PAs", URL: "https://askpa.example/guides/minimum-wage"},
			{ID: "payroll", Title: "Running payroll", URL: ""},
		},
		Buttons: [][]bot.Button{
			{{Label: "Helpful", Action: bot.ActionHelpful}, {Label: "Not helpful", Action: bot.ActionNotHelpful}},
			{{Label: "Talk to a person", Action: bot.ActionHuman}},
		},
	}},
	{"hostile", bot.Reply{
		Text: "<script>alert(\"x\")</script> & <b>not bold</b> &amp; &lt; *bold* _italic_ ~strike~ `code` ```pre``` " +
			"[link](http://x) <a href=\"javascript:alert(1)\">click</a> <@U123> <!channel> <tg-spoiler>x</tg-spoiler>\n\n" +
			"Control\x00characters\x07 and \u202eright-to-left\u202c and invalid \xff bytes\r\nand a CR line.\n\n\n\n\nFar paragraph.",
		Sources: []bot.Source{
			{Title: "<i>Title</i> & \"quotes\"", URL: "https://example.org/?q=\"><script>alert(1)</script>&x=1"},
			{Title: "Script link", URL: "javascript:alert(1)"},
			{Title: "Data link", URL: "data:text/html,<b>x</b>"},
			{Title: "", URL: "https://example.org/untitled"},
		},
		Buttons: [][]bot.Button{{{Label: "<b>Helpful</b> & more", Action: bot.ActionHelpful}}},
	}},
	{"staff", bot.Reply{Text: "Hello, this is Sam from the support team.\n\nI've looked at your question about <redundancy> & notice pay.", FromStaff: true}},
	{"buttons-only", bot.Reply{Buttons: [][]bot.Button{{{Label: "Employer", Action: bot.ActionAudience + "employer"}, {Label: "PA", Action: bot.ActionAudience + "pa"}}}}},
	{"dropped-buttons", bot.Reply{Text: "Choose a topic.", Buttons: [][]bot.Button{
		{{Label: "Pay", Action: bot.ActionTopic + "pay"}},
		{{Label: "Way too long", Action: bot.ActionTopic + strings.Repeat("long-topic-", 7)}},
		{{Label: "", Action: bot.ActionTopic + "nolabel"}, {Label: "No action", Action: ""}},
	}}},
	{"long", longReply()},
	{"one-long-word", bot.Reply{Text: "Start. " + strings.Repeat("abc&<>", 1500) + " end."}},
	{"astral", bot.Reply{Text: strings.Repeat("😀 ", 2500)}},
	{"escapes-expand", bot.Reply{Text: strings.Repeat("& ", 2500)}},
	{"empty", bot.Reply{}},
}

func TestRenderGolden(t *testing.T) {
	for _, tt := range renderCases {
		t.Run(tt.name, func(t *testing.T) {
			out := render(tt.reply)
			checkParts(t, tt.reply, out)
			golden(t, filepath.Join("testdata", "render", tt.name+".golden"), formatRendered(out))
		})
	}
}

// checkParts asserts what a person would notice: every part is accepted by
// Telegram (tags balanced, entities valid, under 4,096 characters), the
// text reads as it was written (escaped, not interpreted), and nothing is
// lost.
func checkParts(t *testing.T, r bot.Reply, out rendered) {
	t.Helper()
	var plain strings.Builder
	for i, p := range out.Parts {
		if n := utf16Len(p); n >= 4096 {
			t.Errorf("part %d is %d UTF-16 units long", i+1, n)
		}
		text, _, err := telegramtest.ParseHTML(p)
		if err != nil {
			t.Errorf("part %d is not valid Telegram HTML: %v\n%s", i+1, err, p)
		}
		plain.WriteString(text + "\n")
	}
	// Parts may be cut inside a very long word, so compare without spaces.
	got := strings.Join(strings.Fields(plain.String()), "")
	want := strings.Join(strings.Fields(clean(r.Text)), "")
	if !strings.Contains(got, want) {
		t.Errorf("the parts do not hold the text as written\n got: %.300q\nwant: %.300q", got, want)
	}
}

func TestRenderLongKeepsFiguresWhole(t *testing.T) {
	out := render(longReply())
	if len(out.Parts) < 3 {
		t.Fatalf("10,000 characters in %d parts", len(out.Parts))
	}
	// Every phone number and price appears whole in some part.
	for _, fig := range []string{"£12.71", "0300 123 1100", "+44 800 123 4567", "£12.21"} {
		n := 0
		for _, p := range out.Parts {
			n += strings.Count(p, fig)
		}
		if want := strings.Count(longReply().Text, fig); n != want {
			t.Errorf("%q appears whole %d times in the parts, %d in the text", fig, n, want)
		}
	}
}

func TestSplitPrefersCoarseBoundaries(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		limit int
		want  []string
	}{
		{"paragraphs", "aaaa bbbb\n\ncccc dddd", 12, []string{"aaaa bbbb", "cccc dddd"}},
		{"paragraphs packed", "aa\n\nbb\n\ncccccccccc", 10, []string{"aa\n\nbb", "cccccccccc"}},
		{"lines", "aaaa bbbb\ncccc dddd", 12, []string{"aaaa bbbb", "cccc dddd"}},
		{"sentences", "One two. Three four. Five six.", 21, []string{"One two. Three four.", "Five six."}},
		{"figure stays whole", "Pay £12.71 now. Then more.", 16, []string{"Pay £12.71 now.", "Then more."}},
		{"phone stays whole", "call 0800 123 4567 today", 14, []string{"call", "0800 123 4567", "today"}},
		{"escape not cut", "&&&&&&", 10, []string{"&amp;&amp;", "&amp;&amp;", "&amp;&amp;"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := renderWith(bot.Reply{Text: tt.text}, tt.limit).Parts
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("parts %q, want %q", got, tt.want)
			}
		})
	}
}

func formatRendered(out rendered) string {
	var b strings.Builder
	for i, p := range out.Parts {
		fmt.Fprintf(&b, "=== part %d of %d (%d UTF-16 units) ===\n%s\n", i+1, len(out.Parts), utf16Len(p), p)
	}
	if out.Keyboard != nil {
		b.WriteString("=== keyboard ===\n")
		for _, row := range out.Keyboard.InlineKeyboard {
			var cells []string
			for _, btn := range row {
				cells = append(cells, fmt.Sprintf("[%s -> %s]", btn.Text, *btn.CallbackData))
			}
			b.WriteString(strings.Join(cells, " ") + "\n")
		}
	}
	if len(out.Dropped) > 0 {
		b.WriteString("=== dropped ===\n")
		for _, d := range out.Dropped {
			fmt.Fprintf(&b, "%q -> %q\n", d.Label, d.Action)
		}
	}
	return b.String()
}

// golden compares got with the file at path, or rewrites it with -update.
func golden(tb testing.TB, path, got string) {
	tb.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		tb.Errorf("%s differs from the output (run go test -update to accept):\n--- got ---\n%.3000s\n--- want ---\n%.3000s", path, got, want)
	}
}

func BenchmarkRenderLong(b *testing.B) {
	r := longReply()
	b.ReportAllocs()
	for b.Loop() {
		render(r)
	}
}
