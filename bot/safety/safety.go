// Package safety decides whether a message shows crisis or danger, asks
// for a person, raises a dispute or is off-topic, and how sure it is. It
// has one entry point, Checker.Check, and three layers:
//
//  1. word lists an editor can read (data/words.txt), one per kind: high
//     recall, evidence only; and a few precise rules (data/rules.txt) where
//     precision matters, such as an explicit request for a person;
//  2. a classifier trained on a corpus written for the purpose
//     (testdata/corpus): multinomial logistic regression over word,
//     word-pair and character n-gram features and the word lists' hits,
//     stored as data (data/kinds.model, data/self.model) and trained by
//     "askpa safety train" (see Train);
//  3. graded responses: very sure of a crisis or safeguarding kind is
//     urgent (that kind's script, data/replies.md, and an urgent
//     hand-over); moderately sure is a caution (the kind's signposting
//     line above the answer, and a prominent way to a person); otherwise
//     the plain answer. The thresholds (data/thresholds.txt) are chosen on
//     the validation split by recall at a fixed false-alarm rate.
//
// The package imports no SDK and keeps no state between calls.
package safety

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/askpa/askpa/knowledge"
)

//go:generate go run ../../cmd/askpa safety train --corpus testdata/corpus --data data

//go:embed data
var builtIn embed.FS

// Data file names, in the data folder.
const (
	fileWords      = "words.txt"
	fileRules      = "rules.txt"
	fileSpellings  = "spellings.txt"
	fileReplies    = "replies.md"
	fileThresholds = "thresholds.txt"
	fileKinds      = "kinds.model"
	fileSelf       = "self.model"
)

// Checker checks messages. It is safe for concurrent use.
type Checker struct {
	text
	kinds   *model
	self    *model
	order   []int // Kinds index of each class of kinds
	t       Thresholds
	replies map[Kind]Reply
	// raw are the replies as written, placeholders and all; replies have
	// them replaced (see Localise).
	raw map[Kind]Reply
}

// text is the part of a Checker written by people: the spellings, the word
// lists and the rules. Training needs it before there is a model.
type text struct {
	spellings map[string]string
	words     *lexicon
	rules     *lexicon
	x         extractor
	selfX     extractor // the features the self model reads
	person    int       // the [person] rule
	domain    int       // the [domain] word list
}

func loadText(fsys fs.FS) (text, error) {
	var t text
	read := func(name string) ([]byte, error) { return fs.ReadFile(fsys, name) }
	data, err := read(fileSpellings)
	if err != nil {
		return t, err
	}
	if t.spellings, err = parseSpellings(fileSpellings, data); err != nil {
		return t, err
	}
	if data, err = read(fileWords); err != nil {
		return t, err
	}
	if t.words, err = parseLexicon(fileWords, data, t.spellings); err != nil {
		return t, err
	}
	if data, err = read(fileRules); err != nil {
		return t, err
	}
	if t.rules, err = parseLexicon(fileRules, data, t.spellings); err != nil {
		return t, err
	}
	if t.person = t.rules.index("person"); t.person < 0 {
		return t, fmt.Errorf("%s: no [person] rule", fileRules)
	}
	if t.domain = t.words.index("domain"); t.domain < 0 {
		return t, fmt.Errorf("%s: no [domain] list", fileWords)
	}
	t.x = extractor{lex: t.words}
	t.selfX = extractor{wordsOnly: true}
	return t, nil
}

// Load returns a Checker built from the data files in fsys: words.txt,
// rules.txt, spellings.txt, replies.md, thresholds.txt, kinds.model and
// self.model. It fails naming the file (and line, for text files) of the
// first problem.
func Load(fsys fs.FS) (*Checker, error) {
	t, err := loadText(fsys)
	if err != nil {
		return nil, fmt.Errorf("safety: %w", err)
	}
	c := &Checker{text: t}
	data, err := fs.ReadFile(fsys, fileReplies)
	if err != nil {
		return nil, fmt.Errorf("safety: %w", err)
	}
	if c.raw, err = parseReplies(fileReplies, data); err != nil {
		return nil, fmt.Errorf("safety: %w", err)
	}
	c.replies = expandReplies(c.raw, nil)
	if data, err = fs.ReadFile(fsys, fileThresholds); err != nil {
		return nil, fmt.Errorf("safety: %w", err)
	}
	if c.t, err = parseThresholds(fileThresholds, data); err != nil {
		return nil, fmt.Errorf("safety: %w", err)
	}
	if c.kinds, err = loadModel(fsys, fileKinds); err != nil {
		return nil, err
	}
	for _, name := range c.kinds.classes {
		i := kindIndex(Kind(name))
		if i < 0 {
			return nil, fmt.Errorf("safety: %s: unknown class %q", fileKinds, name)
		}
		c.order = append(c.order, i)
	}
	if len(c.order) != len(Kinds) {
		return nil, fmt.Errorf("safety: %s: has %d classes, want %d", fileKinds, len(c.order), len(Kinds))
	}
	if c.self, err = loadModel(fsys, fileSelf); err != nil {
		return nil, err
	}
	if len(c.self.classes) != 2 || c.self.classes[0] != "self" {
		return nil, fmt.Errorf("safety: %s: want classes self and other", fileSelf)
	}
	return c, nil
}

func loadModel(fsys fs.FS, name string) (*model, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("safety: %w", err)
	}
	m, err := readModel(data)
	if err != nil {
		return nil, fmt.Errorf("safety: %s: %w", name, err)
	}
	return m, nil
}

// Default returns the Checker built into askpa. It is loaded once.
var Default = sync.OnceValues(func() (*Checker, error) {
	sub, err := fs.Sub(builtIn, "data")
	if err != nil {
		return nil, err
	}
	return Load(sub)
})

// Thresholds returns the thresholds c acts on.
func (c *Checker) Thresholds() Thresholds { return c.t }

// Reply returns what to say for danger kind k; ok is false for other kinds.
func (c *Checker) Reply(k Kind) (r Reply, ok bool) {
	r, ok = c.replies[k]
	return r, ok
}

// Guides returns every knowledge-base passage the replies link, for
// checking against the knowledge base.
func (c *Checker) Guides() []string {
	var ids []string
	for _, k := range Kinds {
		if r, ok := c.replies[k]; ok {
			ids = append(ids, r.Guide)
		}
	}
	return ids
}

// Check judges one message from someone in audience (the channel's: an
// employer or a PA). It never fails: a message it cannot read is
// ordinary. ctx is accepted for cancellation by callers that check many
// messages; Check itself does not block.
func (c *Checker) Check(ctx context.Context, message string, audience knowledge.Audience) Verdict {
	return c.check(Normalise(message, c.spellings), audience)
}

// CheckConversation judges the last message of msgs (oldest first) with
// the messages before it: a worrying detail can come in a second message
// that means little alone, or only show across two. It returns the verdict
// on the last message, or, when the recent messages read together are
// more serious, that verdict with By "conversation". Only the last three
// messages are read.
func (c *Checker) CheckConversation(ctx context.Context, msgs []string, audience knowledge.Audience) Verdict {
	if len(msgs) == 0 {
		return Verdict{Kind: Ordinary}
	}
	last := c.Check(ctx, msgs[len(msgs)-1], audience)
	if len(msgs) == 1 || last.Level == LevelUrgent {
		return last
	}
	return combine(last, c.check(Normalise(recent(msgs), c.spellings), audience), c.Check(ctx, msgs[len(msgs)-2], audience))
}

// recent returns the last three of msgs, oldest first, as one text.
func recent(msgs []string) string {
	return strings.Join(msgs[max(0, len(msgs)-3):], "\n")
}

// combine returns the verdict on a conversation from the verdicts on its
// last message, on its recent messages together, and on the message before
// the last. The messages together count when they are more serious than
// the last alone and more worrying than the one before it was alone: the
// last message added something ("...and she only does it when no one is
// there"), rather than explaining the one before away ("...she was only
// looking for her hearing aid"). Only danger is judged on the
// conversation: a request or a dispute belongs to the message that makes
// it.
func combine(last, together, previous Verdict) Verdict {
	if last.Level == LevelUrgent {
		return last
	}
	v := last
	if together.Kind.Danger() && together.Level > last.Level && together.Danger > previous.Danger {
		v, v.By = together, "conversation"
	}
	return v
}

// scores is what the classifier and the rules make of one normalised
// message, before any threshold is applied.
type scores struct {
	p      [len(Kinds)]float64
	person bool // the [person] rule matched
	f      features
}

// group returns the probability of danger group g.
func (s *scores) group(g Group) float64 {
	sum := 0.0
	for i, k := range Kinds {
		if k.Group() == g {
			sum += s.p[i]
		}
	}
	return sum
}

// score runs the classifier and the rules over a normalised message.
func (c *Checker) score(norm string, audience knowledge.Audience) scores {
	s := scores{f: c.x.extract(norm, string(audience)), person: c.asksForPerson(strings.Fields(norm))}
	for i, v := range c.kinds.probs(s.f, make([]float64, 0, len(Kinds))) {
		s.p[c.order[i]] = v
	}
	return s
}

// check is Check on a normalised message.
func (c *Checker) check(norm string, audience knowledge.Audience) Verdict {
	s := c.score(norm, audience)
	v := decide(&s, c.t)
	if v.Kind.Danger() {
		v.Self = c.self.probs(c.selfX.extract(norm, string(audience)), make([]float64, 0, 2))[0] >= 0.5
	}
	return v
}

// decide applies thresholds t to s. In order: urgent danger; an explicit
// request for a person (the [person] rule); a request or a dispute the
// classifier is sure enough of; a caution; then the most likely of the
// other kinds. A hand-over that comes with danger at the caution level
// carries that kind in Also, so its signposting line is shown too.
func decide(s *scores, t Thresholds) Verdict {
	crisis, safeguarding := s.group(GroupCrisis), s.group(GroupSafeguarding)
	kind := argmax(s.p[:], Kind.Danger)
	prob := crisis
	if kind.Group() == GroupSafeguarding {
		prob = safeguarding
	}
	danger := Verdict{Kind: kind, Probability: prob, Danger: crisis + safeguarding, By: "model"}
	// When another kind is nearly as likely, its signposting line goes
	// with the reply: someone who hurts themselves because of what a
	// partner does needs both sets of numbers.
	if also := argmax(s.p[:], func(k Kind) bool { return k.Danger() && k != kind }); s.p[kindIndex(also)] >= s.p[kindIndex(kind)]/2 {
		danger.Also = also
	}
	if crisis >= t.UrgentCrisis || safeguarding >= t.UrgentSafeguarding {
		danger.Level = LevelUrgent
		return danger
	}
	caution := crisis >= t.CautionCrisis || safeguarding >= t.CautionSafeguarding
	handOver := func(k Kind, p float64, by string) Verdict {
		v := Verdict{Kind: k, Level: LevelHandOver, Probability: p, Danger: danger.Danger, By: by}
		if caution {
			v.Also = kind
		}
		return v
	}
	pRequested, pDispute := s.p[kindIndex(Requested)], s.p[kindIndex(Dispute)]
	switch {
	case s.person:
		return handOver(Requested, 1, "rule")
	case pRequested >= t.Requested && pRequested >= pDispute:
		return handOver(Requested, pRequested, "model")
	case pDispute >= t.Dispute:
		return handOver(Dispute, pDispute, "model")
	case caution:
		danger.Level = LevelCaution
		return danger
	}
	k := argmax(s.p[:], func(k Kind) bool { return k == Situation || k == OffTopic || k == Ordinary })
	v := Verdict{Kind: k, Probability: s.p[kindIndex(k)], Danger: danger.Danger, By: "model"}
	if (k == OffTopic && v.Probability < t.OffTopic) || (k == Situation && v.Probability < t.Situation) {
		v.Kind = Ordinary
	}
	return v
}

// argmax returns the kind of highest probability among those keep accepts.
func argmax(p []float64, keep func(Kind) bool) Kind {
	best, bestP := Ordinary, -1.0
	for i, k := range Kinds {
		if keep(k) && p[i] > bestP {
			best, bestP = k, p[i]
		}
	}
	return best
}

// asksForPerson reports whether the words of a message contain an explicit
// request for a person (the [person] rule).
func (c *Checker) asksForPerson(words []string) bool {
	found := false
	c.rules.match(words, func(l, _, _ int) { found = found || l == c.person })
	return found
}

// AsksForPerson reports whether message explicitly asks for a person ("can
// someone ring me", "I want to talk to a human"): the [person] rule, not
// the classifier's judgement.
func (c *Checker) AsksForPerson(message string) bool {
	return c.asksForPerson(strings.Fields(Normalise(message, c.spellings)))
}

// Without returns message, normalised, with its explicit requests for a
// person taken out: what is left of "can someone ring me back, my PA has
// not been paid" is the question to search for meanwhile.
func (c *Checker) Without(message string) string {
	words := strings.Fields(Normalise(message, c.spellings))
	drop := make([]bool, len(words))
	c.rules.match(words, func(l, at, n int) {
		if l == c.person {
			for i := at; i < at+n; i++ {
				drop[i] = true
			}
		}
	})
	var kept []string
	for i, w := range words {
		if !drop[i] {
			kept = append(kept, w)
		}
	}
	return strings.Join(kept, " ")
}

// NamesDomain reports whether message names something askpa covers (a PA,
// a direct payment, pay, the council...: the [domain] word list). An
// off-topic verdict on a message that does is not to be trusted.
func (c *Checker) NamesDomain(message string) bool {
	found := false
	c.words.match(strings.Fields(Normalise(message, c.spellings)), func(l, _, _ int) { found = found || l == c.domain })
	return found
}

// Explanation is what Explain tells about one message.
type Explanation struct {
	Verdict Verdict
	// Probabilities holds the classifier's probability of each kind.
	Probabilities map[Kind]float64
	// Lists names the word lists (words.txt) and rules (rules.txt) with a
	// phrase in the message.
	Lists []string
}

// Explain checks message as Check does and says why: the classifier's
// probabilities and the word lists it matched. It is for editors and
// tests; the service uses Check.
func (c *Checker) Explain(ctx context.Context, message string, audience knowledge.Audience) Explanation {
	norm := Normalise(message, c.spellings)
	s := c.score(norm, audience)
	x := Explanation{Verdict: c.check(norm, audience), Probabilities: map[Kind]float64{}}
	for i, k := range Kinds {
		x.Probabilities[k] = s.p[i]
	}
	words := strings.Fields(norm)
	seen := map[string]bool{}
	note := func(name string) {
		if !seen[name] {
			seen[name] = true
			x.Lists = append(x.Lists, name)
		}
	}
	c.words.match(words, func(l, _, _ int) { note(c.words.lists[l].name) })
	c.rules.match(words, func(l, _, _ int) { note("rule " + c.rules.lists[l].name) })
	return x
}
