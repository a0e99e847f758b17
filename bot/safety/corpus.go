package safety

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/askpa/askpa/internal/jsonl"
	"github.com/askpa/askpa/knowledge"
)

// Example is one labelled message (or short conversation) of a corpus:
// one line of a JSON Lines file under testdata/corpus/{train,validation,test}.
type Example struct {
	ID string `json:"id"`
	// Text is a single message; Turns a conversation of several, oldest
	// first, labelled as a whole. One of the two is set.
	Text  string   `json:"text,omitempty"`
	Turns []string `json:"turns,omitempty"`
	Label Kind     `json:"label"`
	// Voice is who wrote it: "person" (the disabled or older person),
	// "relative" (family, a friend, a nominated person) or "pa"; empty in
	// material carried over from askpa's earlier test sets, which did not
	// say.
	Voice    string `json:"voice"`
	Audience string `json:"audience"` // employer or pa
	// Tricky marks an ordinary or off-topic message that uses alarming
	// words harmlessly.
	Tricky bool `json:"tricky,omitempty"`
	// File is where the example was read from ("train/w1.jsonl:12").
	File string `json:"-"`
}

// Messages returns the example's messages, oldest first.
func (e Example) Messages() []string {
	if len(e.Turns) > 0 {
		return e.Turns
	}
	return []string{e.Text}
}

// self reports whether the person at risk in a danger example is its
// writer, as the corpus's voices imply: a PA writes about harm to
// themselves only as a harmed or exploited PA; the person writes about
// themselves; a relative about someone else.
func (e Example) self() bool {
	switch e.Label {
	case PAHarmed:
		return e.Voice == "pa"
	case Exploitation:
		return e.Voice == "pa" || e.Voice == "person"
	}
	return e.Voice == "person"
}

// ReadCorpus reads every *.jsonl file under dir in fsys, in name order. It
// fails on the first line that is not a valid example, naming its file and
// line: a line that is not JSON, an unknown label or voice, no text, or an
// id used before.
func ReadCorpus(fsys fs.FS, dir string) ([]Example, error) {
	var out []Example
	seen := map[string]string{}
	err := jsonl.Read(fsys, dir, func(where string, e Example) error {
		if err := e.validate(); err != nil {
			return err
		}
		if prev, dup := seen[e.ID]; dup {
			return fmt.Errorf("id %q is used before, at %s", e.ID, prev)
		}
		seen[e.ID] = where
		e.File = where
		out = append(out, e)
		return nil
	})
	return out, err
}

func (e Example) validate() error {
	switch {
	case e.ID == "":
		return fmt.Errorf("no id")
	case !e.Label.Valid():
		return fmt.Errorf("unknown label %q", e.Label)
	case e.Voice != "" && e.Voice != "person" && e.Voice != "relative" && e.Voice != "pa":
		return fmt.Errorf("voice %q is not person, relative or pa", e.Voice)
	case e.Audience != "employer" && e.Audience != "pa":
		return fmt.Errorf("audience %q is not employer or pa", e.Audience)
	case (e.Text == "") == (len(e.Turns) == 0):
		return fmt.Errorf("want either text or turns")
	}
	for _, m := range e.Messages() {
		if strings.TrimSpace(m) == "" {
			return fmt.Errorf("an empty message")
		}
	}
	return nil
}

// audienceOf returns the audience an example was written from.
func audienceOf(e Example) knowledge.Audience { return knowledge.Audience(e.Audience) }
