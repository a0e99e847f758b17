package knowledge

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// goodArea is an area.yaml with every key; its numbers are Ofcom's drama
// numbers.
const goodArea = `# a comment
id: testshire
name: Testshire Council
districts: [ts1, TS2, EX]
adult_social_care:
  phone: 01632 960100
  email: care@example.org
  url: https://www.example.org/care
safeguarding:
  phone: 01632 960200
  out_of_hours: "+44 1632 960201"
  url: https://www.example.org/safeguarding
support_service:
  name: Testshire Direct Payment Support
  phone: 01632 960300
  email: support@example.org
  hours: 9am to 5pm, Monday to Friday
  url: https://www.example.org/support
pa_network:
  name: Testshire PA Register
  url: https://www.example.org/pa-register
direct_payment_rates:
  - for: a PA you employ directly
    hourly: "£15.20"
    year: 2026/27
    source: https://www.example.org/rates
payroll:
  name: Testshire Payroll
  phone: 01632 960400
`

// area returns goodArea with each "old=>new" edit applied once.
func area(tb testing.TB, edits ...string) string {
	tb.Helper()
	s := goodArea
	for _, e := range edits {
		old, new, _ := strings.Cut(e, "=>")
		if !strings.Contains(s, old) {
			tb.Fatalf("area.yaml has no %q", old)
		}
		s = strings.Replace(s, old, new, 1)
	}
	return s
}

func packFS(areaYAML string, docs map[string]string) fstest.MapFS {
	m := fstest.MapFS{AreaFile: {Data: []byte(areaYAML)}}
	for name, data := range docs {
		m[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return m
}

func TestReadPackReadsEveryKey(t *testing.T) {
	p, problems := ReadPack(packFS(area(t), nil), "local/testshire")
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	a := p.Area
	if a.ID != "testshire" || a.Name != "Testshire Council" || strings.Join(a.Districts, ",") != "TS1,TS2,EX" {
		t.Errorf("id, name, districts = %q, %q, %q", a.ID, a.Name, a.Districts)
	}
	if a.Safeguarding.Phone != "01632 960200" || a.Safeguarding.OutOfHours != "+44 1632 960201" || a.SocialCare.Email != "care@example.org" {
		t.Errorf("contacts = %+v, %+v", a.Safeguarding, a.SocialCare)
	}
	if a.SupportService.Hours != "9am to 5pm, Monday to Friday" || a.PANetwork.Name != "Testshire PA Register" || a.Payroll.Phone != "01632 960400" {
		t.Errorf("support, network, payroll = %+v, %+v, %+v", a.SupportService, a.PANetwork, a.Payroll)
	}
	if len(a.Rates) != 1 || a.Rates[0] != (Rate{For: "a PA you employ directly", Hourly: "£15.20", Year: "2026/27", Source: "https://www.example.org/rates"}) {
		t.Errorf("rates = %+v", a.Rates)
	}
	if p.File(AreaFile) != "local/testshire/area.yaml" {
		t.Errorf("File = %q", p.File(AreaFile))
	}
	// Only id and name are needed.
	if _, problems := ReadPack(packFS("id: tiny\nname: Tiny Council\n", nil), "tiny"); len(problems) > 0 {
		t.Errorf("a minimal pack: %v", problems)
	}
	// An unquoted number is read as written.
	p, problems = ReadPack(packFS(area(t, "hourly: \"£15.20\"=>hourly: 15.20", "phone: 01632 960400=>phone: 01632960400"), nil), "x")
	if len(problems) > 0 || p.Area.Rates[0].Hourly != "£15.20" || p.Area.Payroll.Phone != "01632960400" {
		t.Errorf("unquoted values: %v, %+v", problems, p)
	}
}

// TestReadPackProblems breaks area.yaml in each way lint must catch: every
// problem names area.yaml in the pack and the line at fault.
func TestReadPackProblems(t *testing.T) {
	tests := []struct {
		name, yaml, rule string
		line             int
		message          string
	}{
		{"unknown key", area(t, "districts:=>council_tax: high\ndistricts:"), "unknown-key", 4, `unknown key "council_tax" (known: id, name, districts,`},
		{"unknown nested key", area(t, "  out_of_hours:=>  evenings: 01632 960209\n  out_of_hours:"), "unknown-key", 11, `unknown key "evenings" in safeguarding (known: phone, out_of_hours, url)`},
		{"unknown key in a rate", area(t, "    year: 2026/27=>    year: 2026/27\n    per: hour"), "unknown-key", 26, `unknown key "per" in direct_payment_rates (known: for, hourly, year, source)`},
		{"phone with letters", area(t, "phone: 01632 960200=>phone: 01632 96O200"), "bad-phone", 10, `safeguarding.phone "01632 96O200" is not a UK phone number`},
		{"phone too short", area(t, "phone: 01632 960100=>phone: 01632 960"), "bad-phone", 6, `adult_social_care.phone "01632 960"`},
		{"phone with +44 and 0", area(t, `out_of_hours: "+44 1632 960201"=>out_of_hours: "+44 01632 960201"`), "bad-phone", 11, `safeguarding.out_of_hours "+44 01632 960201"`},
		{"phone with dashes", area(t, "phone: 01632 960300=>phone: 01632-960300"), "bad-phone", 15, `support_service.phone "01632-960300"`},
		{"url without scheme", area(t, "url: https://www.example.org/support=>url: www.example.org/support"), "bad-url", 18, `support_service.url "www.example.org/support" is not a web address`},
		{"bad email", area(t, "email: support@example.org=>email: support at example"), "bad-email", 16, `support_service.email "support at example" is not an email address`},
		{"bad district", area(t, "[ts1, TS2, EX]=>[TS1, Testshire]"), "bad-district", 4, `district "TESTSHIRE" is not a postcode area (EX) or district (EX4)`},
		{"district twice", area(t, "[ts1, TS2, EX]=>[TS1, ts1]"), "bad-district", 4, `district "TS1" is listed twice`},
		{"districts not a list", area(t, "[ts1, TS2, EX]=>TS1"), "bad-yaml", 4, "cannot unmarshal !!str `TS1` into []string"},
		{"bad rate", area(t, `"£15.20"=>"about fifteen pounds"`), "bad-rate", 24, `hourly "about fifteen pounds" is not an amount`},
		{"bad year", area(t, "year: 2026/27=>year: 2026/28"), "bad-year", 25, `year "2026/28" is not a financial year such as 2026/27`},
		{"rate without a source", area(t, "    source: https://www.example.org/rates\n=>"), "missing-field", 23, "each direct payment rate needs source"},
		{"markup in text", area(t, "name: Testshire Council=>name: Testshire {{Council}}"), "bad-text", 3, `name "Testshire {{Council}}" may not contain`},
		{"support details without a name", area(t, "  name: Testshire Direct Payment Support\n=>"), "missing-field", 14, "support_service needs a name"},
		{"no id", area(t, "id: testshire\n=>"), "missing-field", 2, "area.yaml needs an id"},
		{"bad id", area(t, "id: testshire=>id: Test Shire"), "bad-id", 2, `id "Test Shire" must be lower case words joined by hyphens`},
		{"no name", area(t, "name: Testshire Council=>name: \"\""), "missing-field", 3, "needs the council's name"},
		{"key twice", area(t, "id: testshire=>id: testshire\nid: other"), "bad-yaml", 3, `mapping key "id" already defined at line 2`},
		{"bad yaml", area(t, "name: Testshire Council=>name: [Testshire"), "bad-yaml", 3, "did not find expected"},
		{"empty", "", "missing-field", 1, "area.yaml is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := ReadPack(packFS(tt.yaml, nil), "local/testshire")
			var found *Problem
			for i, p := range problems {
				if p.Rule == tt.rule {
					found = &problems[i]
				}
			}
			if found == nil {
				t.Fatalf("no %s problem; got %v", tt.rule, problems)
			}
			if found.File != "local/testshire/area.yaml" || found.Line != tt.line || !strings.Contains(found.Message, tt.message) || !found.Fatal {
				t.Errorf("got %s (fatal %v)\nwant local/testshire/area.yaml:%d: ...%s...", found, found.Fatal, tt.line, tt.message)
			}
			_, err := LoadPack(packFS(tt.yaml, nil), "local/testshire")
			var pe ProblemsError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), found.String()) {
				t.Errorf("LoadPack: %v, want a ProblemsError with %s", err, found)
			}
		})
	}
	_, problems := ReadPack(fstest.MapFS{"README.md": {Data: []byte("x")}}, "local/empty")
	if len(problems) != 1 || problems[0].Rule != "no-area" || problems[0].File != "local/empty/area.yaml" {
		t.Errorf("a pack without area.yaml: %v", problems)
	}
}

func TestValidPhone(t *testing.T) {
	for s, want := range map[string]bool{
		"01632 960000": true, "01632960000": true, "0345 600 0388": true, "+44 1632 960000": true, "+441632960000": true,
		"020 7946 0000": true, "0800 123 456": true,
		"": false, "999": false, "01632  960000": false, " 01632 960000": false, "+44 01632 960000": false,
		"1632 960000": false, "01632-960000": false, "(01632) 960000": false, "01632 960000 ext 2": false, "+1 555 0100 123": false,
	} {
		if got := ValidPhone(s); got != want {
			t.Errorf("ValidPhone(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestScanPlaceholders(t *testing.T) {
	text := "Call {{local.safeguarding_team | the council's team}} now.\n" +
		"Ask {{ local.council }} or {{local.support_phone|}}.\n" +
		"{{local.safe_guarding | x}} and {{locl.council | y}}\n" +
		"{{local.council | not closed\n" +
		"{{{local.council | triple}}}\n"
	found, problems := ScanPlaceholders("f.md", text, 10)
	var got []string
	for _, p := range found {
		got = append(got, p.Name+"|"+p.Fallback+"|"+map[bool]string{true: "bar", false: "none"}[p.HasFallback]+"|"+strconv.Itoa(p.Line))
	}
	want := []string{"safeguarding_team|the council's team|bar|10", "council||none|11", "support_phone||bar|11", "safe_guarding|x|bar|12", "council|triple|bar|14"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("found:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var ps []string
	for _, p := range problems {
		ps = append(ps, p.String())
	}
	wantP := []string{
		"f.md:12: unknown placeholder local.safe_guarding",
		`f.md:12: "{{" starts no placeholder`,
		`f.md:13: "{{" starts no placeholder`,
		`f.md:14: "{{" starts no placeholder`,
	}
	if len(ps) != len(wantP) {
		t.Fatalf("problems:\n%s", strings.Join(ps, "\n"))
	}
	for i := range wantP {
		if !strings.HasPrefix(ps[i], wantP[i]) {
			t.Errorf("problem %d = %s, want %s...", i, ps[i], wantP[i])
		}
	}
}

func TestExpand(t *testing.T) {
	p, problems := ReadPack(packFS(area(t), nil), "x")
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	text := "Tell {{local.safeguarding_team | the council's adult safeguarding team}}; out of hours {{local.safeguarding_out_of_hours | use its out-of-hours number}}. {{local.direct_payment_rates |}}"
	var none *Area
	if got, want := none.Expand(text), "Tell the council's adult safeguarding team; out of hours use its out-of-hours number. "; got != want {
		t.Errorf("without a pack:\n%q\nwant\n%q", got, want)
	}
	want := "Tell Testshire Council's adult safeguarding team on 01632 960200 (out of hours: +44 1632 960201); out of hours +44 1632 960201. " +
		"Testshire Council publishes these direct payment rates: £15.20 an hour for a PA you employ directly in 2026/27."
	if got := p.Area.Expand(text); got != want {
		t.Errorf("with a pack:\n%q\nwant\n%q", got, want)
	}
	// A detail the pack does not give gets the fallback; so does an unknown
	// name; text that is no placeholder stays.
	p.Area.Safeguarding = Safeguarding{}
	if got := p.Area.Expand("Tell {{local.safeguarding_team | your council}}, {{local.nope | x}}, {{oops}}"); got != "Tell your council, x, {{oops}}" {
		t.Errorf("partial pack: %q", got)
	}
	for _, ph := range Placeholders() {
		if v := none.Value(ph.Name); v != "" {
			t.Errorf("nil area gives %s = %q", ph.Name, v)
		}
		if ph.About == "" {
			t.Errorf("%s has no description", ph.Name)
		}
	}
	for name, want := range map[string]string{
		"council":          "Testshire Council",
		"social_care_team": "Testshire Council's adult social care team on 01632 960100",
		"support_contact":  "Testshire Direct Payment Support on 01632 960300 (open 9am to 5pm, Monday to Friday)",
		"payroll_contact":  "Testshire Payroll on 01632 960400",
		"pa_network":       "Testshire PA Register",
		"safeguarding_url": "",
	} {
		if got := p.Area.Value(name); got != want {
			t.Errorf("Value(%s) = %q, want %q", name, got, want)
		}
	}
}

// national is a small national knowledge base whose documents name local
// details with placeholders.
func national() fstest.MapFS {
	return fsWith(map[string]string{
		"g/safe.md": doc("safe", "## Reporting abuse\n\nTell {{local.safeguarding_team | your council's adult safeguarding team}} today.\n\n## Out of hours\n\nCall {{local.safeguarding_out_of_hours | the council's out-of-hours number}}.\n"),
		"g/pay.md":  doc("pay", "## Direct payment rates\n\nThe council sets the rate. {{local.direct_payment_rates |}}\n\nSee [reporting](safe.md#reporting-abuse).\n"),
		"g/old.md":  doc("old", "## Old advice\n\nThis is national advice.\n"),
	})
}

func TestCheckWithPack(t *testing.T) {
	// Without a pack: the fallbacks.
	base, problems := CheckWith(national(), nil, today)
	if len(problems) > 0 {
		t.Fatalf("problems without a pack: %v", problems)
	}
	p, _ := base.Passage("safe#reporting-abuse")
	if p.Section.Text != "Tell your council's adult safeguarding team today." {
		t.Errorf("without a pack: %q", p.Section.Text)
	}
	p, _ = base.Passage("pay#direct-payment-rates")
	if !strings.HasPrefix(p.Section.Text, "The council sets the rate.\n\nSee reporting.") {
		t.Errorf("an empty fallback: %q", p.Section.Text)
	}

	// With a pack: its values, a document that replaces a national one by
	// id, one that replaces by "replaces:", and one that adds.
	pack, problems := ReadPack(packFS(area(t), map[string]string{
		"safe.md":     doc("safe", "## Reporting abuse\n\nIn Testshire, call {{local.safeguarding_phone}}.\n\n## Out of hours\n\nCall {{local.safeguarding_out_of_hours}}.\n"),
		"docs/new.md": doc("testshire-advice", "## Local advice\n\nTestshire advice for {{local.council}}.\n", "replaces: old"),
		"extra.md":    doc("testshire-groups", "## Local groups\n\nA group near you. See [local advice](docs/new.md#local-advice) and [out of hours](safe.md#out-of-hours).\n"),
		"README.md":   "Not a document.",
	}), "local/testshire")
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	withPack, problems := CheckWith(national(), pack, today)
	if len(problems) > 0 {
		t.Fatalf("problems with the pack: %v", problems)
	}
	var ids []string
	for _, d := range withPack.Documents {
		ids = append(ids, d.ID+"<"+d.Local+":"+d.Replaces+">")
	}
	if got, want := strings.Join(ids, " "), "testshire-advice<testshire:old> pay<:> safe<testshire:safe> testshire-groups<testshire:>"; got != want {
		t.Errorf("documents = %s\nwant        %s", got, want)
	}
	if withPack.Document("old") != nil {
		t.Error("the replaced document is still there")
	}
	p, _ = withPack.Passage("safe#reporting-abuse")
	if p.Section.Text != "In Testshire, call 01632 960200." || p.Doc.Path != "local/testshire/safe.md" {
		t.Errorf("replaced by id: %q from %s", p.Section.Text, p.Doc.Path)
	}
	p, _ = withPack.Passage("pay#direct-payment-rates")
	if !strings.Contains(p.Section.Text, "The council sets the rate. Testshire Council publishes these direct payment rates: £15.20 an hour") {
		t.Errorf("a national section with the pack: %q", p.Section.Text)
	}
	p, _ = withPack.Passage("testshire-advice#local-advice")
	if p.Section.Text != "Testshire advice for Testshire Council." {
		t.Errorf("a local document: %q", p.Section.Text)
	}
	if withPack.Hash == base.Hash {
		t.Error("the hash is the same with and without the pack")
	}
	if again, _ := CheckWith(national(), pack, today); again.Hash != withPack.Hash {
		t.Error("the hash changed for the same pack")
	}
	if b, err := LoadWith(national(), pack); err != nil || len(b.Documents) != 4 {
		t.Errorf("LoadWith: %v", err)
	}
}

// TestCheckWithPackProblems checks the rules about placeholders and local
// documents, each naming the file and line.
func TestCheckWithPackProblems(t *testing.T) {
	tests := []struct {
		name     string
		national map[string]string // added to national()
		docs     map[string]string // the pack's documents
		rule     string
		file     string
		line     int
		message  string
		fatal    bool
	}{
		{"replaces an id that does not exist", nil, map[string]string{"a.md": doc("testshire-a", goodBody, "replaces: olld")},
			"unknown-replaces", "local/testshire/a.md", 13, `replaces "olld", but no national document has that id`, true},
		{"national placeholder without a fallback", map[string]string{"g/x.md": doc("x", "## X\n\nCall {{local.safeguarding_phone}}.\n")}, nil,
			"no-fallback", "g/x.md", 17, "national content needs a fallback", false},
		{"unknown placeholder", map[string]string{"g/x.md": doc("x", "## X\n\nText.\n\nCall {{local.safeguarding_number | them}}.\n")}, nil,
			"unknown-placeholder", "g/x.md", 19, "unknown placeholder local.safeguarding_number", false},
		{"malformed placeholder", map[string]string{"g/x.md": doc("x", "## X\n\nCall {{local.council | them.\n")}, nil,
			"bad-placeholder", "g/x.md", 17, `"{{" starts no placeholder`, false},
		{"local placeholder the pack does not give", nil, map[string]string{"a.md": doc("testshire-a", "## A\n\nPay through {{local.payroll_url}}.\n")},
			"no-value", "local/testshire/a.md", 17, "local/testshire/area.yaml gives no value for local.payroll_url", false},
		{"replaces in a national document", map[string]string{"g/x.md": doc("x", goodBody, "replaces: old")}, nil,
			"unknown-field", "g/x.md", 13, "replaces is only for a local pack's documents", false},
		{"two local documents with one id", nil, map[string]string{"a.md": doc("testshire-a", goodBody), "b.md": doc("testshire-a", goodBody)},
			"duplicate-id", "local/testshire/b.md", 2, `id "testshire-a" is already used by local/testshire/a.md`, true},
		{"local link to nothing", nil, map[string]string{"a.md": doc("testshire-a", "## A\n\nSee [x](nowhere.md).\n")},
			"broken-link", "local/testshire/a.md", 17, "points to local/testshire/nowhere.md, which does not exist", false},
		{"national link into a replacement without the section", nil, map[string]string{"safe.md": doc("safe", "## Something else\n\nText.\n")},
			"broken-link", "g/pay.md", 19, "local/testshire/safe.md, which replaces it, has no section #reporting-abuse", false},
		{"bad local front matter", nil, map[string]string{"a.md": doc("testshire-a", goodBody, "kind: leaflet")},
			"bad-kind", "local/testshire/a.md", 4, `kind "leaflet"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nat := national()
			for name, data := range tt.national {
				nat[name] = &fstest.MapFile{Data: []byte(data)}
			}
			pack, problems := ReadPack(packFS(area(t), tt.docs), "local/testshire")
			if len(problems) > 0 {
				t.Fatal(problems)
			}
			_, problems = CheckWith(nat, pack, today)
			var found *Problem
			for i, p := range problems {
				if p.Rule == tt.rule {
					found = &problems[i]
				}
			}
			if found == nil {
				t.Fatalf("no %s problem; got %v", tt.rule, problems)
			}
			if found.File != tt.file || found.Line != tt.line || !strings.Contains(found.Message, tt.message) || found.Fatal != tt.fatal {
				t.Errorf("got %s (fatal %v)\nwant %s:%d: ...%s... (fatal %v)", found, found.Fatal, tt.file, tt.line, tt.message, tt.fatal)
			}
			if _, err := LoadWith(nat, pack); (err != nil) != tt.fatal {
				t.Errorf("LoadWith: %v, want failure %v", err, tt.fatal)
			}
		})
	}
}

// FuzzReadPack reads a fuzzed area.yaml. ReadPack never panics; every
// problem names area.yaml, a line within the file, a rule and a message,
// and is fatal; a pack without problems has a valid id and a name, and
// its phone numbers are valid.
func FuzzReadPack(f *testing.F) {
	f.Add(goodArea)
	f.Add("id: x\nname: X\n")
	f.Add("id: x\nname: X\nsafeguarding: {phone: 0, out_of_hours: [1]}\nfoo: 1\n")
	f.Add("id: x\nname: [X\n")
	f.Add("direct_payment_rates:\n  - hourly: 1\n    year: 1999/00\n")
	f.Add("- a\n- b\n")
	f.Add("id: &a x\nname: *a\n")
	f.Fuzz(func(t *testing.T, data string) {
		lines := strings.Count(data, "\n") + strings.Count(data, "\r") - strings.Count(data, "\r\n") + 1
		p, problems := ReadPack(packFS(data, nil), "pack")
		for _, pr := range problems {
			if pr.File != "pack/area.yaml" || pr.Line < 1 || pr.Line > lines+1 || pr.Rule == "" || pr.Message == "" || !pr.Fatal {
				t.Fatalf("problem %+v: want pack/area.yaml, a line in 1..%d, a rule, a message, fatal", pr, lines+1)
			}
		}
		if len(problems) > 0 {
			return
		}
		a := p.Area
		if !idPattern.MatchString(a.ID) || a.Name == "" {
			t.Fatalf("loaded %+v", a)
		}
		for _, ph := range []string{a.SocialCare.Phone, a.Safeguarding.Phone, a.Safeguarding.OutOfHours, a.SupportService.Phone, a.Payroll.Phone} {
			if ph != "" && !ValidPhone(ph) {
				t.Fatalf("phone %q loaded", ph)
			}
		}
	})
}

func TestReadPacksAndPickPack(t *testing.T) {
	other := "id: otherton\nname: Otherton County Council\ndistricts: [OT1, EX4]\n"
	fsys := fstest.MapFS{
		"testshire/area.yaml": {Data: []byte(area(t))},
		"otherton/area.yaml":  {Data: []byte(other)},
		"otherton/local.md":   {Data: []byte(doc("otherton-groups", goodBody))},
		"notes/README.md":     {Data: []byte("not a pack")},
		"README.md":           {Data: []byte("packs live in folders")},
	}
	packs, problems := ReadPacks(fsys, "local")
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if len(packs) != 2 || packs[0].Area.ID != "otherton" || packs[0].Name != "local/otherton" || packs[1].Area.ID != "testshire" {
		t.Fatalf("packs = %+v", packs)
	}
	for what, want := range map[string]string{
		"testshire": "testshire", "Testshire Council": "testshire", "testshire  council": "testshire", "otherton": "otherton",
		"Otherton County Council": "otherton", "ts1": "testshire", "TS2 4AB": "testshire", "ts24ab": "testshire",
		"EX4": "otherton", "ex4 6px": "otherton", "EX1": "testshire", "EX": "testshire", "OT1": "otherton",
		"ZZ9": "", "Nowhere Council": "", "": "", "devon": "", "DE": "",
	} {
		got := ""
		if p := PickPack(packs, what); p != nil {
			got = p.Area.ID
		}
		if got != want {
			t.Errorf("PickPack(%q) = %q, want %q", what, got, want)
		}
	}
	// One pack at the top.
	single, problems := ReadPacks(fstest.MapFS{AreaFile: {Data: []byte(other)}, "otherton/area.yaml": {Data: []byte(area(t))}}, "local/otherton")
	if len(problems) > 0 || len(single) != 1 || single[0].Area.ID != "otherton" || single[0].Name != "local/otherton" {
		t.Errorf("a single pack: %+v %v", single, problems)
	}
	// Two packs with one id or one district; a folder with no pack.
	fsys["copy/area.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(other, "[OT1, EX4]", "[TS1]", 1))}
	_, problems = ReadPacks(fsys, "local")
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	want := []string{
		"local/otherton/area.yaml:1: id \"otherton\" is already used by local/copy/area.yaml (duplicate-area)",
		"local/testshire/area.yaml:1: district TS1 is also listed by local/copy/area.yaml: each district belongs to one pack (duplicate-district)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := LoadPacks(fsys, "local"); err == nil {
		t.Error("LoadPacks accepted two packs with one id")
	}
	_, problems = ReadPacks(fstest.MapFS{"notes/README.md": {Data: []byte("x")}}, "local")
	if len(problems) != 1 || problems[0].Rule != "no-area" || problems[0].File != "local/area.yaml" {
		t.Errorf("no pack: %v", problems)
	}
}
