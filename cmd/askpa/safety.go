package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/askpa/askpa/bot/safety"
	"github.com/askpa/askpa/knowledge"
)

const safetyUsage = `usage: askpa safety train [--corpus DIR] [--data DIR]
       askpa safety eval [--corpus DIR] [--questions DIR] [--data DIR] [--json] SPLIT | FILE...
       askpa safety check [--data DIR] [--audience employer|pa] MESSAGE

train  trains the safety classifier on the corpus's train split, chooses its
       thresholds on the validation split, and writes kinds.model, self.model
       and thresholds.txt into the data folder. It never reads the test split.
check  says what the safety layer makes of one message, and why.
eval   checks every example of a split (train, validation, test) or of the
       given JSON Lines files and prints what was found, by label; for a
       split, also how many of the section matcher's questions of the same
       split (everyday questions, but those of the sections the corpus's
       not-ordinary.txt names) were handed over or cautioned. Use the test
       split once per change of the classifier, and report it.
`

// runSafety runs "askpa safety train" and "askpa safety eval".
func runSafety(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"safety: want train or eval\n\n" + safetyUsage}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, safetyUsage)
		return nil
	}
	fs := flag.NewFlagSet("safety "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	corpus := fs.String("corpus", "bot/safety/testdata/corpus", "the corpus `folder`, holding train, validation and test")
	data := fs.String("data", "bot/safety/data", "the safety layer's data `folder`")
	questions := fs.String("questions", "bot/match/corpus", "eval: the section matcher's question corpus `folder`, whose questions are everyday messages (empty: none)")
	asJSON := fs.Bool("json", false, "eval: print the report as JSON")
	audience := fs.String("audience", "employer", "check: who is writing, employer or pa")
	fs.Usage = func() { fmt.Fprint(stderr, safetyUsage) }
	if err := fs.Parse(args[1:]); err != nil {
		return exitError{2}
	}
	switch args[0] {
	case "train":
		if fs.NArg() != 0 {
			return usageError{"safety train takes no arguments"}
		}
		return trainSafety(*corpus, *data, stdout)
	case "eval":
		if fs.NArg() == 0 {
			return usageError{"safety eval: name a split or files"}
		}
		return evalSafety(ctx, *corpus, *questions, *data, fs.Args(), *asJSON, stdout)
	case "check":
		if fs.NArg() == 0 {
			return usageError{"safety check: give a message"}
		}
		return checkSafety(ctx, *data, knowledge.Audience(*audience), strings.Join(fs.Args(), " "), stdout)
	}
	return usageError{fmt.Sprintf("safety: unknown command %q", args[0])}
}

func trainSafety(corpus, data string, stdout io.Writer) error {
	trainSet, err := safety.ReadCorpus(os.DirFS(corpus), "train")
	if err != nil {
		return fmt.Errorf("reading the train split: %w", err)
	}
	validation, err := safety.ReadCorpus(os.DirFS(corpus), "validation")
	if err != nil {
		return fmt.Errorf("reading the validation split: %w", err)
	}
	out, err := safety.Train(os.DirFS(data), trainSet, validation)
	if err != nil {
		return err
	}
	for name, b := range map[string][]byte{"kinds.model": out.Kinds, "self.model": out.Self, "thresholds.txt": out.Thresholds} {
		if err := os.WriteFile(filepath.Join(data, name), b, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "trained on %d examples; thresholds chosen on %d validation examples\n\n", len(trainSet), len(validation))
	fmt.Fprintln(stdout, "validation split:")
	return out.Checker.Evaluate(context.Background(), validation).Write(stdout)
}

func evalSafety(ctx context.Context, corpus, questions, data string, names []string, asJSON bool, stdout io.Writer) error {
	c, err := safety.Load(os.DirFS(data))
	if err != nil {
		return err
	}
	examples, err := readSplits(corpus, names, safety.ReadCorpus)
	if err != nil {
		return err
	}
	r := c.Evaluate(ctx, examples)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	if err := r.Write(stdout); err != nil {
		return err
	}
	for _, split := range names {
		if split != "train" && split != "validation" && split != "test" {
			continue
		}
		ordinary, err := ordinaryQuestions(corpus, questions, split)
		if err != nil {
			return err
		}
		if len(ordinary) == 0 {
			continue
		}
		q := c.Evaluate(ctx, ordinary).Labels[safety.Ordinary]
		fmt.Fprintf(stdout, "the section matcher's %s questions (everyday, but those of not-ordinary.txt's sections): urgent %s, cautioned %s\n",
			split, percent(q.Urgent, q.N), percent(q.Caution, q.N))
	}
	return nil
}

// ordinaryQuestions reads split of the section matcher's question corpus
// as ordinary examples, leaving out the sections the safety corpus's
// not-ordinary.txt names; none when questions is empty.
func ordinaryQuestions(corpus, questions, split string) ([]safety.Example, error) {
	if questions == "" {
		return nil, nil
	}
	notOrdinary, err := safety.ReadNotOrdinary(os.DirFS(corpus), "not-ordinary.txt")
	if err != nil {
		return nil, err
	}
	ex, err := safety.QuestionExamples(os.DirFS(questions), split, notOrdinary)
	if err != nil {
		return nil, fmt.Errorf("reading the section matcher's %s questions: %w", split, err)
	}
	return ex, nil
}

func percent(a, b int) string {
	if b == 0 {
		return "0/0"
	}
	return fmt.Sprintf("%d/%d (%.1f%%)", a, b, 100*float64(a)/float64(b))
}

func checkSafety(ctx context.Context, data string, audience knowledge.Audience, message string, stdout io.Writer) error {
	c, err := safety.Load(os.DirFS(data))
	if err != nil {
		return err
	}
	x := c.Explain(ctx, message, audience)
	v := x.Verdict
	fmt.Fprintf(stdout, "verdict: %s %s (p=%.2f, self=%v, by %s)\n", v.Level, v.Kind, v.Probability, v.Self, v.By)
	kinds := safety.Kinds
	sort.SliceStable(kinds[:], func(i, j int) bool { return x.Probabilities[kinds[i]] > x.Probabilities[kinds[j]] })
	for _, k := range kinds[:5] {
		fmt.Fprintf(stdout, "  %-16s %.3f\n", k, x.Probabilities[k])
	}
	fmt.Fprintf(stdout, "word lists: %s\n", strings.Join(x.Lists, ", "))
	return nil
}

// readSplits reads each of names with read: a split of the corpus folder
// ("train", "validation", "test"), or else a JSON Lines file.
func readSplits[T any](corpus string, names []string, read func(fs.FS, string) ([]T, error)) ([]T, error) {
	var out []T
	for _, name := range names {
		var got []T
		var err error
		switch name {
		case "train", "validation", "test":
			got, err = read(os.DirFS(corpus), name)
		default:
			got, err = read(os.DirFS(filepath.Dir(name)), filepath.Base(name))
		}
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}
