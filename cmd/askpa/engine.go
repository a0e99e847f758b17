package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/match"
	"github.com/askpa/askpa/index"
	"github.com/askpa/askpa/knowledge"
)

// engineFlags are the settings every command that answers questions shares.
type engineFlags struct {
	contentDir string
	dataDir    string
	memory     bool
	threshold  float64
	// indexOnly ranks sections with the search index alone, as askpa did
	// before the matcher (for comparisons).
	indexOnly bool
	// publicURL, when set, makes answers link to the guide pages askpa
	// serves there (ASKPA_PUBLIC_URL) rather than to each guide's first source.
	publicURL string
	// localDir is the local pack, or a folder of them (ASKPA_LOCAL_DIR);
	// empty for none. area chooses among several (ASKPA_AREA).
	localDir, area string
}

func (f *engineFlags) register(fl *flag.FlagSet, getenv env) {
	fl.StringVar(&f.contentDir, "content", getenv("ASKPA_CONTENT_DIR"), "knowledge base directory (default ./content, or the built-in one) [ASKPA_CONTENT_DIR]")
	fl.StringVar(&f.localDir, "local", getenv("ASKPA_LOCAL_DIR"), "local pack: a folder with area.yaml and the council's own documents, or a folder of such folders [ASKPA_LOCAL_DIR]")
	fl.StringVar(&f.area, "area", getenv("ASKPA_AREA"), "with several local packs, the one to answer for: its id, council name or a postcode district [ASKPA_AREA]")
	fl.StringVar(&f.dataDir, "data", orDefault(getenv("ASKPA_DATA_DIR"), "./data"), "data directory holding the persistent index [ASKPA_DATA_DIR]")
	fl.BoolVar(&f.memory, "memory", false, "build the index in memory instead of using the one under the data directory")
	fl.Float64Var(&f.threshold, "threshold", 0, "confidence below which no answer is given (0: the engine's default)")
	fl.BoolVar(&f.indexOnly, "index-only", false, "rank sections with the search index alone, without the trained matcher (for comparisons)")
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// answering is an open knowledge base, index and engine.
type answering struct {
	base   *knowledge.Base
	index  *index.Index
	engine *bot.Engine
	source string // where the content came from, for messages
	area   *knowledge.Area
}

// Close closes the index; it is safe to call more than once.
func (a *answering) Close() error { return a.index.Close() }

// open loads the knowledge base, opens (or builds) its index and
// returns the answer engine over them, its sections ranked by the built-in
// matcher.
func (f *engineFlags) open(ctx context.Context, log *slog.Logger) (*answering, error) {
	fsys, name, err := contentFS(f.contentDir)
	if err != nil {
		return nil, err
	}
	pack, err := localPack(f.localDir, f.area)
	if err != nil {
		return nil, err
	}
	base, err := knowledge.LoadWith(fsys, pack)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", name, err)
	}
	cfg := index.Config{Logger: log}
	if !f.memory {
		cfg.Dir = filepath.Join(f.dataDir, "index")
	}
	ix, err := index.Open(ctx, base, cfg)
	if err != nil {
		return nil, err
	}
	ecfg := bot.EngineConfig{Threshold: f.threshold}
	if pack != nil {
		ecfg.Area = &pack.Area
	}
	var search bot.Searcher = ix
	if !f.indexOnly {
		matcher, err := match.Default(base, ix)
		if err != nil {
			ix.Close()
			return nil, err
		}
		search = matcher
	}
	if f.publicURL != "" {
		root := strings.TrimRight(f.publicURL, "/") + "/guides/"
		ecfg.GuideURL = func(docID, anchor string) string {
			if anchor == "" {
				return root + docID
			}
			return root + docID + "#" + anchor
		}
	}
	eng, err := bot.NewEngine(base, search, ecfg)
	if err != nil {
		ix.Close()
		return nil, err
	}
	return &answering{base: base, index: ix, engine: eng, source: name, area: ecfg.Area}, nil
}

// warnings returns a logger for the one-shot commands: warnings and errors
// only, as text on w.
func warnings(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
