package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/askpa/askpa/knowledge"
)

// runLint validates a knowledge base and prints every problem, one per line,
// as file:line: message. It fails (exit 1) when there is any problem.
func runLint(args []string, stdout, stderr io.Writer, getenv env) error {
	fl := flag.NewFlagSet("lint", flag.ContinueOnError)
	fl.SetOutput(stderr)
	today := fl.String("today", "", "judge review dates as of this date (YYYY-MM-DD); default today")
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
	base, problems := knowledge.Check(fsys, now)
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
