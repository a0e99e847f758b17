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
		// Postcodes, in the forms people type them.
		{"I live at EX4 1AA", "I live at [postcode]"},
		{"postcode sw1a 1aa please", "postcode [postcode] please"},
		{"M1 1AE.", "[postcode]."},
		{"(B33 8TH)", "([postcode])"},
		{"ex41aa", "[postcode]"},
		{"my PA lives in CR2 6XH, I'm in EX4", "my PA lives in [postcode], I'm in EX4"},
		// Names: introduced, after a title, after a cue, or a common given
		// name written with a capital, each with its surname.
		{"my name is Agata Kowalska and I employ a PA", "my name is [name] and I employ a PA"},
		{"hi, my name is jo", "hi, my name is [name]"},
		{"Her name's Blessing Okafor.", "Her name's [name]."},
		{"I'm called Mo", "I'm called [name]"},
		{"my PA is called Agnes", "my PA is called [name]"},
		{"she is named Zofia Nowak", "she is named [name]"},
		{"Mrs Patel says I owe her notice pay", "Mrs [name] says I owe her notice pay"},
		{"Dr. Okafor signed me off", "Dr. [name] signed me off"},
		{"Sarah has been off sick for 2 weeks", "[name] has been off sick for 2 weeks"},
		{"my PA Sarah Jones wants a pay rise", "my PA [name] wants a pay rise"},
		{"is Mohammed's holiday pay right?", "is [name]'s holiday pay right?"},
		{"thanks, Dave", "thanks, [name]"},
		{"Regards Kieran Doyle", "Regards [name]"},
		{"I called HMRC and Acas", "I called HMRC and Acas"},
		{"called Adult Social Care yesterday", "called Adult Social Care yesterday"},
		{"Thanks I will try that", "Thanks I will try that"},
		{"my name is not important", "my name is not important"},
		{"Sarah Monday shift", "[name] Monday shift"},
		{"I saw Mr R's hand", "I saw Mr [name]'s hand"},
		{"a PA called Bev's van", "a PA called [name]'s van"},
		{"Dear Sir or Madam", "Dear Sir or Madam"},
		{"please call me, I'll give you the number", "please call me, I'll give you the number"},
		{"the named person on the account", "the named person on the account"},
		{"discharged from St Thomas' yesterday", "discharged from St Thomas' yesterday"},
		{"I'll see Sam on Monday", "I'll see [name] on Monday"},
		{"John Smith, EX4 1AA, 07700 900123", "[name], [postcode], [phone number]"},
		// Near misses: words that look like names or postcodes.
		{"will my PA get holiday in May?", "will my PA get holiday in May?"},
		{"Will she get paid for bank holidays?", "Will she get paid for bank holidays?"},
		{"I miss my old PA", "I miss my old PA"},
		{"my name is on the contract", "my name is on the contract"},
		{"does the NHS pay for a PA?", "does the NHS pay for a PA?"},
		{"tax code 1257L", "tax code 1257L"},
		{"areas EX4 and EX5", "areas EX4 and EX5"},
		{"16 hours a week, 2 PAs", "16 hours a week, 2 PAs"},
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
	for _, s := range []string{"call 07700 900123 or email a@b.co", "QQ123456C", "+44 20 7946 0018",
		"my name is Agata, I live at EX4 1AA", "Mrs Patel and Sarah Jones", "thanks, Dave"} {
		once := Redact(s)
		if twice := Redact(once); twice != once {
			t.Errorf("Redact(Redact(%q)) = %q, want %q", s, twice, once)
		}
	}
}
