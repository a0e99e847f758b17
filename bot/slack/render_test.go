package slack

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/askpa/askpa/bot"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// tenThousand is a 10,000-character answer of ordinary sentences and
// paragraphs, with a figure that must not be split.
func tenThousand() string {
	var b strings.Builder
	sentence := "From April 2025 the National Living Wage is £12.21 an hour for workers aged 21 and over. "
	for i := 0; b.Len() < 10000; i++ {
		b.WriteString(sentence)
		if i%9 == 8 {
			b.WriteString("\n\n")
		}
	}
	return string([]rune(b.String())[:10000])
}

var renderCases = []struct {
	name  string
	reply bot.Reply
}{
	{"answer", bot.Reply{
		Text: "You can take 5.6 weeks of paid holiday a year.\n\nFor a PA who works 5 days a week that is:\n• 28 days\n• including bank holidays",
		Sources: []bot.Source{
			{ID: "holiday", Title: "Holiday entitlement", URL: "https://www.gov.uk/holiday-entitlement-rights"},
			{ID: "pa-pay", Title: "Paying your PA", URL: "https://example.org/guide/pay#holiday"},
		},
		Buttons: [][]bot.Button{{{Label: "Helpful", Action: bot.ActionHelpful}, {Label: "Not helpful", Action: bot.ActionNotHelpful}, {Label: "Talk to a person", Action: bot.ActionHuman}}},
	}},
	{"hostile", bot.Reply{
		Text: "<script>alert('x')</script> & &amp; *bold* _italic_ ~strike~ `code` ```block```\n" +
			"<@U123> <!channel> <!here> <!everyone> <#C123|general> <https://evil.example|click me>\n" +
			"> quoted\n:smile: \u202Egnp.exe\u202C bell\a nul\x00 invalid\xff utf-8 \u2028separator\n" +
			"see https://www.gov.uk/statutory_sick_pay_(ssp)? and (https://example.org/a_b).",
		Sources: []bot.Source{
			{ID: "a", Title: "Title with | pipe > gt < lt & amp *star* <@U999>", URL: "https://example.org/a?x=1&y=<2>|3 4"},
			{ID: "b", Title: "A javascript link", URL: "javascript:alert(1)"},
			{ID: "c", Title: "", URL: "https://example.org/untitled"},
			{ID: "d", Title: "No link at all"},
		},
		Buttons: [][]bot.Button{
			{{Label: "<@U123> *click* me & <!channel>", Action: "topic:pay"}, {Label: strings.Repeat("A very long topic label ", 6), Action: "topic:long"}},
			{{Label: "Dropped: empty action", Action: ""}, {Label: "Dropped: action too long", Action: strings.Repeat("x", 2001)}},
		},
	}},
	{"ten-thousand", bot.Reply{Text: tenThousand(), Buttons: [][]bot.Button{{{Label: "Helpful", Action: bot.ActionHelpful}}}}},
	{"no-spaces", bot.Reply{Text: strings.Repeat("&", 3500) + strings.Repeat("ab", 1000)}},
	{"staff", bot.Reply{Text: "Hello, this is Sam from the support service.\n\nI have looked at your rota: *all* fine.", FromStaff: true}},
	{"buttons-only", bot.Reply{Buttons: [][]bot.Button{{{Label: "Employer", Action: "audience:employer"}, {Label: "PA", Action: "audience:pa"}}}}},
}

func TestRenderGolden(t *testing.T) {
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			got := render(tc.reply)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(got); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "render", tc.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./bot/slack -run TestRenderGolden -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("rendering of %s differs from %s; if the change is intended, run with -update\ngot:\n%s", tc.name, golden, buf.String())
			}
		})
	}
}

// sectionsOf returns the mrkdwn of every section block of msgs.
func sectionsOf(msgs []message) []string {
	var out []string
	for _, m := range msgs {
		for _, b := range m.Blocks {
			if s, ok := b.(*slackapi.SectionBlock); ok {
				out = append(out, s.Text.Text)
			}
		}
	}
	return out
}

// unrender undoes escapeText: what a person reading the message sees.
func unrender(mrkdwn string) string {
	mrkdwn = regexp.MustCompile(`<(https?://[^|>]*)>`).ReplaceAllString(mrkdwn, "$1")
	r := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "∗", "*", "ˍ", "_", "∼", "~", "ˋ", "`")
	return strings.ReplaceAll(r.Replace(mrkdwn), "%7C", "|")
}

func TestRenderKeepsWithinSlackLimits(t *testing.T) {
	for _, tc := range renderCases {
		msgs := render(tc.reply)
		for i, m := range msgs {
			if len(m.Blocks) > maxBlocks || len(m.Blocks) == 0 {
				t.Errorf("%s: message %d has %d blocks", tc.name, i, len(m.Blocks))
			}
			if textLen(m.Text) > maxFallbackText || m.Text == "" || !utf8.ValidString(m.Text) {
				t.Errorf("%s: message %d fallback text of %d characters", tc.name, i, textLen(m.Text))
			}
			for _, b := range m.Blocks {
				switch b := b.(type) {
				case *slackapi.SectionBlock:
					if n := textLen(b.Text.Text); n > maxSectionText || n == 0 || !utf8.ValidString(b.Text.Text) {
						t.Errorf("%s: section of %d characters", tc.name, n)
					}
				case *slackapi.ActionBlock:
					if len(b.Elements.ElementSet) > maxRowButtons {
						t.Errorf("%s: %d buttons in a row", tc.name, len(b.Elements.ElementSet))
					}
					for _, e := range b.Elements.ElementSet {
						btn := e.(*slackapi.ButtonBlockElement)
						if n := textLen(btn.Text.Text); n > maxButtonText || n == 0 {
							t.Errorf("%s: button label of %d characters", tc.name, n)
						}
						if len(btn.Value) > maxButtonValue || btn.Value == "" {
							t.Errorf("%s: button value of %d characters", tc.name, len(btn.Value))
						}
					}
				}
			}
		}
	}
}

func TestRenderShowsTheTextAndNothingElse(t *testing.T) {
	mention := regexp.MustCompile(`<[@#!]`)
	for _, tc := range renderCases {
		sections := sectionsOf(render(tc.reply))
		var body []string
		for _, s := range sections {
			if strings.HasPrefix(s, "*Sources*") {
				continue
			}
			body = append(body, s)
			if mention.MatchString(s) || strings.Contains(s, "<script") {
				t.Errorf("%s: live markup in %q", tc.name, s)
			}
			stripped := regexp.MustCompile(`<https?://[^>]*>`).ReplaceAllString(s, "")
			if strings.ContainsAny(stripped, "*_~`") {
				t.Errorf("%s: mrkdwn formatting character left in %q", tc.name, stripped)
			}
		}
		// Reading the sections back gives the text, less only invisible
		// characters and the whitespace where it was split.
		want := strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) || unicode.IsControl(r) || isBidiControl(r) || r == utf8.RuneError || r == '\u2028' {
				return -1
			}
			return r
		}, strings.ToValidUTF8(tc.reply.Text, ""))
		got := strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return -1
			}
			return r
		}, unrender(strings.Join(body, "")))
		if got != want {
			t.Errorf("%s: text read back differs:\ngot  %.300q\nwant %.300q", tc.name, got, want)
		}
	}
}

func TestRenderSplitsVeryLongRepliesAcrossMessages(t *testing.T) {
	para := strings.Repeat("word ", 580) // 2,900 characters
	var paras []string
	for range 60 {
		paras = append(paras, strings.TrimSpace(para))
	}
	r := bot.Reply{Text: strings.Join(paras, "\n\n"), Buttons: [][]bot.Button{{{Label: "Helpful", Action: bot.ActionHelpful}}},
		Sources: []bot.Source{{Title: "Guide", URL: "https://example.org"}}}
	msgs := render(r)
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	if n := len(sectionsOf(msgs)); n != 61 {
		t.Fatalf("%d sections, want 60 of text and 1 of sources", n)
	}
	last := msgs[1].Blocks
	if _, ok := last[len(last)-1].(*slackapi.ActionBlock); !ok {
		t.Fatal("buttons are not at the end of the last message")
	}
	for _, b := range msgs[0].Blocks {
		if _, ok := b.(*slackapi.ActionBlock); ok {
			t.Fatal("buttons in the first message")
		}
	}
}

func TestShareValueRoundTrips(t *testing.T) {
	// Text that compresses about as badly as prose can.
	words := strings.Fields("pay holiday rota sick notice contract pension insurance payslip tax council budget agency cover")
	var long strings.Builder
	for i := 0; long.Len() < 10000; i++ {
		long.WriteString(words[(i*7+i*i)%len(words)] + strconv.Itoa(i*31%97) + " ")
	}
	cases := []bot.Reply{
		{Text: "Short answer & <b>", Sources: []bot.Source{{ID: "x", Title: "T", URL: "https://example.org/x"}}},
		{Text: long.String(), Sources: []bot.Source{{ID: "x", Title: "T", URL: "https://example.org/x"}}},
	}
	for _, r := range cases {
		v := encodeShare(r)
		if v == "" || len(v) > maxButtonValue || !strings.HasPrefix(v, sharePrefix) {
			t.Fatalf("share value of %d bytes", len(v))
		}
		s, err := decodeShare(v)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Sources) != 1 || s.Sources[0].URL != "https://example.org/x" {
			t.Fatalf("sources = %+v", s.Sources)
		}
		if len(r.Text) < 1000 && s.Text != r.Text {
			t.Fatalf("text = %q", s.Text)
		}
		if len(r.Text) > 1000 && (!strings.HasSuffix(s.Text, "…") || !strings.HasPrefix(r.Text, strings.TrimSuffix(s.Text, "…")) || len(s.Text) < 1000) {
			t.Fatalf("long text shared as %d characters: %.80q", len(s.Text), s.Text)
		}
	}
	if _, err := decodeShare(sharePrefix + "!!not base64"); err == nil {
		t.Fatal("garbage decoded")
	}
}
