// Package knowledge is askpa's content model: documents of guidance, case
// studies, good-practice notes, standards and signposting, written as Markdown
// with YAML front matter, and the passages (one per "##" section) that the bot
// answers from. It loads a knowledge base from any fs.FS and validates it.
package knowledge

import (
	"fmt"
	"strings"
	"time"
)

// Kind says what sort of document a passage comes from.
type Kind string

// The kinds of document a knowledge base may hold.
const (
	Guidance     Kind = "guidance"
	CaseStudy    Kind = "case-study"
	GoodPractice Kind = "good-practice"
	Standard     Kind = "standard"
	Signposting  Kind = "signposting"
)

// Kinds lists every valid Kind in a stable order.
var Kinds = []Kind{Guidance, CaseStudy, GoodPractice, Standard, Signposting}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// Audience says who a document is written for, or who is asking.
type Audience string

// The audiences. A document for Both is shown to employers and PAs alike.
const (
	Employer Audience = "employer"
	PA       Audience = "pa"
	Both     Audience = "both"
)

// ParseAudience returns the Audience named by s (case-insensitive), or an
// error naming the valid values.
func ParseAudience(s string) (Audience, error) {
	a := Audience(strings.ToLower(strings.TrimSpace(s)))
	if a.Valid() {
		return a, nil
	}
	return "", fmt.Errorf("audience %q is not one of employer, pa, both", s)
}

// Valid reports whether a is employer, pa or both.
func (a Audience) Valid() bool { return a == Employer || a == PA || a == Both }

// Sees reports whether a person asking as a may be shown a document written
// for doc: everyone sees Both, and each audience sees its own.
func (a Audience) Sees(doc Audience) bool { return doc == Both || a == Both || doc == a }

// Document is one Markdown file of the knowledge base.
type Document struct {
	ID        string
	Title     string
	Kind      Kind
	Audience  Audience
	Topics    []string
	Summary   string
	Reviewed  time.Time
	Sources   []string
	Questions []string // other ways people ask what this document answers
	Path      string   // slash-separated path inside the knowledge base (a local pack's: the pack's name, then the path in it)
	Sections  []Section
	// Local is the id of the local pack the document comes from; empty
	// for a national document.
	Local string
	// Replaces is the id of the national document a local one takes the
	// place of; empty when it adds to the knowledge base.
	Replaces string
}

// Section is one "##" section of a document: the unit the bot answers with.
// Text before the first "##" heading forms a section whose Heading is the
// document's title and whose Anchor is empty.
type Section struct {
	Heading  string
	Anchor   string // GitHub-style slug of Heading
	Text     string // plain text for chat: paragraphs split by blank lines, list items by "• "
	Markdown string // the section's Markdown source, heading excluded
	Line     int    // line of the heading (or of the first text) in the file
	// Audience is who the section speaks to when it is narrower than its
	// document: in a guide for both audiences, a section about "your PA"
	// speaks to employers, one about "your employer" to PAs. Empty: the
	// document's audience.
	Audience Audience
}

// Passage is a section together with the document it belongs to.
type Passage struct {
	Doc     *Document
	Section *Section
}

// Audience returns who the passage is written for: its section's own
// audience, or its document's.
func (p Passage) Audience() Audience {
	if p.Section.Audience != "" {
		return p.Section.Audience
	}
	return p.Doc.Audience
}

// ID returns the passage's stable identifier: "doc-id#anchor", or the
// document id alone for an untitled opening section.
func (p Passage) ID() string {
	if p.Section.Anchor == "" {
		return p.Doc.ID
	}
	return p.Doc.ID + "#" + p.Section.Anchor
}

// Topic is one entry of the knowledge base's topic list (topics.yaml).
type Topic struct {
	ID       string
	Label    string
	Audience Audience
	// Ask is a sentence naming who would know what askpa cannot answer
	// on the topic ("Acas's free helpline ... will know."), and AskPA the
	// same for a PA when it differs; both empty when the guides know of
	// no one.
	Ask, AskPA string
}

// Topic returns the topic named id.
func (b *Base) Topic(id string) (Topic, bool) {
	for _, t := range b.Topics {
		if t.ID == id {
			return t, true
		}
	}
	return Topic{}, false
}

// WhoKnows returns the topic's sentence naming who would know, for a
// person asking as audience; empty when there is none.
func (t Topic) WhoKnows(audience Audience) string {
	if audience == PA && t.AskPA != "" {
		return t.AskPA
	}
	return t.Ask
}

// Base is a loaded knowledge base.
type Base struct {
	Documents []*Document
	Topics    []Topic
	// Synonyms holds groups of words and phrases that mean the same thing to
	// the people who ask; every entry is lower case.
	Synonyms [][]string
	// Hash identifies the exact content loaded, for rebuilding indexes only
	// when it changes.
	Hash string

	byID map[string]*Document
}

// Document returns the document with the given id, or nil.
func (b *Base) Document(id string) *Document { return b.byID[id] }

// Passage returns the passage with the given id ("doc" or "doc#anchor").
func (b *Base) Passage(id string) (Passage, bool) {
	docID, anchor, _ := strings.Cut(id, "#")
	d := b.byID[docID]
	if d == nil {
		return Passage{}, false
	}
	for i := range d.Sections {
		if d.Sections[i].Anchor == anchor {
			return Passage{Doc: d, Section: &d.Sections[i]}, true
		}
	}
	return Passage{}, false
}

// Passages returns every passage of every document, in document order.
func (b *Base) Passages() []Passage {
	var ps []Passage
	for _, d := range b.Documents {
		for i := range d.Sections {
			ps = append(ps, Passage{Doc: d, Section: &d.Sections[i]})
		}
	}
	return ps
}

// Problem is one thing wrong with the knowledge base, located to a file and
// line so an editor can go straight to it.
type Problem struct {
	File    string
	Line    int
	Rule    string // a short stable name such as "missing-field" or "stale-review"
	Message string
	// Fatal problems stop the knowledge base from loading (the file cannot be
	// understood); the others only fail lint.
	Fatal bool
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s (%s)", p.File, p.Line, p.Message, p.Rule)
	}
	return fmt.Sprintf("%s: %s (%s)", p.File, p.Message, p.Rule)
}

// ProblemsError is returned by Load when the knowledge base has fatal problems.
type ProblemsError []Problem

func (e ProblemsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "knowledge base has %d problem(s):", len(e))
	for i, p := range e {
		if i == 10 {
			fmt.Fprintf(&b, "\n  ... and %d more (run askpa lint)", len(e)-10)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Query is a search of the knowledge base.
type Query struct {
	Text string
	// Audience filters passages to those the asker may see (see
	// Audience.Sees); empty means every passage.
	Audience Audience
	Limit    int // at most this many hits; zero means a small default
}

// Hit is a passage found for a query.
type Hit struct {
	Passage Passage
	// Score ranks hits within one search, relative to the best (1); it
	// means nothing across searches.
	Score float64
	// Match in [0,1] says how well the passage answers the question: for
	// the search index, the share of the question's words (weighted by how
	// telling each is across the knowledge base) that the passage
	// contains, or a synonym of them; the section matcher also counts its
	// classifier's probability (see package match).
	Match float64
	// Matched and Missed list the question's words (as analysed) that the
	// passage does and does not contain; they explain Match.
	Matched, Missed []string
}
