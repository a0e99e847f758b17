package telegram_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/askpa/askpa/bot/telegram/telegramtest"
)

// listPAs has staff enter n PA listings through the API, as for people who
// phoned in: "Sam1 Taylor" ... in district, each offering personal care,
// each with a phone number that search must never show.
func listPAs(t *testing.T, s *stack, n int, district string) {
	t.Helper()
	for i := 1; i <= n; i++ {
		body := map[string]any{
			"kind": "pa", "name": fmt.Sprintf("Sam%d Taylor", i), "areas": []string{district, "Exeter"},
			"services": []string{"personal care"}, "availability": "Weekday mornings",
			"experience": "Six years with people living with dementia.", "hourly_rate_pence": 1500,
			"contact": map[string]string{"phone": fmt.Sprintf("07700 90012%d", i)},
		}
		s.staff(t, http.MethodPost, "/api/v1/listings", body, nil)
	}
}

// TestFindPA: an employer searches the PA network in Telegram with
// "/findpa EX4 personal care", sees the nearest listings with the network's
// notice and never a phone number, pages with "More", and asks to be
// introduced: a note, then contact details, then "Sent".
func TestFindPA(t *testing.T) {
	s := newStack(t, false)
	listPAs(t, s, 7, "EX4")
	dee := &person{t: t, s: s, user: telegramtest.User{ID: 7101, FirstName: "Dee"}}

	found := dee.say("/findpa EX4 personal care")
	// Equally near, the most recently confirmed come first.
	expect(t, "/findpa EX4 personal care", found, "near EX4 offering personal care (1 to 5)",
		"Ask to be introduced to Sam7 T.", "Ask to be introduced to Sam3 T.", "More")
	for _, want := range []string{"not employed or vetted", "In their own words (not checked)", "£15.00 an hour", "Last confirmed: today"} {
		if !strings.Contains(found.Text, want) {
			t.Errorf("results lack %q:\n%s", want, found.Text)
		}
	}
	if strings.Contains(found.Text, "07700") || strings.Contains(found.Text, "Taylor") {
		t.Errorf("results show a phone number or a PA's surname:\n%s", found.Text)
	}
	more := dee.press(found, "More")
	expect(t, "More", more, "(6 to 7)", "Ask to be introduced to Sam2 T.", "Ask to be introduced to Sam1 T.")
	if hasButton(more, "More") {
		t.Errorf("the last page offers More: %v", more.Buttons())
	}

	askNote := dee.press(found, "Ask to be introduced to Sam7 T.")
	expect(t, "ask to be introduced", askNote, "Write a short note", "Cancel")
	refused := dee.say("My mum needs help with washing in the mornings, ring me on 07700 900999")
	expect(t, "note with a phone number", refused, "seems to contain")
	askContact := dee.say("My mum needs help with washing and dressing in the mornings, near the cathedral.")
	expect(t, "note", askContact, "How should they contact you")
	expect(t, "contact", dee.say("07700 900888, after 6pm please"), "Sent.")
}

// TestFindPAAsksForTheArea: "/findpa" alone asks where; a town is taken as
// the answer; an area that is no place is asked for again; a message in
// crisis while the bot waits for an area is handled as the crisis it is.
func TestFindPAAsksForTheArea(t *testing.T) {
	s := newStack(t, false)
	listPAs(t, s, 1, "EX4")
	eve := &person{t: t, s: s, user: telegramtest.User{ID: 7102, FirstName: "Eve"}}

	offered := eve.say("im looking for a carer for my dad, how do i find one")
	expect(t, "asking to find a carer", offered, "", "Search the PA network")
	expect(t, "Search the PA network", eve.press(offered, "Search the PA network"), "Which area?")
	expect(t, "a town", eve.say("exeter"), "near exeter (1 to 1)", "Ask to be introduced to Sam1 T.")
	expect(t, "an unknown district", eve.say("/findpa ZZ9"), "could not read")
	expect(t, "no one listed", eve.say("/findpa TQ12 driving"), "nobody listed near TQ12 offering driving")

	expect(t, "/findpa again", eve.say("/findpa"), "Which area?")
	crisis := eve.say("i have saved up all my tablets and tonight i am going to take them")
	if !strings.Contains(crisis.Text, "116 123") {
		t.Errorf("a crisis message while the bot waited for an area got %q", crisis.Text)
	}
}

// TestFindPALimitsIntroductions: an employer may ask for five
// introductions in a day; the sixth is refused kindly.
func TestFindPALimitsIntroductions(t *testing.T) {
	s := newStack(t, false)
	listPAs(t, s, 6, "EX4")
	fay := &person{t: t, s: s, user: telegramtest.User{ID: 7103, FirstName: "Fay"}}
	first := fay.say("/findpa EX4")
	more := fay.press(first, "More")
	for i := 1; i <= 6; i++ {
		page := first // Sam6 to Sam2, then Sam1 on the next page
		if i == 1 {
			page = more
		}
		fay.press(page, fmt.Sprintf("Ask to be introduced to Sam%d T.", i))
		fay.say("Help getting up and dressed three mornings a week, please.")
		got := fay.say("fay@example.org")
		want := "Sent."
		if i == 6 {
			want = "5 introductions in the last 24 hours"
		}
		expect(t, fmt.Sprintf("introduction %d", i), got, want)
	}
}
