package index

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"
	porterstemmer "github.com/blevesearch/go-porterstemmer"
)

// Names under which askpa's analysis components are registered with Bleve.
// The phrase list travels inside the index mapping, so an index on disk
// reopens with the phrases it was built with.
const (
	analyzerName       = "askpa_en"
	phraseFilterType   = "askpa_phrases"
	phraseFilterName   = "askpa_phrases_list"
	phraseConfigKey    = "phrases"
	distinctFilterType = "askpa_distinct"
	joinedTermPadding  = "_"
)

func init() {
	registry.RegisterTokenFilter(phraseFilterType, newPhraseFilter)
	registry.RegisterTokenFilter(distinctFilterType, func(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
		return distinctFilter{}, nil
	})
}

// distinctWords are words the Porter stemmer would merge with a common
// word of another meaning: "allowance" with "allowed" ("am I allowed
// to ..." is not about Carer's Allowance), "community" with
// "communication", "universal" (Credit) with "university". Each keeps a
// stem of its own.
var distinctWords = map[string]string{
	"allowance": "allowance", "allowances": "allowance",
	"community": "community", "communities": "community",
	"universal": "universal",
}

// distinctFilter gives the distinct words their own stems and marks them
// so that the stemmer after it leaves them alone.
type distinctFilter struct{}

// Filter implements analysis.TokenFilter.
func (distinctFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, t := range input {
		if s, ok := distinctWords[string(t.Term)]; ok && !t.KeyWord {
			t.Term, t.KeyWord = []byte(s), true
		}
	}
	return input
}

// phraseFilter joins known multi-word phrases ("direct payment", "time
// off") into one token before stop words are removed and words stemmed, so
// that a phrase is one term in the index and in queries. Bleve's own synonym
// support silently drops multi-token synonyms; this is how askpa makes them
// work.
type phraseFilter struct {
	// byFirst maps a phrase's first stem to the phrases starting with it,
	// longest first; each phrase is its stems.
	byFirst map[string][][]string
}

func newPhraseFilter(config map[string]interface{}, _ *registry.Cache) (analysis.TokenFilter, error) {
	raw, _ := config[phraseConfigKey].([]interface{})
	f := &phraseFilter{byFirst: map[string][][]string{}}
	for _, r := range raw {
		s, ok := r.(string)
		if !ok {
			return nil, fmt.Errorf("%s: phrase %v is not a string", phraseFilterType, r)
		}
		stems := phraseStems(s)
		if len(stems) < 2 {
			continue
		}
		f.byFirst[stems[0]] = append(f.byFirst[stems[0]], stems)
	}
	for _, list := range f.byFirst {
		sort.SliceStable(list, func(i, j int) bool { return len(list[i]) > len(list[j]) })
	}
	return f, nil
}

// phraseStems splits a phrase into words the way the tokenizer does and
// stems each one.
func phraseStems(phrase string) []string {
	var stems []string
	for _, tok := range unicodeTokenizer.Tokenize([]byte(strings.ToLower(phrase))) {
		stems = append(stems, stem(tok.Term))
	}
	return stems
}

var unicodeTokenizer = unicode.NewUnicodeTokenizer()

func stem(term []byte) string {
	term = bytes.TrimSuffix(bytes.TrimSuffix(term, []byte("'s")), []byte("’s"))
	if s, ok := distinctWords[string(bytes.ToLower(term))]; ok {
		return s
	}
	return string(porterstemmer.StemWithoutLowerCasing(bytes.Runes(bytes.ToLower(term))))
}

// Filter implements analysis.TokenFilter.
func (f *phraseFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	if len(f.byFirst) == 0 {
		return input
	}
	stems := make([]string, len(input))
	for i, t := range input {
		stems[i] = stem(t.Term)
	}
	out := input[:0]
	for i := 0; i < len(input); {
		n := f.match(stems, i)
		if n == 0 {
			out = append(out, input[i])
			i++
			continue
		}
		first, last := input[i], input[i+n-1]
		out = append(out, &analysis.Token{
			Term:     []byte(strings.Join(stems[i:i+n], joinedTermPadding)),
			Start:    first.Start,
			End:      last.End,
			Position: first.Position,
			Type:     first.Type,
			KeyWord:  true, // already stemmed
		})
		i += n
	}
	return out
}

// match returns the length of the longest phrase starting at stems[i], or 0.
func (f *phraseFilter) match(stems []string, i int) int {
	for _, p := range f.byFirst[stems[i]] {
		if i+len(p) > len(stems) {
			continue
		}
		ok := true
		for k := range p {
			if stems[i+k] != p[k] {
				ok = false
				break
			}
		}
		if ok {
			return len(p)
		}
	}
	return 0
}
