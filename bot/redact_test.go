package bot

import "testing"

// TestRedact checks each kind of detail in the forms people type it, and
// near misses that must stay: the figures the knowledge base talks about.
func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		// Telephone numbers.
		{"call me on 07700 900123 please", "call me on [phone number] please"},
		{"07700900123", "[phone number]"},
		{"my mobile is 07700-900-123.", "my mobile is [phone number]."},
		{"ring 020 7946 0018 after 6", "ring [phone number] after 6"},
		{"(020) 7946 0018", "[phone number]"},
		{"home: 01632 960 001", "home: [phone number]"},
		{"+44 7700 900123", "[phone number]"},
		{"+447700900123", "[phone number]"},
		{"+44 (0)20 7946 0018", "[phone number]"},
		{"0044 7700 900123", "[phone number]"},
		{"0800 123 4567 is free", "[phone number] is free"},
		{"0800 123 456", "[phone number]"},
		{"the helpline 0300 123 1100 said", "the helpline [phone number] said"},
		{"07700 900123 or 020 7946 0018", "[phone number] or [phone number]"},
		{"(07700 900123)", "([phone number])"},
		{"tel:07700900123", "tel:[phone number]"},
		{"mobile 07700 900 123, landline 0113 496 0000", "mobile [phone number], landline [phone number]"},
		// Email addresses.
		{"email jo.bloggs+pa@example.co.uk today", "email [email] today"},
		{"JO@EXAMPLE.COM", "[email]"},
		// National Insurance numbers.
		{"my NI is QQ 12 34 56 C", "my NI is [NI number]"},
		{"AB123456C", "[NI number]"},
		{"ab 12 34 56 d.", "[NI number]."},
		{"NI: JG103759A, phone 07700 900123", "NI: [NI number], phone [phone number]"},
		// Near misses: figures, dates, times, references, mentions.
		{"£12.71 an hour", "£12.71 an hour"},
		{"16 hours a week", "16 hours a week"},
		{"for 2026/27", "for 2026/27"},
		{"from 01/04/2026", "from 01/04/2026"},
		{"5.6 weeks", "5.6 weeks"},
		{"£1,000 or £10,000.00", "£1,000 or £10,000.00"},
		{"0.5 of a day", "0.5 of a day"},
		{"shift 0900-1700", "shift 0900-1700"},
		{"sort code 01-23-45", "sort code 01-23-45"},
		{"account 01234567", "account 01234567"},
		{"reference 012345678901234", "reference 012345678901234"},
		{"07700 90012", "07700 90012"},                   // one digit short
		{"7700 900123", "7700 900123"},                   // no leading 0
		{"£0300123110", "£0300123110"},                   // a sum, not a number to ring
		{"1.07700900123", "1.07700900123"},               // part of a figure
		{"AB123456E", "AB123456E"},                       // suffix not A-D
		{"AB12345C", "AB12345C"},                         // five digits
		{"DA123456C", "DA123456C"},                       // D is never a first letter
		{"in 123456 a week", "in 123456 a week"},         // I is never a first letter
		{"ask @askpa about pay", "ask @askpa about pay"}, // a mention
		{"user@localhost", "user@localhost"},             // no domain
		{"no digits here", "no digits here"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestRedactIdempotent checks that redacted text redacts to itself.
func TestRedactIdempotent(t *testing.T) {
	for _, s := range []string{"call 07700 900123 or email a@b.co", "QQ123456C", "+44 20 7946 0018"} {
		once := Redact(s)
		if twice := Redact(once); twice != once {
			t.Errorf("Redact(Redact(%q)) = %q, want %q", s, twice, once)
		}
	}
}
