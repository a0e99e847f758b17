package index_test

// The cost of a full answer set beside the cost of one plain Bleve match
// query over the same index and the same questions, at the real size of
// the knowledge base and at 20,000 and 100,000 sections:
//
//	go test -run '^$' -bench 'Answer|BleveMatchQuery' -benchtime 1000x -count 5 ./index
//	go test -run '^$' -bench '/sections=100000' -benchtime 200x ./index
//
// A fixed -benchtime asks the same questions of every version compared.
// The 100,000-section runs are skipped unless -bench names them
// ("sections=100000"), -sections=100000 follows -args, or
// ASKPA_BENCH_SECTIONS=100000 is set: building that index takes minutes. Each large index
// is built once per test binary, and warmed up with one question (see
// warmUp). The questions are 1,000 of the matching corpus's validation
// split, spread over its files, each asked from its own audience.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/blevesearch/bleve/v2"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/bot/bottest"
	"github.com/askpa/askpa/bot/match"
	"github.com/askpa/askpa/content"
	"github.com/askpa/askpa/index"
	"github.com/askpa/askpa/knowledge"
)

// largestSections asks for the benchmarks at 100,000 sections.
var largestSections = flag.Int("sections", 0, "also run the answer benchmarks at this many sections (100000)")

// benchSizes are the sizes the answer benchmarks run at; 0 is the real
// knowledge base.
var benchSizes = []int{0, 20_000, 100_000}

func sizeName(n int) string {
	if n == 0 {
		return "sections=real"
	}
	return "sections=" + strconv.Itoa(n)
}

// skipSize skips the 100,000-section run unless it was asked for.
func skipSize(b *testing.B, n int) {
	if n < 100_000 {
		return
	}
	pattern := ""
	if f := flag.Lookup("test.bench"); f != nil {
		pattern = f.Value.String()
	}
	env, _ := strconv.Atoi(os.Getenv("ASKPA_BENCH_SECTIONS"))
	if *largestSections >= n || env >= n || strings.Contains(pattern, strconv.Itoa(n)) {
		return
	}
	b.Skipf("building %d sections takes minutes: name it in -bench, or pass -sections=%d", n, n)
}

// BenchmarkAnswer is the cost of one full answer: safety, small talk, the
// matcher (index search, remembered questions, the model) and the reply.
func BenchmarkAnswer(b *testing.B) {
	qs := benchQuestions(b)
	ctx := context.Background()
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			skipSize(b, n)
			c := corpusOf(b, n)
			i := 0
			for b.Loop() {
				q := qs[i%len(qs)]
				if _, err := c.engine.Answer(ctx, q.Text, q.Audience()); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(c.sections), "sections")
		})
	}
}

// BenchmarkBleveMatchQuery is the cost of one plain Bleve match query (the
// question against every text field, Bleve's default ten hits) over the
// same index and the same questions as BenchmarkAnswer: the floor an
// answer is measured against.
func BenchmarkBleveMatchQuery(b *testing.B) {
	qs := benchQuestions(b)
	ctx := context.Background()
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			skipSize(b, n)
			c := corpusOf(b, n)
			bi := c.ix.BleveIndex()
			i := 0
			for b.Loop() {
				req := bleve.NewSearchRequest(bleve.NewMatchQuery(qs[i%len(qs)].Text))
				if _, err := bi.SearchInContext(ctx, req); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(c.sections), "sections")
		})
	}
}

// BenchmarkIndexSearch is the cost of the index's own search as the
// matcher asks it (20 candidates), between the two above.
func BenchmarkIndexSearch(b *testing.B) {
	qs := benchQuestions(b)
	ctx := context.Background()
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			skipSize(b, n)
			c := corpusOf(b, n)
			i := 0
			for b.Loop() {
				q := qs[i%len(qs)]
				if _, err := c.ix.Search(ctx, knowledge.Query{Text: q.Text, Audience: q.Audience(), Limit: 20}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

var (
	questionsOnce sync.Once
	questions     []match.Question
	questionsErr  error
)

// benchQuestions returns 1,000 questions of the matching corpus's
// validation split, evenly spread over it.
func benchQuestions(b *testing.B) []match.Question {
	b.Helper()
	questionsOnce.Do(func() {
		var all []match.Question
		all, questionsErr = match.ReadQuestions(os.DirFS("../bot/match/corpus"), "validation")
		const n = 1000
		if len(all) <= n {
			questions = all
			return
		}
		for i := range n {
			questions = append(questions, all[i*len(all)/n])
		}
	})
	if questionsErr != nil || len(questions) == 0 {
		b.Fatalf("reading the questions: %v (%d)", questionsErr, len(questions))
	}
	return questions
}

// benchCorpus is a knowledge base, its index and the engine over them.
type benchCorpus struct {
	sections int
	ix       *index.Index
	engine   *bot.Engine
}

var (
	corporaMu sync.Mutex
	corpora   = map[int]*benchCorpus{}
)

// corpusOf returns the corpus of about n sections (0: the real knowledge
// base), building it the first time it is asked for.
func corpusOf(b *testing.B, n int) *benchCorpus {
	b.Helper()
	corporaMu.Lock()
	defer corporaMu.Unlock()
	if c, ok := corpora[n]; ok {
		return c
	}
	c := &benchCorpus{}
	if n == 0 {
		base, ix := bottest.Index(b)
		c.sections, c.ix, c.engine = len(base.Passages()), ix, bottest.Engine(b)
		warmUp(b, c)
		corpora[n] = c
		return c
	}
	kb, _ := bottest.Index(b)
	base := syntheticBase(b, kb, n)
	ix, err := index.Open(context.Background(), base, index.Config{})
	if err != nil {
		b.Fatal(err)
	}
	m, err := match.Default(base, ix)
	if err != nil {
		b.Fatal(err)
	}
	e, err := bot.NewEngine(base, m, bot.EngineConfig{})
	if err != nil {
		b.Fatal(err)
	}
	c.sections, c.ix, c.engine = len(base.Passages()), ix, e
	warmUp(b, c)
	corpora[n] = c
	return c
}

// warmUp answers a question with a misspelt word, so that what is done
// once, the first time one comes (the words of the knowledge base and the
// English word list, for spelling), is not counted as the cost of an answer.
func warmUp(b *testing.B, c *benchCorpus) {
	b.Helper()
	if _, err := c.engine.Answer(context.Background(), "how much holliday does my carer get", knowledge.Employer); err != nil {
		b.Fatal(err)
	}
}

// syntheticBase returns a knowledge base of at least n sections: the real
// documents as they are, then copies of them under new ids in which about
// one word in four is replaced by another word of the knowledge base and
// one in twenty by a made-up word, so that the copies neither repeat the
// real sections nor share their exact vocabulary. It is deterministic.
func syntheticBase(tb testing.TB, kb *knowledge.Base, n int) *knowledge.Base {
	tb.Helper()
	fsys := fstest.MapFS{}
	err := fs.WalkDir(content.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(content.FS, p)
		fsys[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	vocab := vocabulary(kb)
	sections := len(kb.Passages())
	for copyNo := 1; sections < n; copyNo++ {
		rng := rand.New(rand.NewPCG(uint64(copyNo), 0x5eed))
		for _, d := range kb.Documents {
			if sections >= n {
				break
			}
			id := fmt.Sprintf("%s-v%d", d.ID, copyNo)
			fsys["synthetic/"+id+".md"] = &fstest.MapFile{Data: syntheticDoc(d, id, func(s string) string { return vary(s, vocab, rng) })}
			sections += len(d.Sections)
		}
	}
	base, err := knowledge.Load(fsys)
	if err != nil {
		tb.Fatal(err)
	}
	return base
}

var wordPattern = regexp.MustCompile(`[A-Za-z]{3,}`)

// vocabulary returns every word of three letters or more in base's
// sections, once each, in order of first use.
func vocabulary(base *knowledge.Base) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range base.Passages() {
		for _, w := range wordPattern.FindAllString(p.Section.Heading+" "+p.Section.Text, -1) {
			if w = strings.ToLower(w); !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out
}

// vary replaces about a quarter of the words of s with words of vocab and
// one in twenty with a made-up one.
func vary(s string, vocab []string, rng *rand.Rand) string {
	return wordPattern.ReplaceAllStringFunc(s, func(w string) string {
		switch r := rng.IntN(20); {
		case r < 5:
			return vocab[rng.IntN(len(vocab))]
		case r == 5:
			return w + string(rune('a'+rng.IntN(26))) + string(rune('a'+rng.IntN(26)))
		}
		return w
	})
}

// syntheticDoc writes d as a Markdown document with id, its text passed
// through vary.
func syntheticDoc(d *knowledge.Document, id string, vary func(string) string) []byte {
	var buf bytes.Buffer
	q := func(s string) string {
		b, _ := json.Marshal(s) // a JSON string is a YAML double-quoted scalar
		return string(b)
	}
	fmt.Fprintf(&buf, "---\nid: %s\ntitle: %s\nkind: %s\naudience: %s\n", id, q(vary(d.Title)), d.Kind, d.Audience)
	fmt.Fprintf(&buf, "topics: [%s]\nsummary: %s\nreviewed: %s\nsources:\n", strings.Join(d.Topics, ", "), q(vary(d.Summary)), d.Reviewed.Format("2006-01-02"))
	for _, s := range d.Sources {
		fmt.Fprintf(&buf, "  - %s\n", q(s))
	}
	buf.WriteString("questions:\n")
	for _, s := range d.Questions {
		fmt.Fprintf(&buf, "  - %s\n", q(vary(s)))
	}
	buf.WriteString("---\n")
	for i, s := range d.Sections {
		fmt.Fprintf(&buf, "\n## %s (%d)\n\n%s\n", vary(s.Heading), i+1, vary(s.Text))
	}
	return buf.Bytes()
}
