package bot

import (
	_ "embed"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/askpa/askpa/internal/editdistance"
	"github.com/askpa/askpa/knowledge"
)

// Category is what kind of situation a safety rule recognises.
type Category string

// Safety categories, most serious first.
const (
	CategoryCrisis       Category = "crisis"
	CategorySafeguarding Category = "safeguarding"
	CategoryRequested    Category = "requested"
	CategoryDispute      Category = "dispute"
)

var categoryOrder = []Category{CategoryCrisis, CategorySafeguarding, CategoryRequested, CategoryDispute}

//go:embed safety.yaml
var defaultSafetyRules []byte

//go:embed smalltalk.yaml
var defaultSmallTalkRules []byte

// Rule is one compiled rule of safety.yaml or smalltalk.yaml.
type Rule struct {
	ID       string
	Category Category
	Audience knowledge.Audience // empty for everyone
	Say      string
	Signpost []string // passage ids to send
	Search   bool     // also answer from the knowledge base: a dispute's first step, or the question after signposting
	match    []pattern
	unless   []*regexp.Regexp
	// signs are weaker hints, none enough alone ("left letters for the
	// kids", "rehomed my dog"); the rule also matches when at least
	// signsNeeded different signs appear in one message.
	signs       []pattern
	signsNeeded int
}

// pattern is one "match" entry: a regular expression and the exceptions
// that apply to it alone.
type pattern struct {
	re     *regexp.Regexp
	unless []*regexp.Regexp
	// need lists strings of which every match contains at least one (nil
	// when there are none worth checking): a cheap test that spares most
	// messages the regular expression. needIDs are their numbers in the
	// rules' needles.
	need    []string
	needIDs []int32
}

// matchEntry is a "match" entry as written: either a pattern, or a mapping
// {re: pattern, unless: [patterns]} for a pattern with its own exceptions.
type matchEntry struct {
	Re     string   `yaml:"re"`
	Unless []string `yaml:"unless"`
}

func (m *matchEntry) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&m.Re)
	}
	type plain matchEntry
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	if p.Re == "" {
		return fmt.Errorf("line %d: a match entry needs re", n.Line)
	}
	*m = matchEntry(p)
	return nil
}

// Rules recognises crisis, safeguarding, requests for a person, disputes and
// small talk in messages. It is built from data files (safety.yaml,
// smalltalk.yaml) and is safe for concurrent use.
type Rules struct {
	safety     []*Rule
	smallTalk  []*Rule
	catUnless  map[Category][]*regexp.Regexp
	spellings  map[string]string
	vocabulary map[string]bool
	byLength   map[int][]string // vocabulary by word length, for typo correction
	// known words are spelled as meant and never corrected: the words of
	// "keep" and every word the patterns spell out.
	known map[string]bool
	// needles finds at once which of the patterns' needed strings a
	// message contains.
	needles needles
	// saysWho recognises people saying who they are ("I'm a PA"), which
	// wins over the audience of the channel they write from.
	saysWho map[knowledge.Audience][]pattern
	// concern is the statistical second line (see concern.go), used only
	// when no rule matched; nil when the rules were parsed without it.
	concern          *concernModel
	concernThreshold float64
	concernRules     map[Category]*Rule
	// offTopicRule is the small-talk rule the concern model's off-topic
	// verdicts reply with, when it is at least offTopicThreshold sure.
	offTopicRule      *Rule
	offTopicThreshold float64
}

type rulesFile struct {
	Spellings  map[string]string   `yaml:"spellings"`
	Vocabulary []string            `yaml:"vocabulary"`
	Keep       []string            `yaml:"keep"`
	Groups     map[string][]string `yaml:"groups"`
	// Audiences lists, for employer and pa, patterns of people saying
	// which they are.
	Audiences  map[knowledge.Audience][]string `yaml:"audiences"`
	Categories map[Category]struct {
		Unless []string `yaml:"unless"`
	} `yaml:"categories"`
	// Concern says how sure the concern model must be, and what to reply
	// for each category it finds.
	Concern struct {
		Threshold float64                   `yaml:"threshold"`
		Replies   map[Category]concernReply `yaml:"replies"`
	} `yaml:"concern"`
	// OffTopicModel (small talk) names the rule whose reply the concern
	// model's off-topic verdicts use, and how sure it must be.
	OffTopicModel struct {
		Rule      string  `yaml:"rule"`
		Threshold float64 `yaml:"threshold"`
	} `yaml:"offtopic_model"`
	Rules []struct {
		ID       string              `yaml:"id"`
		Category Category            `yaml:"category"`
		Audience knowledge.Audience  `yaml:"audience"`
		Groups   map[string][]string `yaml:"groups"`
		Say      string              `yaml:"say"`
		Signpost []string            `yaml:"signpost"`
		Search   bool                `yaml:"search"`
		Match    []matchEntry        `yaml:"match"`
		Unless   []string            `yaml:"unless"`
		Signs    struct {
			Need int          `yaml:"need"`
			List []matchEntry `yaml:"list"`
		} `yaml:"signs"`
	} `yaml:"rules"`
}

// DefaultRules returns the rules built into askpa, with the concern model.
func DefaultRules() (*Rules, error) {
	r, err := ParseRules(defaultSafetyRules, defaultSmallTalkRules)
	if err != nil {
		return nil, err
	}
	if r.concern, err = parseConcernModel(defaultConcernModel); err != nil {
		return nil, err
	}
	return r, nil
}

// ParseRules compiles safety and small-talk rules from their YAML. It fails
// naming the rule and pattern when a pattern does not compile or names an
// unknown group, or when a rule has no id, an id used before, an unknown
// category or no patterns.
//
// A pattern may name a group of alternatives defined under "groups" as
// {name}; it stands for (?:alt1|alt2|...). The small-talk rules may use the
// safety rules' groups and define their own. A rule may define groups of
// its own, which replace shared groups of the same name in its patterns
// (so two rules can share one list of patterns through a YAML alias and
// differ only in, say, who is being hurt).
//
// The rules it returns have no concern model (see DefaultRules): the
// replies of the "concern" section are compiled and checked, but only the
// built-in rules, which the model was trained with, use them.
func ParseRules(safetyYAML, smallTalkYAML []byte) (*Rules, error) {
	r := &Rules{
		catUnless: map[Category][]*regexp.Regexp{}, spellings: map[string]string{},
		vocabulary: map[string]bool{}, byLength: map[int][]string{}, known: map[string]bool{},
	}
	var sf rulesFile
	if err := yaml.Unmarshal(safetyYAML, &sf); err != nil {
		return nil, fmt.Errorf("safety rules: %w", err)
	}
	for k, v := range sf.Spellings {
		r.spellings[strings.ToLower(k)] = strings.ToLower(v)
	}
	for _, w := range sf.Vocabulary {
		w = strings.ToLower(w)
		if !r.vocabulary[w] {
			r.vocabulary[w] = true
			r.byLength[len(w)] = append(r.byLength[len(w)], w)
		}
	}
	for _, w := range sf.Keep {
		r.known[strings.ToLower(w)] = true
	}
	groups := groupSet{defs: sf.Groups}
	r.saysWho = map[knowledge.Audience][]pattern{}
	for aud, pats := range sf.Audiences {
		if aud != knowledge.Employer && aud != knowledge.PA {
			return nil, fmt.Errorf("safety rules: audiences: %q is not employer or pa", aud)
		}
		res, err := r.compileAll(pats, groups)
		if err != nil {
			return nil, fmt.Errorf("safety rules: audiences: %s: %w", aud, err)
		}
		for _, re := range res {
			r.saysWho[aud] = append(r.saysWho[aud], r.newPattern(re, nil))
		}
	}
	for cat, c := range sf.Categories {
		if !validCategory(cat) {
			return nil, fmt.Errorf("safety rules: unknown category %q", cat)
		}
		res, err := r.compileAll(c.Unless, groups)
		if err != nil {
			return nil, fmt.Errorf("safety rules: category %s: %w", cat, err)
		}
		r.catUnless[cat] = res
	}
	var err error
	if r.safety, err = r.compileRules(sf, true, groups); err != nil {
		return nil, fmt.Errorf("safety rules: %w", err)
	}
	if err := r.concernReplies(sf); err != nil {
		return nil, fmt.Errorf("safety rules: %w", err)
	}
	var st rulesFile
	if err := yaml.Unmarshal(smallTalkYAML, &st); err != nil {
		return nil, fmt.Errorf("small-talk rules: %w", err)
	}
	stGroups := groupSet{defs: map[string][]string{}}
	for k, v := range sf.Groups {
		stGroups.defs[k] = v
	}
	for k, v := range st.Groups {
		stGroups.defs[k] = v
	}
	if r.smallTalk, err = r.compileRules(st, false, stGroups); err != nil {
		return nil, fmt.Errorf("small-talk rules: %w", err)
	}
	if err := r.offTopicModel(st); err != nil {
		return nil, fmt.Errorf("small-talk rules: %w", err)
	}
	return r, nil
}

// offTopicModel finds the rule named by the small-talk file's
// offtopic_model section, when it has one.
func (r *Rules) offTopicModel(f rulesFile) error {
	m := f.OffTopicModel
	if m.Rule == "" {
		return nil
	}
	if m.Threshold <= 0 || m.Threshold >= 1 {
		return fmt.Errorf("offtopic_model: threshold %v is not between 0 and 1", m.Threshold)
	}
	for _, rule := range r.smallTalk {
		if rule.ID == m.Rule {
			r.offTopicRule, r.offTopicThreshold = rule, m.Threshold
			return nil
		}
	}
	return fmt.Errorf("offtopic_model: no small-talk rule %q", m.Rule)
}

// groupSet expands {name} references in patterns.
type groupSet struct{ defs map[string][]string }

// with returns the groups with a rule's own definitions added, replacing
// shared ones of the same name.
func (g groupSet) with(own map[string][]string) groupSet {
	if len(own) == 0 {
		return g
	}
	defs := make(map[string][]string, len(g.defs)+len(own))
	for k, v := range g.defs {
		defs[k] = v
	}
	for k, v := range own {
		defs[k] = v
	}
	return groupSet{defs: defs}
}

var groupRef = regexp.MustCompile(`\{([a-z][a-z0-9_]*)\}`)

func (g groupSet) expand(pattern string, depth int) (string, error) {
	if depth > 8 {
		return "", fmt.Errorf("groups nested too deeply (a group refers to itself?)")
	}
	var err error
	out := groupRef.ReplaceAllStringFunc(pattern, func(ref string) string {
		name := ref[1 : len(ref)-1]
		alts, ok := g.defs[name]
		if !ok {
			if err == nil {
				err = fmt.Errorf("unknown group {%s}", name)
			}
			return ref
		}
		inner, e := g.expand(strings.Join(alts, "|"), depth+1)
		if e != nil && err == nil {
			err = e
		}
		return "(?:" + inner + ")"
	})
	return out, err
}

func validCategory(c Category) bool {
	for _, v := range categoryOrder {
		if c == v {
			return true
		}
	}
	return false
}

func (r *Rules) compileRules(f rulesFile, needCategory bool, shared groupSet) ([]*Rule, error) {
	var out []*Rule
	seen := map[string]bool{}
	for _, fr := range f.Rules {
		switch {
		case fr.ID == "":
			return nil, fmt.Errorf("a rule has no id")
		case seen[fr.ID]:
			return nil, fmt.Errorf("rule %s: id used twice", fr.ID)
		case needCategory && !validCategory(fr.Category):
			return nil, fmt.Errorf("rule %s: unknown category %q", fr.ID, fr.Category)
		case len(fr.Match) == 0 && len(fr.Signs.List) == 0:
			return nil, fmt.Errorf("rule %s: no match patterns", fr.ID)
		case len(fr.Signs.List) > 0 && (fr.Signs.Need < 2 || fr.Signs.Need > len(fr.Signs.List)):
			return nil, fmt.Errorf("rule %s: signs need between 2 and %d of them, not %d", fr.ID, len(fr.Signs.List), fr.Signs.Need)
		case fr.Audience != "" && !fr.Audience.Valid():
			return nil, fmt.Errorf("rule %s: unknown audience %q", fr.ID, fr.Audience)
		}
		seen[fr.ID] = true
		groups := shared.with(fr.Groups)
		m, err := r.compileEntries(fr.ID, fr.Match, groups)
		if err != nil {
			return nil, err
		}
		signs, err := r.compileEntries(fr.ID, fr.Signs.List, groups)
		if err != nil {
			return nil, err
		}
		u, err := r.compileAll(fr.Unless, groups)
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", fr.ID, err)
		}
		out = append(out, &Rule{
			ID: fr.ID, Category: fr.Category, Audience: fr.Audience, Say: strings.TrimSpace(fr.Say),
			Signpost: fr.Signpost, Search: fr.Search, match: m, unless: u,
			signs: signs, signsNeeded: fr.Signs.Need,
		})
	}
	return out, nil
}

// concernReplies builds the replies used when the concern model finds a
// situation no rule matched: one per category, with a threshold in (0, 1).
func (r *Rules) concernReplies(f rulesFile) error {
	c := f.Concern
	if len(c.Replies) == 0 {
		return nil
	}
	if c.Threshold <= 0 || c.Threshold >= 1 {
		return fmt.Errorf("concern: threshold %v is not between 0 and 1", c.Threshold)
	}
	r.concernThreshold = c.Threshold
	r.concernRules = map[Category]*Rule{}
	for _, cat := range categoryOrder {
		reply, ok := c.Replies[cat]
		if !ok {
			return fmt.Errorf("concern: no reply for %s", cat)
		}
		r.concernRules[cat] = &Rule{
			ID: "concern-" + string(cat), Category: cat, Say: strings.TrimSpace(reply.Say),
			Signpost: reply.Signpost, Search: reply.Search,
		}
	}
	return nil
}

// compileEntries compiles a rule's match or sign entries.
func (r *Rules) compileEntries(rule string, entries []matchEntry, groups groupSet) ([]pattern, error) {
	var out []pattern
	for _, e := range entries {
		re, err := r.compileAll([]string{e.Re}, groups)
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", rule, err)
		}
		un, err := r.compileAll(e.Unless, groups)
		if err != nil {
			return nil, fmt.Errorf("rule %s: pattern %q: unless %w", rule, e.Re, err)
		}
		out = append(out, r.newPattern(re[0], un))
	}
	return out, nil
}

// compileAll expands and compiles patterns, and records the words they
// spell out as known, so that typo correction never changes them.
func (r *Rules) compileAll(patterns []string, groups groupSet) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, p := range patterns {
		x, err := groups.expand(p, 0)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", p, err)
		}
		re, err := regexp.Compile(x)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", p, err)
		}
		for _, w := range patternWords(x) {
			r.known[w] = true
		}
		out = append(out, re)
	}
	return out, nil
}

var escapeSeq = regexp.MustCompile(`\\[a-zA-Z]`)

// patternWords returns the literal words a pattern spells out, roughly: its
// runs of letters once escapes such as \b are removed. Fragments such as
// "suicid" of "suicid(e|al)" come out too; they are harmless, as they only
// stop a word from being corrected.
func patternWords(pattern string) []string {
	return strings.FieldsFunc(escapeSeq.ReplaceAllString(pattern, " "), func(c rune) bool { return !unicode.IsLetter(c) })
}

// Normalize returns text as the rules see it: lower case, apostrophes
// dropped, other punctuation turned into spaces, chat spellings spelled out
// and near-misses of the rules' vocabulary corrected.
func (r *Rules) Normalize(text string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(text) {
		switch {
		case c == '\'' || c == '’' || c == '‘' || c == '`':
			// "can't" -> "cant"
		case unicode.IsLetter(c) || unicode.IsDigit(c) || c == '£':
			b.WriteRune(c)
		default:
			b.WriteByte(' ')
		}
	}
	words := strings.Fields(b.String())
	out := words[:0]
	for _, w := range words {
		if s, ok := r.spellings[w]; ok {
			w = s
		} else {
			w = r.correct(w)
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

// correct returns the vocabulary word w is one slip away from (two for long
// words), or w itself. Words of the "keep" list and words the patterns spell
// out are never corrected, and neither is a slip on the first letter, which
// hurried typists rarely make and which turns everyday words into alarming
// ones ("putting" into "cutting", "giving" into "living"). Of several
// candidates the closest wins, then the one of the same length (a slip on
// a letter rather than a letter missed or doubled), then the first listed.
func (r *Rules) correct(w string) string {
	n := len(w)
	if n < 5 || r.vocabulary[w] || r.known[w] {
		return w
	}
	limit := 1
	if n >= 9 {
		limit = 2
	}
	best, bestDist := w, limit+1
	for _, l := range []int{n, n - 1, n + 1, n - 2, n + 2}[:1+2*limit] {
		for _, v := range r.byLength[l] {
			if v[0] != w[0] {
				continue
			}
			if d := slipDistance(w, v, limit); d < bestDist {
				best, bestDist = v, d
			}
		}
	}
	return best
}

// keyRows is the QWERTY layout, for telling a slip of the finger from a
// different word.
var keyRows = []string{"qwertyuiop", "asdfghjkl", "zxcvbnm"}

// slip reports whether typing x instead of y is a likely slip: a key next
// to it, or one vowel for another (a common misspelling).
func slip(x, y rune) bool {
	const vowels = "aeiou"
	if strings.ContainsRune(vowels, x) && strings.ContainsRune(vowels, y) {
		return true
	}
	for r, row := range keyRows {
		i, j := strings.IndexRune(row, x), -1
		if i < 0 {
			continue
		}
		if j = strings.IndexRune(row, y); j >= 0 && (j == i-1 || j == i+1) {
			return true
		}
		// Keys above and below, on a staggered keyboard.
		for _, other := range []int{r - 1, r + 1} {
			if other >= 0 && other < len(keyRows) {
				if k := strings.IndexRune(keyRows[other], y); k >= 0 && (k == i || k == i-1 || k == i+1) {
					return true
				}
			}
		}
	}
	return false
}

// slipDistance is the optimal-string-alignment distance of two words, where
// swapping a letter counts as one slip only for a neighbouring key or
// another vowel ("cooking" is not a slip for "choking"); it is cut short
// once it exceeds limit.
func slipDistance(a, b string, limit int) int {
	return editdistance.OSA(a, b, limit, func(x, y rune) int {
		if slip(x, y) {
			return 1
		}
		return 2
	})
}

// Verdict is what the safety rules found in a message.
type Verdict struct {
	Category Category // empty when no rule matched
	Rules    []*Rule  // every matching rule of that category, in file order
}

// Urgent reports whether the verdict calls for an urgent hand-over.
func (v Verdict) Urgent() bool {
	return v.Category == CategoryCrisis || v.Category == CategorySafeguarding
}

// Check runs the safety rules over a message from someone in audience and
// returns the most serious category that matched. A message that says who
// is writing ("I'm a PA and ...") is checked as from that audience.
func (r *Rules) Check(text string, audience knowledge.Audience) Verdict {
	norm := r.Normalize(text)
	found := r.needles.scan(norm)
	audience = r.audience(norm, found, audience)
	matched := map[Category][]*Rule{}
	for _, rule := range r.safety {
		if rule.Audience != "" && audience != "" && !rule.Audience.Sees(audience) {
			continue
		}
		if rule.matches(norm, found, r.catUnless[rule.Category]) {
			matched[rule.Category] = append(matched[rule.Category], rule)
		}
	}
	for _, cat := range categoryOrder {
		if rs := matched[cat]; len(rs) > 0 {
			return Verdict{Category: cat, Rules: rs}
		}
	}
	return r.concernVerdict(norm, found)
}

// concernVerdict asks the concern model about a message no rule matched.
// Small talk, and messages a category's exceptions cover ("for my training
// workbook"), are left alone.
func (r *Rules) concernVerdict(norm string, found bitset) Verdict {
	if r.concern == nil || r.concernRules == nil || r.matchSmallTalk(norm, found) != nil {
		return Verdict{}
	}
	s := r.concern.classify(norm)
	if s.concern < r.concernThreshold || anyMatch(r.catUnless[s.category], norm) {
		return Verdict{}
	}
	return Verdict{Category: s.category, Rules: []*Rule{r.concernRules[s.category]}}
}

// audience returns who is writing: the audience the message itself names
// ("I'm a PA", "I employ two carers") when it names exactly one, otherwise
// the audience of the channel.
func (r *Rules) audience(norm string, found bitset, channel knowledge.Audience) knowledge.Audience {
	var said []knowledge.Audience
	for _, aud := range []knowledge.Audience{knowledge.Employer, knowledge.PA} {
		for _, p := range r.saysWho[aud] {
			if p.matches(norm, found) {
				said = append(said, aud)
				break
			}
		}
	}
	if len(said) == 1 {
		return said[0]
	}
	return channel
}

// Without returns text as the rules see it (see Normalize) with every
// passage the verdict's rules matched taken out: what is left of "can
// someone call me, my PA has not been paid" is the question to search for.
func (r *Rules) Without(text string, v Verdict) string {
	norm := r.Normalize(text)
	for _, rule := range v.Rules {
		for _, p := range rule.match {
			norm = p.re.ReplaceAllString(norm, " ")
		}
	}
	return strings.Join(strings.Fields(norm), " ")
}

// SmallTalk returns the small-talk rule the whole message matches, or nil.
func (r *Rules) SmallTalk(text string) *Rule {
	norm := r.Normalize(text)
	return r.matchSmallTalk(norm, r.needles.scan(norm))
}

// matchSmallTalk is SmallTalk for a message already normalised and scanned.
func (r *Rules) matchSmallTalk(norm string, found bitset) *Rule {
	for _, rule := range r.smallTalk {
		if rule.matches(norm, found, nil) {
			return rule
		}
	}
	return nil
}

// OffTopic returns the off-topic small-talk rule when the concern model is
// sure that a message no rule matched is about something askpa does not
// cover, and the message names nothing askpa knows about (the rule's
// exceptions: a PA, a direct payment, pay ...); otherwise nil. The model
// judges words, not meaning, so the engine still answers when the
// knowledge base matches the question well.
func (r *Rules) OffTopic(text string) *Rule {
	if r.concern == nil || r.offTopicRule == nil {
		return nil
	}
	norm := r.Normalize(text)
	if anyMatch(r.offTopicRule.unless, norm) || r.concern.classify(norm).offTopic < r.offTopicThreshold {
		return nil
	}
	return r.offTopicRule
}

func (rule *Rule) matches(norm string, found bitset, categoryUnless []*regexp.Regexp) bool {
	hit := false
	for _, p := range rule.match {
		if p.matches(norm, found) {
			hit = true
			break
		}
	}
	if !hit && rule.signsNeeded > 0 {
		n := 0
		for _, p := range rule.signs {
			if p.matches(norm, found) {
				n++
			}
		}
		hit = n >= rule.signsNeeded
	}
	if !hit {
		return false
	}
	for _, re := range rule.unless {
		if re.MatchString(norm) {
			return false
		}
	}
	for _, re := range categoryUnless {
		if re.MatchString(norm) {
			return false
		}
	}
	return true
}

// newPattern returns re as a pattern, its needed strings indexed.
func (r *Rules) newPattern(re *regexp.Regexp, unless []*regexp.Regexp) pattern {
	need := requiredStrings(re)
	return pattern{re: re, unless: unless, need: need, needIDs: r.needles.add(need)}
}

// unlessReach is how far around a match, in bytes, a pattern's own
// exceptions look: "my PA has never hit me" is an exception for that
// "hit me", but not for "he punched me" two sentences later.
const unlessReach = 60

// matches reports whether the pattern matches norm somewhere its own
// exceptions do not apply. found holds which needed strings norm contains.
func (p pattern) matches(norm string, found bitset) bool {
	if p.needIDs != nil && !found.any(p.needIDs) {
		return false
	}
	if len(p.unless) == 0 {
		return p.re.MatchString(norm)
	}
	for _, loc := range p.re.FindAllStringIndex(norm, -1) {
		near := norm[max(0, loc[0]-unlessReach):min(len(norm), loc[1]+unlessReach)]
		if !anyMatch(p.unless, near) {
			return true
		}
	}
	return false
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// Passages returns every passage id the rules refer to, for checking
// against the knowledge base.
func (r *Rules) Passages() []string {
	var ids []string
	for _, rule := range append(append([]*Rule(nil), r.safety...), r.smallTalk...) {
		ids = append(ids, rule.Signpost...)
	}
	for _, cat := range categoryOrder {
		if rule := r.concernRules[cat]; rule != nil {
			ids = append(ids, rule.Signpost...)
		}
	}
	return ids
}

// needles are strings to look for in a message all at once: each is at
// least three bytes long, and they are indexed by their first three.
type needles struct {
	list  []string
	ids   map[string]int32
	index map[[3]byte][]int32
}

// add records the strings of set and returns their numbers, or nil for a
// nil set.
func (n *needles) add(set []string) []int32 {
	if set == nil {
		return nil
	}
	if n.ids == nil {
		n.ids, n.index = map[string]int32{}, map[[3]byte][]int32{}
	}
	ids := make([]int32, 0, len(set))
	for _, s := range set {
		id, ok := n.ids[s]
		if !ok {
			id = int32(len(n.list))
			n.list = append(n.list, s)
			n.ids[s] = id
			key := [3]byte{s[0], s[1], s[2]}
			n.index[key] = append(n.index[key], id)
		}
		ids = append(ids, id)
	}
	return ids
}

// scan returns which of the needles text contains.
func (n *needles) scan(text string) bitset {
	found := make(bitset, (len(n.list)+63)/64)
	for i := 0; i+3 <= len(text); i++ {
		for _, id := range n.index[[3]byte{text[i], text[i+1], text[i+2]}] {
			if strings.HasPrefix(text[i:], n.list[id]) {
				found[id/64] |= 1 << (id % 64)
			}
		}
	}
	return found
}

// bitset holds which needles a message contains.
type bitset []uint64

func (b bitset) any(ids []int32) bool {
	for _, id := range ids {
		if int(id/64) < len(b) && b[id/64]&(1<<(id%64)) != 0 {
			return true
		}
	}
	return false
}

// maxLiterals bounds the sets of strings requiredStrings works with.
const maxLiterals = 256

// requiredStrings returns strings of which every match of re contains at
// least one, or nil when it finds no such set whose strings are all at least
// three bytes long. It is conservative: a string it returns is in every
// match, so checking for it first never loses a match.
func requiredStrings(re *regexp.Regexp) []string {
	ast, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return nil
	}
	info := literalsOf(ast.Simplify())
	best := info.need
	if info.exact != nil && quality(info.exact) >= quality(best) {
		best = info.exact
	}
	if quality(best) < 3 {
		return nil
	}
	return reduce(best)
}

// literals describes what a piece of a regular expression can match.
type literals struct {
	exact []string // every string it can match, when they are few; else nil
	need  []string // strings of which every match contains one; nil if unknown
}

// quality is the length of the shortest string of set, 0 for no set.
func quality(set []string) int {
	if set == nil {
		return 0
	}
	q := -1
	for _, s := range set {
		if q < 0 || len(s) < q {
			q = len(s)
		}
	}
	return max(q, 0)
}

// better returns the more useful of two sets for finding out quickly that
// a message cannot match: the one whose shortest string is longer (short
// strings such as "her" are in most messages), up to six bytes, and then
// the one with fewer strings to look for.
func better(a, b []string) []string {
	qa, qb := min(quality(a), 6), min(quality(b), 6)
	switch {
	case qb > qa:
		return b
	case qb == qa && qb > 0 && len(b) < len(a):
		return b
	}
	return a
}

// reduce drops the strings of set that contain another of its strings:
// finding "council" is enough to know whether "councils" might be there.
func reduce(set []string) []string {
	var out []string
	for i, s := range set {
		redundant := false
		for j, t := range set {
			if i != j && strings.Contains(s, t) && (len(t) < len(s) || j < i) {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, s)
		}
	}
	return out
}

func literalsOf(re *syntax.Regexp) literals {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return literals{}
		}
		s := string(re.Rune)
		return literals{exact: []string{s}, need: []string{s}}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return literals{exact: []string{""}}
	case syntax.OpCharClass:
		var set []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for c := re.Rune[i]; c <= re.Rune[i+1]; c++ {
				if len(set) == 16 {
					return literals{}
				}
				set = append(set, string(c))
			}
		}
		return literals{exact: set}
	case syntax.OpCapture:
		return literalsOf(re.Sub[0])
	case syntax.OpQuest:
		if sub := literalsOf(re.Sub[0]); sub.exact != nil {
			return literals{exact: union(sub.exact, []string{""})}
		}
		return literals{}
	case syntax.OpPlus:
		sub := literalsOf(re.Sub[0])
		return literals{need: better(sub.need, sub.exact)}
	case syntax.OpConcat:
		// run is every way of spelling the current stretch of fixed
		// pieces; each match contains one of them.
		var need []string
		run, whole := []string{""}, true
		for _, sub := range re.Sub {
			l := literalsOf(sub)
			if l.exact != nil {
				if next := cross(run, l.exact); next != nil {
					run = next
					continue
				}
				need = better(need, run)
				run, whole = l.exact, false
				continue
			}
			need = better(better(need, run), l.need)
			run, whole = []string{""}, false
		}
		need = better(need, run)
		if whole {
			return literals{exact: run, need: need}
		}
		return literals{need: need}
	case syntax.OpAlternate:
		var exact, need stringSet
		allExact, needOK := true, true
		for _, sub := range re.Sub {
			l := literalsOf(sub)
			if l.exact == nil || len(exact.list) > maxLiterals {
				allExact = false
			} else if allExact {
				exact.add(l.exact...)
			}
			if best := better(l.need, l.exact); quality(best) == 0 || len(need.list) > maxLiterals {
				needOK = false
			} else if needOK {
				need.add(best...)
			}
		}
		out := literals{}
		if allExact && len(exact.list) <= maxLiterals {
			out.exact = exact.list
		}
		if needOK && len(need.list) <= maxLiterals {
			out.need = need.list
		}
		return out
	}
	return literals{}
}

// cross returns every string of a followed by one of b, or nil when there
// would be more than maxLiterals.
func cross(a, b []string) []string {
	if len(a)*len(b) > maxLiterals {
		return nil
	}
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return union(nil, out)
}

// union returns the strings of a and b, each once.
func union(a, b []string) []string {
	var set stringSet
	set.add(a...)
	set.add(b...)
	return set.list
}

// stringSet collects strings, each once, in the order first added.
type stringSet struct {
	list []string
	seen map[string]bool
}

func (s *stringSet) add(strs ...string) {
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	for _, x := range strs {
		if !s.seen[x] {
			s.seen[x] = true
			s.list = append(s.list, x)
		}
	}
}
