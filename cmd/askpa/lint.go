package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/askpa/askpa/bot/safety"
	"github.com/askpa/askpa/knowledge"
)

// runLint validates a knowledge base, and the local pack or folder of packs
// when one is given (--local, ASKPA_LOCAL_DIR) with the knowledge base, and
// prints every problem, one per line, as file:line: message. It fails
// (exit 1) when there is any problem.
func runLint(args []string, stdout, stderr io.Writer, getenv env) error {
	fl := flag.NewFlagSet("lint", flag.ContinueOnError)
	fl.SetOutput(stderr)
	today := fl.String("today", "", "judge review dates as of this date (YYYY-MM-DD); default today")
	local := fl.String("local", getenv("ASKPA_LOCAL_DIR"), "also check this local pack: its area.yaml and documents [ASKPA_LOCAL_DIR]")
	if err := fl.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	dir := getenv("ASKPA_CONTENT_DIR")
	if fl.NArg() > 1 {
		return usageError{"lint takes at most one directory"}
	}
	if fl.NArg() == 1 {
		dir = fl.Arg(0)
	}
	now := time.Now()
	if *today != "" {
		t, err := time.Parse(time.DateOnly, *today)
		if err != nil {
			return usageError{"--today wants a date like 2026-11-22"}
		}
		now = t
	}
	fsys, name, err := contentFS(dir)
	if err != nil {
		return err
	}
	packs := []*knowledge.Pack{nil} // the national content alone
	var problems []knowledge.Problem
	if *local != "" {
		if err := isDir(*local); err != nil {
			return fmt.Errorf("local pack: %w", err)
		}
		var found []*knowledge.Pack
		found, problems = knowledge.ReadPacks(os.DirFS(*local), *local)
		if len(found) > 0 {
			packs = found
		}
		name += " with local pack " + *local
	}
	// The national content with each pack in turn: a problem the packs
	// share (a national one) is reported once.
	var base *knowledge.Base
	seen := map[string]bool{}
	for _, pack := range packs {
		b, more := knowledge.CheckWith(fsys, pack, now)
		if base == nil {
			base = b
		}
		for _, p := range append(more, missingGuides(b)...) {
			if !seen[p.String()] {
				seen[p.String()] = true
				problems = append(problems, p)
			}
		}
	}
	for _, p := range problems {
		fmt.Fprintf(stdout, "%s\n", p)
	}
	docs, sections := 0, 0
	if base != nil {
		docs = len(base.Documents)
		sections = len(base.Passages())
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "%s: %d problem(s) in %d documents\n", name, len(problems), docs)
		return exitError{1}
	}
	fmt.Fprintf(stderr, "%s: %d documents, %d sections, no problems\n", name, docs, sections)
	return nil
}

// missingGuides reports the sections the safety replies link that base
// lacks (a local document that replaces a national one can drop them):
// askpa would not start without them.
func missingGuides(base *knowledge.Base) []knowledge.Problem {
	c, err := safety.Default()
	if err != nil || base == nil {
		return nil
	}
	var out []knowledge.Problem
	for _, id := range c.Guides() {
		if _, ok := base.Passage(id); ok {
			continue
		}
		docID, anchor, _ := strings.Cut(id, "#")
		p := knowledge.Problem{File: "bot/safety/data/replies.md", Rule: "missing-guide",
			Message: fmt.Sprintf("the safety replies link %s, which is not in the knowledge base", id)}
		if d := base.Document(docID); d != nil {
			p.File, p.Line = d.Path, 1
			p.Message = fmt.Sprintf("the safety replies link section #%s, which this document lacks: keep its heading", anchor)
		}
		out = append(out, p)
	}
	return out
}
