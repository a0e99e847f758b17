package match

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/askpa/askpa/bot/safety"
	"github.com/askpa/askpa/internal/jsonl"
	"github.com/askpa/askpa/knowledge"
)

// Question is one line of the question corpus (corpus/{train,validation,
// test}/*.jsonl): a question a person might ask and the section that
// answers it, or NoSection for a question no section answers.
type Question struct {
	ID      string `json:"id"`
	Section string `json:"section"`
	Text    string `json:"q"`
	// Voice is who asks: "employer", "relative" or "pa".
	Voice string `json:"voice"`
	// Writer is who wrote the question for the corpus: the id up to its
	// first "-".
	Writer string `json:"-"`
}

// NoSection is the section of a question the knowledge base does not
// answer: the honest reply is "I am not sure" and who would know.
const NoSection = "none"

// Answerable reports whether some section answers q.
func (q Question) Answerable() bool { return q.Section != NoSection }

// Audience returns the audience the question is asked from.
func (q Question) Audience() knowledge.Audience {
	if q.Voice == "pa" {
		return knowledge.PA
	}
	return knowledge.Employer
}

// ReadQuestions reads every *.jsonl file under dir in fsys. It fails on the
// first bad line, naming its file and line.
func ReadQuestions(fsys fs.FS, dir string) ([]Question, error) {
	var out []Question
	err := jsonl.Read(fsys, dir, func(_ string, q Question) error {
		switch {
		case q.ID == "" || q.Section == "" || strings.TrimSpace(q.Text) == "":
			return fmt.Errorf("want id, section and q")
		case q.Voice != "employer" && q.Voice != "relative" && q.Voice != "pa":
			return fmt.Errorf("voice %q is not employer, relative or pa", q.Voice)
		}
		q.Writer, _, _ = strings.Cut(q.ID, "-")
		out = append(out, q)
		return nil
	})
	return out, err
}

// Unanswerable returns the off-topic messages of a safety corpus split
// (bot/safety's format) as questions no section answers, for calibrating
// the model's confidence.
func Unanswerable(fsys fs.FS, dir string) ([]Question, error) {
	ex, err := safety.ReadCorpus(fsys, dir)
	if err != nil {
		return nil, err
	}
	var qs []Question
	for _, e := range ex {
		if e.Label == safety.OffTopic && e.Text != "" {
			voice := "employer"
			if e.Audience == "pa" {
				voice = "pa"
			}
			qs = append(qs, Question{ID: e.ID, Text: e.Text, Voice: voice})
		}
	}
	return qs, nil
}
