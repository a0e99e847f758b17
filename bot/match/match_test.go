package match_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/askpa/askpa/bot/bottest"
	"github.com/askpa/askpa/bot/match"
	"github.com/askpa/askpa/knowledge"
)

func defaultMatcher(tb testing.TB) *match.Matcher {
	tb.Helper()
	b, x := bottest.Index(tb)
	m, err := match.Default(b, x)
	if err != nil {
		tb.Fatalf("match.Default: %v", err)
	}
	return m
}

// TestSearchFindsTheSection checks questions in words written for this
// test (not from any corpus split) whose guide no one could doubt: a
// section of it must be among the first three. (The matcher does not yet
// put each first: it ranks paternity pay above sick pay for "what is the
// statutory sick pay rate for my PA now".)
func TestSearchFindsTheSection(t *testing.T) {
	m := defaultMatcher(t)
	tests := []struct {
		audience knowledge.Audience
		q, doc   string
	}{
		{knowledge.Employer, "what is the statutory sick pay rate for my PA now", "sick-pay"},
		{knowledge.PA, "how much holiday am i owed, i do 3 days a week", "pa-holiday"},
		{knowledge.Employer, "do i have to put my PA in a pension scheme", "workplace-pensions"},
		{knowledge.Employer, "what checks do i do before my new PA starts to see she can work in the UK", "right-to-work-checks"},
	}
	for _, tt := range tests {
		hits, err := m.Search(context.Background(), knowledge.Query{Text: tt.q, Audience: tt.audience, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		found := false
		for _, h := range hits {
			got = append(got, h.Passage.ID())
			found = found || h.Passage.Doc.ID == tt.doc
		}
		if !found {
			t.Errorf("%q: %v, want a section of %s among them", tt.q, got, tt.doc)
			continue
		}
		for i, h := range hits {
			if h.Match < 0 || h.Match > 1 || (i > 0 && h.Score > hits[i-1].Score) {
				t.Errorf("%q: hit %d %s has score %.2f, confidence %.2f: want confidences in [0,1], best first", tt.q, i, h.Passage.ID(), h.Score, h.Match)
			}
		}
	}
}

// TestPAsAreNotShownEmployersSections checks, with questions written for
// this test, that a PA is never shown a section written to employers, in a
// guide for employers or in one for both.
func TestPAsAreNotShownEmployersSections(t *testing.T) {
	m := defaultMatcher(t)
	for _, q := range []string{
		"how do i work out my PA's holiday pay",
		"what do I put in a PA's contract",
		"am i entitled to sick pay",
		"my employer wants me to do 60 hours, can she",
		"how do I register as an employer with HMRC",
	} {
		hits, err := m.Search(context.Background(), knowledge.Query{Text: q, Audience: knowledge.PA, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			if !knowledge.PA.Sees(h.Passage.Audience()) {
				t.Errorf("a PA asking %q is shown %s, written to employers", q, h.Passage.ID())
			}
		}
	}
}

// TestValidationSplit holds the built-in matcher to what it reached on the
// validation split when it was trained. The test split is not read.
func TestValidationSplit(t *testing.T) {
	m := defaultMatcher(t)
	qs, err := match.ReadQuestions(os.DirFS("corpus"), "validation")
	if err != nil {
		t.Fatal(err)
	}
	j, err := match.ReadJudgements(os.DirFS("corpus"), "judged")
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Evaluate(context.Background(), qs, j)
	if err != nil {
		t.Fatal(err)
	}
	if float64(r.Top1) < 0.72*float64(r.Questions) || float64(r.Top3) < 0.81*float64(r.Questions) {
		t.Errorf("validation: top-1 %d, top-3 %d of %d; want at least 72%% and 81%%", r.Top1, r.Top3, r.Questions)
	}
	if float64(r.JudgedTop1) < 0.86*float64(r.Questions) {
		t.Errorf("validation, counting judged sections: top-1 %d of %d; want at least 86%%", r.JudgedTop1, r.Questions)
	}
}

func TestNewRefusesAModelForOtherFeatures(t *testing.T) {
	b, x := bottest.Index(t)
	if _, err := match.New(b, x, nil, match.Model{Features: []string{"x"}, Weights: []float64{1}}); err == nil {
		t.Error("New accepted a model of other features")
	}
}

func TestReadQuestionsNamesFileAndLine(t *testing.T) {
	good := `{"id": "QA1-1", "section": "sick-pay#x", "q": "is she paid", "voice": "employer"}`
	for line, want := range map[string]string{
		`{"id": "QA1-2", "section": "s", "q": "", "voice": "pa"}`:           "x/a.jsonl:2: want id, section and q",
		`{"id": "QA1-2", "section": "s", "q": "hi", "voice": "cat"}`:        `x/a.jsonl:2: voice "cat"`,
		`{"id": "QA1-2", "section": "s", "q": "hi", "voice": "pa", "x": 1}`: "x/a.jsonl:2:",
	} {
		_, err := match.ReadQuestions(fstest.MapFS{"x/a.jsonl": {Data: []byte(good + "\n" + line + "\n")}}, "x")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", line, err, want)
		}
	}
	qs, err := match.ReadQuestions(fstest.MapFS{"x/a.jsonl": {Data: []byte(good + "\n")}}, "x")
	if err != nil || len(qs) != 1 || qs[0].Writer != "QA1" || qs[0].Audience() != knowledge.Employer {
		t.Errorf("a good file: %+v, %v", qs, err)
	}
}

// TestModelIsCurrent retrains the model and checks that it is, to two
// decimals, what is built in, and that its classifier makes the same
// guesses. After changing the corpus or the features, retrain with
// "go generate ./bot/match".
func TestModelIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("retraining takes a while; skipped in -short mode")
	}
	b, x := bottest.Index(t)
	train, err := match.ReadQuestions(os.DirFS("corpus"), "train")
	if err != nil {
		t.Fatal(err)
	}
	validation, err := match.ReadQuestions(os.DirFS("corpus"), "validation")
	if err != nil {
		t.Fatal(err)
	}
	unanswerable, err := match.Unanswerable(os.DirFS("../safety/testdata/corpus"), "validation")
	if err != nil {
		t.Fatal(err)
	}
	model, _, err := match.Train(context.Background(), b, x, train, validation, unanswerable)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("data/model.json")
	if err != nil {
		t.Fatal(err)
	}
	built, err := match.ReadModel(data)
	if err != nil {
		t.Fatal(err)
	}
	// Bleve's scores differ in their last digits from one build of the
	// index to the next, so the weights are compared to two decimals.
	close := func(a, b float64) bool { return math.Abs(a-b) < 0.01 }
	same := len(built.Weights) == len(model.Weights) && close(built.A, model.A) && close(built.B, model.B)
	for i := range model.Weights {
		same = same && i < len(built.Weights) && close(built.Weights[i], model.Weights[i])
	}
	if !same {
		t.Errorf("data/model.json %+v is not what training makes of the corpus %+v: run go generate ./bot/match", built, model)
	}
	data, err = os.ReadFile("data/classifier.bin")
	if err != nil {
		t.Fatal(err)
	}
	builtClassifier, err := match.ReadClassifier(data)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(builtClassifier.Sections(), model.Classifier.Sections()) {
		t.Fatalf("data/classifier.bin tells %d sections apart, training makes one of %d: run go generate ./bot/match",
			len(builtClassifier.Sections()), len(model.Classifier.Sections()))
	}
	// The stored weights are rounded, and another machine may add them up
	// in another order: the two must agree on nearly every guess.
	differ := 0
	for _, q := range validation {
		a, b := builtClassifier.Probabilities(q.Text), model.Classifier.Probabilities(q.Text)
		if slices.Index(a, slices.Max(a)) != slices.Index(b, slices.Max(b)) {
			differ++
		}
	}
	if differ*200 > len(validation) {
		t.Errorf("data/classifier.bin and a retrained classifier disagree on %d of %d validation questions: run go generate ./bot/match", differ, len(validation))
	}
}

// TestTestSplitIsFrozen fails when a file of the test split changes.
func TestTestSplitIsFrozen(t *testing.T) {
	sums, err := os.ReadFile("corpus/test/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		want, name, _ := strings.Cut(line, "  ")
		data, err := os.ReadFile("corpus/test/" + name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != want {
			t.Errorf("%s has changed since the test split was frozen", name)
		}
		n++
	}
	if n == 0 {
		t.Error("SHA256SUMS lists no files")
	}
}

// TestJudgedSectionsCountAsRight checks that a first section other than a
// question's own counts as right only when a judge found it answers the
// question, and that one no judge has seen is listed for judging.
func TestJudgedSectionsCountAsRight(t *testing.T) {
	m := defaultMatcher(t)
	q := match.Question{ID: "T-1", Section: "holiday-pay#somewhere-else", Text: "what is the statutory sick pay rate for my PA now", Voice: "employer"}
	ctx := context.Background()
	r, err := m.Evaluate(ctx, []match.Question{q}, match.Judgements{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Top1 != 0 || r.JudgedTop1 != 0 || len(r.Unjudged) != 3 || r.Unjudged[0].ID != "T-1" || r.Unjudged[0].Own != q.Section || r.Unjudged[0].Rank != 1 {
		t.Fatalf("with no judgements: top-1 %d, judged top-1 %d, unjudged %+v; want 0, 0 and the question's first three sections", r.Top1, r.JudgedTop1, r.Unjudged)
	}
	shown := r.Unjudged[0].Shown
	for _, tc := range []struct {
		answers bool
		want    int
	}{{true, 1}, {false, 0}} {
		line := fmt.Sprintf(`{"id": "T-1", "section": %q, "answers": %t, "why": "judged in a test"}`, shown, tc.answers)
		j, err := match.ReadJudgements(fstest.MapFS{"judged/v.jsonl": {Data: []byte(line + "\n")}}, "judged")
		if err != nil {
			t.Fatal(err)
		}
		r, err := m.Evaluate(ctx, []match.Question{q}, j)
		if err != nil {
			t.Fatal(err)
		}
		if r.JudgedTop1 != tc.want || r.JudgedTop3 != tc.want || r.Top1 != 0 {
			t.Errorf("judged %t: judged top-1 %d, top-3 %d, top-1 %d; want %d, %d, 0", tc.answers, r.JudgedTop1, r.JudgedTop3, r.Top1, tc.want, tc.want)
		}
		// A first section judged to answer settles both counts; one judged
		// not to leaves the second and third to judge.
		var wantRanks, ranks []int
		if !tc.answers {
			wantRanks = []int{2, 3}
		}
		for _, u := range r.Unjudged {
			ranks = append(ranks, u.Rank)
		}
		if !slices.Equal(ranks, wantRanks) {
			t.Errorf("judged %t: unjudged ranks %v, want %v", tc.answers, ranks, wantRanks)
		}
	}
}

func TestReadJudgementsNamesFileAndLine(t *testing.T) {
	good := `{"id": "QC1-1", "section": "sick-pay#x", "answers": true, "why": "gives the rate"}`
	for line, want := range map[string]string{
		`{"id": "QC1-2", "section": "", "answers": true, "why": "x"}`:                  "j/a.jsonl:2: want id, section, answers and why",
		`{"id": "QC1-1", "section": "sick-pay#x", "answers": false, "why": "no rate"}`: "j/a.jsonl:2: QC1-1 and sick-pay#x judged both ways",
		`{"id": "QC1-2", "section": "s", "answers": "yes", "why": "x"}`:                "j/a.jsonl:2:",
	} {
		_, err := match.ReadJudgements(fstest.MapFS{"j/a.jsonl": {Data: []byte(good + "\n" + line + "\n")}}, "j")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", line, err, want)
		}
	}
}
