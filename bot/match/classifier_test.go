package match_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/askpa/askpa/bot/match"
)

// tinyCorpus is three subjects and questions no subject answers, in words
// written for this test.
func tinyCorpus() []match.Question {
	var qs []match.Question
	add := func(section string, texts ...string) {
		for _, t := range texts {
			qs = append(qs, match.Question{ID: "T1-x", Section: section, Text: t, Voice: "employer", Writer: "T1"})
		}
	}
	add("sick-pay#rate", "how much sick pay does my PA get", "PA off sick what do i pay her",
		"statutory sick pay amount per week", "my carer is ill, is she paid", "sick pay from the first day?")
	add("holiday#days", "how many days holiday for my PA", "holiday entitlement for part time PA",
		"does my PA get bank holidays off", "annual leave days for a carer", "how much leave can she take")
	add("pensions#enrol", "do i need a pension for my PA", "auto enrolment for a PA",
		"workplace pension duties as an employer", "my PA wants to join a pension", "pension contributions for carers")
	add(match.NoSection, "what is the weather tomorrow", "recommend a good film", "how do i fix my boiler",
		"best broadband deal", "tell me a joke please")
	return qs
}

func TestClassifierTellsSubjectsApartAndKeepsWhatItLearned(t *testing.T) {
	c, err := match.TrainClassifier(tinyCorpus())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"holiday#days", match.NoSection, "pensions#enrol", "sick-pay#rate"}; !slices.Equal(c.Sections(), want) {
		t.Fatalf("sections %v, want %v", c.Sections(), want)
	}
	best := func(c *match.Classifier, text string) (string, float64) {
		p := c.Probabilities(text)
		i := 0
		for k := range p {
			if p[k] > p[i] {
				i = k
			}
		}
		return c.Sections()[i], p[i]
	}
	var first bytes.Buffer
	if _, err := c.WriteTo(&first); err != nil {
		t.Fatal(err)
	}
	read, err := match.ReadClassifier(first.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]string{
		"she is off ill, what sick pay":        "sick-pay#rate",
		"how many holiday days does she get":   "holiday#days",
		"pension scheme for my PA":             "pensions#enrol",
		"can you recommend a film for tonight": match.NoSection,
	} {
		got, p := best(c, text)
		if got != want {
			t.Errorf("%q: %s (%.2f), want %s", text, got, p, want)
		}
		if got2, p2 := best(read, text); got2 != got || p2 < p-0.02 || p2 > p+0.02 {
			t.Errorf("%q: read back, %s (%.3f); as trained, %s (%.3f)", text, got2, p2, got, p)
		}
	}
	again, err := match.TrainClassifier(tinyCorpus())
	if err != nil {
		t.Fatal(err)
	}
	var second bytes.Buffer
	if _, err := again.WriteTo(&second); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Error("training twice on the same questions wrote two different files")
	}
	if _, err := match.TrainClassifier(nil); err == nil {
		t.Error("TrainClassifier learned from no questions")
	}
}

func TestReadClassifierRefusesWhatIsNotOne(t *testing.T) {
	c, err := match.TrainClassifier(tinyCorpus())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	for name, data := range map[string][]byte{
		"empty":         nil,
		"another file":  []byte(`{"features": []}`),
		"cut short":     good[:len(good)/2],
		"damaged":       append(append([]byte(nil), good[:40]...), bytes.Repeat([]byte{0xff}, len(good)-40)...),
		"only the name": good[:strings.Index(string(good), "\n")+1],
	} {
		if _, err := match.ReadClassifier(data); err == nil || !strings.HasPrefix(err.Error(), "match: classifier: ") {
			t.Errorf("%s: %v, want a classifier error", name, err)
		}
	}
}
