// Package index is askpa's full-text index of knowledge-base passages, built
// on Bleve: English analysis, multi-word synonyms, field boosts, an audience
// filter and tolerance of typos. It also judges how well a passage matches a
// question (knowledge.Hit.Match), which the bot turns into a confidence.
package index

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/askpa/askpa/knowledge"
)

// Field names of an indexed passage.
const (
	fieldHeading   = "heading"
	fieldTitle     = "title"
	fieldQuestions = "questions"
	fieldSummary   = "summary"
	fieldBody      = "body"
	fieldAudience  = "audience"
	fieldKind      = "kind"
	fieldDoc       = "doc"
)

// hashFile records, inside an index directory, the content hash it was
// built from, after the analysis format.
const hashFile = "askpa-content-hash"

// analysisFormat names the way text is analysed and passages are stored;
// change it whenever either changes so that indexes built the old way are
// rebuilt. (3: a passage's audience is its section's, see
// knowledge.Passage.Audience.)
const analysisFormat = "analysis-3"

// builtFrom is what hashFile holds for an index of base.
func builtFrom(base *knowledge.Base) string { return analysisFormat + ":" + base.Hash }

// ErrClosed is returned by Search after Close.
var ErrClosed = errors.New("index: closed")

// Config says where and how to keep the index.
type Config struct {
	// Dir is the directory of the persistent index. Empty keeps the index in
	// memory only (tests, one-off commands).
	Dir string
	// Rebuild builds the index in Dir anew even when the stored one was
	// built from the same content.
	Rebuild bool
	Logger  *slog.Logger
}

// Index searches the passages of one knowledge base. It is safe for
// concurrent use.
type Index struct {
	bleve     bleve.Index
	base      *knowledge.Base
	analyzer  analysis.Analyzer
	synonyms  map[string][]string // analysed term -> every term of its group
	docFreq   map[string]int      // analysed term -> passages containing it
	topical   map[string]bool     // terms used in headings or titles
	words     map[string]string   // each word of the knowledge base, lower case -> its analysed term
	byLength  map[int][]knownWord // the same, by length in letters
	wordsOnce sync.Once           // words are collected once, in the background from Open
	passages  int
	rebuilt   bool
	docs      *docs // what searches read (see score.go)

	closeOnce sync.Once
	closed    chan struct{}
}

// Open returns an index of base. With cfg.Dir set it reuses the index stored
// there when it was built from the same content (base.Hash), and otherwise
// builds a new one beside it and swaps it in, so the index on disk is always
// complete. It fails if the synonym list cannot be analysed into single terms
// or Bleve cannot build or open the index.
func Open(ctx context.Context, base *knowledge.Base, cfg Config) (*Index, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ix := &Index{base: base, closed: make(chan struct{})}
	var err error
	switch {
	case cfg.Dir == "":
		ix.bleve, err = build(ctx, base, "")
		ix.rebuilt = true
	default:
		ix.bleve, ix.rebuilt, err = openDir(ctx, base, cfg.Dir, cfg.Rebuild)
	}
	if err != nil {
		return nil, err
	}
	if ix.rebuilt {
		log.Info("index built", "passages", len(base.Passages()), "dir", cfg.Dir)
	}
	if err := ix.prepare(); err != nil {
		ix.bleve.Close()
		return nil, err
	}
	// What the first misspelt question needs (a few hundred milliseconds
	// of work) is made ready meanwhile, so that no one waits for it.
	go func() {
		ix.wordsOnce.Do(ix.collectWords)
		englishWords()
	}()
	return ix, nil
}

// Rebuilt reports whether Open had to build the index rather than reuse one.
func (ix *Index) Rebuilt() bool { return ix.rebuilt }

// Base returns the knowledge base the index was built from.
func (ix *Index) Base() *knowledge.Base { return ix.base }

// Ping reports whether the index is open and answering.
func (ix *Index) Ping(ctx context.Context) error {
	select {
	case <-ix.closed:
		return ErrClosed
	default:
	}
	_, err := ix.bleve.DocCount()
	return err
}

// Close releases the index. It is safe to call more than once.
func (ix *Index) Close() error {
	var err error
	ix.closeOnce.Do(func() {
		close(ix.closed)
		ix.docs.reader.Close()
		err = ix.bleve.Close()
	})
	return err
}

// openDir reuses the index in dir when its hash matches, else rebuilds it.
func openDir(ctx context.Context, base *knowledge.Base, dir string, rebuild bool) (bleve.Index, bool, error) {
	current := filepath.Join(dir, "current")
	if h, err := os.ReadFile(filepath.Join(current, hashFile)); err == nil && string(h) == builtFrom(base) && !rebuild {
		idx, err := bleve.OpenUsing(current, map[string]interface{}{"read_only": true})
		if err == nil {
			return idx, false, nil
		}
		// A damaged index is rebuilt below.
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, false, fmt.Errorf("index: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return nil, false, fmt.Errorf("index: %w", err)
	}
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, "index")
	idx, err := build(ctx, base, path)
	if err != nil {
		return nil, false, err
	}
	if err := idx.Close(); err != nil {
		return nil, false, fmt.Errorf("index: closing new index: %w", err)
	}
	if err := os.WriteFile(filepath.Join(path, hashFile), []byte(builtFrom(base)), 0o644); err != nil {
		return nil, false, fmt.Errorf("index: %w", err)
	}
	// Swap the finished index in: rename the old one away, the new one in.
	old := filepath.Join(tmp, "old")
	if err := os.Rename(current, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("index: %w", err)
	}
	if err := os.Rename(path, current); err != nil {
		return nil, false, fmt.Errorf("index: %w", err)
	}
	idx, err = bleve.OpenUsing(current, map[string]interface{}{"read_only": true})
	if err != nil {
		return nil, false, fmt.Errorf("index: opening %s: %w", current, err)
	}
	return idx, true, nil
}

// passageDoc is what is indexed for one passage.
type passageDoc struct {
	Heading   string   `json:"heading"`
	Title     string   `json:"title"`
	Questions []string `json:"questions"`
	Summary   string   `json:"summary"`
	Body      string   `json:"body"`
	Audience  string   `json:"audience"`
	Kind      string   `json:"kind"`
	Doc       string   `json:"doc"`
}

func newPassageDoc(p knowledge.Passage) passageDoc {
	return passageDoc{
		Heading:   p.Section.Heading,
		Title:     p.Doc.Title,
		Questions: p.Doc.Questions,
		Summary:   p.Doc.Summary,
		Body:      p.Section.Text,
		Audience:  string(p.Audience()),
		Kind:      string(p.Doc.Kind),
		Doc:       p.Doc.ID,
	}
}

// build creates an index of base at path ("" for memory) and fills it.
func build(ctx context.Context, base *knowledge.Base, path string) (bleve.Index, error) {
	m, err := newMapping(base.Synonyms)
	if err != nil {
		return nil, err
	}
	idx, err := bleve.NewUsing(path, m, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("index: creating: %w", err)
	}
	const batchSize = 1000
	batch := idx.NewBatch()
	for _, p := range base.Passages() {
		if err := ctx.Err(); err != nil {
			idx.Close()
			return nil, err
		}
		if err := batch.Index(p.ID(), newPassageDoc(p)); err != nil {
			idx.Close()
			return nil, fmt.Errorf("index: %s: %w", p.ID(), err)
		}
		if batch.Size() >= batchSize {
			if err := idx.Batch(batch); err != nil {
				idx.Close()
				return nil, fmt.Errorf("index: %w", err)
			}
			batch = idx.NewBatch()
		}
	}
	if err := idx.Batch(batch); err != nil {
		idx.Close()
		return nil, fmt.Errorf("index: %w", err)
	}
	return idx, nil
}

// newMapping returns the index mapping for passages: English analysis with
// the multi-word synonyms joined into single terms, text fields with term
// vectors (so a hit says which words it matched), keyword fields for filters.
func newMapping(synonyms [][]string) (*mapping.IndexMappingImpl, error) {
	var phrases []interface{}
	for _, group := range synonyms {
		for _, term := range group {
			if len(phraseStems(term)) > 1 {
				phrases = append(phrases, term)
			}
		}
	}
	m := bleve.NewIndexMapping()
	if err := m.AddCustomTokenFilter(phraseFilterName, map[string]interface{}{
		"type":          phraseFilterType,
		phraseConfigKey: phrases,
	}); err != nil {
		return nil, fmt.Errorf("index: phrase filter: %w", err)
	}
	if err := m.AddCustomAnalyzer(analyzerName, map[string]interface{}{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []interface{}{en.PossessiveName, lowercase.Name, phraseFilterName, en.StopName, distinctFilterType, porter.Name},
	}); err != nil {
		return nil, fmt.Errorf("index: analyzer: %w", err)
	}
	m.DefaultAnalyzer = analyzerName

	text := bleve.NewTextFieldMapping()
	text.Analyzer = analyzerName
	text.IncludeTermVectors = true
	text.Store = false
	keyword := bleve.NewKeywordFieldMapping()
	keyword.Store = false
	keyword.IncludeInAll = false

	doc := bleve.NewDocumentStaticMapping()
	for _, f := range []string{fieldHeading, fieldTitle, fieldQuestions, fieldSummary, fieldBody} {
		doc.AddFieldMappingsAt(f, text)
	}
	for _, f := range []string{fieldAudience, fieldKind, fieldDoc} {
		doc.AddFieldMappingsAt(f, keyword)
	}
	m.DefaultMapping = doc
	return m, nil
}

// prepare loads what searching needs beside Bleve: the analyzer, the
// synonym table and each term's document frequency.
func (ix *Index) prepare() error {
	a := ix.bleve.Mapping().AnalyzerNamed(analyzerName)
	if a == nil {
		return errors.New("index: analyzer missing from the index mapping")
	}
	ix.analyzer = a

	ix.synonyms = map[string][]string{}
	for _, group := range ix.base.Synonyms {
		var terms []string
		for _, t := range group {
			toks := a.Analyze([]byte(t))
			if len(toks) != 1 {
				return fmt.Errorf("index: synonym %q analyses to %d terms, want 1 (is it a stop word?)", t, len(toks))
			}
			terms = append(terms, string(toks[0].Term))
		}
		terms = dedupe(terms)
		for _, t := range terms {
			ix.synonyms[t] = terms
		}
	}

	n, err := ix.bleve.DocCount()
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	ix.passages = int(n)
	ix.docFreq = map[string]int{}
	if err := ix.eachTerm("_all", func(term string, df int) { ix.docFreq[term] = df }); err != nil {
		return err
	}
	ix.topical = map[string]bool{}
	for _, field := range []string{fieldHeading, fieldTitle} {
		if err := ix.eachTerm(field, func(term string, _ int) { ix.topical[term] = true }); err != nil {
			return err
		}
	}
	return ix.loadDocs()
}

// eachTerm calls fn with every term of field and its document frequency.
func (ix *Index) eachTerm(field string, fn func(term string, df int)) error {
	dict, err := ix.bleve.FieldDict(field)
	if err != nil {
		return fmt.Errorf("index: reading terms of %s: %w", field, err)
	}
	defer dict.Close()
	for {
		e, err := dict.Next()
		if err != nil {
			return fmt.Errorf("index: reading terms of %s: %w", field, err)
		}
		if e == nil {
			return nil
		}
		fn(e.Term, int(e.Count))
	}
}

// collectWords records every word of the knowledge base as written, for
// matching misspelt words against whole words rather than their stems. It
// runs once (through wordsOnce), started by Open; a question with a word
// the index does not know waits for it if it has not finished.
func (ix *Index) collectWords() {
	ix.words = map[string]string{}
	add := func(text string) {
		for _, tok := range unicodeTokenizer.Tokenize([]byte(strings.ToLower(text))) {
			w := string(tok.Term)
			if _, done := ix.words[w]; done || len(w) < 5 || isNumber(w) {
				continue
			}
			if a := ix.analyzer.Analyze(tok.Term); len(a) == 1 && ix.docFreq[string(a[0].Term)] > 0 {
				ix.words[w] = string(a[0].Term)
			}
		}
	}
	for _, group := range ix.base.Synonyms {
		add(strings.Join(group, " "))
	}
	for _, d := range ix.base.Documents {
		add(d.Title)
		add(d.Summary)
		add(strings.Join(d.Questions, " "))
		for _, s := range d.Sections {
			add(s.Heading)
			add(s.Text)
		}
	}
	ix.byLength = map[int][]knownWord{}
	for w, term := range ix.words {
		n := utf8.RuneCountInString(w)
		ix.byLength[n] = append(ix.byLength[n], knownWord{w, term})
	}
}

// knownWord is a word of the knowledge base and its analysed term.
type knownWord struct{ word, term string }

// idf is the weight of a term: rare terms tell more about a question.
func (ix *Index) idf(df int) float64 {
	return math.Log(1 + float64(ix.passages+1)/float64(df+1))
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
