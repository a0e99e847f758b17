package telegram

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/askpa/askpa/bot"
)

// maxPartLen is the longest message part sent, counted in UTF-16 code units
// of the HTML source. Telegram allows 4,096 characters after entity parsing;
// the source is never shorter than what it parses to, so a margin below that
// limit keeps every part safe.
const maxPartLen = 4000

// maxCallbackData is Telegram's limit on a button's callback_data, in bytes.
const maxCallbackData = 64

// maxTitleRunes bounds a source title so that one source line always fits
// in a part.
const maxTitleRunes = 200

// maxLinkLen bounds the URL of a source link; longer URLs are not linked.
const maxLinkLen = 2000

// staffPrefix marks a message written by support staff.
const staffPrefix = "<b>Support team:</b>"

// sourcesHeading introduces the list of sources under an answer.
const sourcesHeading = "<b>Sources</b>"

// choosePrompt is sent when a reply has buttons but no text (Telegram will
// not send a message without text).
const choosePrompt = "Please choose:"

// rendered is a bot.Reply in Telegram's terms: HTML message parts, each
// under the length limit, and the inline keyboard that goes on the last.
type rendered struct {
	Parts    []string
	Keyboard *tgbotapi.InlineKeyboardMarkup
	// Dropped lists the actions of buttons left out because Telegram could
	// not carry them (empty, or callback data over 64 bytes).
	Dropped []bot.Button
}

// piece is an indivisible run of HTML and the separator that goes before it
// when it shares a message part with the piece before.
type piece struct {
	html string
	sep  string
}

// render turns r into Telegram HTML parts and an inline keyboard. Everything
// that came from content or people is escaped; sources become links; long
// text is split at paragraph, line, sentence or word boundaries (never
// inside a tag, an entity, a figure or a phone number) so that each part is
// under maxPartLen.
func render(r bot.Reply) rendered {
	return renderWith(r, maxPartLen)
}

func renderWith(r bot.Reply, limit int) rendered {
	var pieces []piece
	for _, p := range paragraphs(clean(r.Text)) {
		pieces = append(pieces, splitUnit(p, levelLine, limit, "\n\n")...)
	}
	if r.FromStaff {
		if len(pieces) > 0 {
			pieces[0].sep = "\n"
		}
		pieces = append([]piece{{html: staffPrefix}}, pieces...)
	}
	if src := sourceLines(r.Sources); len(src) > 0 {
		pieces = append(pieces, piece{html: sourcesHeading, sep: "\n\n"})
		for _, s := range src {
			pieces = append(pieces, piece{html: s, sep: "\n"})
		}
	}

	var out rendered
	out.Keyboard, out.Dropped = keyboard(r.Buttons)
	out.Parts = pack(pieces, limit)
	if len(out.Parts) == 0 && out.Keyboard != nil {
		out.Parts = []string{choosePrompt}
	}
	return out
}

// pack joins pieces greedily into parts of at most limit UTF-16 units.
func pack(pieces []piece, limit int) []string {
	var parts []string
	var cur strings.Builder
	curLen := 0
	for _, p := range pieces {
		n := utf16Len(p.html)
		if cur.Len() > 0 {
			if curLen+utf16Len(p.sep)+n <= limit {
				cur.WriteString(p.sep)
				cur.WriteString(p.html)
				curLen += utf16Len(p.sep) + n
				continue
			}
			parts = append(parts, cur.String())
			cur.Reset()
		}
		cur.WriteString(p.html)
		curLen = n
	}
	if cur.Len() > 0 {
		parts = append(parts, cur.String())
	}
	return parts
}

// Split levels, coarsest first.
const (
	levelLine = iota
	levelSentence
	levelWord
	levelRune
)

// splitUnit escapes s and, when it is longer than limit, splits it at the
// coarsest boundaries that make every piece fit. The first piece carries
// firstSep.
func splitUnit(s string, level, limit int, firstSep string) []piece {
	if escapedLen(s) <= limit || level > levelRune {
		return []piece{{html: escapeText(s), sep: firstSep}}
	}
	var segs []string
	var sep string
	switch level {
	case levelLine:
		segs, sep = strings.Split(s, "\n"), "\n"
	case levelSentence:
		segs, sep = sentences(s), " "
	case levelWord:
		segs, sep = words(s), " "
	default:
		return runeChunks(s, limit, firstSep)
	}
	var out []piece
	for i, seg := range segs {
		if seg == "" {
			continue
		}
		sp := sep
		if i == 0 || len(out) == 0 {
			sp = firstSep
		}
		out = append(out, splitUnit(seg, level+1, limit, sp)...)
	}
	return out
}

// runeChunks is the last resort for a single word longer than limit: it cuts
// s between runes (so never inside an escape) into pieces that fit.
func runeChunks(s string, limit int, firstSep string) []piece {
	var out []piece
	var cur strings.Builder
	n := 0
	sep := firstSep
	for _, r := range s {
		e := escapeText(string(r))
		l := utf16Len(e)
		if n+l > limit && cur.Len() > 0 {
			out = append(out, piece{html: cur.String(), sep: sep})
			cur.Reset()
			n = 0
			sep = ""
		}
		cur.WriteString(e)
		n += l
	}
	if cur.Len() > 0 {
		out = append(out, piece{html: cur.String(), sep: sep})
	}
	return out
}

// sentences splits s after sentence-ending punctuation followed by a space.
// A full stop inside a figure ("£12.71") is not followed by a space and so
// never ends a sentence.
func sentences(s string) []string {
	var out []string
	start := 0
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		if !strings.ContainsRune(".!?", rs[i]) {
			continue
		}
		j := i + 1
		for j < len(rs) && strings.ContainsRune(`"')”’]`, rs[j]) {
			j++
		}
		if j < len(rs) && rs[j] == ' ' {
			out = append(out, string(rs[start:j]))
			for j < len(rs) && rs[j] == ' ' {
				j++
			}
			start = j
			i = j - 1
		}
	}
	if start < len(rs) {
		out = append(out, string(rs[start:]))
	}
	return out
}

// words splits s at spaces, except a space between two digits, so that phone
// numbers ("0800 123 4567") and grouped figures stay whole.
func words(s string) []string {
	fields := strings.Split(s, " ")
	var out []string
	for _, f := range fields {
		if f == "" {
			continue
		}
		if n := len(out); n > 0 && endsWithDigit(out[n-1]) && startsWithDigit(f) {
			out[n-1] += " " + f
			continue
		}
		out = append(out, f)
	}
	return out
}

func endsWithDigit(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsDigit(r)
}

func startsWithDigit(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsDigit(r)
}

// paragraphs splits text at blank lines and drops empty paragraphs.
func paragraphs(text string) []string {
	var out []string
	for _, p := range strings.Split(text, "\n\n") {
		p = strings.Trim(p, "\n ")
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// clean makes text safe to send: valid UTF-8, Unix line ends, no control
// characters but newline and tab, no bidirectional overrides, no trailing spaces on lines, and runs of
// blank lines collapsed to one.
func clean(text string) string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	text = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r), isBidiControl(r):
			return -1
		}
		return r
	}, text)
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	text = strings.Join(lines, "\n")
	for strings.Contains(text, "\n\n\n") {
		text = strings.ReplaceAll(text, "\n\n\n", "\n\n")
	}
	return strings.TrimSpace(text)
}

// isBidiControl reports the explicit direction embeddings, overrides and
// isolates, which can make text display as something other than it says.
func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

var attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

// escapeText escapes s for Telegram HTML text.
func escapeText(s string) string { return textEscaper.Replace(s) }

// escapedLen is the UTF-16 length of s once escaped.
func escapedLen(s string) int { return utf16Len(escapeText(s)) }

// utf16Len counts s in UTF-16 code units, as Telegram counts length.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// sourceLines renders each source as a bullet: a link to its URL when it
// has a safe http(s) URL, its escaped title otherwise.
func sourceLines(sources []bot.Source) []string {
	var out []string
	for _, s := range sources {
		title := strings.Join(strings.Fields(clean(s.Title)), " ")
		u, linked := linkURL(s.URL)
		if title == "" {
			title = strings.Join(strings.Fields(clean(s.ID)), " ")
		}
		if title == "" {
			title = u
		}
		if r := []rune(title); len(r) > maxTitleRunes {
			title = string(r[:maxTitleRunes-1]) + "…"
		}
		if title == "" {
			continue
		}
		if linked {
			out = append(out, `• <a href="`+attrEscaper.Replace(u)+`">`+escapeText(title)+`</a>`)
		} else {
			out = append(out, "• "+escapeText(title))
		}
	}
	return out
}

// linkURL returns raw as a link target when it is an absolute http or https
// URL of reasonable length.
func linkURL(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > maxLinkLen || strings.ContainsAny(raw, " \n\t") {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	return u.String(), true
}

// keyboard turns rows of buttons into an inline keyboard. Buttons Telegram
// cannot carry (no label, no action, or an action over 64 bytes) are left
// out and returned in dropped; rows left empty are removed.
func keyboard(rows [][]bot.Button) (kb *tgbotapi.InlineKeyboardMarkup, dropped []bot.Button) {
	var out [][]tgbotapi.InlineKeyboardButton
	for _, row := range rows {
		var r []tgbotapi.InlineKeyboardButton
		for _, b := range row {
			label := strings.Join(strings.Fields(clean(b.Label)), " ")
			if label == "" || b.Action == "" || len(b.Action) > maxCallbackData || !utf8.ValidString(b.Action) {
				dropped = append(dropped, b)
				continue
			}
			r = append(r, tgbotapi.NewInlineKeyboardButtonData(label, b.Action))
		}
		if len(r) > 0 {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, dropped
	}
	return &tgbotapi.InlineKeyboardMarkup{InlineKeyboard: out}, dropped
}
