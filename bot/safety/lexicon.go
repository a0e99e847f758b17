package safety

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// maxEntries bounds a list of words.txt or rules.txt, so that each stays
// something an editor can read at a glance.
const maxEntries = 32

// entry is one phrase of a list: its words, the last of which may be a
// prefix ("overdos*").
type entry struct {
	words  []string
	prefix bool // the last word matches any word it begins
}

// list is one bracketed list of words.txt or rules.txt.
type list struct {
	name    string
	about   string
	entries []entry
}

// lexicon finds which lists' phrases a normalised message contains.
type lexicon struct {
	lists []list
	// first indexes entries by their first word (for exact first words)
	// and holds, apart, those whose first word is a prefix.
	first    map[string][]ref
	prefixed []ref
}

type ref struct{ list, entry int }

// parseLexicon reads lists in the format of words.txt: "[name] about" opens
// a list, then comma-separated phrases until the next list; "#" starts a
// comment line. Errors name the file and line. Phrases are normalised as
// messages are, with spellings.
func parseLexicon(file string, data []byte, spellings map[string]string) (*lexicon, error) {
	lx := &lexicon{first: map[string][]ref{}}
	err := eachLine(file, data, func(text string) error {
		if strings.HasPrefix(text, "[") {
			end := strings.IndexByte(text, ']')
			if end < 2 {
				return fmt.Errorf("a list starts with [name]")
			}
			name := strings.TrimSpace(text[1:end])
			for _, l := range lx.lists {
				if l.name == name {
					return fmt.Errorf("list [%s] is defined twice", name)
				}
			}
			lx.lists = append(lx.lists, list{name: name, about: strings.TrimSpace(text[end+1:])})
			return nil
		}
		if len(lx.lists) == 0 {
			return fmt.Errorf("phrases before the first [list]")
		}
		l := &lx.lists[len(lx.lists)-1]
		for _, p := range strings.Split(text, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			e := entry{prefix: strings.HasSuffix(p, "*")}
			e.words = strings.Fields(Normalise(strings.TrimSuffix(p, "*"), spellings))
			if len(e.words) == 0 {
				return fmt.Errorf("%q has no words", p)
			}
			if e.prefix && len(e.words[len(e.words)-1]) < 3 {
				return fmt.Errorf("%q: a word ending in * needs at least three letters", p)
			}
			l.entries = append(l.entries, e)
			if len(l.entries) > maxEntries {
				return fmt.Errorf("list [%s] has more than %d entries; keep it short and general", l.name, maxEntries)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for li, l := range lx.lists {
		if len(l.entries) == 0 {
			return nil, fmt.Errorf("%s: list [%s] is empty", file, l.name)
		}
		for ei, e := range l.entries {
			r := ref{li, ei}
			if e.prefix && len(e.words) == 1 {
				lx.prefixed = append(lx.prefixed, r)
			} else {
				lx.first[e.words[0]] = append(lx.first[e.words[0]], r)
			}
		}
	}
	return lx, nil
}

// index returns the position of list name, or -1.
func (lx *lexicon) index(name string) int {
	for i, l := range lx.lists {
		if l.name == name {
			return i
		}
	}
	return -1
}

// match calls found for each list with a phrase in words (the words of a
// normalised message), with the position of the first word it matched; a
// list may be reported more than once.
func (lx *lexicon) match(words []string, found func(list, at, n int)) {
	for i, w := range words {
		for _, r := range lx.first[w] {
			if n, ok := lx.entryAt(r, words, i); ok {
				found(r.list, i, n)
			}
		}
		for _, r := range lx.prefixed {
			if strings.HasPrefix(w, lx.lists[r.list].entries[r.entry].words[0]) {
				found(r.list, i, 1)
			}
		}
	}
}

// entryAt reports whether entry r matches words from position i, and how
// many words it covers.
func (lx *lexicon) entryAt(r ref, words []string, i int) (int, bool) {
	e := lx.lists[r.list].entries[r.entry]
	if i+len(e.words) > len(words) {
		return 0, false
	}
	last := len(e.words) - 1
	for j, ew := range e.words {
		w := words[i+j]
		if j == last && e.prefix {
			if !strings.HasPrefix(w, ew) {
				return 0, false
			}
		} else if w != ew {
			return 0, false
		}
	}
	return len(e.words), true
}

// parseSpellings reads spellings.txt: one "typed meaning..." pair a line.
func parseSpellings(file string, data []byte) (map[string]string, error) {
	m := map[string]string{}
	err := eachLine(file, data, func(text string) error {
		f := strings.Fields(strings.ToLower(text))
		if len(f) < 2 {
			return fmt.Errorf("want a spelling and what it means")
		}
		if _, dup := m[f[0]]; dup {
			return fmt.Errorf("%q is listed twice", f[0])
		}
		m[f[0]] = strings.Join(f[1:], " ")
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// eachLine calls fn with each line of data that is neither blank nor a
// "#" comment, trimmed, and returns fn's first error prefixed with the file
// and line.
func eachLine(file string, data []byte, fn func(text string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if err := fn(text); err != nil {
			return fmt.Errorf("%s:%d: %w", file, line, err)
		}
	}
	return sc.Err()
}
