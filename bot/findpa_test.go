package bot

import (
	"testing"

	"github.com/askpa/askpa/directory"
)

func TestParseFindPA(t *testing.T) {
	vocab := directory.DefaultVocabulary()
	for _, c := range []struct {
		in               string
		area, service, q string
	}{
		{"EX4 personal care", "EX4", "personal-care", ""},
		{"ex4 6px dementia", "EX4", "dementia", ""},
		{"in Exeter for personal care", "Exeter", "personal-care", ""},
		{"someone near Newton Abbot who can do shopping", "Newton Abbot", "shopping", ""},
		{"TQ12 personal care, speaks Polish", "TQ12", "personal-care", "speaks Polish"},
		{"personal care", "", "personal-care", ""},
		{"ZZ9", "", "", "ZZ9"},
		{"", "", "", ""},
	} {
		got := parseFindPA(c.in, vocab)
		if got.Area != c.area || got.Service != c.service || got.Q != c.q {
			t.Errorf("parseFindPA(%q) = area %q service %q q %q; want %q %q %q", c.in, got.Area, got.Service, got.Q, c.area, c.service, c.q)
		}
	}
}

func TestParseContact(t *testing.T) {
	for _, c := range []struct{ in, phone, email string }{
		{"07700 900888, after 6pm please", "07700900888", ""},
		{"+44 7700 900888", "+447700900888", ""},
		{"email me: fay@example.org.", "", "fay@example.org"},
		{"ring the house phone after 6", "", ""},
	} {
		got := parseContact(c.in)
		if got.Phone != c.phone || got.Email != c.email || got.Note != c.in {
			t.Errorf("parseContact(%q) = %+v; want phone %q email %q and the text as the note", c.in, got, c.phone, c.email)
		}
	}
}

func TestWantsPA(t *testing.T) {
	for text, want := range map[string]bool{
		"im looking for a carer for my dad": true,
		"How do I find a PA?":               true,
		"is there a PA register in Devon":   true,
		"my PA is looking for a new job":    false,
		"how much holiday does my PA get":   false,
		"I need a careful answer about tax": false,
	} {
		if got := wantsPA(text); got != want {
			t.Errorf("wantsPA(%q) = %v, want %v", text, got, want)
		}
	}
}
