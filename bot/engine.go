package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/askpa/askpa/bot/safety"
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
// question to be answered although the safety classifier takes it for
// off-topic: the classifier judges words, the search what the guides say.
const offTopicOverruleMatch = 0.6

// minQuestionWords is the fewest words left of a request for a person
// ("I want to talk to a real person" leaves "i want to") that can be a
// question worth answering while the person waits.
const minQuestionWords = 4

// sureOffTopic is how sure the classifier must be that a message is
// off-topic to refuse it however well the search matches ("tell me a
// joke" matches a passage that mentions jokes). On the safety corpus's
// validation split, messages at or above it that name nothing askpa covers
// were off-topic 63 times in 80 and never anything else, in 1,540; those
// that do name one of its subjects were off-topic all 10 times.
const sureOffTopic = 0.6

// refusesOffTopic reports whether a message the classifier takes for
// off-topic (verdict v) is refused rather than answered from hits. A
// message that names none of askpa's subjects is refused when the
// classifier is sure or the search matches weakly; one that names a subject
// ("council", "contract") is refused only when both hold, so "council tax"
// or "a phone contract" is not answered from a guide that merely shares the
// word, while a weak classifier guess never overrules the guides.
func (e *Engine) refusesOffTopic(v safety.Verdict, question string, hits []knowledge.Hit) bool {
	sure := v.Probability >= sureOffTopic
	weak := len(hits) == 0 || hits[0].Match < offTopicOverruleMatch
	if e.safety.NamesDomain(question) {
		return sure && weak
	}
	return sure || weak
}

// Searcher finds passages of the knowledge base. index.Index implements it.
type Searcher interface {
	Search(ctx context.Context, q knowledge.Query) ([]knowledge.Hit, error)
}

// EngineConfig tunes the answer engine. The zero value is ready to use.
type EngineConfig struct {
	// Threshold is the confidence below which the engine says it has no
	// good answer rather than guess. Default 0.35.
	Threshold float64
	// Area is the local pack's council, whose details the safety replies
	// and the hand-over give; nil for the national wording.
	Area *knowledge.Area
	// MaxAnswerChars bounds what a person sees first (Answer.Text): the
	// section's opening paragraphs up to this many characters; the rest
	// goes in Answer.More, behind a "More" button. Default 900, about a
	// phone screen: every section gives its answer and key figures first.
	MaxAnswerChars int
	// GuideURL, when set, returns the link to show for a passage (for
	// example a page of the full guide). By default a source links to the
	// first source its document cites.
	GuideURL func(docID, anchor string) string
	// Safety checks every message first. Default safety.Default().
	Safety *safety.Checker
}

// Engine answers one question at a time, with no memory of the
// conversation: safety first, then small talk, then the knowledge base. It
// is what "askpa ask" runs and what Service uses for every question.
type Engine struct {
	base      *knowledge.Base
	search    Searcher
	safety    *safety.Checker
	smallTalk *smallTalk
	cfg       EngineConfig
	refs      map[string]string // short passage reference -> passage id
	guides    map[string]knowledge.Passage
}

// NewEngine returns an engine answering from base through s. It fails when
// the safety layer cannot be loaded or links a passage that is not in base.
func NewEngine(base *knowledge.Base, s Searcher, cfg EngineConfig) (*Engine, error) {
	if cfg.Threshold == 0 {
		cfg.Threshold = 0.35
	}
	if cfg.MaxAnswerChars == 0 {
		cfg.MaxAnswerChars = 900
	}
	if cfg.Safety == nil {
		c, err := safety.Default()
		if err != nil {
			return nil, err
		}
		cfg.Safety = c
	}
	cfg.Safety = cfg.Safety.Localise(cfg.Area)
	st, err := parseSmallTalk(defaultSmallTalk)
	if err != nil {
		return nil, err
	}
	e := &Engine{base: base, search: s, safety: cfg.Safety, smallTalk: st, cfg: cfg, refs: map[string]string{}, guides: map[string]knowledge.Passage{}}
	for _, p := range base.Passages() {
		e.refs[PassageRef(p.ID())] = p.ID()
	}
	var missing []string
	for _, id := range cfg.Safety.Guides() {
		p, ok := base.Passage(id)
		if !ok {
			missing = append(missing, id)
			continue
		}
		e.guides[id] = p
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("bot: safety replies link passages missing from the knowledge base: %s", strings.Join(missing, ", "))
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

// Safety returns the engine's safety checker.
func (e *Engine) Safety() *safety.Checker { return e.safety }

// Area returns the local pack's council the engine answers for, or nil.
func (e *Engine) Area() *knowledge.Area { return e.cfg.Area }

// Answer answers one question from someone in audience, with no
// conversation before it. See AnswerIn.
func (e *Engine) Answer(ctx context.Context, question string, audience knowledge.Audience) (Answer, error) {
	return e.AnswerIn(ctx, []string{question}, audience)
}

// AnswerIn answers the last of msgs, a person's recent messages oldest
// first, from someone in audience. Safety comes first and is judged on the
// messages together (see safety.Checker.CheckConversation): an urgent
// verdict gets its kind's script and an urgent hand-over, and nothing from
// the knowledge base; a caution puts the kind's signposting line above the
// answer. Then a request for a person, small talk, off-topic messages and
// disputes; then the knowledge base. It fails only when the search does.
func (e *Engine) AnswerIn(ctx context.Context, msgs []string, audience knowledge.Audience) (Answer, error) {
	question := ""
	if len(msgs) > 0 {
		question = msgs[len(msgs)-1]
	}
	a := Answer{Question: question, Audience: audience, Sources: []Source{}, Suggestions: []string{}}
	if strings.TrimSpace(question) == "" {
		a.Text = "Please type a question, for example: how much holiday does a PA get?"
		return a, nil
	}
	v := e.safety.CheckConversation(ctx, msgs, audience)
	if v.Urgent() {
		e.urgent(&a, v)
		return a, nil
	}
	// A greeting or thanks is just that, whatever the classifier thinks
	// of so few words.
	if say := e.smallTalk.reply(question); say != "" {
		a.Text = say
		return a, nil
	}
	if v.Kind == safety.Requested {
		a.Text = msgRequested
		a.Escalate, a.Reason, a.Confidence = true, ReasonRequested, 1
		// What is left once the request is taken out may be a question;
		// with no explicit request in it ("macmillan phone number"), the
		// whole message is, however short.
		rest := e.safety.Without(question)
		if len(strings.Fields(rest)) >= minQuestionWords || !e.safety.AsksForPerson(question) {
			return a, e.alsoAnswer(ctx, &a, rest, msgWhileYouWait)
		}
		return a, nil
	}
	hits, err := e.search.Search(ctx, knowledge.Query{Text: question, Audience: audience, Limit: 6})
	if err != nil {
		return Answer{}, fmt.Errorf("bot: answering: %w", err)
	}
	switch {
	case v.Kind == safety.OffTopic && e.refusesOffTopic(v, question, hits):
		a.Text = strings.ReplaceAll(msgOffTopic, "{topics}", e.topicExamples(audience))
		if len(hits) > 0 {
			a.Confidence = round2(hits[0].Match)
		}
	case v.Kind == safety.Dispute:
		e.dispute(&a, hits)
	default:
		e.fromHits(&a, hits)
		if a.Answered {
			if err := e.otherQuestions(ctx, &a, question); err != nil {
				return Answer{}, err
			}
		}
	}
	switch {
	case v.Level == safety.LevelCaution:
		e.caution(&a, v)
	case v.Kind == safety.Situation:
		// Someone describing their situation rather than asking: warmth
		// first, then what the guides say, and a person offered.
		a.Situation = true
		a.Text = msgSituation + "\n\n" + a.Text
	}
	return a, nil
}

// maxOtherQuestions bounds how many further questions of one message are
// looked up.
const maxOtherQuestions = 3

// otherQuestions offers, first among a's suggestions, the best section for
// each other question a message asks ("how much holiday does she get? and
// do I pay her for bank holidays?"), when it is not the section answered.
func (e *Engine) otherQuestions(ctx context.Context, a *Answer, message string) error {
	qs := questions(message)
	if len(qs) < 2 {
		return nil
	}
	var offered []string
	for _, q := range qs[:min(len(qs), maxOtherQuestions+1)] {
		hits, err := e.search.Search(ctx, knowledge.Query{Text: q, Audience: a.Audience, Limit: 1})
		if err != nil {
			return fmt.Errorf("bot: answering: %w", err)
		}
		if len(hits) == 0 || hits[0].Match < e.cfg.Threshold || hits[0].Passage.ID() == a.PassageID {
			continue
		}
		offered = append(offered, hits[0].Passage.ID())
	}
	if len(offered) == 0 {
		return nil
	}
	// The question the answer came from may find a neighbour of the
	// answer in its guide: a question about another guide comes first.
	answered, _, _ := strings.Cut(a.PassageID, "#")
	sameGuide := func(id string) int {
		if doc, _, _ := strings.Cut(id, "#"); doc == answered {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(offered, func(x, y string) int { return sameGuide(x) - sameGuide(y) })
	before, ids := a.Suggestions, a.suggestionIDs
	a.Suggestions, a.suggestionIDs = nil, nil
	for _, id := range offered {
		if p, ok := e.base.Passage(id); ok {
			a.suggest(p)
		}
	}
	for i, s := range before {
		if len(a.Suggestions) < 3 && !slices.Contains(a.Suggestions, s) {
			a.Suggestions = append(a.Suggestions, s)
			a.suggestionIDs = append(a.suggestionIDs, ids[i])
		}
	}
	return nil
}

// questions splits a message into the questions it asks: its sentences
// that end with "?", when there are several; otherwise the whole message.
func questions(message string) []string {
	var out []string
	start := 0
	for i, r := range message {
		if r == '?' {
			if q := strings.TrimSpace(message[start : i+1]); len(strings.Fields(q)) >= 3 {
				out = append(out, q)
			}
			start = i + 1
		}
	}
	if len(out) < 2 {
		return []string{message}
	}
	return out
}

// urgent fills a with the script for an urgent verdict, and nothing else:
// an unrelated passage after it would bury the numbers.
func (e *Engine) urgent(a *Answer, v safety.Verdict) {
	r, _ := e.safety.Reply(v.Kind)
	a.Text = r.Script(v.Self)
	if also, ok := e.safety.Reply(v.Also); ok {
		a.Text += "\n\n" + also.Line
	}
	a.Escalate, a.Urgent, a.Reason = true, true, string(v.Group())
	a.Confidence = round2(v.Probability)
	a.Concern, a.safety = string(v.Kind), &v
	if p, ok := e.guides[r.Guide]; ok {
		a.PassageID = p.ID()
		a.Sources = appendSource(a.Sources, e.source(p))
	}
}

// caution puts the signposting line of a moderately sure verdict above
// the answer, and links its guide.
func (e *Engine) caution(a *Answer, v safety.Verdict) {
	r, _ := e.safety.Reply(v.Kind)
	a.Text = r.Line + "\n\n" + a.Text
	a.Concern, a.safety = string(v.Kind), &v
	if p, ok := e.guides[r.Guide]; ok {
		a.Sources = appendSource(a.Sources, e.source(p))
	}
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

// appendPassage adds passage p's answer to a, after lead when there is
// one; the rest of the passage goes under More.
func (e *Engine) appendPassage(a *Answer, p knowledge.Passage, lead string) {
	sep := "\n\n"
	if lead != "" {
		sep += lead + "\n\n"
	}
	a.Answered = true
	if a.PassageID == "" {
		a.PassageID = p.ID()
	}
	answer, more := e.split(p)
	a.Text += sep + answer
	a.More = more
	a.Sources = appendSource(a.Sources, e.source(p))
}

// dispute hands over, saying why, with the passage that best answers the
// question when it is good enough: the first step to challenge a decision
// is usually in the guides.
func (e *Engine) dispute(a *Answer, hits []knowledge.Hit) {
	a.Escalate, a.Reason = true, ReasonDispute
	a.Text = msgDispute
	if len(hits) > 0 && hits[0].Match >= e.cfg.Threshold {
		a.Confidence = round2(hits[0].Match)
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
		a.Text = e.notSure(hits, a.Audience)
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
	a.Text, a.More = e.split(best.Passage)
	a.Sources = appendSource(a.Sources, e.source(best.Passage))
	rest := hits[1:]
	// When the next passage matches nearly as well, the question probably
	// spans both ("do I keep paying my PA while I am in hospital, and does
	// the direct payment stop?"): it follows under More.
	if len(rest) > 0 && e.isCompanion(best, rest[0]) {
		next := rest[0]
		a.More = strings.TrimSpace(a.More + "\n\n" + next.Passage.Section.Heading + "\n\n" + next.Passage.Section.Text)
		a.Sources = appendSource(a.Sources, e.source(next.Passage))
		rest = rest[1:]
	}
	for _, h := range rest {
		if len(a.Suggestions) == 3 {
			break
		}
		if h.Match >= e.cfg.Threshold/2 && h.Passage.Section.Heading != best.Passage.Section.Heading {
			a.suggest(h.Passage)
		}
	}
}

// notSure is the reply when no passage answers well enough: askpa says so,
// names who would know when the nearest guide's topics name someone (see
// knowledge.Topic.Ask), and offers a person.
func (e *Engine) notSure(hits []knowledge.Hit, audience knowledge.Audience) string {
	text := "I am not sure I have a good answer to that."
	if ask := e.whoKnows(hits, audience); ask != "" {
		text += " " + ask
	}
	return text + " You could ask it another way, browse the topics with /topics, or ask to talk to a person."
}

// whoKnows returns the sentence naming who would know, from the topics of
// the guide nearest the question when it is near enough to be offered (the
// suggestions' bar); empty when there is none.
func (e *Engine) whoKnows(hits []knowledge.Hit, audience knowledge.Audience) string {
	if len(hits) == 0 || hits[0].Match < e.cfg.Threshold/2 {
		return ""
	}
	for _, id := range hits[0].Passage.Doc.Topics {
		if t, ok := e.base.Topic(id); ok {
			if ask := t.WhoKnows(audience); ask != "" {
				return ask
			}
		}
	}
	return ""
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
	a := Answer{
		Question: p.Section.Heading, Audience: audience, Answered: true, Confidence: 1,
		PassageID: id, Sources: []Source{e.source(p)}, Suggestions: []string{},
	}
	a.Text, a.More = e.split(p)
	return a, nil
}

// More answers with the rest of the passage a "More" button referred to:
// what its answer left out.
func (e *Engine) More(ref string, audience knowledge.Audience) (Answer, error) {
	a, err := e.Passage(ref, audience)
	if err != nil {
		return Answer{}, err
	}
	a.Text, a.More = a.More, ""
	return a, nil
}

// split returns what a person sees first of passage p, its opening
// paragraphs up to MaxAnswerChars (at least the first, which answers), and
// the rest. A list is cut between its items, so a sentence that leads into
// a list is followed by as many of its items as fit, never by none while
// they all wait behind More; a lead-in whose list does not start within the
// limit goes to More with it. No heading comes first: the answer does.
func (e *Engine) split(p knowledge.Passage) (answer, more string) {
	text := p.Section.Text
	if utf8.RuneCountInString(text) <= e.cfg.MaxAnswerChars {
		return text, ""
	}
	cuts := cutPoints(text)
	best := cuts[0]
	for _, c := range cuts[1:] {
		if utf8.RuneCountInString(text[:c]) > e.cfg.MaxAnswerChars {
			break
		}
		best = c
	}
	if best > cuts[0] && strings.HasSuffix(text[:best], ":") {
		// Step back over the dangling lead-in, to the cut before it.
		for i := len(cuts) - 1; i >= 0; i-- {
			if cuts[i] < best && !strings.HasSuffix(text[:cuts[i]], ":") {
				best = cuts[i]
				break
			}
		}
	}
	return text[:best], strings.TrimLeft(text[best:], "\n")
}

// cutPoints returns the byte offsets at which text may be cut into what is
// seen first and the rest: the end of each paragraph and, inside a list,
// the end of each item. The first is always the end of the first
// paragraph, which is never cut; the last is len(text).
func cutPoints(text string) []int {
	first := strings.Index(text, "\n\n")
	if first < 0 {
		return []int{len(text)}
	}
	cuts := []int{first}
	for i := first + 2; i < len(text); i++ {
		if text[i] != '\n' {
			continue
		}
		switch rest := text[i+1:]; {
		case strings.HasPrefix(rest, "\n"):
			cuts = append(cuts, i)
			i++
		case strings.HasPrefix(rest, "• ") || startsNumbered(rest):
			cuts = append(cuts, i)
		}
	}
	return append(cuts, len(text))
}

// startsNumbered reports whether s opens with a numbered list item ("2. ").
func startsNumbered(s string) bool {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i > 0 && strings.HasPrefix(s[i:], ". ")
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
