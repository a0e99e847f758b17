package bot

import (
	"bufio"
	"bytes"
	_ "embed"
	"regexp"
	"strings"
	"unicode"
)

// What Redact puts in place of each kind of detail.
const (
	RedactedPhone    = "[phone number]"
	RedactedEmail    = "[email]"
	RedactedNINO     = "[NI number]"
	RedactedPostcode = "[postcode]"
	RedactedName     = "[name]"
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
	// redactPostcode matches a full UK postcode, in any case, with or
	// without the space: an outward code (one or two letters as Royal Mail
	// uses them, a digit, and a digit or letter: EX4, SW1A, M1) and an
	// inward code (a digit and two letters, never C, I, K, M, O or V:
	// 1AA). An outward code alone (EX4, a district) is an area, not an
	// address, and stays.
	redactPostcode = regexp.MustCompile(`(?i)\b[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}\b`)

	// nameWord is one word of a name as people type it: letters, with an
	// apostrophe or hyphen inside (O'Brien, Smith-Jones).
	nameWord = `[\p{L}][\p{L}'’-]*`
	// capWord is a name word with a capital letter first.
	capWord = `\p{Lu}[\p{L}'’-]*`
	// redactIntroduced matches a name given after words that introduce one
	// ("my name is", "her name's", "I'm called"), in any case:
	// group 1 is the introduction, groups 2 and 3 the one or two words
	// after it, which are a name unless they are everyday words.
	redactIntroduced = regexp.MustCompile(`(?i)\b((?:my|his|her|their) name(?:\s+is|'s|’s)|(?:i\s+am|i'm|i’m|im|she's|she’s|he's|he’s|she\s+is|he\s+is|they\s+are|they're|they’re)\s+called)\s+(` + nameWord + `)(?:(\s+)(` + nameWord + `))?`)
	// redactCued matches a capitalised word after words that often come
	// before a name ("called Agata", "named Zofia", "thanks, Dave", "Dear
	// Mo"): group 1
	// is the cue, groups 2 and 3 the one or two capitalised words after
	// it, which are a name unless they are everyday or service words.
	redactCued = regexp.MustCompile(`\b((?i:called|named|call\s+me|known\s+as|regards|thanks|thank\s+you|cheers|best\s+wishes|signed|dear|yours))[,:]?\s+(` + capWord + `)(?:(\s+)(` + capWord + `))?`)
	// redactTitled matches a name after a title (Mrs Patel, Dr. Okafor):
	// group 1 is the title, which stays.
	redactTitled = regexp.MustCompile(`\b(Mrs|Mr|Ms|Miss|Mx|Dr)\.?\s+(` + capWord + `)(?:(\s+)(` + capWord + `))?`)
)

//go:embed names.txt
var givenNamesText []byte

// redactGiven matches a common given name (names.txt) written with a
// capital letter, and a capitalised surname after it (group 1).
var redactGiven = func() *regexp.Regexp {
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(givenNamesText))
	for sc.Scan() {
		if n := strings.TrimSpace(sc.Text()); n != "" && !strings.HasPrefix(n, "#") {
			names = append(names, regexp.QuoteMeta(n))
		}
	}
	return regexp.MustCompile(`\b(?:` + strings.Join(names, "|") + `)\b(?:(\s+)(` + capWord + `))?`)
}()

// notNames are words that follow a cue for a name or a given name without
// being one: everyday words, and the capitalised words of services,
// places, days and months that people write after "called" or "from".
var notNames = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
		a an the and or but so if not no yes ok okay i i'm im me my mine you your he him his she her they them their we us our it its
		is am are was were be been being do does did have has had can could would should will shall may might must
		in on at to for from with by of about into over after before as than then there here this that these those
		what who whom when where why how which please thanks thank hi hello hey dear sorry just also very really
		back up out off again today tomorrow yesterday now soon later still yet already
		pa pas carer carers employer employers council councils team service services support
		monday tuesday wednesday thursday friday saturday sunday weekend
		january february march april may june july august september october november december
		christmas easter bank holiday holidays new year
		england english britain british uk scotland wales ireland london
		adult adults social care direct payment payments personal assistant assistants budget budgets
		citizens advice skills health local authority government gov helpline line centre center office
		jobcentre revenue customs pension pensions insurance trust hospital surgery gp doctor doctors nurse
		askpa bot everyone everybody all team staff age mind scope mencap sense shaw sir madam
		i'll i've i'd we'll we've we'd you'll you've he'll she'll they'll it's that's there's let's
	`) {
		m[w] = true
	}
	return m
}()

// notAName reports whether w, a word after a cue or a given name, is
// not part of a name: an everyday or service word, or an acronym (HMRC,
// NHS, DBS).
func notAName(w string) bool {
	if notNames[strings.ToLower(strings.Trim(w, "'’-"))] {
		return true
	}
	letters, upper := 0, 0
	for _, r := range w {
		if unicode.IsLetter(r) {
			letters++
			if unicode.IsUpper(r) {
				upper++
			}
		}
	}
	return letters >= 2 && upper == letters
}

// replaceName rewrites every match of re in s: group 1 (when the pattern
// has a cue) is kept; the first name word (group first) is replaced by
// RedactedName unless it is notAName; the optional second word (the group
// after its space, at first+2) too, when the first was.
func replaceName(re *regexp.Regexp, s string, first int, keepCue bool) string {
	idx := re.FindAllStringSubmatchIndex(s, -1)
	if idx == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range idx {
		group := func(g int) (string, bool) {
			if m[2*g] < 0 {
				return "", false
			}
			return s[m[2*g]:m[2*g+1]], true
		}
		w1, _ := group(first)
		if w1 == "" || notAName(w1) {
			continue
		}
		b.WriteString(s[last:m[0]])
		if keepCue {
			b.WriteString(s[m[0]:m[2*first]])
		}
		b.WriteString(RedactedName)
		end := m[2*first+1]
		if w2, ok := group(first + 2); ok && !notAName(w2) {
			end = m[2*(first+2)+1]
		}
		last = end - possessive(s[:end])
	}
	b.WriteString(s[last:])
	return b.String()
}

// saint matches the end of text followed by a saint's name: a church, a
// hospital or a place, not a person.
var saint = regexp.MustCompile(`\bSt\.?\s+$`)

// possessive returns the length of the possessive ending ('s, ’s) of
// text, which stays after a redacted name; 0 when there is none.
func possessive(text string) int {
	for _, end := range []string{"'s", "’s", "'S", "’S"} {
		if strings.HasSuffix(text, end) && len(text) > len(end) {
			return len(end)
		}
	}
	return 0
}

// replaceGiven rewrites every given name of names.txt in s, with the
// capitalised surname after it, by RedactedName.
func replaceGiven(s string) string {
	idx := redactGiven.FindAllStringSubmatchIndex(s, -1)
	if idx == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range idx {
		if saint.MatchString(s[:m[0]]) {
			continue // St Thomas', St Mary's: a place
		}
		b.WriteString(s[last:m[0]])
		b.WriteString(RedactedName)
		last = m[1] - possessive(s[:m[1]])
		if m[4] >= 0 && notAName(s[m[4]:m[5]]) {
			last = m[2] // the word after the name stays, with its space
		}
	}
	b.WriteString(s[last:])
	return b.String()
}

// Redact returns s with personal details replaced: telephone numbers,
// email addresses, National Insurance numbers, postcodes and names by
// RedactedPhone, RedactedEmail, RedactedNINO, RedactedPostcode and
// RedactedName. Names are found after words that introduce them ("my name
// is", "called", "thanks,"), after a title (Mrs, Dr), and as common given
// names written with a capital (names.txt), each with the surname after
// it; a name the person writes without any of these, or in lower case
// without an introduction, stays. Figures people ask about (£12.71, 16
// hours, 2026/27, 01/04/2026, 5.6 weeks), postcode districts (EX4),
// acronyms (HMRC, NHS) and service words (Adult Social Care) are left
// alone. It is for the person's own words kept in a conversation the bot
// answers and in the question log editors read; the bot's replies (which
// give helplines) and what is handed to staff are kept as written.
// Redacting redacted text changes nothing.
func Redact(s string) string {
	if strings.ContainsAny(s, "0123456789@") {
		s = redactEmail.ReplaceAllString(s, RedactedEmail)
		s = redactNINO.ReplaceAllString(s, RedactedNINO)
		s = redactPostcode.ReplaceAllString(s, RedactedPostcode)
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
	}
	s = replaceName(redactIntroduced, s, 2, true)
	s = replaceName(redactTitled, s, 2, true)
	s = replaceName(redactCued, s, 2, true)
	return replaceGiven(s)
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
