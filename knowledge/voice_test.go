package knowledge

import (
	"slices"
	"strings"
	"testing"
)

func TestSectionAudience(t *testing.T) {
	tests := []struct {
		doc           Audience
		heading, text string
		want          Audience
	}{
		{Both, "What to do when your PA is off sick", "Record the first day off.", Employer},
		{Both, "Breaks during a shift", "A PA gets 20 minutes after 6 hours. Agree when with your PA.", ""},
		{Both, "Sleep-ins", "Pay your PA for the hours. Record when your PA is woken.", Employer},
		{Both, "Sick pay", "Tell your employer on the first day you are off.", PA},
		{Both, "Sick pay from April 2026", "A PA gets £123.25 a week.", ""},
		{Both, "Two jobs", "Tell your PA's other employer and your PA's agency, and ask your employer to do the same.", ""},
		{Both, "Paying PAs", "Most of your PAs are paid weekly, and your PA's payslip shows it.", Employer},
		{Both, "Mileage", "Your employers' rules on mileage differ.", PA},
		{Employer, "What to do when your employer", "is off", ""},
		{PA, "When your PA", "is off", ""},
		{Both, "Spare parts", "The spa pass is separate.", ""},
	}
	for _, tt := range tests {
		if got := sectionAudience(tt.doc, tt.heading, tt.text); got != tt.want {
			t.Errorf("%s %q %q: %q, want %q", tt.doc, tt.heading, tt.text, got, tt.want)
		}
	}
}

func TestPassageAudienceInAGuideForBoth(t *testing.T) {
	body := "## Sick pay from April 2026\n\nA PA gets £123.25 a week.\n\n" +
		"## What to do when your PA is off sick\n\nRecord the first day off.\n\n" +
		"## Off sick yourself\n\nTell your employer on the first day.\n"
	base, err := Load(fsWith(map[string]string{"g/a.md": strings.Replace(doc("a", body), "audience: employer", "audience: both", 1)}))
	if err != nil {
		t.Fatal(err)
	}
	var got []Audience
	for _, p := range base.Passages() {
		got = append(got, p.Audience())
	}
	if want := []Audience{Both, Employer, PA}; !slices.Equal(got, want) {
		t.Errorf("audiences %v, want %v", got, want)
	}
}
