package safety

import (
	"math"
	"slices"
	"strings"

	porterstemmer "github.com/blevesearch/go-porterstemmer"
)

// featureBits sets how many buckets features are hashed into (2^18).
// Collisions are rare at the corpus's size and harmless.
const featureBits = 18

// maxWordLen is the longest word whose letters are cut into character
// n-grams; longer runs (links, keyboard mashing) add only their word.
const maxWordLen = 24

// features is a message as the classifier sees it: hashed feature ids,
// sorted and unique, each worth the same (1/sqrt(n)).
type features struct {
	ids   []uint32
	value float32
}

// extractor turns normalised messages into features.
type extractor struct {
	lex *lexicon
	// wordsOnly leaves out the character n-grams and word lists: for
	// telling who a message is about, the words themselves ("I", "he",
	// "my mum") are what count.
	wordsOnly bool
}

// extract returns the features of a normalised message:
//
//   - each word's stem ("w:"), so "hitting" and "hits" count alike;
//
//   - each pair of neighbouring stems ("b:"), so "not breathing" differs
//     from "breathing";
//
//   - the three- and four-letter pieces of each word ("c:"), so a misspelt
//     word still shares most of its pieces with the word meant;
//
//   - each word list of words.txt the message has a phrase of ("l:"), and
//     which lists it has two or more phrases of ("m:").
//
//   - who the channel says is writing ("a:"), an employer or a PA;
//
//   - how long the message is ("n:"), roughly: a word or two says less
//     than a paragraph, and the classifier should know it.
//
// Numbers of four or more digits are read as one word, "#", so no phone
// number or date is learned.
func (x *extractor) extract(norm, audience string) features {
	words := strings.Fields(norm)
	ids := make([]uint32, 0, len(words)*12+8)
	add := func(parts ...string) {
		h := uint32(fnvOffset)
		for _, p := range parts {
			for i := 0; i < len(p); i++ {
				h = (h ^ uint32(p[i])) * fnvPrime
			}
		}
		ids = append(ids, h&(1<<featureBits-1))
	}
	prev := "^"
	for _, w := range words {
		stem := w
		switch {
		case isNumber(w) && len(w) >= 4:
			stem = "#"
		case len(w) > 3:
			stem = porterstemmer.StemString(w)
		}
		add("w:", stem)
		add("b:", prev, " ", stem)
		prev = stem
		if len(w) <= maxWordLen && !isNumber(w) && !x.wordsOnly {
			padded := " " + w + " "
			for n := 3; n <= 4; n++ {
				for i := 0; i+n <= len(padded); i++ {
					add("c:", padded[i:i+n])
				}
			}
		}
	}
	add("b:", prev, " $")
	add("a:", audience)
	add("n:", lengthBucket(len(words)))
	if x.wordsOnly {
		add("p:", personOf(words))
	}
	if x.lex != nil && !x.wordsOnly {
		counts := make([]int, len(x.lex.lists))
		x.lex.match(words, func(l, _, _ int) { counts[l]++ })
		for l, n := range counts {
			if n > 0 {
				add("l:", x.lex.lists[l].name)
			}
			if n > 1 {
				add("m:", x.lex.lists[l].name)
			}
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	f := features{ids: ids}
	if len(ids) > 0 {
		f.value = float32(1 / math.Sqrt(float64(len(ids))))
	}
	return f
}

// FNV-1a, 32 bits: the hash of feature strings.
const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

func isNumber(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return w != ""
}

// lengthBucket names a message's length in words, roughly.
func lengthBucket(words int) string {
	switch {
	case words <= 2:
		return "1-2"
	case words <= 5:
		return "3-5"
	case words <= 12:
		return "6-12"
	case words <= 30:
		return "13-30"
	}
	return "31+"
}

// personOf says whether a message is told mostly in the first person ("I",
// "me", "my") or the third ("he", "she", "they"), or both alike: who is at
// risk often shows in the balance more than in any one word.
func personOf(words []string) string {
	first, third := 0, 0
	for _, w := range words {
		switch w {
		case "i", "me", "my", "myself", "mine", "im", "ive":
			first++
		case "he", "she", "him", "her", "his", "hers", "himself", "herself", "they", "them", "their", "theirs":
			third++
		}
	}
	switch {
	case first > 2*third:
		return "first"
	case third > 2*first:
		return "third"
	case third > first:
		return "more-third"
	}
	return "mixed"
}
