package bot

import (
	"regexp"
	"strings"
)

// What Redact puts in place of each kind of detail.
const (
	RedactedPhone = "[phone number]"
	RedactedEmail = "[email]"
	RedactedNINO  = "[NI number]"
)

var (
	// redactEmail matches an address with a domain that has a dot.
	redactEmail = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)
	// redactNINO matches a National Insurance number: two letters (as
	// HMRC issues them: the first not D, F, I, Q, U or V, the second not
	// those or O; QQ, the number used in examples, too), six digits and
	// A, B, C or D, with or without spaces between the pairs.
	redactNINO = regexp.MustCompile(`(?i)\b(?:[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]|QQ) ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b`)
	// redactPhone matches a UK telephone number: 0 then 9 or 10 more
	// digits (07700 900123, 020 7946 0018, 0300 123 1100, 0800 123 456),
	// or +44 or 0044 then 9 or 10 (+44 7700 900123, +44 (0)20 7946 0018),
	// with single spaces, hyphens or a bracketed area code between digits.
	// Group 1 is the character before the number, which must not be part
	// of a figure.
	redactPhone = regexp.MustCompile(`(^|[^\w.,/£$€-])((?:\+44 ?(?:\(0\) ?)?|00 ?44 ?(?:\(0\) ?)?)\d(?:\)?[ -]?\(?\d){8,9}|\(?0\d(?:\)?[ -]?\(?\d){8,9})\b`)
)

// Redact returns s with telephone numbers, email addresses and National
// Insurance numbers replaced by RedactedPhone, RedactedEmail and
// RedactedNINO. Figures people ask about (£12.71, 16 hours, 2026/27,
// 01/04/2026, 5.6 weeks) are left alone. It is for the person's own words
// kept in a conversation the bot answers; the bot's replies (which give
// helplines) and what is handed to staff are kept as written.
func Redact(s string) string {
	if !strings.ContainsAny(s, "0123456789@") {
		return s
	}
	s = redactEmail.ReplaceAllString(s, RedactedEmail)
	s = redactNINO.ReplaceAllString(s, RedactedNINO)
	s = redactPhone.ReplaceAllStringFunc(s, func(m string) string {
		sub := redactPhone.FindStringSubmatch(m)
		if sub == nil || !ukNumber(sub[2]) {
			return m
		}
		before, number := sub[1], sub[2]
		if strings.HasPrefix(number, "(") && !strings.Contains(number, ")") {
			before += "(" // a bracket around the whole number stays
		}
		return before + RedactedPhone
	})
	return s
}

// ukNumber reports whether the digits of a number redactPhone matched make
// a UK telephone number: after the trunk 0 (or +44), 9 or 10 digits that do
// not start with 0, 4 or 6, and 10 for a mobile (7).
func ukNumber(m string) bool {
	var d []byte
	for i := 0; i < len(m); i++ {
		if m[i] >= '0' && m[i] <= '9' {
			d = append(d, m[i])
		}
	}
	n := string(d)
	switch {
	case strings.HasPrefix(m, "+44"):
		n = strings.TrimPrefix(n, "44")
	case strings.HasPrefix(strings.ReplaceAll(m, " ", ""), "0044"):
		n = n[4:]
	}
	n = strings.TrimPrefix(n, "0") // the trunk 0, or +44's (0)
	if len(n) < 9 || len(n) > 10 || strings.IndexByte("1235789", n[0]) < 0 {
		return false
	}
	return n[0] != '7' || len(n) == 10
}
