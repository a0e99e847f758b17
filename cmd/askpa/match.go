package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/match"
	"github.com/askpa/askpa/knowledge"
)

const matchUsage = `usage: askpa match train [--corpus DIR] [--out FILE]
       askpa match eval [--corpus DIR] [--judged DIR] [--unjudged FILE] SPLIT | FILE...

train  fits the section-matching model on the question corpus's train split
       and calibrates it on the validation split; writes the model. It never
       reads the test split.
eval   ranks every question of a split (train, validation, test) or of the
       given JSON Lines files and prints top-1 and top-3 section accuracy
       and a reliability table, for the built-in matcher and, beside it,
       for the search index alone. Report the test split once per change.
       With judgements (the corpus's judged folder), it also counts a first
       section other than the question's own as right when a judge found
       that it answers the question, and --unjudged writes the sections
       among the first three that no judge has seen, for judging: as JSON
       Lines, or (for a file ending in .md) as a packet for a judge, with
       every section's text (see the corpus's judged/BRIEF.md).
`

// runMatch runs "askpa match train" and "askpa match eval".
func runMatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"match: want train or eval\n\n" + matchUsage}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, matchUsage)
		return nil
	}
	fs := flag.NewFlagSet("match "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	corpus := fs.String("corpus", "bot/match/corpus", "the question corpus `folder`, holding train, validation and test")
	out := fs.String("out", "bot/match/data/model.json", "train: where to write the model; its classifier goes beside it, in classifier.bin")
	safetyCorpus := fs.String("safety-corpus", "bot/safety/testdata/corpus", "train: the safety corpus, whose validation split's off-topic messages calibrate what no section answers")
	judged := fs.String("judged", "", "eval: the `folder` of judgements (default: the corpus's judged folder)")
	unjudged := fs.String("unjudged", "", "eval: write the sections among the first three that are not the question's own and not judged to this `file` (.jsonl, or .md for a judge's packet)")
	fs.Usage = func() { fmt.Fprint(stderr, matchUsage) }
	if err := fs.Parse(args[1:]); err != nil {
		return exitError{2}
	}
	// Training must not need the model it makes: the engine is opened
	// with the index alone.
	ef := engineFlags{memory: true, indexOnly: true}
	a, err := ef.open(ctx, warnings(stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	switch args[0] {
	case "train":
		trainSet, err := match.ReadQuestions(os.DirFS(*corpus), "train")
		if err != nil {
			return err
		}
		validation, err := match.ReadQuestions(os.DirFS(*corpus), "validation")
		if err != nil {
			return err
		}
		unanswerable, err := match.Unanswerable(os.DirFS(*safetyCorpus), "validation")
		if err != nil {
			return err
		}
		model, report, err := match.Train(ctx, a.base, a.index, trainSet, validation, unanswerable)
		if err != nil {
			return err
		}
		b, err := json.MarshalIndent(model, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			return err
		}
		var cls bytes.Buffer
		if _, err := model.Classifier.WriteTo(&cls); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(filepath.Dir(*out), "classifier.bin"), cls.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "trained on %d questions; calibrated on %d validation questions\n\nvalidation split:\n", len(trainSet), len(validation))
		return report.Write(stdout)
	case "eval":
		if fs.NArg() == 0 {
			return usageError{"match eval: name a split or files"}
		}
		qs, err := readSplits(*corpus, fs.Args(), match.ReadQuestions)
		if err != nil {
			return err
		}
		m, err := match.Default(a.base, a.index)
		if err != nil {
			return err
		}
		var judgements match.Judgements
		dir := *judged
		if dir == "" {
			dir = filepath.Join(*corpus, "judged")
		}
		if _, err := os.Stat(dir); err == nil || *judged != "" {
			if judgements, err = match.ReadJudgements(os.DirFS(dir), "."); err != nil {
				return err
			}
		}
		r, err := m.Evaluate(ctx, qs, judgements)
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(*unjudged, ".md"):
			if err := os.WriteFile(*unjudged, judgingPacket(a.base, r.Unjudged), 0o644); err != nil {
				return err
			}
		case *unjudged != "":
			if err := writeJSONLines(*unjudged, r.Unjudged); err != nil {
				return err
			}
		}
		fmt.Fprintln(stdout, "the matcher:")
		if err := r.Write(stdout); err != nil {
			return err
		}
		top1, top3, err := indexAccuracy(ctx, a, qs)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nthe search index alone: top-1 %d/%d (%.1f%%), top-3 %d/%d (%.1f%%)\n",
			top1, len(qs), 100*float64(top1)/float64(len(qs)), top3, len(qs), 100*float64(top3)/float64(len(qs)))
		e, err := bot.NewEngine(a.base, m, bot.EngineConfig{})
		if err != nil {
			return err
		}
		var lengths []int
		for _, q := range qs {
			ans, err := e.Answer(ctx, q.Text, q.Audience())
			if err != nil {
				return err
			}
			if ans.Answered {
				lengths = append(lengths, utf8.RuneCountInString(ans.Text))
			}
		}
		fmt.Fprintf(stdout, "\nwhat a person sees first, when answered (%d of %d questions): median %d characters\n", len(lengths), len(qs), median(lengths))
		return nil
	}
	return usageError{fmt.Sprintf("match: unknown command %q", args[0])}
}

// indexAccuracy ranks questions with the search index alone, as askpa did
// before the matcher, and counts the right sections found first and among
// the first three.
func indexAccuracy(ctx context.Context, a *answering, qs []match.Question) (top1, top3 int, err error) {
	for _, q := range qs {
		hits, err := a.index.Search(ctx, knowledge.Query{Text: q.Text, Audience: q.Audience(), Limit: 3})
		if err != nil {
			return 0, 0, err
		}
		for i, h := range hits {
			if h.Passage.ID() == q.Section {
				if i == 0 {
					top1++
				}
				top3++
			}
		}
	}
	return top1, top3, nil
}

// writeJSONLines writes vs to the file at path, one JSON value a line.
func writeJSONLines[T any](path string, vs []T) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, v := range vs {
		if err := enc.Encode(v); err != nil {
			return err
		}
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// judgingPacket is the Markdown a judge reads (bot/match/corpus/judged/
// BRIEF.md): each pair (asker, question, the question's own section as A,
// the section to judge as B), then the text of every section named.
func judgingPacket(base *knowledge.Base, items []match.Unjudged) []byte {
	var b bytes.Buffer
	b.WriteString("# Items\n\n")
	var ids []string
	for _, u := range items {
		fmt.Fprintf(&b, "## item %s\nasker: %s\nquestion: %s\nsection A: %s\nsection B: %s\n\n", u.ID, u.Voice, u.Text, u.Own, u.Shown)
		ids = append(ids, u.Own, u.Shown)
	}
	slices.Sort(ids)
	b.WriteString("# Sections\n\n")
	for _, id := range slices.Compact(ids) {
		fmt.Fprintf(&b, "=== %s\n", id)
		if p, ok := base.Passage(id); ok {
			fmt.Fprintf(&b, "Guide: %s (written for: %s)\nHeading: %s\n\n%s\n\n", p.Doc.Title, p.Audience(), p.Section.Heading, p.Section.Text)
		} else {
			b.WriteString("(no such section in the knowledge base)\n\n")
		}
	}
	return b.Bytes()
}
