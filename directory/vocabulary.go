package directory

import (
	"bufio"
	_ "embed"
	"fmt"
	"strings"
)

//go:embed services.txt
var servicesTxt string

// Service is one entry of the service vocabulary.
type Service struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// Vocabulary is the fixed list of services a listing may offer, kept as
// data (services.txt) that an editor maintains.
type Vocabulary struct {
	list []Service
	find map[string]string // normalised id or label -> id
}

// ParseVocabulary reads a vocabulary: one service a line, its id, at least
// two spaces (or a tab), its label; blank lines and lines starting with #
// are skipped. It fails naming the line for a malformed line, an id that
// is not lower-case words joined by hyphens, or an id or label given twice.
func ParseVocabulary(text string) (*Vocabulary, error) {
	v := &Vocabulary{find: map[string]string{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.IndexAny(line, " \t")
		if i < 0 {
			return nil, fmt.Errorf("services line %d: want an id, two spaces and a label", n)
		}
		id, label := line[:i], strings.TrimSpace(line[i:])
		if !strings.HasPrefix(line[i:], "\t") && !strings.HasPrefix(line[i:], "  ") || label == "" {
			return nil, fmt.Errorf("services line %d: want an id, two spaces and a label", n)
		}
		if !validID(id) {
			return nil, fmt.Errorf("services line %d: id %q must be lower-case words joined by hyphens", n, id)
		}
		if _, dup := v.find[normService(id)]; dup {
			return nil, fmt.Errorf("services line %d: id %s is given twice", n, id)
		}
		for _, k := range []string{normService(id), normService(label)} {
			if other, dup := v.find[k]; dup && other != id {
				return nil, fmt.Errorf("services line %d: %q is already used by %s", n, k, other)
			}
			v.find[k] = id
		}
		v.list = append(v.list, Service{ID: id, Label: label})
	}
	if len(v.list) == 0 {
		return nil, fmt.Errorf("services: the vocabulary is empty")
	}
	return v, nil
}

// DefaultVocabulary returns the vocabulary in the package's services.txt.
func DefaultVocabulary() *Vocabulary {
	v, err := ParseVocabulary(servicesTxt)
	if err != nil {
		panic("directory: services.txt: " + err.Error())
	}
	return v
}

// Services returns every service, in the file's order.
func (v *Vocabulary) Services() []Service { return append([]Service(nil), v.list...) }

// Lookup returns the id of the service s names: its id or its label, in
// any case, with spaces or hyphens ("personal care", "Personal-Care").
func (v *Vocabulary) Lookup(s string) (string, bool) {
	id, ok := v.find[normService(s)]
	return id, ok
}

// Label returns the label of service id, or id itself when it is unknown.
func (v *Vocabulary) Label(id string) string {
	for _, s := range v.list {
		if s.ID == id {
			return s.Label
		}
	}
	return id
}

func normService(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("-", " ", "_", " ", "&", " and ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

func validID(id string) bool {
	if id == "" || id[0] == '-' || id[len(id)-1] == '-' || strings.Contains(id, "--") {
		return false
	}
	for _, r := range id {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}
