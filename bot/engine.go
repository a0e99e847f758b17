package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/askpa/askpa/knowledge"
)

// companionScore and otherCompanionScore are how close (relative to the
// best hit's 1) the next passage must rank to be shown with the best one:
// a passage of the same guide, or of another.
const (
	companionScore      = 0.6
	otherCompanionScore = 0.75
)

// offTopicOverruleMatch is how well the knowledge base must match a
// question to be answered although the concern model takes it for
// off-topic: the model judges words, the search what the guides say.
const offTopicOverruleMatch = 0.6

// minAlsoAnswerChars is the least room worth giving an answer added to a
// hand-over; a passage cut shorter than this says too little to help.
const minAlsoAnswerChars = 400

// Searcher finds passages of the knowledge base. index.Index implements it.
type Searcher interface {
	Search(ctx context.Context, q knowledge.Query) ([]knowledge.Hit, error)
}

// EngineConfig tunes the answer engine. The zero value is ready to use.
type EngineConfig struct {
	// Threshold is the confidence below which the engine says it has no
	// good answer rather than guess. Default 0.35.
	Threshold float64
	// MaxAnswerChars bounds an answer's text; longer passages are cut at a
	// sentence boundary. Default 2,400: one section, or two when a question
	// spans both.
	MaxAnswerChars int
	// GuideURL, when set, returns the link to show for a passage (for
	// example a page of the full guide). By default a source links to the
	// first source its document cites.
	GuideURL func(docID, anchor string) string
	// Rules are the safety and small-talk rules. Default DefaultRules().
	Rules *Rules
}

// Engine answers one question at a time, with no memory of the
// conversation: safety first, then small talk, then the knowledge base. It
// is what "askpa ask" runs and what Service uses for every question.
type Engine struct {
	base      *knowledge.Base
	search    Searcher
	rules     *Rules
	cfg       EngineConfig
	refs      map[string]string // short passage reference -> passage id
	signposts map[string]knowledge.Passage
}

// NewEngine returns an engine answering from base through s. It fails when
// a safety rule names a passage that is not in base.
func NewEngine(base *knowledge.Base, s Searcher, cfg EngineConfig) (*Engine, error) {
	if cfg.Threshold == 0 {
		cfg.Threshold = 0.35
	}
	if cfg.MaxAnswerChars == 0 {
		cfg.MaxAnswerChars = 2400
	}
	if cfg.Rules == nil {
		r, err := DefaultRules()
		if err != nil {
			return nil, err
		}
		cfg.Rules = r
	}
	e := &Engine{base: base, search: s, rules: cfg.Rules, cfg: cfg, refs: map[string]string{}, signposts: map[string]knowledge.Passage{}}
	for _, p := range base.Passages() {
		e.refs[PassageRef(p.ID())] = p.ID()
	}
	var missing []string
	for _, id := range cfg.Rules.Passages() {
		p, ok := base.Passage(id)
		if !ok {
			missing = append(missing, id)
			continue
		}
		e.signposts[id] = p
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("bot: safety rules refer to passages missing from the knowledge base: %s", strings.Join(missing, ", "))
	}
	return e, nil
}

// PassageRef returns the short reference of a passage id used in button
// actions (ActionPassage + ref), short enough for any platform.
func PassageRef(passageID string) string {
	sum := sha256.Sum256([]byte(passageID))
	return hex.EncodeToString(sum[:5])
}

// Base returns the knowledge base the engine answers from.
func (e *Engine) Base() *knowledge.Base { return e.base }

// Rules returns the engine's safety and small-talk rules.
func (e *Engine) Rules() *Rules { return e.rules }

// Answer answers one question from someone in audience. Safety comes
// first: crisis and safeguarding signs get signposting and an urgent
// hand-over. A rule's signposting is the whole reply; when only the
// concern model found the signs, which it does less surely, the question
// is answered too, after the signposting. It fails only when the search
// does.
func (e *Engine) Answer(ctx context.Context, question string, audience knowledge.Audience) (Answer, error) {
	a := Answer{Question: question, Audience: audience, Sources: []Source{}, Suggestions: []string{}}
	if strings.TrimSpace(question) == "" {
		a.Text = "Please type a question, for example: how much holiday does a PA get?"
		return a, nil
	}
	verdict := e.rules.Check(question, audience)
	switch verdict.Category {
	case CategoryCrisis, CategorySafeguarding:
		e.signpost(&a, verdict)
		a.Escalate, a.Urgent, a.Reason = true, true, string(verdict.Category)
		a.Confidence = 1
		if verdict.Rules[0].Search {
			if err := e.alsoAnswer(ctx, &a, question, msgYourQuestion); err != nil {
				return Answer{}, err
			}
		}
		return a, nil
	case CategoryRequested:
		if err := e.requested(ctx, &a, verdict); err != nil {
			return Answer{}, err
		}
		return a, nil
	}
	if verdict.Category == "" {
		if rule := e.rules.SmallTalk(question); rule != nil {
			a.Text = strings.ReplaceAll(rule.Say, "{topics}", e.topicExamples(audience))
			return a, nil
		}
	}
	hits, err := e.search.Search(ctx, knowledge.Query{Text: question, Audience: audience, Limit: 6})
	if err != nil {
		return Answer{}, fmt.Errorf("bot: answering: %w", err)
	}
	if verdict.Category == "" && (len(hits) == 0 || hits[0].Match < offTopicOverruleMatch) {
		if rule := e.rules.OffTopic(question); rule != nil {
			a.Text = strings.ReplaceAll(rule.Say, "{topics}", e.topicExamples(audience))
			if len(hits) > 0 {
				a.Confidence = round2(hits[0].Match)
			}
			return a, nil
		}
	}
	if verdict.Category == CategoryDispute {
		e.dispute(&a, verdict, hits)
		return a, nil
	}
	e.fromHits(&a, hits)
	return a, nil
}

// requested fills a for someone who asked for a person. Such a message
// often asks a question too: when the rest of it, without the request,
// finds a good passage, a carries it as what the guidance says meanwhile.
func (e *Engine) requested(ctx context.Context, a *Answer, v Verdict) error {
	a.Text = v.Rules[0].Say
	a.Escalate, a.Reason, a.Confidence = true, ReasonRequested, 1
	return e.alsoAnswer(ctx, a, e.rules.Without(a.Question, v), msgWhileYouWait)
}

// alsoAnswer adds to a hand-over the passage that best answers question,
// introduced by lead, when one is good enough and fits.
func (e *Engine) alsoAnswer(ctx context.Context, a *Answer, question, lead string) error {
	hits, err := e.search.Search(ctx, knowledge.Query{Text: question, Audience: a.Audience, Limit: 1})
	if err != nil {
		return fmt.Errorf("bot: answering: %w", err)
	}
	if len(hits) > 0 && hits[0].Match >= e.cfg.Threshold {
		e.appendPassage(a, hits[0].Passage, lead)
	}
	return nil
}

// appendPassage adds passage p to a, after lead when there is one, cut to
// the room left under MaxAnswerChars. It adds nothing when less than
// minAlsoAnswerChars would be left.
func (e *Engine) appendPassage(a *Answer, p knowledge.Passage, lead string) {
	sep := "\n\n"
	if lead != "" {
		sep += lead + "\n\n"
	}
	room := e.cfg.MaxAnswerChars - utf8.RuneCountInString(a.Text+sep)
	if room < minAlsoAnswerChars {
		return
	}
	a.Answered = true
	if a.PassageID == "" {
		a.PassageID = p.ID()
	}
	a.Text += sep + e.passageText(p, room)
	a.Sources = appendSource(a.Sources, e.source(p))
}

// signpost fills a with the safety reply: the calm opening of the first
// matched rule that has one, and the signposting passages the rules name,
// each once, at most two.
func (e *Engine) signpost(a *Answer, v Verdict) {
	var says, bodies []string
	seen := map[string]bool{}
	for _, r := range v.Rules {
		if r.Say != "" && len(says) == 0 {
			says = append(says, r.Say)
		}
		for _, id := range r.Signpost {
			if seen[id] || len(bodies) >= 2 {
				continue
			}
			seen[id] = true
			p := e.signposts[id]
			bodies = append(bodies, p.Section.Text)
			a.Sources = appendSource(a.Sources, e.source(p))
			if a.PassageID == "" {
				a.PassageID = p.ID()
			}
		}
	}
	a.Text = strings.Join(append(says, bodies...), "\n\n")
}

// dispute answers with the first useful step and hands over: the passage
// the rule names, or, for a rule that names none, the best search hit when
// it is good enough. A rule that names a passage and may search also
// shows the best hit, when it is another passage, cut to the room left.
func (e *Engine) dispute(a *Answer, v Verdict, hits []knowledge.Hit) {
	rule := v.Rules[0]
	a.Escalate, a.Reason = true, ReasonDispute
	var p knowledge.Passage
	for _, id := range rule.Signpost {
		if sp, ok := e.signposts[id]; ok {
			p, a.Confidence = sp, 1
			break
		}
	}
	if p.Doc == nil && rule.Search && len(hits) > 0 && hits[0].Match >= e.cfg.Threshold {
		p, a.Confidence = hits[0].Passage, round2(hits[0].Match)
	}
	if p.Doc == nil {
		a.Text = rule.Say
		return
	}
	a.Answered = true
	a.PassageID = p.ID()
	a.Text = rule.Say + "\n\n" + e.passageText(p, e.cfg.MaxAnswerChars-len(rule.Say)-2)
	a.Sources = appendSource(a.Sources, e.source(p))
	// The rule's passage is about challenging the decision; the question
	// may be about the rule behind it ("can the council refuse to let me
	// pay my sister?"). Show what the guidance says about that too.
	if rule.Search && len(hits) > 0 && hits[0].Match >= e.cfg.Threshold && hits[0].Passage.ID() != p.ID() {
		e.appendPassage(a, hits[0].Passage, "")
	}
}

// fromHits answers from the best hit when it is good enough, and offers
// the other good hits as suggestions.
func (e *Engine) fromHits(a *Answer, hits []knowledge.Hit) {
	if len(hits) > 0 {
		a.Confidence = round2(hits[0].Match)
	}
	if len(hits) == 0 || hits[0].Match < e.cfg.Threshold {
		a.Reason = ReasonLowConfidence
		a.Text = "I am not sure I have a good answer to that. You could ask it another way, browse the topics with /topics, or ask to talk to a person."
		for _, h := range hits {
			if h.Match >= e.cfg.Threshold/2 && len(a.Suggestions) < 3 {
				a.suggest(h.Passage)
			}
		}
		return
	}
	best := hits[0]
	a.Answered = true
	a.PassageID = best.Passage.ID()
	a.Text = e.passageText(best.Passage, e.cfg.MaxAnswerChars)
	a.Sources = appendSource(a.Sources, e.source(best.Passage))
	rest := hits[1:]
	// When the next passage matches nearly as well, the question probably
	// spans both ("do I keep paying my PA while I am in hospital, and does
	// the direct payment stop?"): show it too if the two fit in one answer.
	if len(rest) > 0 && e.isCompanion(best, rest[0]) {
		next := rest[0]
		both := a.Text + "\n\n" + e.passageText(next.Passage, 0)
		if utf8.RuneCountInString(both) <= e.cfg.MaxAnswerChars {
			a.Text = both
			a.Sources = appendSource(a.Sources, e.source(next.Passage))
			rest = rest[1:]
		}
	}
	for _, h := range rest {
		if len(a.Suggestions) == 3 {
			break
		}
		if h.Match >= e.cfg.Threshold && h.Passage.Section.Heading != best.Passage.Section.Heading {
			a.suggest(h.Passage)
		}
	}
}

// isCompanion reports whether next answers enough of the question, and
// ranks close enough to best, to be shown with it.
func (e *Engine) isCompanion(best, next knowledge.Hit) bool {
	need := otherCompanionScore
	if next.Passage.Doc == best.Passage.Doc {
		need = companionScore
	}
	return next.Score >= need && next.Match >= e.cfg.Threshold
}

// ErrUnknownPassage is returned by Passage for a reference that names no
// passage (content changed since the button was sent).
var ErrUnknownPassage = errors.New("bot: that passage no longer exists")

// Passage answers with the passage a suggestion button referred to.
func (e *Engine) Passage(ref string, audience knowledge.Audience) (Answer, error) {
	id, ok := e.refs[ref]
	if !ok {
		return Answer{}, ErrUnknownPassage
	}
	p, _ := e.base.Passage(id)
	return Answer{
		Question: p.Section.Heading, Audience: audience, Answered: true, Confidence: 1,
		Text: e.passageText(p, e.cfg.MaxAnswerChars), PassageID: id,
		Sources: []Source{e.source(p)}, Suggestions: []string{},
	}, nil
}

// passageText renders a passage for chat: its heading, then its text cut
// to limit characters at a sentence or line boundary.
func (e *Engine) passageText(p knowledge.Passage, limit int) string {
	return Trim(p.Section.Heading+"\n\n"+p.Section.Text, limit)
}

func (e *Engine) source(p knowledge.Passage) Source {
	s := Source{ID: p.Doc.ID, Title: p.Doc.Title, Kind: p.Doc.Kind}
	switch {
	case e.cfg.GuideURL != nil:
		s.URL = e.cfg.GuideURL(p.Doc.ID, p.Section.Anchor)
	case len(p.Doc.Sources) > 0:
		s.URL = p.Doc.Sources[0]
	}
	return s
}

// topicExamples names a few topics for someone in audience.
func (e *Engine) topicExamples(audience knowledge.Audience) string {
	var labels []string
	for _, t := range e.base.Topics {
		if audience.Sees(t.Audience) && len(labels) < 4 {
			labels = append(labels, lowerFirst(t.Label))
		}
	}
	if len(labels) == 0 {
		return "pay, holiday or sick pay"
	}
	return strings.Join(labels[:len(labels)-1], ", ") + " or " + labels[len(labels)-1]
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// lowerFirst lowers the first letter of s unless it starts an acronym
// ("Holiday pay" -> "holiday pay", "HMRC" stays).
func lowerFirst(s string) string {
	r := []rune(s)
	if len(r) > 1 && unicode.IsUpper(r[0]) && !unicode.IsUpper(r[1]) {
		r[0] = unicode.ToLower(r[0])
	}
	return string(r)
}

// Trim cuts text to at most limit characters, at the last paragraph, line
// or sentence end that fits, and marks the cut with "…". A sentence end is
// ". ", "! " or "? " (or a line end), so figures such as "£12.71" and phone
// numbers are never split.
func Trim(text string, limit int) string {
	if limit <= 0 || utf8.RuneCountInString(text) <= limit {
		return text
	}
	cut := string([]rune(text)[:limit-1])
	best := -1
	for _, sep := range []string{"\n\n", "\n", ". ", "! ", "? "} {
		if i := strings.LastIndex(cut, sep); i > best && i > len(cut)/3 {
			best = i
			if sep == ". " || sep == "! " || sep == "? " {
				best = i + 1
			}
		}
	}
	if best < 0 {
		// No boundary: cut at the last space that is not inside a figure
		// ("0300 123 1100"), so no word or number is split.
		best = len(cut)
		for i := len(cut) - 1; i > 0; i-- {
			if cut[i] == ' ' && !(isDigit(cut[i-1]) && i+1 < len(cut) && isDigit(cut[i+1])) {
				best = i
				break
			}
		}
	}
	return strings.TrimRight(cut[:best], " \n") + " …"
}

func appendSource(ss []Source, s Source) []Source {
	for _, x := range ss {
		if x.ID == s.ID {
			return ss
		}
	}
	return append(ss, s)
}

// suggest offers passage p as a follow-up, once per heading.
func (a *Answer) suggest(p knowledge.Passage) {
	for _, s := range a.Suggestions {
		if s == p.Section.Heading {
			return
		}
	}
	a.Suggestions = append(a.Suggestions, p.Section.Heading)
	a.suggestionIDs = append(a.suggestionIDs, p.ID())
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }
