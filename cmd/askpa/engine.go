package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
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
	// everyArea, with several packs and no area chosen, answers for each
	// pack's area (people pick theirs with /area) rather than failing:
	// askpa serve does, the one-shot commands need --area.
	everyArea bool
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
	// areas answer for each local pack when the service answers for
	// several (see engineFlags.everyArea); the fields above are then the
	// national engine's.
	areas []*answering
}

// districts returns the postcode areas and districts each local pack's
// council covers, by pack id.
func (a *answering) districts() map[string][]string {
	out := map[string][]string{}
	for _, ar := range append([]*answering{a}, a.areas...) {
		if ar.area != nil {
			out[ar.area.ID] = ar.area.Districts
		}
	}
	return out
}

// Close closes the indexes; it is safe to call more than once.
func (a *answering) Close() error {
	err := a.index.Close()
	for _, ar := range a.areas {
		err = errors.Join(err, ar.Close())
	}
	return err
}

// open loads the knowledge base, opens (or builds) its index and
// returns the answer engine over them, its sections ranked by the built-in
// matcher; with everyArea and several local packs, also one for each pack
// (each with its own index, "index-<id>" under the data directory).
func (f *engineFlags) open(ctx context.Context, log *slog.Logger) (*answering, error) {
	packs, err := f.everyPack()
	if err != nil {
		return nil, err
	}
	var pack *knowledge.Pack
	if packs == nil {
		if pack, err = localPack(f.localDir, f.area); err != nil {
			return nil, err
		}
	}
	a, err := f.openPack(ctx, log, pack, "index")
	if err != nil {
		return nil, err
	}
	for _, p := range packs {
		pa, err := f.openPack(ctx, log, p, "index-"+p.Area.ID)
		if err != nil {
			a.Close()
			return nil, err
		}
		a.areas = append(a.areas, pa)
	}
	return a, nil
}

// everyPack returns the local packs of localDir when askpa answers for
// each of them: everyArea set, no area chosen, and two or more packs.
// Otherwise it returns nil, and open uses the one pack localPack picks.
func (f *engineFlags) everyPack() ([]*knowledge.Pack, error) {
	if !f.everyArea || f.localDir == "" || f.area != "" {
		return nil, nil
	}
	if err := isDir(f.localDir); err != nil {
		return nil, fmt.Errorf("local pack: %w", err)
	}
	packs, err := knowledge.LoadPacks(os.DirFS(f.localDir), f.localDir)
	if err != nil {
		return nil, fmt.Errorf("local pack %s: %w", f.localDir, err)
	}
	if len(packs) < 2 {
		return nil, nil
	}
	return packs, nil
}

// openPack opens the knowledge base with pack (nil for none), its index
// (under the data directory's folder indexName) and engine.
func (f *engineFlags) openPack(ctx context.Context, log *slog.Logger, pack *knowledge.Pack, indexName string) (*answering, error) {
	fsys, name, err := contentFS(f.contentDir)
	if err != nil {
		return nil, err
	}
	base, err := knowledge.LoadWith(fsys, pack)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", name, err)
	}
	cfg := index.Config{Logger: log}
	if !f.memory {
		cfg.Dir = filepath.Join(f.dataDir, indexName)
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
