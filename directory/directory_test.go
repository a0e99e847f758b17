package directory

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseArea(t *testing.T) {
	for _, tc := range []struct {
		in       string
		district string
		town     string
		parea    string
	}{
		{"EX4", "EX4", "", "EX"},
		{"ex4", "EX4", "", "EX"},
		{"TQ12", "TQ12", "", "TQ"},
		{"SW1A", "SW1A", "", "SW"},
		{"M1", "M1", "", "M"},
		{"EX4 6PX", "EX4", "", "EX"},
		{"ex46px", "EX4", "", "EX"},
		{"  Newton   Abbot ", "", "Newton Abbot", ""},
		{"Bishop's Stortford", "", "Bishop's Stortford", ""},
		{"ZZ9", "", "", ""},
		{"EX", "", "", ""}, // a postcode area alone is not a place
		{"Ely", "", "Ely", ""},
		{"EX4!", "", "", ""},
		{"1234", "", "", ""},
		{"", "", "", ""},
	} {
		a, ok := ParseArea(tc.in)
		if want := tc.district != "" || tc.town != ""; ok != want || a.District != tc.district || a.Town != tc.town || a.PostcodeArea() != tc.parea {
			t.Errorf("ParseArea(%q) = %+v (area %q), %v", tc.in, a, a.PostcodeArea(), ok)
		}
	}
}

func TestContactDetailsInFreeText(t *testing.T) {
	for _, tc := range []struct {
		text, want string
	}{
		{"Call me on 07700 900123", "a phone number"},
		{"+44 7700 900 123", "a phone number"},
		{"(01392) 123456 evenings", "a phone number"},
		{"Email sam@example.org", "an email address"},
		{"sam (at) example (dot) org", "an email address"},
		{"See https://sam.example", "a link"},
		{"www.samcares.co.uk", "a link"},
		{"find me at samcares.com.", "a link"},
		{"Instagram @sam_cares", "a messaging handle"},
		{"Worked 2015-2023 in care homes, 40 hours a week", ""},
		{"Care Certificate (2021), first aid at work", ""},
		{"I worked at home care for 3 years", ""},
		{"Available 9am-5pm, Mon-Fri", ""},
		{"Dr. Smith's surgery", ""},
	} {
		if got := contactIn(tc.text); got != tc.want {
			t.Errorf("contactIn(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestDisplayName(t *testing.T) {
	for _, tc := range []struct {
		kind      Kind
		name, out string
	}{
		{KindPA, "Sam Taylor", "Sam T."},
		{KindPA, "  sam   de   vries ", "sam V."},
		{KindPA, "Łucja żak", "Łucja Ż."},
		{KindPA, "Sam", "Sam"},
		{KindMicroProvider, "Teign Valley Care Ltd", "Teign Valley Care Ltd"},
	} {
		if got := (Details{Kind: tc.kind, Name: tc.name}).DisplayName(); got != tc.out {
			t.Errorf("DisplayName(%s %q) = %q, want %q", tc.kind, tc.name, got, tc.out)
		}
	}
}

func valid() Details {
	return Details{Kind: KindPA, Name: "Sam Taylor", Areas: []string{"ex4", "EX4", "Exeter"}, Services: []string{"Personal care", "personal-care", "Overnight / sleep-in"},
		About: "Kind and patient.", Languages: []string{"English", " "}, Contact: Contact{Phone: "07700 900123"}}
}

func TestDetailsNormalise(t *testing.T) {
	v := DefaultVocabulary()
	d := valid()
	if err := d.normalise(v); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Areas, []string{"EX4", "Exeter"}) || !slices.Equal(d.Services, []string{"personal-care", "overnight"}) || !slices.Equal(d.Languages, []string{"English"}) {
		t.Errorf("normalised: %+v", d)
	}
	rate := -1
	for _, tc := range []struct {
		change func(*Details)
		field  string
	}{
		{func(d *Details) { d.Kind = "agency" }, "kind"},
		{func(d *Details) { d.Name = " " }, "name"},
		{func(d *Details) { d.Name = "Sam 07700900123" }, "name"},
		{func(d *Details) { d.Areas = nil }, "areas"},
		{func(d *Details) { d.Areas = []string{"EX4", "ZZ9"} }, "areas[1]"},
		{func(d *Details) { d.Services = []string{"gardening"} }, "services[0]"},
		{func(d *Details) { d.About = "Text me on 07700 900 123" }, "about"},
		{func(d *Details) { d.Experience = "CV at www.example.com" }, "experience"},
		{func(d *Details) { d.Availability = "ask sam@example.org" }, "availability"},
		{func(d *Details) { d.Training = []string{"First aid", "see https://x.example"} }, "training[1]"},
		{func(d *Details) { d.HourlyRatePence = &rate }, "hourly_rate_pence"},
		{func(d *Details) { d.Employment = "agency" }, "employment"},
		{func(d *Details) { d.Contact = Contact{} }, "contact"},
		{func(d *Details) { d.About = strings.Repeat("a", MaxLongLen+1) }, "about"},
	} {
		d := valid()
		tc.change(&d)
		err := d.normalise(v)
		var inv *InvalidError
		if !errors.As(err, &inv) || inv.Field != tc.field || !errors.Is(err, ErrInvalid) {
			t.Errorf("want an error naming %s, got %v", tc.field, err)
		}
	}
}

func TestVocabulary(t *testing.T) {
	v := DefaultVocabulary()
	for in, want := range map[string]string{"personal care": "personal-care", "Personal-Care": "personal-care", "Meals and cooking": "meals",
		"meals & cooking": "meals", "overnight": "overnight", "DEMENTIA": "dementia"} {
		if got, ok := v.Lookup(in); !ok || got != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := v.Lookup("gardening"); ok {
		t.Error("an unknown service was found")
	}
	for _, bad := range []string{"", "personal-care Personal care", "Personal_Care  X", "a  One\na  Two", "a  One\nb  one"} {
		if _, err := ParseVocabulary(bad); err == nil {
			t.Errorf("ParseVocabulary(%q) accepted it", bad)
		}
	}
}

func TestStem(t *testing.T) {
	for in, want := range map[string]string{"dementia": "dementia", "lifting": "lift", "carers": "carer", "stories": "story",
		"boxes": "box", "cared": "cared", "lifted": "lift", "class": "class", "a": ""} {
		if got := Stem(in); got != want {
			t.Errorf("Stem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSearchAreas(t *testing.T) {
	for in, want := range map[string]string{"EX4": "EX4|", "Exeter": "|exeter", "EX4, Exeter": "EX4|exeter", "TQ12 Newton Abbot": "TQ12|newton abbot", "EX4 6PX": "EX4|"} {
		as, ok := parseSearchArea(in)
		got := ""
		for _, a := range as {
			got += a.District
		}
		got += "|"
		for _, a := range as {
			got += a.TownKey()
		}
		if !ok || got != want {
			t.Errorf("parseSearchArea(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"ZZ9", "EX4 EX5", "Exeter, Newton Abbot"} {
		if _, ok := parseSearchArea(bad); ok {
			t.Errorf("parseSearchArea(%q) accepted it", bad)
		}
	}
}
