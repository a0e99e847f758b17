package index

import (
	_ "embed"
	"strings"
)

//go:embed weakwords.txt
var weakWordsFile string

// weakWords holds the stems of the words in weakwords.txt.
var weakWords = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(weakWordsFile, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, w := range strings.Fields(line) {
			m[stem([]byte(w))] = true
		}
	}
	return m
}()

// contractions spells out the contractions people type without an
// apostrophe, so that "whats" and "dont" are dropped as stop words like
// "what's" and "don't" are.
var contractions = map[string]string{
	"whats": "what is", "hows": "how is", "whos": "who is", "wheres": "where is",
	"dont": "do not", "doesnt": "does not", "didnt": "did not", "cant": "can not",
	"wont": "will not", "isnt": "is not", "arent": "are not", "wasnt": "was not",
	"im": "i am", "ive": "i have", "youre": "you are", "shes": "she is",
	"hes": "he is", "theyre": "they are", "thats": "that is", "couldnt": "could not",
	"shouldnt": "should not", "wouldnt": "would not", "havent": "have not", "hasnt": "has not",
	"theres": "there is", "hadnt": "had not", "theyve": "they have", "weve": "we have",
	"youve": "you have", "itll": "it will", "thatll": "that will", "aint": "is not",
}

// expandContractions rewrites the words of text found in contractions.
func expandContractions(text string) string {
	words := strings.Fields(text)
	for i, w := range words {
		core := strings.TrimRight(w, "?!.,;:")
		if exp, ok := contractions[strings.ToLower(core)]; ok {
			words[i] = exp + w[len(core):]
		}
	}
	return strings.Join(words, " ")
}
