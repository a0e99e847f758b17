package knowledge

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/mail"
	"net/url"
	"path"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// AreaFile is the file at the root of a local pack that describes the
// council's area.
const AreaFile = "area.yaml"

// Area is what a local pack's area.yaml says about one council: its name,
// where it is, and who people should call. Every field but ID and Name is
// optional: where a value is missing, national content says its fallback.
type Area struct {
	// ID names the pack in settings and URLs: lower case words joined by
	// hyphens ("devon").
	ID string `yaml:"id"`
	// Name is the council's name as people say it ("Devon County Council").
	Name string `yaml:"name"`
	// Districts lists the postcode areas ("EX") or districts ("EX4") the
	// council covers, in capitals.
	Districts []string `yaml:"districts"`
	// SocialCare is the adult social care front door.
	SocialCare Contact `yaml:"adult_social_care"`
	// Safeguarding is where to report a worry that an adult is being
	// abused or neglected.
	Safeguarding Safeguarding `yaml:"safeguarding"`
	// SupportService is the direct payment support service the council
	// funds (often the team behind askpa in this area).
	SupportService SupportService `yaml:"support_service"`
	// PANetwork is the council's PA register or network.
	PANetwork Link `yaml:"pa_network"`
	// Rates are the council's published direct payment hourly rates.
	Rates []Rate `yaml:"direct_payment_rates"`
	// Payroll is the payroll service the council funds.
	Payroll Service `yaml:"payroll"`
}

// Contact is a way to reach a team. Every field may be empty.
type Contact struct {
	Phone string `yaml:"phone"` // a UK number (see ValidPhone)
	Email string `yaml:"email"` // a plain address
	URL   string `yaml:"url"`   // an http(s) web page
}

// Safeguarding is a council's adult safeguarding team: its number in
// office hours, its out-of-hours number, and its web page (often with an
// online form).
type Safeguarding struct {
	Phone      string `yaml:"phone"`        // in office hours
	OutOfHours string `yaml:"out_of_hours"` // evenings, nights and weekends
	URL        string `yaml:"url"`          // its web page
}

// SupportService is a direct payment support service. Name is needed
// when any other field is given.
type SupportService struct {
	Name  string `yaml:"name"`
	Phone string `yaml:"phone"`
	Email string `yaml:"email"`
	// Hours says when it answers, as a person would write it ("9am to
	// 5pm, Monday to Friday").
	Hours string `yaml:"hours"`
	URL   string `yaml:"url"`
}

// Link is something with a name and a web page; the name is needed when
// the page is given.
type Link struct {
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
}

// Service is an organisation with a name and contact details; the name
// is needed when any detail is given.
type Service struct {
	Name  string `yaml:"name"`
	Phone string `yaml:"phone"`
	Email string `yaml:"email"`
	URL   string `yaml:"url"`
}

// Rate is one published direct payment hourly rate.
type Rate struct {
	// For says what the rate pays for ("a PA you employ directly").
	For string `yaml:"for"`
	// Hourly is the amount an hour, written "£15.20" once loaded.
	Hourly string `yaml:"hourly"`
	// Year is the financial year it applies to ("2026/27").
	Year string `yaml:"year"`
	// Source is the council's page that publishes it.
	Source string `yaml:"source"`
}

// Pack is a loaded local pack: a folder with area.yaml at its root and,
// optionally, Markdown documents (with the same front matter as national
// ones) that add to the knowledge base or replace national documents.
type Pack struct {
	Area Area
	// Name is how the pack's files are named in problems: the folder as
	// the operator gave it ("local/devon").
	Name string

	fsys fs.FS
	raw  []byte // area.yaml as read, for the knowledge base's hash
}

// File returns the name under which problems report file, a path inside
// the pack.
func (p *Pack) File(file string) string { return path.Join(p.Name, file) }

// LoadPack reads the local pack in fsys (see ReadPack). It returns a
// ProblemsError naming area.yaml and the line of every problem when the
// file is missing, cannot be parsed, has an unknown key, or has a value
// that is not valid (an id, a postcode district, a UK phone number, an
// email address, a web address, a rate or a year).
func LoadPack(fsys fs.FS, name string) (*Pack, error) {
	p, problems := ReadPack(fsys, name)
	if len(problems) > 0 {
		return nil, ProblemsError(problems)
	}
	return p, nil
}

// ReadPack reads and validates area.yaml at the root of fsys, naming files
// in problems path.Join(name, file). It returns every problem found (all
// of them stop the pack from loading) and the pack, which is nil when
// area.yaml is missing or is not YAML; a value with a problem is left as
// written, or empty when it has the wrong type. The pack's documents are
// read with the national knowledge base, by CheckWith.
func ReadPack(fsys fs.FS, name string) (*Pack, []Problem) {
	p := &Pack{Name: name, fsys: fsys}
	file := p.File(AreaFile)
	data, err := fs.ReadFile(fsys, AreaFile)
	if err != nil {
		msg := fmt.Sprintf("cannot read: %v", err)
		if errors.Is(err, fs.ErrNotExist) {
			msg = "a local pack needs an area.yaml at its top (copy local/template/area.yaml)"
		}
		return nil, []Problem{{File: file, Rule: "no-area", Message: msg, Fatal: true}}
	}
	p.raw = data
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line := yamlErrLine(err, 0)
		if strings.Contains(err.Error(), ": did not find expected") {
			// yaml.v3 counts lines from 0 for the parser's errors (its
			// scanner's count from 1).
			line++
		}
		return nil, []Problem{{File: file, Line: line, Rule: "bad-yaml", Message: yamlErrText(err), Fatal: true}}
	}
	var problems []Problem
	add := func(line int, rule, format string, args ...any) {
		problems = append(problems, Problem{File: file, Line: line, Rule: rule, Message: fmt.Sprintf(format, args...), Fatal: true})
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&p.Area); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			if errors.Is(err, io.EOF) {
				add(1, "missing-field", "area.yaml is empty: it needs at least id and name")
				return nil, problems
			}
			add(yamlErrLine(err, 0), "bad-yaml", "%s", yamlErrText(err))
			return nil, problems
		}
		for _, e := range te.Errors {
			line := yamlErrLine(errors.New(e), 0)
			if m := unknownField.FindStringSubmatch(e); m != nil {
				where, known := knownKeys(&root, line, m[1])
				add(line, "unknown-key", "unknown key %q%s (known: %s)", m[1], where, known)
				continue
			}
			add(line, "bad-yaml", "%s", yamlLinePrefix.ReplaceAllString(e, ""))
		}
		// The rest of the file was read: check it too, so that lint
		// reports every problem at once.
	}
	p.Area.validate(&root, add)
	if len(problems) > 0 {
		return p, problems
	}
	return p, nil
}

var (
	unknownField   = regexp.MustCompile(`field (\S+) not found in type`)
	yamlLinePrefix = regexp.MustCompile(`^line \d+: `)
	districtRe     = regexp.MustCompile(`^[A-Z]{1,2}([0-9][0-9A-Z]?)?$`)
	postcodeRe     = regexp.MustCompile(`^([A-Z]{1,2}[0-9][0-9A-Z]?)[0-9][A-Z]{2}$`)
	hourlyRe       = regexp.MustCompile(`^£?\s*([0-9]{1,3})(\.([0-9]{2}))?$`)
	yearRe         = regexp.MustCompile(`^(20[0-9]{2})/([0-9]{2})$`)
	// unsafeText are characters a value may not contain: they would be
	// read as Markdown, a placeholder or a table cell where the value is
	// put into content.
	unsafeText = "{}|<>[]*`\\"
)

// knownKeys finds the mapping that holds key on line and returns where it
// is (" in support_service") and the keys allowed there.
func knownKeys(root *yaml.Node, line int, key string) (where, known string) {
	var walk func(n *yaml.Node, t reflect.Type, at string) (string, reflect.Type, bool)
	walk = func(n *yaml.Node, t reflect.Type, at string) (string, reflect.Type, bool) {
		for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				if w, tt, ok := walk(c, t, at); ok {
					return w, tt, true
				}
			}
		case yaml.MappingNode:
			if t.Kind() != reflect.Struct {
				return "", nil, false
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Line == line && k.Value == key {
					return at, t, true
				}
				if f, ok := fieldByTag(t, k.Value); ok {
					if w, tt, ok := walk(v, f.Type, k.Value); ok {
						return w, tt, true
					}
				}
			}
		}
		return "", nil, false
	}
	at, t, ok := walk(root, reflect.TypeOf(Area{}), "")
	if !ok {
		t = reflect.TypeOf(Area{})
	}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("yaml"); tag != "" {
			keys = append(keys, tag)
		}
	}
	if at != "" {
		at = " in " + at
	}
	return at, strings.Join(keys, ", ")
}

func fieldByTag(t reflect.Type, tag string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("yaml") == tag {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

// valueLine returns the line of the value at keys (a path of mapping keys
// and, for lists, item numbers) in root, or of the nearest part of it that
// exists; 1 when nothing does.
func valueLine(root *yaml.Node, keys ...string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 1
	if n.Line > 0 {
		line = n.Line
	}
	for _, k := range keys {
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					next = n.Content[i+1]
					line = n.Content[i].Line
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(k); err == nil && i < len(n.Content) {
				next = n.Content[i]
			}
		}
		if next == nil {
			return line
		}
		n = next
		line = n.Line
	}
	return line
}

// validate checks the area's values, normalising districts and rates, and
// reports each problem at its line in root.
func (a *Area) validate(root *yaml.Node, add func(line int, rule, format string, args ...any)) {
	line := func(keys ...string) int { return valueLine(root, keys...) }
	a.ID = strings.TrimSpace(a.ID)
	switch {
	case a.ID == "":
		add(line("id"), "missing-field", "area.yaml needs an id: lower case words joined by hyphens, such as devon")
	case !idPattern.MatchString(a.ID):
		add(line("id"), "bad-id", "id %q must be lower case words joined by hyphens, such as devon", a.ID)
	}
	if a.Name = strings.TrimSpace(a.Name); a.Name == "" {
		add(line("name"), "missing-field", "area.yaml needs the council's name, such as Devon County Council")
	}
	text := func(v *string, keys ...string) {
		*v = strings.Join(strings.Fields(*v), " ")
		if strings.ContainsAny(*v, unsafeText) {
			add(line(keys...), "bad-text", "%s %q may not contain any of %s", strings.Join(keys, "."), *v, unsafeText)
		}
	}
	phone := func(v *string, keys ...string) {
		*v = strings.TrimSpace(*v)
		if *v != "" && !ValidPhone(*v) {
			add(line(keys...), "bad-phone", "%s %q is not a UK phone number: digits and spaces, starting 0 or +44, such as 01632 960000", strings.Join(keys, "."), *v)
		}
	}
	email := func(v *string, keys ...string) {
		*v = strings.TrimSpace(*v)
		if *v != "" && !validEmail(*v) {
			add(line(keys...), "bad-email", "%s %q is not an email address", strings.Join(keys, "."), *v)
		}
	}
	web := func(v *string, keys ...string) {
		*v = strings.TrimSpace(*v)
		if *v != "" && !ValidURL(*v) {
			add(line(keys...), "bad-url", "%s %q is not a web address starting https:// or http://", strings.Join(keys, "."), *v)
		}
	}
	text(&a.Name, "name")
	seen := map[string]bool{}
	for i, d := range a.Districts {
		d = strings.ToUpper(strings.TrimSpace(d))
		a.Districts[i] = d
		switch {
		case !districtRe.MatchString(d):
			add(line("districts", strconv.Itoa(i)), "bad-district", "district %q is not a postcode area (EX) or district (EX4)", d)
		case seen[d]:
			add(line("districts", strconv.Itoa(i)), "bad-district", "district %q is listed twice", d)
		}
		seen[d] = true
	}
	phone(&a.SocialCare.Phone, "adult_social_care", "phone")
	email(&a.SocialCare.Email, "adult_social_care", "email")
	web(&a.SocialCare.URL, "adult_social_care", "url")
	phone(&a.Safeguarding.Phone, "safeguarding", "phone")
	phone(&a.Safeguarding.OutOfHours, "safeguarding", "out_of_hours")
	web(&a.Safeguarding.URL, "safeguarding", "url")
	s := &a.SupportService
	text(&s.Name, "support_service", "name")
	phone(&s.Phone, "support_service", "phone")
	email(&s.Email, "support_service", "email")
	text(&s.Hours, "support_service", "hours")
	web(&s.URL, "support_service", "url")
	if s.Name == "" && (s.Phone != "" || s.Email != "" || s.Hours != "" || s.URL != "") {
		add(line("support_service"), "missing-field", "support_service needs a name to go with its details")
	}
	text(&a.PANetwork.Name, "pa_network", "name")
	web(&a.PANetwork.URL, "pa_network", "url")
	if a.PANetwork.Name == "" && a.PANetwork.URL != "" {
		add(line("pa_network"), "missing-field", "pa_network needs a name to go with its url")
	}
	for i := range a.Rates {
		r, n := &a.Rates[i], strconv.Itoa(i)
		text(&r.For, "direct_payment_rates", n, "for")
		if r.For == "" {
			add(line("direct_payment_rates", n), "missing-field", "each direct payment rate needs for: what it pays for")
		}
		if m := hourlyRe.FindStringSubmatch(strings.TrimSpace(r.Hourly)); m == nil {
			add(line("direct_payment_rates", n, "hourly"), "bad-rate", "hourly %q is not an amount in pounds such as £15.20", r.Hourly)
		} else {
			pence := m[3]
			if pence == "" {
				pence = "00"
			}
			r.Hourly = "£" + m[1] + "." + pence
		}
		r.Year = strings.TrimSpace(r.Year)
		if m := yearRe.FindStringSubmatch(r.Year); m == nil || !nextYear(m[1], m[2]) {
			add(line("direct_payment_rates", n, "year"), "bad-year", "year %q is not a financial year such as 2026/27", r.Year)
		}
		if r.Source = strings.TrimSpace(r.Source); r.Source == "" {
			add(line("direct_payment_rates", n), "missing-field", "each direct payment rate needs source: the council's page that publishes it")
		} else {
			web(&r.Source, "direct_payment_rates", n, "source")
		}
	}
	p := &a.Payroll
	text(&p.Name, "payroll", "name")
	phone(&p.Phone, "payroll", "phone")
	email(&p.Email, "payroll", "email")
	web(&p.URL, "payroll", "url")
	if p.Name == "" && (p.Phone != "" || p.Email != "" || p.URL != "") {
		add(line("payroll"), "missing-field", "payroll needs a name to go with its details")
	}
}

func nextYear(first, second string) bool {
	a, _ := strconv.Atoi(first)
	b, _ := strconv.Atoi(second)
	return (a+1)%100 == b
}

// ValidPhone reports whether s is written as a UK phone number: digits and
// single spaces, starting 0 (10 or 11 digits in all) or +44 (then 9 or 10
// digits, without the 0).
func ValidPhone(s string) bool {
	if s != strings.Join(strings.Fields(s), " ") {
		return false
	}
	digits := strings.ReplaceAll(s, " ", "")
	rest, intl := strings.CutPrefix(digits, "+44")
	if rest == "" {
		return false
	}
	for _, r := range rest {
		if r < '0' || r > '9' {
			return false
		}
	}
	if intl {
		return rest[0] != '0' && len(rest) >= 9 && len(rest) <= 10
	}
	return rest[0] == '0' && len(rest) >= 10 && len(rest) <= 11
}

// ValidURL reports whether s is an absolute http or https address with a
// host, and nothing a placeholder or Markdown would misread.
func ValidURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		!strings.ContainsAny(s, " \t"+unsafeText)
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && strings.Contains(s[strings.LastIndex(s, "@"):], ".") &&
		!strings.ContainsAny(s, unsafeText)
}

// ReadPacks reads the local packs in fsys, naming files in problems from
// name: fsys itself when area.yaml is at its top, otherwise each folder
// directly inside it that holds an area.yaml (others are ignored), in name
// order. Besides each pack's own problems (see ReadPack), it reports two
// packs with one id, a district listed by two packs, and a folder with no
// pack at all. Packs whose area.yaml is not YAML are left out.
func ReadPacks(fsys fs.FS, name string) ([]*Pack, []Problem) {
	if _, err := fs.Stat(fsys, AreaFile); err == nil {
		p, problems := ReadPack(fsys, name)
		if p == nil {
			return nil, problems
		}
		return []*Pack{p}, problems
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, []Problem{{File: name, Rule: "unreadable", Message: fmt.Sprintf("cannot list the local packs: %v", err), Fatal: true}}
	}
	var packs []*Pack
	var problems []Problem
	ids, districts := map[string]string{}, map[string]string{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sub, err := fs.Sub(fsys, e.Name())
		if err != nil {
			continue
		}
		if _, err := fs.Stat(sub, AreaFile); err != nil {
			continue
		}
		p, pp := ReadPack(sub, path.Join(name, e.Name()))
		problems = append(problems, pp...)
		if p == nil {
			continue
		}
		file := p.File(AreaFile)
		if prev, dup := ids[p.Area.ID]; dup && p.Area.ID != "" {
			problems = append(problems, Problem{File: file, Line: 1, Rule: "duplicate-area", Fatal: true,
				Message: fmt.Sprintf("id %q is already used by %s", p.Area.ID, prev)})
		}
		ids[p.Area.ID] = file
		for _, d := range p.Area.Districts {
			if prev, dup := districts[d]; dup {
				problems = append(problems, Problem{File: file, Line: 1, Rule: "duplicate-district", Fatal: true,
					Message: fmt.Sprintf("district %s is also listed by %s: each district belongs to one pack", d, prev)})
			}
			districts[d] = file
		}
		packs = append(packs, p)
	}
	if len(packs) == 0 && len(problems) == 0 {
		problems = append(problems, Problem{File: path.Join(name, AreaFile), Rule: "no-area", Fatal: true,
			Message: "no local pack here: want area.yaml in this folder, or in folders inside it (copy local/template)"})
	}
	return packs, problems
}

// LoadPacks is ReadPacks that fails, with a ProblemsError naming every
// file and line at fault, when there is any problem.
func LoadPacks(fsys fs.FS, name string) ([]*Pack, error) {
	packs, problems := ReadPacks(fsys, name)
	if len(problems) > 0 {
		return nil, ProblemsError(problems)
	}
	return packs, nil
}

// PickPack returns the pack among packs that what names (see PickArea),
// or nil when none does.
func PickPack(packs []*Pack, what string) *Pack {
	areas := make([]*Area, len(packs))
	for i, p := range packs {
		areas[i] = &p.Area
	}
	a := PickArea(areas, what)
	for _, p := range packs {
		if a == &p.Area {
			return p
		}
	}
	return nil
}

// PickArea returns the area among areas that what names: its id, its
// council's name (case and spacing aside, "Council" optional), or a
// postcode, district or postcode area it covers ("EX4 6PX", "EX4" and
// "ex4" all find an area listing EX4 or EX; the longest listed match
// wins). It returns nil when none does.
func PickArea(areas []*Area, what string) *Area {
	key := strings.ToLower(strings.Join(strings.Fields(what), " "))
	if key == "" {
		return nil
	}
	for _, a := range areas {
		name := strings.ToLower(a.Name)
		if key == a.ID || key == name || key+" council" == name || key+" county council" == name {
			return a
		}
	}
	out := strings.ToUpper(strings.Fields(key)[0])
	if m := postcodeRe.FindStringSubmatch(out); m != nil {
		out = m[1] // a postcode without its space: EX46PX
	}
	if !districtRe.MatchString(out) {
		return nil
	}
	var best *Area
	bestLen := 0
	for _, a := range areas {
		for _, d := range a.Districts {
			if len(d) > bestLen && (out == d || letters(out) == d) {
				best, bestLen = a, len(d)
			}
		}
	}
	return best
}

// letters returns the postcode area of a district ("EX" of "EX4").
func letters(district string) string {
	i := strings.IndexFunc(district, func(r rune) bool { return r >= '0' && r <= '9' })
	if i < 0 {
		return district
	}
	return district[:i]
}
