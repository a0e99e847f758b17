package safety

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"strings"

	"github.com/askpa/askpa/internal/jsonl"
)

// NotOrdinary names the knowledge base's sections whose questions may
// describe danger (a PA who was hit, a medicines mistake, a suspicion of
// abuse), a live dispute or a situation of need: the questions written
// for them are not taken as ordinary messages. It is read from a list an editor keeps, one guide (all its
// sections) or one section ("guide#anchor") a line.
type NotOrdinary map[string]bool

// ReadNotOrdinary reads the list in file name of fsys: one guide or
// section a line; blank lines and lines starting with "#" are skipped.
// It fails on a line with spaces in it, naming the file and line.
func ReadNotOrdinary(fsys fs.FS, name string) (NotOrdinary, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	n := NotOrdinary{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if strings.ContainsAny(s, " \t") {
			return nil, fmt.Errorf("%s:%d: want one guide or guide#section a line, not %q", name, line, s)
		}
		n[s] = true
	}
	return n, sc.Err()
}

// Has reports whether section ("guide#anchor"), or its whole guide, is on
// the list.
func (n NotOrdinary) Has(section string) bool {
	guide, _, _ := strings.Cut(section, "#")
	return n[section] || n[guide]
}

// matcherQuestion is one line of the section matcher's question corpus
// (bot/match/corpus): a question a person might ask about the knowledge
// base, and the section it was written for.
type matcherQuestion struct {
	ID      string `json:"id"`
	Section string `json:"section"`
	Text    string `json:"q"`
	Voice   string `json:"voice"` // employer, relative or pa
}

// QuestionExamples reads the section matcher's questions under dir in
// fsys (one split of its corpus) as ordinary examples: thousands of
// everyday questions about employing a PA, in people's own words, by
// writers who were not thinking of danger, some of them in words that
// sound alarming ("planning for my PAs if I die", "I don't need my PA any
// more"). How many of them the classifier hands over or cautions is a
// measure of its false alarms on everyday questions. Questions with no
// section, and those written for a section notOrdinary names, are left
// out. It fails on the first bad line, naming its file and line.
func QuestionExamples(fsys fs.FS, dir string, notOrdinary NotOrdinary) ([]Example, error) {
	var out []Example
	err := jsonl.Read(fsys, dir, func(_ string, q matcherQuestion) error {
		e := Example{ID: q.ID, Text: q.Text, Label: Ordinary, Audience: "employer"}
		switch q.Voice {
		case "employer":
			e.Voice = "person"
		case "relative":
			e.Voice = "relative"
		case "pa":
			e.Voice, e.Audience = "pa", "pa"
		default:
			return fmt.Errorf("voice %q is not employer, relative or pa", q.Voice)
		}
		if err := e.validate(); err != nil {
			return err
		}
		if q.Section != "" && q.Section != "none" && !notOrdinary.Has(q.Section) {
			out = append(out, e)
		}
		return nil
	})
	return out, err
}
