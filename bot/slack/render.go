package slack

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/askpa/askpa/bot"
)

// Slack's Block Kit limits (https://docs.slack.dev/reference/block-kit).
const (
	maxSectionText  = 3000 // characters in a section block's text
	maxBlocks       = 50   // blocks in one message
	maxButtonText   = 75   // characters in a button's label
	maxButtonValue  = 2000 // characters in a button's value
	maxRowButtons   = 25   // elements in one actions block
	maxFallbackText = 3000 // characters of the plain-text fallback we send
)

// message is one Slack message: Block Kit blocks and the plain-text fallback
// Slack shows in notifications and where blocks cannot be shown.
type message struct {
	Text   string           `json:"text"`
	Blocks []slackapi.Block `json:"blocks"`
}

// render turns a reply into one or more Slack messages, in order: the text in
// section blocks of at most 3,000 characters, the sources as links, the
// buttons as actions blocks, no message holding more than 50 blocks.
// Everything taken from the reply is escaped for mrkdwn.
func render(r bot.Reply) []message {
	var blocks []slackapi.Block
	if r.FromStaff {
		blocks = append(blocks, slackapi.NewContextBlock("askpa_staff",
			slackapi.NewTextBlockObject(slackapi.PlainTextType, "Reply from the support team", false, false)))
	}
	chunks := pack(textUnits(r.Text), maxSectionText)
	for _, c := range chunks {
		blocks = append(blocks, section(c))
	}
	for _, c := range pack(sourceUnits(r.Sources), maxSectionText) {
		blocks = append(blocks, section(c))
	}
	blocks = append(blocks, buttonBlocks(r.Buttons)...)
	if len(blocks) == 0 {
		return nil
	}

	fallback := "askpa"
	if len(chunks) > 0 {
		fallback = chunks[0]
	}
	if r.FromStaff {
		fallback = "Reply from the support team: " + fallback
	}

	var out []message
	for len(blocks) > 0 {
		n := min(len(blocks), maxBlocks)
		text := fallback
		if len(out) > 0 {
			text = continuation(blocks[:n], fallback)
		}
		out = append(out, message{Text: truncate(text, maxFallbackText), Blocks: blocks[:n:n]})
		blocks = blocks[n:]
	}
	return out
}

// continuation returns the fallback text of a later message of a split reply:
// its first section's text, or the first message's fallback.
func continuation(blocks []slackapi.Block, first string) string {
	for _, b := range blocks {
		if s, ok := b.(*slackapi.SectionBlock); ok && s.Text != nil {
			return s.Text.Text
		}
	}
	return first
}

// section returns a section block with already-escaped mrkdwn text. Verbatim
// stops Slack from turning bare names, channels and URLs into links or
// mentions; explicit <url|title> links still work.
func section(mrkdwn string) *slackapi.SectionBlock {
	return slackapi.NewSectionBlock(slackapi.NewTextBlockObject(slackapi.MarkdownType, mrkdwn, false, true), nil, nil)
}

// buttonBlocks renders rows of buttons as actions blocks, one per row. Labels
// are cut to Slack's 75 characters; a button whose action is empty or longer
// than Slack allows is left out rather than sent broken.
func buttonBlocks(rows [][]bot.Button) []slackapi.Block {
	var out []slackapi.Block
	for i, row := range rows {
		var els []slackapi.BlockElement
		for j, b := range row {
			if b.Action == "" || len(b.Action) > maxButtonValue || len(els) == maxRowButtons {
				continue
			}
			label := truncatePlain(strings.TrimSpace(stripControls(b.Label)), maxButtonText)
			if label == "" {
				label = "…"
			}
			els = append(els, slackapi.NewButtonBlockElement(
				fmt.Sprintf("askpa_%d_%d", i, j), b.Action,
				slackapi.NewTextBlockObject(slackapi.PlainTextType, label, true, false)))
		}
		if len(els) > 0 {
			out = append(out, slackapi.NewActionBlock(fmt.Sprintf("askpa_buttons_%d", i), els...))
		}
	}
	return out
}

// unit is a piece of rendered mrkdwn that must not be split, and the
// separator that goes before it when it follows another unit in a chunk.
type unit struct {
	sep, text string
}

// textUnits renders plain text (paragraphs separated by blank lines) as
// mrkdwn units: whole paragraphs where they fit in a section, otherwise
// lines, then words, then single characters and links.
func textUnits(text string) []unit {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	var out []unit
	for i, p := range splitParagraphs(text) {
		sep := "\n\n"
		if i == 0 {
			sep = ""
		}
		out = appendUnits(out, sep, p, 0)
	}
	return out
}

// appendUnits renders s, splitting it at level (0 lines, 1 words, 2
// characters) when it does not fit in one section.
func appendUnits(out []unit, sep, s string, level int) []unit {
	r := escapeText(s)
	if textLen(r) <= maxSectionText {
		return append(out, unit{sep, r})
	}
	switch level {
	case 0:
		for i, l := range strings.Split(s, "\n") {
			if i > 0 {
				sep = "\n"
			}
			out = appendUnits(out, sep, l, 1)
		}
	case 1:
		for i, w := range strings.Split(s, " ") {
			if i > 0 {
				sep = " "
			}
			out = appendUnits(out, sep, w, 2)
		}
	default:
		for i, a := range atoms(s) {
			if i > 0 {
				sep = ""
			}
			out = append(out, unit{sep, a})
		}
	}
	return out
}

// blankLine separates paragraphs.
var blankLine = regexp.MustCompile(`\n[ \t]*\n`)

// splitParagraphs splits text at blank lines, dropping empty paragraphs.
func splitParagraphs(text string) []string {
	var out []string
	for _, p := range blankLine.Split(text, -1) {
		if p = strings.Trim(p, "\n"); strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return out
}

// pack joins units greedily into chunks of at most limit characters.
func pack(units []unit, limit int) []string {
	var out []string
	var cur strings.Builder
	n := 0
	for _, u := range units {
		l := textLen(u.text)
		if n > 0 && n+textLen(u.sep)+l <= limit {
			cur.WriteString(u.sep)
			cur.WriteString(u.text)
			n += textLen(u.sep) + l
			continue
		}
		if n > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
		cur.WriteString(u.text)
		n = l
	}
	if n > 0 {
		out = append(out, cur.String())
	}
	return out
}

// sourceUnits renders sources as a list of links under a heading.
func sourceUnits(sources []bot.Source) []unit {
	if len(sources) == 0 {
		return nil
	}
	out := []unit{{"", "*Sources*"}}
	for _, s := range sources {
		out = append(out, unit{"\n", "• " + sourceLink(s)})
	}
	return out
}

// sourceLink renders a source as <url|title>, or its escaped title alone
// when it has no usable http(s) URL.
func sourceLink(s bot.Source) string {
	title := strings.TrimSpace(s.Title)
	if title == "" {
		title = s.ID
	}
	label := strings.ReplaceAll(escapeText(truncatePlain(title, 200)), "|", "∣")
	u, ok := linkURL(s.URL)
	if !ok {
		return label
	}
	if label == "" {
		label = u
	}
	return "<" + u + "|" + label + ">"
}

// linkURL returns raw as it may appear inside <...> in mrkdwn: only absolute
// http and https URLs, with &, <, > escaped and | and spaces percent-encoded.
func linkURL(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(raw) > 2000 {
		return "", false
	}
	r := strings.NewReplacer("&", "&amp;", "<", "%3C", ">", "%3E", "|", "%7C", " ", "%20")
	return r.Replace(raw), true
}

// urlRE finds URLs in running text so they become links rather than text
// whose underscores would be neutralised.
var urlRE = regexp.MustCompile(`https?://[^\s<>"|]+`)

// escapeText renders plain text as mrkdwn that shows exactly that text: &,
// < and > become entities (so <@U123>, <!channel> and <!here> cannot
// mention anyone), mrkdwn's formatting characters * _ ~ ` are replaced by
// look-alikes that Slack does not interpret, control characters are dropped,
// and URLs become links.
func escapeText(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	forAtoms(s, func(a string) { b.WriteString(a) }, true)
	return b.String()
}

// atoms renders s as indivisible pieces of mrkdwn: each URL link whole, each
// other character escaped on its own.
func atoms(s string) []string {
	var out []string
	forAtoms(s, func(a string) { out = append(out, a) }, false)
	return out
}

// forAtoms calls emit with each atom of s, in order; with whole, runs of
// characters that need no escaping come as one.
func forAtoms(s string, emit func(string), whole bool) {
	last := 0
	for _, loc := range urlRE.FindAllStringIndex(s, -1) {
		u := trimURL(s[loc[0]:loc[1]])
		link, ok := linkURL(u)
		if !ok || textLen(link) > maxSectionText/2 {
			continue
		}
		emitChars(s[last:loc[0]], emit, whole)
		emit("<" + link + ">")
		last = loc[0] + len(u)
	}
	emitChars(s[last:], emit, whole)
}

// trimURL drops punctuation that ends the sentence rather than the URL: a
// closing parenthesis only when the URL has no opening one to match.
func trimURL(u string) string {
	for u != "" {
		last := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?'", last) >= 0:
		case last == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
		default:
			return u
		}
		u = u[:len(u)-1]
	}
	return u
}

// emitChars escapes the characters of s, calling emit with each escaped
// character on its own, or with runs of characters that need no escaping
// when whole is set.
func emitChars(s string, emit func(string), whole bool) {
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		a := escapeRune(r)
		if size == 1 && r == utf8.RuneError {
			a = "" // invalid UTF-8
		}
		if a == s[i:i+size] {
			if !whole {
				emit(a)
			}
			i += size
			continue
		}
		if whole && start < i {
			emit(s[start:i])
		}
		if a != "" {
			emit(a)
		}
		i += size
		start = i
	}
	if whole && start < len(s) {
		emit(s[start:])
	}
}

// lookalikes replace mrkdwn's formatting characters.
var lookalikes = map[rune]string{
	'*': "∗", // U+2217 ASTERISK OPERATOR
	'_': "ˍ", // U+02CD MODIFIER LETTER LOW MACRON
	'~': "∼", // U+223C TILDE OPERATOR
	'`': "ˋ", // U+02CB MODIFIER LETTER GRAVE ACCENT
}

func escapeRune(r rune) string {
	switch r {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	case '\n', '\t':
		return string(r)
	}
	if l, ok := lookalikes[r]; ok {
		return l
	}
	if unicode.IsControl(r) || isBidiControl(r) || r == '\u2028' || r == '\u2029' {
		return ""
	}
	return string(r)
}

// isBidiControl reports the invisible direction overrides that can make text
// read differently from what it says.
func isBidiControl(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// stripControls removes control characters (including newlines) from a
// one-line label.
func stripControls(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		if isBidiControl(r) {
			return -1
		}
		return r
	}, s)
}

// textLen counts characters the way Slack's limits do, conservatively: in
// UTF-16 code units, so an emoji counts twice.
func textLen(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}

// truncate cuts mrkdwn s to at most limit characters (by textLen), ending
// in "…" when it cut, without splitting an entity (&amp;) or a <link>.
func truncate(s string, limit int) string {
	if textLen(s) <= limit {
		return s
	}
	n, safe := 0, 0
	inEntity, inLink := false, false
	for i, r := range s {
		n += max(utf16.RuneLen(r), 1)
		if n > limit-1 {
			break
		}
		switch {
		case r == '&':
			inEntity = true
		case r == ';':
			inEntity = false
		case r == '<':
			inLink = true
		case r == '>':
			inLink = false
		}
		if !inEntity && !inLink {
			safe = i + utf8.RuneLen(r)
		}
	}
	return strings.TrimRight(s[:safe], " \n") + "…"
}

// truncatePlain cuts plain text to at most limit characters, ending in "…"
// when it cut.
func truncatePlain(s string, limit int) string {
	if textLen(s) <= limit {
		return s
	}
	n := 0
	for i, r := range s {
		n += max(utf16.RuneLen(r), 1)
		if n > limit-1 {
			return strings.TrimRight(s[:i], " ") + "…"
		}
	}
	return s
}
