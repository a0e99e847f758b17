package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/askpa/askpa/index"
	"github.com/askpa/askpa/knowledge"
)

// runIndex builds the persistent index under the data directory, or
// reports that the stored one is already up to date.
func runIndex(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fl := flag.NewFlagSet("index", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var ef engineFlags
	ef.register(fl, getenv)
	force := fl.Bool("force", false, "rebuild even if the stored index matches the content")
	if err := fl.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fl.NArg() > 0 {
		return usageError{"index takes no arguments"}
	}
	fsys, name, err := contentFS(ef.contentDir)
	if err != nil {
		return err
	}
	base, err := knowledge.Load(fsys)
	if err != nil {
		return fmt.Errorf("loading %s: %w", name, err)
	}
	dir := filepath.Join(ef.dataDir, "index")
	start := time.Now()
	ix, err := index.Open(ctx, base, index.Config{Dir: dir, Rebuild: *force, Logger: warnings(stderr)})
	if err != nil {
		return err
	}
	defer ix.Close()
	verb := "up to date"
	if ix.Rebuilt() {
		verb = "built"
	}
	fmt.Fprintf(stdout, "index %s: %s, %d documents, %d passages from %s (%s)\n", verb, dir, len(base.Documents), len(base.Passages()), name, time.Since(start).Round(time.Millisecond))
	return nil
}
