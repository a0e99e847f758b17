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
       askpa safety eval [--corpus DIR] [--data DIR] [--json] SPLIT | FILE...
       askpa safety check [--data DIR] [--audience employer|pa] MESSAGE

train  trains the safety classifier on the corpus's train split, chooses its
       thresholds on the validation split, and writes kinds.model, self.model
       and thresholds.txt into the data folder. It never reads the test split.
check  says what the safety layer makes of one message, and why.
eval   checks every example of a split (train, validation, test) or of the
       given JSON Lines files and prints what was found, by label. Use the
       test split once per change of the classifier, and report it.
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
		return evalSafety(ctx, *corpus, *data, fs.Args(), *asJSON, stdout)
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

func evalSafety(ctx context.Context, corpus, data string, names []string, asJSON bool, stdout io.Writer) error {
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
	return r.Write(stdout)
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
