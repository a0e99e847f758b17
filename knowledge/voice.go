package knowledge

import "regexp"

// Who a section of a guide for both audiences speaks to, from how it
// addresses the reader: "your PA" speaks to employers, "your employer" to
// PAs. A PA is never shown text that speaks to an employer about them.
var (
	speaksToEmployers = regexp.MustCompile(`(?i)\byour (pa|pas|pa's|pas')\b`)
	speaksToPAs       = regexp.MustCompile(`(?i)\byour (employer|employers|employer's|employers')\b`)
)

// sectionAudience returns the audience of a section with heading and text
// in a document written for doc: for a document for both audiences, the one
// the section speaks to when it speaks to one only; otherwise empty (the
// document's). A section speaks to employers when its heading does, or its
// text says "your PA" more than once (one passing "agree it with your PA"
// leaves facts everyone may read); to PAs when either says "your
// employer".
func sectionAudience(doc Audience, heading, text string) Audience {
	if doc != Both {
		return ""
	}
	employers := speaksToEmployers.MatchString(heading) || len(speaksToEmployers.FindAllStringIndex(text, 2)) == 2
	pas := speaksToPAs.MatchString(heading) || speaksToPAs.MatchString(text)
	switch {
	case employers && !pas:
		return Employer
	case pas && !employers:
		return PA
	}
	return ""
}
