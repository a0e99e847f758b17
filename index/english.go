package index

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"sync"
)

//go:embed english_words.txt.gz
var englishWordsGz []byte

// englishWords holds every English word of five letters or more (see
// english_words_NOTICE.txt), loaded the first time a question has a word
// the knowledge base does not know.
var englishWords = sync.OnceValue(func() map[string]bool {
	m := make(map[string]bool, 70000)
	zr, err := gzip.NewReader(bytes.NewReader(englishWordsGz))
	if err != nil {
		panic("index: embedded word list: " + err.Error()) // built into the binary; cannot happen
	}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		m[sc.Text()] = true
	}
	if err := sc.Err(); err != nil {
		panic("index: embedded word list: " + err.Error())
	}
	return m
})

// isEnglishWord reports whether w (lower case) is a real English word, and
// so not a misspelling of another: "supposed" is not a slip for "support",
// nor "password" for "passport".
func isEnglishWord(w string) bool { return englishWords()[w] }
