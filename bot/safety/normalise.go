package safety

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxRunes bounds how much of a message is read: a safety check must cost
// the same on a pasted essay as on a long message.
const maxRunes = 4000

// Normalise returns text as the safety layer reads it: lower case,
// apostrophes dropped ("can't" becomes "cant"), every other character that
// is not a letter, a digit or "£" turned into a space, runs of spaces
// collapsed, and chat spellings written out in full ("u" becomes "you")
// using spellings. Invalid UTF-8 and NUL bytes are treated as spaces. Only
// the first 4,000 characters are read.
func Normalise(text string, spellings map[string]string) string {
	var b strings.Builder
	b.Grow(min(len(text), maxRunes))
	n := 0
	space := true
	for i, w := 0, 0; i < len(text) && n < maxRunes; i += w {
		var c rune
		c, w = utf8.DecodeRuneInString(text[i:])
		n++
		switch {
		case c == '\'' || c == '’' || c == '‘' || c == '`':
			continue
		case c != utf8.RuneError && (unicode.IsLetter(c) || unicode.IsDigit(c) || c == '£'):
			b.WriteRune(unicode.ToLower(c))
			space = false
		case !space:
			b.WriteByte(' ')
			space = true
		}
	}
	words := strings.Fields(b.String())
	for i, w := range words {
		if s, ok := spellings[w]; ok {
			words[i] = s
		}
	}
	return strings.Join(words, " ")
}
