package insights

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/askpa/askpa/bot"
)

// MaxGapQuestions bounds the gap questions one report clusters (every pair
// is compared); beyond it the oldest are left out and counted in
// Report.Clipped.
const MaxGapQuestions = 3000

// Two questions belong together when their stemmed words overlap enough:
// a Jaccard index of at least linkSimilar with two words or more in common
// (or the same one word, when that is all either says), or of at least
// linkSamePassage when the same passage was shown for both. Clusters are
// the connected groups of such pairs.
const (
	linkSimilar     = 0.5
	linkSamePassage = 0.25
)

// maxExample bounds an example's length, in bytes.
const maxExample = 300

// The kinds of gap question.
const (
	kindUnanswered = iota // no passage was good enough
	kindEscalated         // handed over because the bot could not answer
	kindNotHelpful        // answered, and the answer marked "Not helpful"
)

// item is one gap question.
type item struct {
	at       time.Time
	text     string
	audience string
	passage  string
	kind     int
	words    []string          // its stems, sorted, without repeats
	surface  map[string]string // stem -> the word as first written
}

// gapItems picks the gap questions out of the question log: the events
// from index first on that the bot could not answer, and, from all of
// them, the question each "Not helpful" verdict was about (the
// conversation's latest question at or before it), once per question. At
// most MaxGapQuestions are kept, the most recent; clipped counts the rest.
func gapItems(events []bot.QuestionEvent, first int, feedback []bot.Feedback) (items []item, clipped int) {
	rated := map[int]bool{}
	byConv := map[string][]int{}
	for i, e := range events {
		if e.Text != "" {
			byConv[e.ConversationID] = append(byConv[e.ConversationID], i)
		}
	}
	add := func(e bot.QuestionEvent, kind int, passage string) {
		// Redacted again before anything is made of it: keywords too.
		text := bot.Redact(e.Text)
		it := item{at: e.At, text: text, audience: string(e.Audience), passage: passage, kind: kind}
		it.words, it.surface = words(text)
		items = append(items, it)
	}
	for i := first; i < len(events); i++ {
		e := events[i]
		switch {
		case e.Text == "":
		case e.Outcome == bot.OutcomeUnanswered:
			add(e, kindUnanswered, e.PassageID)
		case e.Outcome == bot.OutcomeEscalated && e.Reason == bot.ReasonLowConfidence:
			add(e, kindEscalated, e.PassageID)
		}
	}
	for _, f := range feedback {
		if f.Helpful {
			continue
		}
		idx := byConv[f.ConversationID]
		// The latest question of the conversation at or before the verdict.
		j := -1
		for _, k := range idx {
			if events[k].At.After(f.At) {
				break
			}
			j = k
		}
		if j < 0 || rated[j] || events[j].Outcome == bot.OutcomeUnanswered {
			continue
		}
		rated[j] = true
		passage := f.PassageID
		if passage == "" {
			passage = events[j].PassageID
		}
		add(events[j], kindNotHelpful, passage)
	}
	slices.SortStableFunc(items, func(a, b item) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return strings.Compare(a.text, b.text)
	})
	if len(items) > MaxGapQuestions {
		clipped = len(items) - MaxGapQuestions
		items = items[clipped:]
	}
	return items, clipped
}

// placeholder matches what bot.Redact puts in place of a detail.
var placeholder = regexp.MustCompile(`\[[a-zA-Z ]+\]`)

// stopWords are left out of the comparison: they say nothing about what a
// question is about. Nearly every question names a PA, so that says
// nothing either.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a about above after again all also am an and any are as at be because been before being
		but by can could did do does doing don dont done for from get gets getting got had has have having he her here hers him his
		how i if im in into is isnt it its ive just me might more most much must my no not now of off on once only or other our out
		over own please same she should so some such than thank thanks that thats the their them then there these they this those
		through to too under until up us very was we were what whats when where which while who whom why will with would you your
		yours yes hi hello hey ok okay need want know tell ask asking someone anyone
		pa pas personal assistant assistants carer mr mrs ms miss mx dr`) {
		m[w] = true
	}
	return m
}()

// words returns the stems of the content words of text, sorted and
// without repeats, and the first way each was written.
func words(text string) ([]string, map[string]string) {
	text = placeholder.ReplaceAllString(strings.ToLower(text), " ")
	surface := map[string]string{}
	var out []string
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' && r != '’' }) {
		w = strings.Trim(strings.ReplaceAll(w, "’", "'"), "'")
		w = strings.TrimSuffix(w, "'s")
		w = strings.ReplaceAll(w, "'", "")
		if w == "" || stopWords[w] {
			continue
		}
		st := stem(w)
		if st == "" || stopWords[st] {
			continue
		}
		if _, ok := surface[st]; !ok {
			surface[st] = w
			out = append(out, st)
		}
	}
	slices.Sort(out)
	return out, surface
}

// stem folds a lower-case word to the form questions are compared by:
// plurals and common verb endings taken off ("holidays" -> "holiday",
// "paying" -> "pay", "stories" -> "story", "taxed" -> "tax"). Words of one
// letter give "".
func stem(w string) string {
	if utf8.RuneCountInString(w) < 2 {
		return ""
	}
	if irregular[w] != "" {
		return irregular[w]
	}
	switch {
	case len(w) > 5 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 5 && strings.HasSuffix(w, "ing"):
		return undouble(w[:len(w)-3])
	case len(w) > 4 && strings.HasSuffix(w, "ed"):
		return undouble(w[:len(w)-2])
	case len(w) > 4 && strings.HasSuffix(w, "es") && strings.ContainsAny(w[len(w)-3:len(w)-2], "sxz"):
		return w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us"):
		return w[:len(w)-1]
	}
	return w
}

// irregular are the forms questions use that stem does not fold.
var irregular = map[string]string{"paid": "pay", "children": "child", "women": "woman", "men": "man", "people": "person", "left": "leave"}

// undouble takes one of a doubled final consonant off ("stopp" -> "stop").
func undouble(w string) string {
	n := len(w)
	if n > 2 && w[n-1] == w[n-2] && !strings.ContainsRune("aeiouls", rune(w[n-1])) {
		return w[:n-1]
	}
	return w
}

// jaccard is the Jaccard index of two sorted sets of stems.
func jaccard(a, b []string) float64 {
	both := common(a, b)
	if both == 0 {
		return 0
	}
	return float64(both) / float64(len(a)+len(b)-both)
}

// common counts the stems two sorted sets share.
func common(a, b []string) int {
	i, j, both := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch c := strings.Compare(a[i], b[j]); {
		case c == 0:
			both++
			i++
			j++
		case c < 0:
			i++
		default:
			j++
		}
	}
	return both
}

// linked reports whether two gap questions belong in one cluster.
func linked(a, b *item) bool {
	sim := jaccard(a.words, b.words)
	if a.passage != "" && a.passage == b.passage && sim >= linkSamePassage {
		return true
	}
	return sim >= linkSimilar && (common(a.words, b.words) >= 2 || min(len(a.words), len(b.words)) == 1)
}

// cluster groups items (sorted by time) into clusters of linked
// questions, the largest first (then the most recent, then by first
// example).
func cluster(items []item) []Cluster {
	parent := make([]int, len(items))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	// Only pairs that share a stem can be linked: compare those.
	byWord := map[string][]int{}
	for i := range items {
		for _, w := range items[i].words {
			byWord[w] = append(byWord[w], i)
		}
	}
	for i := range items {
		seen := map[int]bool{}
		for _, w := range items[i].words {
			for _, j := range byWord[w] {
				if j <= i || seen[j] {
					continue
				}
				seen[j] = true
				if ri, rj := find(i), find(j); ri != rj && linked(&items[i], &items[j]) {
					parent[max(ri, rj)] = min(ri, rj)
				}
			}
		}
	}
	groups := map[int][]int{}
	var roots []int
	for i := range items {
		r := find(i)
		if _, ok := groups[r]; !ok {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], i)
	}
	out := make([]Cluster, 0, len(roots))
	for _, r := range roots {
		out = append(out, summarise(items, groups[r]))
	}
	slices.SortStableFunc(out, func(a, b Cluster) int {
		if c := cmp.Compare(b.Size, a.Size); c != 0 {
			return c
		}
		if c := b.Last.Compare(a.Last); c != 0 {
			return c
		}
		return strings.Compare(a.Examples[0], b.Examples[0])
	})
	return out
}

// summarise describes the cluster of items at idx (in time order).
func summarise(items []item, idx []int) Cluster {
	c := Cluster{Size: len(idx), Audiences: map[string]int{}, Keywords: []string{}, Passages: []PassageCount{},
		First: items[idx[0]].at.UTC(), Last: items[idx[len(idx)-1]].at.UTC()}
	df := map[string]int{}
	surface := map[string]string{}
	passages := map[string]int{}
	for _, i := range idx {
		it := &items[i]
		switch it.kind {
		case kindUnanswered:
			c.Unanswered++
		case kindEscalated:
			c.Escalated++
		case kindNotHelpful:
			c.NotHelpful++
		}
		if it.audience != "" {
			c.Audiences[it.audience]++
		}
		if it.passage != "" {
			passages[it.passage]++
		}
		for _, w := range it.words {
			df[w]++
			if _, ok := surface[w]; !ok {
				surface[w] = it.surface[w]
			}
		}
	}
	// Keywords: the stems most of its questions share (in at least two
	// when there are several), most shared first.
	stems := make([]string, 0, len(df))
	for w := range df {
		if len(idx) == 1 || df[w] >= 2 {
			stems = append(stems, w)
		}
	}
	slices.SortFunc(stems, func(a, b string) int {
		if c := cmp.Compare(df[b], df[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for _, w := range stems[:min(3, len(stems))] {
		c.Keywords = append(c.Keywords, surface[w])
	}
	for id, n := range passages {
		c.Passages = append(c.Passages, PassageCount{ID: id, Count: n})
	}
	slices.SortFunc(c.Passages, func(a, b PassageCount) int {
		if x := cmp.Compare(b.Count, a.Count); x != 0 {
			return x
		}
		return strings.Compare(a.ID, b.ID)
	})
	c.Passages = c.Passages[:min(3, len(c.Passages))]
	// Examples: the most typical question (the one most like the others;
	// the earliest of equals), then the most recent one that reads
	// differently.
	best, bestScore := idx[0], -1.0
	for _, i := range idx {
		score := 0.0
		for _, j := range idx {
			if i != j {
				score += jaccard(items[i].words, items[j].words)
			}
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	first := example(items[best].text)
	c.Examples = []string{first}
	for k := len(idx) - 1; k >= 0; k-- {
		if ex := example(items[idx[k]].text); !strings.EqualFold(ex, first) {
			c.Examples = append(c.Examples, ex)
			break
		}
	}
	return c
}

// example is a question (redacted) as a report shows it: on one line, at
// most maxExample bytes.
func example(text string) string {
	s := strings.Join(strings.Fields(text), " ")
	if len(s) <= maxExample {
		return s
	}
	cut := maxExample
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if sp := strings.LastIndexByte(s[:cut], ' '); sp > maxExample/2 {
		cut = sp
	}
	return s[:cut] + "…"
}
