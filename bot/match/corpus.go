package match

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/askpa/askpa/internal/jsonl"
	"github.com/askpa/askpa/knowledge"
)

// Question is one line of the question corpus (corpus/{train,validation,
// test}/*.jsonl): a question a person might ask and the section that
// answers it.
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
