package bot

import (
	"context"
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/askpa/askpa/content"
	"github.com/askpa/askpa/index"
	"github.com/askpa/askpa/knowledge"
)

// miniSmallTalk is a valid small-talk file for tests that only vary the
// safety rules.
const miniSmallTalk = `
rules:
  - id: hello
    say: Hello!
    match: ['^hello$']
`

func TestParseRulesErrors(t *testing.T) {
	tests := []struct {
		name      string
		safety    string
		smallTalk string
		want      []string // every fragment must be in the error
	}{
		{
			name: "bad regex names the rule and the pattern",
			safety: `
rules:
  - id: broken-rule
    category: crisis
    match: ['\bfine\b', 'unclosed (group']`,
			want: []string{"broken-rule", "unclosed (group"},
		},
		{
			name: "bad regex in a per-pattern exception",
			safety: `
rules:
  - id: odd-exception
    category: crisis
    match:
      - {re: '\bhelp\b', unless: ['[z-a]']}`,
			want: []string{"odd-exception", "[z-a]"},
		},
		{
			name: "bad regex in a category exception",
			safety: `
categories:
  dispute:
    unless: ['(?P<x']
rules:
  - id: ok
    category: dispute
    match: ['x']`,
			want: []string{"dispute", "(?P<x"},
		},
		{
			name: "unknown category on a rule",
			safety: `
rules:
  - id: mystery
    category: emergency
    match: ['x']`,
			want: []string{"mystery", `unknown category "emergency"`},
		},
		{
			name: "unknown category in categories",
			safety: `
categories:
  panic:
    unless: ['x']
rules:
  - id: ok
    category: crisis
    match: ['x']`,
			want: []string{`unknown category "panic"`},
		},
		{
			name: "rule with no patterns",
			safety: `
rules:
  - id: empty-rule
    category: safeguarding
    say: nothing to match`,
			want: []string{"empty-rule", "no match patterns"},
		},
		{
			name: "duplicate id",
			safety: `
rules:
  - id: twice
    category: crisis
    match: ['a']
  - id: twice
    category: dispute
    match: ['b']`,
			want: []string{"twice", "used twice"},
		},
		{
			name: "rule without an id",
			safety: `
rules:
  - category: crisis
    match: ['a']`,
			want: []string{"no id"},
		},
		{
			name: "unknown audience",
			safety: `
rules:
  - id: for-whom
    category: crisis
    audience: nurses
    match: ['a']`,
			want: []string{"for-whom", `unknown audience "nurses"`},
		},
		{
			name: "unknown group",
			safety: `
groups:
  pet: [cat, dog]
rules:
  - id: grouped
    category: crisis
    match: ['\b{pets}\b']`,
			want: []string{"grouped", "{pets}"},
		},
		{
			name: "group that refers to itself",
			safety: `
groups:
  loop: ['a{loop}']
rules:
  - id: looping
    category: crisis
    match: ['{loop}']`,
			want: []string{"looping", "nested too deeply"},
		},
		{
			name: "match entry mapping without re",
			safety: `
rules:
  - id: no-re
    category: crisis
    match:
      - {unless: ['x']}`,
			want: []string{"needs re"},
		},
		{
			name: "audience hint for an unknown audience",
			safety: `
audiences:
  nurse: ['\bi am a nurse\b']
rules: []`,
			want: []string{"audiences", `"nurse"`},
		},
		{
			name: "bad audience hint pattern",
			safety: `
audiences:
  pa: ['(i am a pa']
rules: []`,
			want: []string{"audiences", "pa", "(i am a pa"},
		},
		{
			name:   "not YAML",
			safety: "rules: [",
			want:   []string{"safety rules"},
		},
		{
			name: "bad small-talk regex names the rule",
			safety: `
rules:
  - id: ok
    category: crisis
    match: ['x']`,
			smallTalk: `
rules:
  - id: wave
    say: hi
    match: ['(hi']`,
			want: []string{"small-talk rules", "wave", "(hi"},
		},
		{
			name:      "duplicate small-talk id",
			safety:    "rules: []",
			smallTalk: "rules: [{id: hi, match: [a]}, {id: hi, match: [b]}]",
			want:      []string{"small-talk rules", "hi", "used twice"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.smallTalk
			if st == "" {
				st = miniSmallTalk
			}
			_, err := ParseRules([]byte(tt.safety), []byte(st))
			if err == nil {
				t.Fatalf("ParseRules succeeded, want an error mentioning %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestParseRulesGroupsAndExceptions(t *testing.T) {
	r, err := ParseRules([]byte(`
groups:
  pet: [cat, 'dogs?']
  owner: ['my {pet}']
categories:
  crisis:
    unless: ['\btraining\b']
rules:
  - id: pet-lost
    category: crisis
    match:
      - re: '\b{owner} (is|are) lost\b'
        unless: ['\bfound\b']
      - '\bmissing {pet}\b'
`), []byte(miniSmallTalk))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text string
		want Category
	}{
		{"my dog is lost", CategoryCrisis},
		{"my dogs are lost", CategoryCrisis},
		{"my cat is lost", CategoryCrisis},
		{"my cat is lost but found now", ""},           // the pattern's own exception
		{"missing cat, found at last", CategoryCrisis}, // ... applies to that pattern alone
		{"missing cat training", ""},                   // the category's exception
		{"my hamster is lost", ""},
		// A pattern's own exceptions look only near each place it matches.
		{"my cat is lost and found", ""},
		{"my cat is lost, found the hamster though", ""},
		{"my dog is lost and we have looked in every street of the town all day long, then found my cat asleep", CategoryCrisis},
		{"found my dog in the morning after looking in every street of the town all day, and now my cat is lost", CategoryCrisis},
	}
	for _, tt := range tests {
		if got := r.Check(tt.text, knowledge.Employer).Category; got != tt.want {
			t.Errorf("Check(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestRuleGroups checks that a rule's own groups replace the shared ones,
// so two rules can share patterns through a YAML alias.
func TestRuleGroups(t *testing.T) {
	r, err := ParseRules([]byte(`
groups:
  who: [me, her]
rules:
  - id: about-others
    category: safeguarding
    groups:
      who: [her, him]
    match: &shared ['\bhits {who}\b']
  - id: about-me
    category: safeguarding
    audience: employer
    groups:
      who: [me]
    match: *shared
  - id: shared-groups
    category: dispute
    match: ['\bcalls {who}\b']
`), []byte(miniSmallTalk))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text     string
		audience knowledge.Audience
		want     []string
	}{
		{"he hits her", knowledge.PA, []string{"about-others"}},
		{"he hits me", knowledge.Employer, []string{"about-me"}},
		{"he hits me", knowledge.PA, nil},
		{"he hits him", knowledge.Employer, []string{"about-others"}},
		{"he calls me", knowledge.Employer, []string{"shared-groups"}},
		{"he calls him", knowledge.Employer, nil},
	}
	for _, tt := range tests {
		if got := ruleIDsOf(r.Check(tt.text, tt.audience)); !slices.Equal(got, tt.want) {
			t.Errorf("Check(%q, %s) matched %v, want %v", tt.text, tt.audience, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	r, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in, want string
	}{
		{"apostrophes dropped, spellings spelled out", "I can't cope, it's awful", "i can not cope it is awful"},
		{"curly apostrophes", "She’s not breathing, I don’t know", "she is not breathing i do not know"},
		{"punctuation becomes space", "Help!!! He's...collapsed?", "help he is collapsed"},
		{"chat spellings", "pls can u ring me rn", "please can you ring me right now"},
		{"possessives of family", "my mum's carer, my employer's son", "my mum carer my employer son"},
		{"£ and digits kept", "£12.71 an hour", "£12 71 an hour"},
		{"typo of a vocabulary word", "feeling suicidel", "feeling suicidal"},
		{"missing letter", "hes hiting her", "he is hitting her"},
		{"transposed letters", "she collasped", "she collapsed"},
		{"long word, two slips", "not breething properly", "not breathing properly"},
		{"first letter slips are not corrected", "putting myself forward", "putting myself forward"},
		{"a real word is not a typo", "she struggled and slipped", "she struggled and slipped"},
		{"pattern words are never corrected", "left her sitting in the car", "left her sitting in the car"},
		{"not a keyboard slip", "help with cooking", "help with cooking"},
		{"short words are left alone", "hte pa", "hte pa"},
		{"empty", "   ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestCorrectionLeavesRealWordsAlone runs every word of the knowledge base
// through the typo corrector: a correctly spelled word must never turn into
// a different (possibly alarming) one.
func TestCorrectionLeavesRealWordsAlone(t *testing.T) {
	r, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	base, err := knowledge.Load(content.FS)
	if err != nil {
		t.Fatal(err)
	}
	words := map[string]bool{}
	add := func(text string) {
		text = strings.NewReplacer("'", "", "’", "").Replace(strings.ToLower(text))
		for _, w := range strings.FieldsFunc(text, func(c rune) bool { return !unicode.IsLetter(c) }) {
			words[w] = true
		}
	}
	for _, d := range base.Documents {
		add(d.Title)
		for _, s := range d.Sections {
			add(s.Heading)
			add(s.Text)
		}
	}
	if len(words) < 1000 {
		t.Fatalf("only %d distinct words in the knowledge base; loading went wrong", len(words))
	}
	var changed []string
	for w := range words {
		if _, spelled := r.spellings[w]; spelled {
			continue
		}
		if c := r.correct(w); c != w {
			changed = append(changed, w+" -> "+c)
		}
	}
	slices.Sort(changed)
	if len(changed) > 0 {
		t.Errorf("typo correction changes %d correctly spelled words of the knowledge base (add them to keep in safety.yaml):\n%s",
			len(changed), strings.Join(changed, "\n"))
	}
}

func TestAudienceLimitedRules(t *testing.T) {
	r, err := ParseRules([]byte(`
audiences:
  pa: ['\bi am a pa\b']
  employer: ['\bi employ\b']
rules:
  - id: for-employers
    category: safeguarding
    audience: employer
    match: ['\bshouts at me\b']
  - id: for-pas
    category: safeguarding
    audience: pa
    match: ['\bhit me\b']
  - id: for-everyone
    category: safeguarding
    match: ['\bstole\b']
`), []byte(miniSmallTalk))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text     string
		audience knowledge.Audience
		want     []string
	}{
		{"my pa shouts at me", knowledge.Employer, []string{"for-employers"}},
		{"my pa shouts at me", knowledge.PA, nil},
		{"my pa shouts at me", knowledge.Both, []string{"for-employers"}},
		{"my pa shouts at me", "", []string{"for-employers"}},
		{"my employer hit me", knowledge.PA, []string{"for-pas"}},
		{"my employer hit me", knowledge.Employer, nil},
		{"he stole it and hit me", knowledge.Employer, []string{"for-everyone"}},
		{"he stole it and hit me", knowledge.PA, []string{"for-pas", "for-everyone"}},
		// Saying who you are wins over the channel's audience ...
		{"i am a pa and my employer hit me", knowledge.Employer, []string{"for-pas"}},
		{"i employ a pa who shouts at me", knowledge.PA, []string{"for-employers"}},
		// ... unless the message says both.
		{"i am a pa and i employ a pa who shouts at me", knowledge.PA, nil},
	}
	for _, tt := range tests {
		v := r.Check(tt.text, tt.audience)
		var got []string
		for _, rule := range v.Rules {
			got = append(got, rule.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Check(%q, %q) matched %v, want %v", tt.text, tt.audience, got, tt.want)
		}
	}

	// The built-in rules: a PA hit at work gets the PA's own signposting; an
	// employer saying the same is still a safeguarding concern.
	def, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	if v := def.Check("the man i support punched me", knowledge.PA); v.Category != CategorySafeguarding || v.Rules[0].ID != "pa-assaulted" {
		t.Errorf("PA punched: %s %v, want pa-assaulted first", v.Category, ruleIDsOf(v))
	}
	if v := def.Check("my carer punched me", knowledge.Employer); v.Category != CategorySafeguarding || slices.Contains(ruleIDsOf(v), "pa-assaulted") {
		t.Errorf("employer punched: %s %v, want safeguarding without the PA rule", v.Category, ruleIDsOf(v))
	}
	if v := def.Check("my pa keeps shouting at me", knowledge.PA); slices.Contains(ruleIDsOf(v), "abuse-of-employer-by-pa") {
		t.Errorf("the employer-only rule matched a PA: %v", ruleIDsOf(v))
	}
}

func ruleIDsOf(v Verdict) []string {
	var ids []string
	for _, r := range v.Rules {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestSignpostPassagesExist(t *testing.T) {
	base, err := knowledge.Load(content.FS)
	if err != nil {
		t.Fatal(err)
	}
	r, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	ids := r.Passages()
	if len(ids) < 5 {
		t.Fatalf("the built-in rules name only %d passages: %v", len(ids), ids)
	}
	for _, id := range ids {
		if _, ok := base.Passage(id); !ok {
			t.Errorf("a safety rule signposts %s, which is not in the knowledge base", id)
		}
	}
	for _, r := range r.safety {
		if (r.Category == CategoryCrisis || r.Category == CategorySafeguarding) && len(r.Signpost) == 0 {
			t.Errorf("urgent rule %s signposts nothing", r.ID)
		}
	}
}

func TestNewEngineRejectsMissingSignpost(t *testing.T) {
	base, err := knowledge.Load(content.FS)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ParseRules([]byte(`
rules:
  - id: points-nowhere
    category: crisis
    signpost: [emergency-help#if-someone-is-in-danger-right-now, emergency-help#no-such-section]
    match: ['x']
`), []byte(miniSmallTalk))
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewEngine(base, noSearch{}, EngineConfig{Rules: rules})
	if err == nil || !strings.Contains(err.Error(), "emergency-help#no-such-section") {
		t.Fatalf("NewEngine = %v, want an error naming the missing passage", err)
	}
	if strings.Contains(err.Error(), "if-someone-is-in-danger-right-now") {
		t.Errorf("error %q names a passage that exists", err)
	}

	// The built-in rules are accepted by the real knowledge base and index.
	ix, err := index.Open(context.Background(), base, index.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if _, err := NewEngine(base, ix, EngineConfig{}); err != nil {
		t.Fatalf("NewEngine with the built-in rules: %v", err)
	}
}

// noSearch is a searcher that must not be reached.
type noSearch struct{}

func (noSearch) Search(context.Context, knowledge.Query) ([]knowledge.Hit, error) {
	return nil, errors.New("search must not be called")
}

func TestRequiredStrings(t *testing.T) {
	tests := []struct {
		re   string
		want []string // nil: no usable set
	}{
		{`\bcouncil\b`, []string{"council"}},
		{`\b(hits|hit|hitting) (me|her)\b`, []string{"hits me", "hits her", "hit me", "hit her", "hitting me", "hitting her"}},
		{`\bsuicid(e|al|ally)\b`, []string{"suicide", "suicidal"}},
		{`\b(pay|paid)? ?rise\b`, []string{"rise"}},
		{`\b(no|not) (\w+ ){0,3}pay\b`, []string{"pay"}}, // one string beats two as long
		{`\bx\b`, nil},                            // too short to be worth it
		{`\b(abc|de)\b`, nil},                     // "de" is too short
		{`\b(abc|.*)\b`, nil},                     // anything matches
		{`(?i)council`, nil},                      // case-folded literals are not used
		{`^(hi|hello)$`, nil},                     // "hi" is too short
		{`\b(help|aid)+ now\b`, []string{" now"}}, // longer beats shorter
		{`\bcall (me|us) (now|back|today)\b`, []string{"call me now", "call me back", "call me today", "call us now", "call us back", "call us today"}},
	}
	for _, tt := range tests {
		got := requiredStrings(regexp.MustCompile(tt.re))
		slices.Sort(got)
		want := slices.Clone(tt.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("requiredStrings(%q) = %q, want %q", tt.re, got, want)
		}
	}
}

// TestNeededStringsNeverLoseAMatch checks the shortcut that spares most
// messages most patterns: whenever a pattern matches a message, the message
// contains one of the strings the pattern is said to need.
func TestNeededStringsNeverLoseAMatch(t *testing.T) {
	r, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		"my husband hits me", "the council has cut my direct payment", "I want to kill myself",
		"she's not breathing", "can someone ring me back", "my PA is stealing from my purse",
	}
	raw, err := os.ReadFile("testdata/safety_cases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var suite struct {
		Cases []struct {
			Q string `yaml:"q"`
		} `yaml:"cases"`
	}
	if err := yaml.Unmarshal(raw, &suite); err != nil {
		t.Fatal(err)
	}
	for _, c := range suite.Cases {
		texts = append(texts, c.Q)
	}
	base, err := knowledge.Load(content.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range base.Documents {
		texts = append(texts, d.Questions...)
		for _, s := range d.Sections {
			texts = append(texts, s.Heading)
		}
	}
	var all []pattern
	for _, rule := range append(slices.Clone(r.safety), r.smallTalk...) {
		all = append(all, rule.match...)
	}
	for _, ps := range r.saysWho {
		all = append(all, ps...)
	}
	withNeeds, hits := 0, 0
	for _, p := range all {
		if p.needIDs != nil {
			withNeeds++
		}
	}
	for _, text := range texts {
		norm := r.Normalize(text)
		found := r.needles.scan(norm)
		for _, p := range all {
			if !p.re.MatchString(norm) {
				continue
			}
			hits++
			if p.needIDs != nil && !found.any(p.needIDs) {
				t.Errorf("pattern %s matches %q but the message lacks all of %q", p.re, norm, p.need)
			}
		}
	}
	if withNeeds < len(all)/2 || hits < 300 {
		t.Errorf("%d of %d patterns have needed strings, %d matches checked: too few for the check to mean much", withNeeds, len(all), hits)
	}
}

// BenchmarkRulesCheck measures the safety check every message goes through
// before any search: a short question and a long, rambling message.
func BenchmarkRulesCheck(b *testing.B) {
	r, err := DefaultRules()
	if err != nil {
		b.Fatal(err)
	}
	for _, bm := range []struct{ name, text string }{
		{"short", "how much holiday does my PA get"},
		{"long", "Hi, sorry this is long. I've employed my PA for three years with a direct payment and the council have been fine, but since my husband died everything has piled up, payroll letters, the pension thing. Anyway I wanted to ask about the pension letter."},
	} {
		b.Run(bm.name, func(b *testing.B) {
			for b.Loop() {
				r.Check(bm.text, knowledge.Employer)
			}
		})
	}
}

func BenchmarkParseRules(b *testing.B) {
	for b.Loop() {
		if _, err := DefaultRules(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSignsNeedSeveralHints(t *testing.T) {
	safety := []byte(`
rules:
  - id: goodbye
    category: crisis
    say: s
    signs:
      need: 2
      list:
        - '\bletters for the kids\b'
        - '\brehomed the dog\b'
        - '\bsorted my will\b'
`)
	r, err := ParseRules(safety, []byte("rules: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		text string
		want Category
	}{
		{"I sorted my will last year", ""},
		{"I rehomed the dog and sorted my will", CategoryCrisis},
		{"left letters for the kids, sorted my will and rehomed the dog", CategoryCrisis},
		{"rehomed the dog, rehomed the dog", ""}, // one hint twice is still one
	} {
		if got := r.Check(tt.text, knowledge.Employer).Category; got != tt.want {
			t.Errorf("%q: %q, want %q", tt.text, got, tt.want)
		}
	}
	for _, bad := range []string{"need: 1", "need: 4"} {
		y := strings.Replace(string(safety), "need: 2", bad, 1)
		if _, err := ParseRules([]byte(y), []byte("rules: []\n")); err == nil || !strings.Contains(err.Error(), "signs need between 2 and 3") {
			t.Errorf("%s: error %v", bad, err)
		}
	}
}
