package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/knowledge"
)

func answer(tb testing.TB, q string, a knowledge.Audience) bot.Answer {
	tb.Helper()
	ans, err := realEngine(tb).Answer(context.Background(), q, a)
	if err != nil {
		tb.Fatal(err)
	}
	return ans
}

// TestConfidenceSeparatesOnAndOffTopic checks that confidence means
// something: everyday questions about employing or working as a PA come back
// answered, and questions about anything else come back unanswered, however
// they are phrased.
func TestConfidenceSeparatesOnAndOffTopic(t *testing.T) {
	onTopic := []struct {
		audience knowledge.Audience
		q, fact  string
	}{
		{knowledge.Employer, "how many weeks holiday is my PA entitled to", "5.6 weeks"},
		{knowledge.Employer, "do i need to register as an employer with hmrc", "HMRC"},
		{knowledge.Employer, "what's the national living wage from april 2026", "£12.71"},
		{knowledge.Employer, "can i pay my daughter from my direct payment if she lives with me", "necessary"},
		{knowledge.Employer, "what does employers liability insurance cover", "insurance"},
		{knowledge.PA, "how much statutory sick pay will i get", "£123.25"},
		{knowledge.PA, "do I need a DBS check to work as a PA", "DBS"},
		{knowledge.PA, "what is the care certificate", "Care Certificate"},
		{knowledge.Employer, "how do i do a right to work check", "share code"},
		{knowledge.Employer, "whats a declaration of compliance", "declaration of compliance"},
	}
	for _, tt := range onTopic {
		a := answer(t, tt.q, tt.audience)
		if !a.Answered || a.Confidence < 0.4 || !strings.Contains(strings.ToLower(a.Text), strings.ToLower(tt.fact)) {
			t.Errorf("%q: answered %v, confidence %.2f, passage %s; want an answer containing %q", tt.q, a.Answered, a.Confidence, a.PassageID, tt.fact)
		}
	}
	offTopic := []string{
		"tell me a joke",
		"what's the capital of France",
		"who won the football last night",
		"how do I make a sourdough starter",
		"what is the square root of 144",
		"recommend a good film for tonight",
		"which planet is closest to the sun",
		"how tall is the eiffel tower",
		"translate good morning into spanish",
		"best mortgage rates for first time buyers",
		"can you write me a cover letter for a job in a shop",
		"how do i stop my dog chewing the sofa",
		"my boiler keeps losing pressure, who do i call",
		"cheapest train tickets from york to london on friday",
		"whats the best phone for an older person",
	}
	for _, q := range offTopic {
		a := answer(t, q, knowledge.Employer)
		if a.Answered || a.Escalate {
			t.Errorf("%q: answered %v (confidence %.2f, passage %s), escalate %v; want neither", q, a.Answered, a.Confidence, a.PassageID, a.Escalate)
		}
	}
}

// TestOffTopicNeedsNoDomainWord checks that a question about trains, dogs or
// phones is still answered when it is about a PA or a direct payment.
func TestOffTopicNeedsNoDomainWord(t *testing.T) {
	for _, q := range []string{
		"can my direct payment pay for my PA's train ticket when she comes to hospital with me",
		"my PA is scared of my dog, what should I do",
	} {
		a := answer(t, q, knowledge.Employer)
		if strings.HasPrefix(a.Text, "Sorry, I can only help") {
			t.Errorf("%q was refused as off-topic", q)
		}
	}
}

func TestGreetingsAreNotSearched(t *testing.T) {
	for _, q := range []string{"hello", "Hi!", "good morning", "thanks", "thank you so much", "cheers"} {
		a := answer(t, q, knowledge.Employer)
		if a.Answered || a.Escalate || a.Reason != "" || a.PassageID != "" || a.Text == "" {
			t.Errorf("%q: %+v", q, a)
		}
	}
}

func TestAnswerShape(t *testing.T) {
	a := answer(t, "how much holiday does a PA get", knowledge.Employer)
	if len(a.Suggestions) > 3 {
		t.Errorf("%d suggestions, want at most 3", len(a.Suggestions))
	}
	for _, s := range a.Suggestions {
		if strings.Contains(a.Text, s+"\n") {
			t.Errorf("suggestion %q repeats a section already in the answer", s)
		}
	}
	if len(a.Sources) != 1 || a.Sources[0].ID == "" || a.Sources[0].Title == "" || !strings.HasPrefix(a.Sources[0].URL, "http") {
		t.Errorf("sources = %+v", a.Sources)
	}
	if n := utf8.RuneCountInString(a.Text); n > 2000 {
		t.Errorf("answer is %d characters", n)
	}
}

func TestAudienceDecidesWhatIsFound(t *testing.T) {
	base := realEngine(t).Base()
	for _, tt := range []struct {
		audience knowledge.Audience
		q        string
	}{
		{knowledge.PA, "what are my rights at work"},
		{knowledge.PA, "how much holiday do I get"},
		{knowledge.Employer, "how much holiday does my PA get"},
		{knowledge.Employer, "do I have to give my PA a pension"},
	} {
		a := answer(t, tt.q, tt.audience)
		if a.PassageID == "" {
			t.Errorf("%s %q: no answer", tt.audience, tt.q)
			continue
		}
		p, _ := base.Passage(a.PassageID)
		if !tt.audience.Sees(p.Doc.Audience) {
			t.Errorf("%s %q was answered from %s, written for %s", tt.audience, tt.q, a.PassageID, p.Doc.Audience)
		}
	}
}

func TestDisputeEscalatesWithAFirstStep(t *testing.T) {
	a := answer(t, "the council has cut my direct payment hours in half and I want to challenge the decision", knowledge.Employer)
	if !a.Escalate || a.Urgent || a.Reason != bot.ReasonDispute {
		t.Fatalf("dispute: %+v", a)
	}
	if !a.Answered || !strings.Contains(strings.ToLower(a.Text), "review") {
		t.Errorf("dispute answer gives no first step: %q", a.Text)
	}
}

func TestPassageButtons(t *testing.T) {
	e := realEngine(t)
	a := answer(t, "how much holiday does a PA get", knowledge.Employer)
	got, err := e.Passage(bot.PassageRef(a.PassageID), knowledge.Employer)
	if err != nil || got.PassageID != a.PassageID || !got.Answered {
		t.Errorf("Passage(ref of %s) = %+v, %v", a.PassageID, got, err)
	}
	if _, err := e.Passage("no-such-ref", knowledge.Employer); err != bot.ErrUnknownPassage {
		t.Errorf("unknown ref: %v", err)
	}
	if n := len(bot.ActionPassage + bot.PassageRef(a.PassageID)); n > 64 {
		t.Errorf("passage button action is %d bytes; Telegram allows 64", n)
	}
}

func TestTrim(t *testing.T) {
	for _, tt := range []struct {
		text  string
		limit int
		want  string
	}{
		{"Short text.", 100, "Short text."},
		{"First sentence here. Second sentence is long and goes past the limit.", 40, "First sentence here. …"},
		// A figure with a decimal point is not a sentence end.
		{"The rate is £12.71 an hour for most PAs from April. More text follows here.", 60, "The rate is £12.71 an hour for most PAs from April. …"},
		{"Para one is here.\n\nPara two is quite a lot longer than the first.", 40, "Para one is here. …"},
		// No boundary at all: cut at a space, never inside a number.
		{"Call 0300 123 1100 now please", 14, "Call …"},
		{"Call 0300 123 1100 now please, it is free", 24, "Call 0300 123 1100 now …"},
	} {
		if got := bot.Trim(tt.text, tt.limit); got != tt.want {
			t.Errorf("Trim(%q, %d) = %q, want %q", tt.text, tt.limit, got, tt.want)
		}
	}
}

// TestAskingForAPersonStillAnswers checks that someone who asks for a person
// and a question is handed over and also given the guidance meanwhile,
// searched without the words of the request.
func TestAskingForAPersonStillAnswers(t *testing.T) {
	a := answer(t, "can someone call me please? I need to know how much statutory sick pay my PA gets", knowledge.Employer)
	if !a.Escalate || a.Reason != bot.ReasonRequested || a.Urgent {
		t.Fatalf("not handed over: %+v", a)
	}
	if !a.Answered || !strings.Contains(a.Text, "£123.25") {
		t.Errorf("no guidance meanwhile: %q", a.Text)
	}
	bare := answer(t, "I want to talk to a person", knowledge.Employer)
	if !bare.Escalate || bare.Answered || strings.Contains(bare.Text, "While you wait") {
		t.Errorf("a bare request: %+v", bare)
	}
}

// fixedSearcher is a bot.Searcher that always returns the same hits.
type fixedSearcher []knowledge.Hit

func (f fixedSearcher) Search(context.Context, knowledge.Query) ([]knowledge.Hit, error) {
	return f, nil
}

// TestAnswerShowsACompanionPassage checks that an answer opens with the
// best passage's answer, not a heading, and when a second passage follows
// it under More: when it ranks nearly as well, more nearly for another
// guide than for the same one, naming its own source.
func TestAnswerShowsACompanionPassage(t *testing.T) {
	base := realEngine(t).Base()
	passage := func(id string) knowledge.Passage {
		p, ok := base.Passage(id)
		if !ok {
			t.Fatalf("no passage %s", id)
		}
		return p
	}
	best := passage("hospital-stays-employer#" + base.Document("hospital-stays-employer").Sections[0].Anchor)
	sameDoc := passage("hospital-stays-employer#" + base.Document("hospital-stays-employer").Sections[1].Anchor)
	otherDoc := passage("minimum-wage#" + base.Document("minimum-wage").Sections[0].Anchor)
	tests := []struct {
		name    string
		next    knowledge.Passage
		score   float64
		shown   bool
		sources int
	}{
		{"same guide, close", sameDoc, 0.65, true, 1},
		{"same guide, far", sameDoc, 0.5, false, 1},
		{"other guide, close", otherDoc, 0.8, true, 2},
		{"other guide, not close enough", otherDoc, 0.7, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := fixedSearcher{
				{Passage: best, Score: 1, Match: 0.8},
				{Passage: tt.next, Score: tt.score, Match: 0.6},
			}
			e, err := bot.NewEngine(base, hits, bot.EngineConfig{MaxAnswerChars: 10000})
			if err != nil {
				t.Fatal(err)
			}
			a, err := e.Answer(context.Background(), "I go into hospital next week: does my direct payment stop, and what do I pay my PA?", knowledge.Employer)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(best.Section.Text, "\n\n")
			if !strings.HasPrefix(a.Text, first) {
				t.Fatalf("answer does not open with the best passage's answer:\n%s", a.Text)
			}
			if got := strings.Contains(a.More, tt.next.Section.Heading); got != tt.shown {
				t.Errorf("second passage under More = %v, want %v", got, tt.shown)
			}
			if len(a.Sources) != tt.sources {
				t.Errorf("%d sources, want %d: %+v", len(a.Sources), tt.sources, a.Sources)
			}
		})
	}
}

// TestDisputeShowsTheFirstStepAndTheRule checks that a dispute reply
// carries the rule's first step and, when the question is about the rule
// behind the decision, what the guidance says about that rule.
func TestDisputeShowsTheFirstStepAndTheRule(t *testing.T) {
	base := realEngine(t).Base()
	doc := base.Document("paying-family-members")
	p, ok := base.Passage("paying-family-members#" + doc.Sections[0].Anchor)
	if !ok {
		t.Fatal("no passage")
	}
	for _, tt := range []struct {
		match float64
		shown bool
	}{{0.7, true}, {0.2, false}} {
		e, err := bot.NewEngine(base, fixedSearcher{{Passage: p, Score: 1, Match: tt.match}}, bot.EngineConfig{})
		if err != nil {
			t.Fatal(err)
		}
		a, err := e.Answer(context.Background(), "the council has refused to let me pay my sister from my direct payment", knowledge.Employer)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Escalate || a.Reason != bot.ReasonDispute || !strings.Contains(a.Text, "review") {
			t.Fatalf("escalate=%v reason=%q, want a dispute hand-over naming a review:\n%s", a.Escalate, a.Reason, a.Text)
		}
		first, _, _ := strings.Cut(p.Section.Text, "\n\n")
		if got := strings.Contains(a.Text, first); got != tt.shown {
			t.Errorf("match %.1f: the rule's own passage shown = %v, want %v", tt.match, got, tt.shown)
		}
	}
}

// TestSeveralQuestionsInOneMessage checks that a message asking two
// things answers one and offers the other's section to tap.
func TestSeveralQuestionsInOneMessage(t *testing.T) {
	a := answer(t, "My PA works three days a week and has asked for two weeks off in August, how much paid holiday is she entitled to this year and can I make her take some at Christmas? Also, do I need employers liability insurance?", knowledge.Employer)
	if !a.Answered {
		t.Fatalf("not answered: %+v", a)
	}
	first, _, _ := strings.Cut(a.PassageID, "#")
	want := "employers-liability-insurance"
	if first == want {
		want = "holiday-entitlement"
	}
	offered := ""
	if len(a.Suggestions) > 0 {
		for _, p := range realEngine(t).Base().Passages() {
			if p.Section.Heading == a.Suggestions[0] {
				offered = p.Doc.ID
			}
		}
	}
	if offered != want {
		t.Errorf("answered from %s; the first suggestion %q is from %q, want the other question's guide (%s)", a.PassageID, a.Suggestions, offered, want)
	}
}

// TestAnswerThenMore checks the split of a long section: what the person
// sees first opens with the section's answer and stays within the limit
// (beyond the first paragraph), the rest comes with More, and together
// they are the whole section.
func TestAnswerThenMore(t *testing.T) {
	base := realEngine(t).Base()
	doc := base.Document("sick-pay")
	p, _ := base.Passage("sick-pay#" + doc.Sections[0].Anchor)
	e, err := bot.NewEngine(base, fixedSearcher{{Passage: p, Score: 1, Match: 0.9}}, bot.EngineConfig{MaxAnswerChars: 300})
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.Answer(context.Background(), "how much sick pay does my PA get", knowledge.Employer)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(p.Section.Text, "\n\n")
	if !strings.HasPrefix(a.Text, first) || a.More == "" || !isSplitOf(p.Section.Text, a.Text, a.More) {
		t.Fatalf("answer %q\nmore %q\nwant the first paragraph first and the rest under More", a.Text, a.More)
	}
	if len([]rune(a.Text)) > max(300, len([]rune(first))) {
		t.Errorf("the answer is %d characters, over the limit", len([]rune(a.Text)))
	}
	rest, err := e.More(bot.PassageRef(p.ID()), knowledge.Employer)
	if err != nil || rest.Text != a.More {
		t.Errorf("More: %q, %v; want the rest of the section", rest.Text, err)
	}
	if _, err := e.More("nope", knowledge.Employer); !errors.Is(err, bot.ErrUnknownPassage) {
		t.Errorf("More of an unknown passage: %v", err)
	}
}

// isSplitOf reports whether answer and more, joined at a paragraph or a
// list item, make up text.
func isSplitOf(text, answer, more string) bool {
	return text == answer+"\n\n"+more || text == answer+"\n"+more
}

// TestAnswerShowsTheListItLeadsInto checks that a section opening with a
// short sentence and then a long list shows the first items of the list,
// not the sentence alone, and that what is seen first never ends with a
// lead-in whose list is all under More.
func TestAnswerShowsTheListItLeadsInto(t *testing.T) {
	base := realEngine(t).Base()
	var p knowledge.Passage
	for _, q := range base.Passages() {
		if q.Doc.ID == "emergency-help" && strings.Contains(q.Section.Heading, "numbers to print") {
			p = q
		}
	}
	if p.Doc == nil {
		t.Fatal("emergency-help has no section of numbers to print")
	}
	for _, limit := range []int{400, 900} {
		e, err := bot.NewEngine(base, fixedSearcher{{Passage: p, Score: 1, Match: 0.9}}, bot.EngineConfig{MaxAnswerChars: limit})
		if err != nil {
			t.Fatal(err)
		}
		a, err := e.Answer(context.Background(), "what numbers should I keep by the phone", knowledge.Employer)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(a.Text, "• 999") || !isSplitOf(p.Section.Text, a.Text, a.More) {
			t.Errorf("limit %d: answer %q\nmore %q\nwant the lead-in, then the list's first items, then the rest", limit, a.Text, a.More)
		}
		if limit == 900 && !strings.Contains(a.Text, "116 123") {
			t.Errorf("limit 900: answer %q leaves Samaritans' number under More though it fits", a.Text)
		}
		if len([]rune(a.Text)) > limit && strings.Count(a.Text, "• ") > 1 {
			t.Errorf("limit %d: the answer is %d characters with %d items; want no more items than fit", limit, len([]rune(a.Text)), strings.Count(a.Text, "• "))
		}
	}
}

// TestOffTopicThatNamesASubject checks that a question about something
// else is refused although it uses a word askpa's subjects use ("council",
// "contract"), while questions about those subjects are still answered.
func TestOffTopicThatNamesASubject(t *testing.T) {
	e := realEngine(t)
	for _, c := range []struct {
		q        string
		answered bool
	}{
		{"which is cheaper, a mobile phone contract or pay as you go?", false},
		{"what day does the council collect the green bins", false},
		{"how do I get a parking permit from the council for my street", false},
		{"can my PA's contract say she works every other weekend", true},
		{"does the council check how I spend my direct payment", true},
	} {
		a, err := e.Answer(context.Background(), c.q, knowledge.Employer)
		if err != nil {
			t.Fatal(err)
		}
		if a.Answered != c.answered {
			t.Errorf("%q: answered %v, want %v (%q)", c.q, a.Answered, c.answered, bot.Trim(a.Text, 80))
		}
	}
}

// TestShortQuestionGetsItsAnswer checks that a few words asking for a
// number get the number, whether or not the classifier takes them for a
// request for a person: only an explicit request ("a real person please")
// is left without a passage.
func TestShortQuestionGetsItsAnswer(t *testing.T) {
	e := realEngine(t)
	a, err := e.Answer(context.Background(), "macmillan phone number", knowledge.Employer)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.Text, "0808 808 00 00") {
		t.Errorf("answer %q (escalate %v, %s); want the Macmillan Support Line's number", bot.Trim(a.Text, 200), a.Escalate, a.Reason)
	}
	a, err = e.Answer(context.Background(), "a real person please", knowledge.Employer)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Escalate || a.Answered {
		t.Errorf("an explicit request: escalate %v, answered %v (%q); want a hand-over and no passage", a.Escalate, a.Answered, a.Text)
	}
}

// TestNotSureNamesWhoWouldKnow checks that when no passage answers well
// enough, the reply says so, names who would know from the nearest guide's
// topic (in the asker's own terms), and always offers a person.
func TestNotSureNamesWhoWouldKnow(t *testing.T) {
	base := realEngine(t).Base()
	passage := func(doc string) knowledge.Passage {
		for _, p := range base.Passages() {
			if p.Doc.ID == doc {
				return p
			}
		}
		t.Fatalf("no guide %s", doc)
		return knowledge.Passage{}
	}
	payslips := passage("pay-and-payslips")
	tests := []struct {
		name     string
		hits     fixedSearcher
		audience knowledge.Audience
		want     string // in the reply; "" for none of the topics' sentences
	}{
		{"a near pay guide, an employer", fixedSearcher{{Passage: payslips, Score: 1, Match: 0.25}}, knowledge.Employer, "0300 123 1100"},
		{"a near payroll guide, a PA", fixedSearcher{{Passage: passage("payroll-services"), Score: 1, Match: 0.25}}, knowledge.PA, "Your employer's payroll service"},
		{"nothing near", fixedSearcher{{Passage: payslips, Score: 1, Match: 0.05}}, knowledge.Employer, ""},
		{"no hits", nil, knowledge.Employer, ""},
	}
	for _, tt := range tests {
		e, err := bot.NewEngine(base, tt.hits, bot.EngineConfig{})
		if err != nil {
			t.Fatal(err)
		}
		a, err := e.Answer(context.Background(), "a question about the arrangements for my PA", tt.audience)
		if err != nil {
			t.Fatal(err)
		}
		if a.Answered || a.Reason != bot.ReasonLowConfidence || !strings.HasPrefix(a.Text, "I am not sure") || !strings.Contains(a.Text, "talk to a person") {
			t.Errorf("%s: %+v, want an honest miss that offers a person", tt.name, a)
			continue
		}
		named := false
		for _, topic := range base.Topics {
			named = named || (topic.Ask != "" && strings.Contains(a.Text, topic.Ask)) || (topic.AskPA != "" && strings.Contains(a.Text, topic.AskPA))
		}
		if tt.want == "" && named {
			t.Errorf("%s: %q names someone from a guide that is not near the question", tt.name, a.Text)
		}
		if tt.want != "" && !strings.Contains(a.Text, tt.want) {
			t.Errorf("%s: %q, want it to name who would know (%q)", tt.name, a.Text, tt.want)
		}
	}
}
