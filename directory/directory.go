// Package directory is askpa's PA network: personal assistants (PAs) and
// micro-providers (small local care enterprises) list what they offer, staff
// moderate the listings, and people who employ PAs search them by area,
// service and words.
//
// A Listing goes through draft, pending (waiting for moderation), approved
// (found by search), rejected (with a reason), paused (hidden by its owner),
// expired (not confirmed for 90 days) and withdrawn (gone for good), with an
// audit trail of who did what and when. Contact details are kept private:
// no search result carries them, and free text that holds a phone number,
// an email address or a link is refused. What a listing says about
// experience, training and DBS checks is self-declared and shown as such.
//
// The package imports no channel, no SQL driver and no HTTP framework: the
// Network service is called by the staff API (httpapi) and, later, by the
// Slack and Telegram adapters; stores live in internal/sqlstore
// behind sqlite and postgres.
package directory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Errors returned by the Network and by Store implementations. They are
// wrapped with %w; callers test them with errors.Is.
var (
	// ErrNotFound reports an unknown listing.
	ErrNotFound = errors.New("listing not found")
	// ErrInvalid reports input that breaks a rule; the error is an
	// *InvalidError naming the field.
	ErrInvalid = errors.New("invalid")
	// ErrConflict reports a move the listing's state does not allow
	// (approving a listing that is not pending, renewing a withdrawn one).
	ErrConflict = errors.New("listing is not in a state that allows this")
)

// InvalidError is the ErrInvalid the Network returns: it names the field at
// fault, as in the JSON API ("about", "areas[1]"), and says what is wrong in
// words fit to show the person who typed it.
type InvalidError struct {
	Field   string
	Problem string
}

func (e *InvalidError) Error() string { return "invalid " + e.Field + ": " + e.Problem }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, problem string) error { return &InvalidError{Field: field, Problem: problem} }

// Kind is who a listing is for.
type Kind string

// The kinds of listing: a personal assistant, or a micro-provider (a local
// care enterprise of eight or fewer full-time staff).
const (
	KindPA            Kind = "pa"
	KindMicroProvider Kind = "micro-provider"
)

// Valid reports whether k is pa or micro-provider.
func (k Kind) Valid() bool { return k == KindPA || k == KindMicroProvider }

// Status is where a listing is in its life.
type Status string

// The states of a listing.
const (
	StatusDraft     Status = "draft"
	StatusPending   Status = "pending"
	StatusApproved  Status = "approved"
	StatusRejected  Status = "rejected"
	StatusPaused    Status = "paused"
	StatusExpired   Status = "expired"
	StatusWithdrawn Status = "withdrawn"
)

// Statuses lists every state, in the order of a listing's life.
var Statuses = []Status{StatusDraft, StatusPending, StatusApproved, StatusRejected, StatusPaused, StatusExpired, StatusWithdrawn}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Employment says how a PA wants to work.
type Employment string

// The ways a PA may work: self-employed, or employed by the person they
// support (looking for an employer), or either.
const (
	SelfEmployed       Employment = "self-employed"
	LookingForEmployer Employment = "looking-for-employer"
	EitherEmployment   Employment = "either"
)

// Contact is how to reach the person who listed. It is private: it is
// shown to staff and, later, shared through an accepted introduction, never
// in search results.
type Contact struct {
	Phone string `json:"phone,omitempty"`
	Email string `json:"email,omitempty"`
	// Note is anything else ("ring after 6pm", "Slack: @sam").
	Note string `json:"note,omitempty"`
}

// IsZero reports whether c holds nothing.
func (c Contact) IsZero() bool { return c == Contact{} }

// Action is one entry of the audit trail.
type Action struct {
	Who  string    `json:"who"`
	What string    `json:"what"`
	At   time.Time `json:"at"`
}

// Who did an action that no member of staff did.
const (
	ByOwner  = "owner" // the PA or micro-provider the listing is for
	BySystem = "askpa" // the service itself (expiry)
)

// Details is what the person listing (or staff for them) writes. Every
// string in it but Contact is public once approved, so none may carry
// contact details.
type Details struct {
	Kind Kind `json:"kind"`
	// Name is the PA's name ("Sam Taylor", shown as "Sam T.") or the
	// micro-provider's organisation name (shown whole).
	Name string `json:"name"`
	// Areas are postcode districts ("EX4") and towns ("Exeter") covered.
	Areas []string `json:"areas"`
	// Services are ids from the Vocabulary.
	Services []string `json:"services"`
	// Availability says which days and times, in the person's own words.
	Availability string   `json:"availability,omitempty"`
	Languages    []string `json:"languages,omitempty"`
	// About, Experience and Training are in the person's own words, and
	// self-declared.
	About      string   `json:"about,omitempty"`
	Experience string   `json:"experience,omitempty"`
	Training   []string `json:"training,omitempty"`
	// DBSUpdateService is true when the person says they have a DBS
	// certificate on the DBS Update Service (self-declared).
	DBSUpdateService bool `json:"dbs_update_service,omitempty"`
	// HourlyRatePence is the hourly rate asked, in pence; nil when not said.
	HourlyRatePence *int       `json:"hourly_rate_pence,omitempty"`
	Employment      Employment `json:"employment,omitempty"`
	Contact         Contact    `json:"contact"`
}

// Listing is one PA's or micro-provider's entry in the network.
type Listing struct {
	ID     string `json:"id"`
	Status Status `json:"status"`
	Details
	// DisplayName is what the public sees: first name and initial for a
	// PA, the organisation name for a micro-provider.
	DisplayName string `json:"display_name"`
	// Owner identifies the person the listing is for on a channel
	// ("slack:T1:U1"); empty for a listing staff made for someone who
	// phoned in.
	Owner string `json:"owner,omitempty"`
	// Reason is why it was rejected, while it is.
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// ConfirmedAt is when it was last approved or renewed: how fresh it
	// is. ExpiresAt is when it expires unless renewed; both are zero until
	// it is first approved.
	ConfirmedAt time.Time `json:"confirmed_at,omitzero"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	// RemindedAt is when the owner was last reminded that the listing is
	// about to expire (see Reminded).
	RemindedAt time.Time `json:"reminded_at,omitzero"`
	Audit      []Action  `json:"audit"`
}

// SharedListing is a listing as askpa tells it to other systems (signed
// webhooks): every field staff see through the API but its contact
// details, which reach anyone only through an accepted introduction. Its
// JSON is the Listing's without the "contact" key.
type SharedListing struct {
	Listing
	// Contact hides Details.Contact: always nil, so never encoded.
	Contact *struct{} `json:"contact,omitempty"`
}

// Shared returns l without its contact details, for other systems.
func (l Listing) Shared() SharedListing {
	l.Details.Contact = Contact{}
	return SharedListing{Listing: l}
}

// Reminded reports whether the owner has been reminded of the expiry of
// l's current period of Lifetime: a reminder at or before ConfirmedAt
// belonged to an earlier period, so each period has at most one.
func (l Listing) Reminded() bool { return l.RemindedAt.After(l.ConfirmedAt) }

// ParsedAreas returns l's areas parsed; areas that no longer parse are left
// out.
func (l Listing) ParsedAreas() []Area {
	var out []Area
	for _, s := range l.Areas {
		if a, ok := ParseArea(s); ok {
			out = append(out, a)
		}
	}
	return out
}

// SearchText returns the lower-case text that free-text search (q) looks
// in: about, experience and training.
func (l Listing) SearchText() string {
	parts := append([]string{l.About, l.Experience}, l.Training...)
	return strings.ToLower(strings.Join(parts, " \n "))
}

// SearchWords returns the distinct stems (see Stem) of the words of
// SearchText: what free-text search matches a query's words against.
func (l Listing) SearchWords() []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range splitWords(l.SearchText()) {
		if st := Stem(w); st != "" && !seen[st] {
			seen[st] = true
			out = append(out, st)
		}
	}
	return out
}

func splitWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// Stem folds a lower-case word to the form search compares: plural and
// common verb endings taken off ("dementia" stays, "lifting" -> "lift",
// "carers" -> "carer", "stories" -> "story"). Words shorter than two
// letters give "".
func Stem(w string) string {
	if utf8.RuneCountInString(w) < 2 {
		return ""
	}
	switch {
	case len(w) > 5 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 5 && strings.HasSuffix(w, "ing"):
		return w[:len(w)-3]
	case len(w) > 5 && strings.HasSuffix(w, "ed"):
		return w[:len(w)-2]
	case len(w) > 4 && strings.HasSuffix(w, "es") && strings.ContainsAny(w[len(w)-3:len(w)-2], "sxz"):
		return w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"):
		return w[:len(w)-1]
	}
	return w
}

// Limits on what a listing holds.
const (
	MaxNameLen      = 80   // bytes of Name
	MaxShortLen     = 300  // bytes of Availability, a language, a training item
	MaxLongLen      = 2000 // bytes of About and of Experience
	MaxAreas        = 30
	MaxListItems    = 20 // languages, training items
	MaxReasonLen    = 1000
	MaxRatePence    = 20000 // £200 an hour
	maxContactField = 200
)

// DisplayName returns the public name for d: a PA's first name and the
// initial of their last ("Sam Taylor" -> "Sam T."), a micro-provider's
// organisation name.
func (d Details) DisplayName() string {
	name := strings.Join(strings.Fields(d.Name), " ")
	if d.Kind != KindPA {
		return name
	}
	f := strings.Fields(name)
	switch len(f) {
	case 0:
		return ""
	case 1:
		return f[0]
	}
	r, _ := utf8.DecodeRuneInString(f[len(f)-1])
	return f[0] + " " + string(unicode.ToUpper(r)) + "."
}

// normalise cleans d in place (text fit to keep, areas and services in
// their canonical form) and checks it, returning an *InvalidError naming the
// first field at fault.
func (d *Details) normalise(v *Vocabulary) error {
	d.Name = clean(d.Name)
	d.Availability = clean(d.Availability)
	d.About = cleanLong(d.About)
	d.Experience = cleanLong(d.Experience)
	d.Contact = Contact{Phone: clean(d.Contact.Phone), Email: clean(d.Contact.Email), Note: clean(d.Contact.Note)}
	switch {
	case !d.Kind.Valid():
		return invalid("kind", "must be pa or micro-provider")
	case d.Name == "":
		return invalid("name", "is required")
	case len(d.Name) > MaxNameLen:
		return invalid("name", fmt.Sprintf("is longer than %d characters", MaxNameLen))
	case len(d.Areas) == 0:
		return invalid("areas", "must name at least one postcode district (such as EX4) or town")
	case len(d.Areas) > MaxAreas:
		return invalid("areas", fmt.Sprintf("may name at most %d places", MaxAreas))
	case len(d.Services) == 0:
		return invalid("services", "must name at least one service")
	case len(d.Availability) > MaxShortLen:
		return invalid("availability", fmt.Sprintf("is longer than %d characters", MaxShortLen))
	case len(d.About) > MaxLongLen:
		return invalid("about", fmt.Sprintf("is longer than %d characters", MaxLongLen))
	case len(d.Experience) > MaxLongLen:
		return invalid("experience", fmt.Sprintf("is longer than %d characters", MaxLongLen))
	case len(d.Languages) > MaxListItems:
		return invalid("languages", fmt.Sprintf("may name at most %d languages", MaxListItems))
	case len(d.Training) > MaxListItems:
		return invalid("training", fmt.Sprintf("may list at most %d items", MaxListItems))
	case d.HourlyRatePence != nil && (*d.HourlyRatePence < 0 || *d.HourlyRatePence > MaxRatePence):
		return invalid("hourly_rate_pence", fmt.Sprintf("must be between 0 and %d pence", MaxRatePence))
	case d.Employment != "" && d.Employment != SelfEmployed && d.Employment != LookingForEmployer && d.Employment != EitherEmployment:
		return invalid("employment", "must be self-employed, looking-for-employer or either")
	case d.Contact.IsZero():
		return invalid("contact", "is required: give a phone number or an email address (it is kept private)")
	case len(d.Contact.Phone) > maxContactField || len(d.Contact.Email) > maxContactField || len(d.Contact.Note) > maxContactField:
		return invalid("contact", fmt.Sprintf("fields may be at most %d characters each", maxContactField))
	}
	seenArea := map[string]bool{}
	areas := make([]string, 0, len(d.Areas))
	for i, s := range d.Areas {
		a, ok := ParseArea(clean(s))
		if !ok {
			return invalid(fmt.Sprintf("areas[%d]", i), fmt.Sprintf("%q is not a UK postcode district (such as EX4, TQ12, SW1A or M1) or a town name", s))
		}
		key := a.District + "|" + a.TownKey()
		if !seenArea[key] {
			seenArea[key] = true
			areas = append(areas, a.String())
		}
	}
	d.Areas = areas
	seenSvc := map[string]bool{}
	svcs := make([]string, 0, len(d.Services))
	for i, s := range d.Services {
		id, ok := v.Lookup(s)
		if !ok {
			return invalid(fmt.Sprintf("services[%d]", i), fmt.Sprintf("%q is not one of the services: %s", s, strings.Join(v.ids(), ", ")))
		}
		if !seenSvc[id] {
			seenSvc[id] = true
			svcs = append(svcs, id)
		}
	}
	d.Services = svcs
	var err error
	if d.Languages, err = cleanList("languages", d.Languages); err != nil {
		return err
	}
	if d.Training, err = cleanList("training", d.Training); err != nil {
		return err
	}
	for _, f := range []struct{ name, text string }{
		{"name", d.Name}, {"availability", d.Availability}, {"about", d.About}, {"experience", d.Experience},
	} {
		if what := contactIn(f.text); what != "" {
			return contactRefused(f.name, what)
		}
	}
	for i, a := range d.Areas {
		if what := contactIn(a); what != "" {
			return contactRefused(fmt.Sprintf("areas[%d]", i), what)
		}
	}
	for _, l := range []struct {
		name  string
		items []string
	}{{"languages", d.Languages}, {"training", d.Training}} {
		for i, s := range l.items {
			if what := contactIn(s); what != "" {
				return contactRefused(fmt.Sprintf("%s[%d]", l.name, i), what)
			}
		}
	}
	return nil
}

func contactRefused(field, what string) error {
	return invalid(field, "seems to contain "+what+"; contact details are not shown on listings (they are shared only when both sides agree to an introduction), so please take it out")
}

func cleanList(field string, in []string) ([]string, error) {
	var out []string
	for i, s := range in {
		s = clean(s)
		switch {
		case s == "":
			continue
		case len(s) > MaxShortLen:
			return nil, invalid(fmt.Sprintf("%s[%d]", field, i), fmt.Sprintf("is longer than %d characters", MaxShortLen))
		}
		out = append(out, s)
	}
	return out, nil
}

// clean returns s fit to keep on one line: valid UTF-8, no control
// characters, spaces collapsed.
func clean(s string) string {
	return strings.Join(strings.Fields(cleanLong(s)), " ")
}

// cleanLong returns s fit to keep: valid UTF-8, no control characters
// other than newlines, trimmed.
func cleanLong(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r == '\n' {
			return r
		}
		if r == '\t' || r == '\r' {
			return ' '
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

func (v *Vocabulary) ids() []string {
	out := make([]string, len(v.list))
	for i, s := range v.list {
		out[i] = s.ID
	}
	return out
}

// UnmarshalJSON reads a contact given as an object ({"phone", "email",
// "note"}) or, for a client that has one line of contact, as a string,
// which becomes the note.
func (c *Contact) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = Contact{Note: s}
		return nil
	}
	type plain Contact
	var p plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return invalid("contact", "must be a string or an object with phone, email and note")
	}
	*c = Contact(p)
	return nil
}
