package directory

import "regexp"

// Contact details are shared only through introductions, so free text that
// carries them is refused. The patterns err towards refusing: a PA told to
// take a phone number out of "about" loses a minute; a phone number
// published to everyone cannot be taken back.
var (
	emailRe = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+@[a-z0-9\-]+(\.[a-z0-9\-]+)*\.[a-z]{2,}`)
	// hiddenEmailRe finds an email address written to slip past a filter:
	// "sam (at) example (dot) com", "sam at example dot com".
	hiddenEmailRe = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+\s*(\(at\)|\[at\]|\sat\s)\s*[a-z0-9\-]+\s*(\(dot\)|\[dot\]|\sdot\s)\s*[a-z]{2,}`)
	linkRe        = regexp.MustCompile(`(?i)(\bhttps?://|\bwww\.|\b[a-z0-9\-]+\.(com|co\.uk|org\.uk|org|net|uk|io|me|info|biz|ly|app|page|site)\b(/|\s|$|[,.;:!?)]))`)
	// phoneRe finds runs of digits and the separators people put in
	// phone numbers; a run holding ten or more digits is a phone number.
	phoneRe = regexp.MustCompile(`\+?\(?\d[\d\s\-().]{7,}\d`)
	// handleRe finds a messaging or social media handle ("@samcares").
	handleRe = regexp.MustCompile(`(?i)(^|[\s(])@[a-z0-9_.]{3,}`)
)

// contactIn returns what kind of contact detail text carries ("a phone
// number", "an email address", "a link", "a messaging handle"), or "" when
// it carries none.
func contactIn(text string) string {
	switch {
	case emailRe.MatchString(text) || hiddenEmailRe.MatchString(text):
		return "an email address"
	case linkRe.MatchString(text):
		return "a link"
	case hasPhone(text):
		return "a phone number"
	case handleRe.MatchString(text):
		return "a messaging handle"
	}
	return ""
}

func hasPhone(text string) bool {
	for _, run := range phoneRe.FindAllString(text, -1) {
		digits := 0
		for _, r := range run {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits >= 10 {
			return true
		}
	}
	return false
}
