package match

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/askpa/askpa/internal/jsonl"
)

// Judgement is one line of a judged file (corpus/judged/*.jsonl): a judge's
// verdict on whether a section other than the one a question was written
// for answers it all the same. The knowledge base says many things in more
// than one place (a PA's guide and an employer's, a case study and the
// rule it shows), so a question's own section is seldom the only right
// answer.
type Judgement struct {
	// ID is the question's id.
	ID string `json:"id"`
	// Section is the section judged, never the question's own.
	Section string `json:"section"`
	// Answers says whether a person who asked the question would get what
	// they asked for from the section.
	Answers bool `json:"answers"`
	// Why is the judge's reason, in a few words.
	Why string `json:"why"`
}

// Judgements are verdicts by question and section.
type Judgements map[judged]bool

type judged struct{ question, section string }

// ReadJudgements reads every *.jsonl file under dir in fsys. It fails on
// the first bad line, naming its file and line, and on a pair judged twice
// both ways.
func ReadJudgements(fsys fs.FS, dir string) (Judgements, error) {
	j := Judgements{}
	err := jsonl.Read(fsys, dir, func(_ string, v Judgement) error {
		if v.ID == "" || v.Section == "" || strings.TrimSpace(v.Why) == "" {
			return fmt.Errorf("want id, section, answers and why")
		}
		k := judged{v.ID, v.Section}
		if was, ok := j[k]; ok && was != v.Answers {
			return fmt.Errorf("%s and %s judged both ways", v.ID, v.Section)
		}
		j[k] = v.Answers
		return nil
	})
	return j, err
}

// answers reports whether section answers question q: yes for its own
// section, the judges' verdict for another, and known false when no
// judge has seen the pair.
func (j Judgements) answers(q Question, section string) (yes, known bool) {
	if section == q.Section {
		return true, true
	}
	yes, known = j[judged{q.ID, section}]
	return yes, known
}

// Unjudged is a question with a section among its first three that is not
// its own and has not been judged: what `askpa match eval --unjudged`
// writes for a judge.
type Unjudged struct {
	ID    string `json:"id"`
	Text  string `json:"q"`
	Voice string `json:"voice"`
	// Own is the section the question was written for; Shown the one
	// ranked Rank (1 to 3).
	Own   string `json:"own"`
	Shown string `json:"shown"`
	Rank  int    `json:"rank"`
}
