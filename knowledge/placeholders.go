package knowledge

import (
	"fmt"
	"regexp"
	"strings"
)

// A placeholder lets national text name a local detail and say what to
// say instead where no local pack gives it:
//
//	call {{local.safeguarding_team | your council's adult safeguarding team}}
//
// reads "call Devon County Council's adult safeguarding team on 01632
// 960000 (out of hours: 01632 960001)" with a pack that gives the numbers,
// and "call your council's adult safeguarding team" without one. The text
// after the bar is the fallback; "{{local.council}}", without one, is
// allowed only in a pack's own documents, where the pack is known.
// Placeholders are replaced when content is loaded, never per request.

// PlaceholderInfo describes one placeholder name.
type PlaceholderInfo struct {
	// Name is what follows "local." ("safeguarding_phone").
	Name string
	// About says what the value is, for editors.
	About string
}

// placeholders are the names a placeholder may use, in the order editors
// read them.
var placeholders = []PlaceholderInfo{
	{"council", "the council's name (name)"},
	{"social_care_team", "\"<council>'s adult social care team on <phone>\" (or at its email, or its web page); no value without one of them"},
	{"social_care_phone", "adult_social_care.phone"},
	{"social_care_email", "adult_social_care.email"},
	{"social_care_url", "adult_social_care.url"},
	{"safeguarding_team", "\"<council>'s adult safeguarding team on <phone> (out of hours: <number>)\"; no value without a safeguarding number"},
	{"safeguarding_phone", "safeguarding.phone, in office hours"},
	{"safeguarding_out_of_hours", "safeguarding.out_of_hours"},
	{"safeguarding_url", "safeguarding.url"},
	{"support_contact", "\"<support service> on <phone> (open <hours>)\" (or at its email, or its web page); no value without its name"},
	{"support_service", "support_service.name"},
	{"support_phone", "support_service.phone"},
	{"support_email", "support_service.email"},
	{"support_hours", "support_service.hours"},
	{"support_url", "support_service.url"},
	{"pa_network", "pa_network.name"},
	{"pa_network_url", "pa_network.url"},
	{"payroll_contact", "\"<payroll service> on <phone>\" (or at its email, or its web page); no value without its name"},
	{"payroll", "payroll.name"},
	{"payroll_phone", "payroll.phone"},
	{"payroll_email", "payroll.email"},
	{"payroll_url", "payroll.url"},
	{"direct_payment_rates", "a sentence: \"<council> publishes these direct payment rates: £15.20 an hour for ... in 2026/27.\"; no value without rates"},
}

// Placeholders lists every name a placeholder may use, with what it says.
func Placeholders() []PlaceholderInfo { return append([]PlaceholderInfo(nil), placeholders...) }

func knownPlaceholder(name string) bool {
	for _, p := range placeholders {
		if p.Name == name {
			return true
		}
	}
	return false
}

// Placeholder is one placeholder found in a text.
type Placeholder struct {
	Name        string // after "local."
	Fallback    string // the text after the bar, trimmed
	HasFallback bool   // whether there is a bar
	Line        int    // line in the file
}

var placeholderRe = regexp.MustCompile(`\{\{[ \t]*local\.([A-Za-z0-9_.-]*)[ \t]*(\|([^{}\r\n]*))?\}\}`)

// ScanPlaceholders returns the placeholders in text, which starts on line
// firstLine of file, and the problems of its "{{" markup, each naming file
// and line: "{{" that does not start a well-formed placeholder
// (bad-placeholder) and a name that is not one of Placeholders
// (unknown-placeholder). Whether a placeholder needs a fallback is the
// caller's rule.
func ScanPlaceholders(file, text string, firstLine int) ([]Placeholder, []Problem) {
	var found []Placeholder
	var problems []Problem
	lineAt := func(off int) int { return firstLine + strings.Count(text[:off], "\n") }
	matches := placeholderRe.FindAllStringSubmatchIndex(text, -1)
	starts := map[int]bool{}
	for _, m := range matches {
		starts[m[0]] = true
		name := text[m[2]:m[3]]
		p := Placeholder{Name: name, Line: lineAt(m[0])}
		if m[4] >= 0 {
			p.HasFallback, p.Fallback = true, strings.TrimSpace(text[m[6]:m[7]])
		}
		if !knownPlaceholder(name) {
			problems = append(problems, Problem{File: file, Line: p.Line, Rule: "unknown-placeholder",
				Message: fmt.Sprintf("unknown placeholder local.%s (known: %s)", name, placeholderList())})
		}
		found = append(found, p)
	}
	for i := 0; ; {
		j := strings.Index(text[i:], "{{")
		if j < 0 {
			break
		}
		at := i + j
		if !starts[at] {
			problems = append(problems, Problem{File: file, Line: lineAt(at), Rule: "bad-placeholder",
				Message: "\"{{\" starts no placeholder: write {{local.name | what to say without a local pack}} on one line"})
		}
		i = at + 2
		for i < len(text) && text[i] == '{' {
			i++
		}
	}
	return found, problems
}

func placeholderList() string {
	names := make([]string, len(placeholders))
	for i, p := range placeholders {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// Expand returns text with every well-formed placeholder replaced by a's
// value for it or, when a is nil or gives none (or the name is unknown),
// by its fallback, which is empty when there is none. Anything else is
// left as it is.
func (a *Area) Expand(text string) string {
	if !strings.Contains(text, "{{") {
		return text
	}
	return placeholderRe.ReplaceAllStringFunc(text, func(s string) string {
		m := placeholderRe.FindStringSubmatch(s)
		if v := a.Value(m[1]); v != "" {
			return v
		}
		return strings.TrimSpace(m[3])
	})
}

// Value returns what the placeholder named name says for a: "" when a is
// nil, the name is unknown, or the area does not give the detail.
func (a *Area) Value(name string) string {
	if a == nil {
		return ""
	}
	switch name {
	case "council":
		return a.Name
	case "social_care_team":
		if c := reach(a.SocialCare.Phone, a.SocialCare.Email, a.SocialCare.URL); c != "" {
			return a.Name + "'s adult social care team " + c
		}
	case "social_care_phone":
		return a.SocialCare.Phone
	case "social_care_email":
		return a.SocialCare.Email
	case "social_care_url":
		return a.SocialCare.URL
	case "safeguarding_team":
		s := a.Safeguarding
		switch {
		case s.Phone != "" && s.OutOfHours != "":
			return a.Name + "'s adult safeguarding team on " + s.Phone + " (out of hours: " + s.OutOfHours + ")"
		case s.Phone != "":
			return a.Name + "'s adult safeguarding team on " + s.Phone
		case s.OutOfHours != "":
			return a.Name + "'s adult safeguarding team (out of hours: " + s.OutOfHours + ")"
		}
	case "safeguarding_phone":
		return a.Safeguarding.Phone
	case "safeguarding_out_of_hours":
		return a.Safeguarding.OutOfHours
	case "safeguarding_url":
		return a.Safeguarding.URL
	case "support_contact":
		s := a.SupportService
		if s.Name == "" {
			return ""
		}
		v := s.Name
		if c := reach(s.Phone, s.Email, s.URL); c != "" {
			v += " " + c
		}
		if s.Hours != "" {
			v += " (open " + s.Hours + ")"
		}
		return v
	case "support_service":
		return a.SupportService.Name
	case "support_phone":
		return a.SupportService.Phone
	case "support_email":
		return a.SupportService.Email
	case "support_hours":
		return a.SupportService.Hours
	case "support_url":
		return a.SupportService.URL
	case "pa_network":
		return a.PANetwork.Name
	case "pa_network_url":
		return a.PANetwork.URL
	case "payroll_contact":
		p := a.Payroll
		if p.Name == "" {
			return ""
		}
		if c := reach(p.Phone, p.Email, p.URL); c != "" {
			return p.Name + " " + c
		}
		return p.Name
	case "payroll":
		return a.Payroll.Name
	case "payroll_phone":
		return a.Payroll.Phone
	case "payroll_email":
		return a.Payroll.Email
	case "payroll_url":
		return a.Payroll.URL
	case "direct_payment_rates":
		if len(a.Rates) == 0 {
			return ""
		}
		parts := make([]string, len(a.Rates))
		for i, r := range a.Rates {
			parts[i] = r.Hourly + " an hour for " + r.For + " in " + r.Year
		}
		return a.Name + " publishes these direct payment rates: " + strings.Join(parts, "; ") + "."
	}
	return ""
}

// reach says how to reach someone: "on <phone>", else "at <email>", else
// "(<web page>)"; "" when there is none.
func reach(phone, email, web string) string {
	switch {
	case phone != "":
		return "on " + phone
	case email != "":
		return "at " + email
	case web != "":
		return "(" + web + ")"
	}
	return ""
}
