package bot

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strings"

	"github.com/askpa/askpa/bot/safety"
)

//go:embed smalltalk.txt
var defaultSmallTalk []byte

// smallTalk recognises whole messages that are a greeting, thanks, a
// goodbye or a question about askpa itself (smalltalk.txt).
type smallTalk struct {
	say map[string]string // normalised phrase -> reply
}

// closers are words that may end a small-talk message without making it
// anything else ("thanks askpa", "hi there").
var closers = []string{"askpa", "bot", "there", "mate", "everyone", "all", "again", "please"}

// parseSmallTalk reads smalltalk.txt. Errors name the line.
func parseSmallTalk(data []byte) (*smallTalk, error) {
	st := &smallTalk{say: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line, reply, name := 0, "", ""
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		switch {
		case text == "" || strings.HasPrefix(text, "#"):
		case strings.HasPrefix(text, "[") && strings.HasSuffix(text, "]"):
			name, reply = text, ""
		case strings.HasPrefix(text, "say:"):
			reply = strings.TrimSpace(strings.TrimPrefix(text, "say:"))
		case name == "" || reply == "":
			return nil, fmt.Errorf("smalltalk.txt:%d: phrases before a [name] and its say:", line)
		default:
			for _, p := range strings.Split(text, ",") {
				if p = safety.Normalise(p, nil); p != "" {
					st.say[p] = reply
				}
			}
		}
	}
	return st, nil
}

// reply returns the small-talk reply for a message, or "" when the message
// is not small talk.
func (st *smallTalk) reply(message string) string {
	norm := safety.Normalise(message, nil)
	for {
		if say, ok := st.say[norm]; ok {
			return say
		}
		cut := false
		for _, c := range closers {
			if rest, ok := strings.CutSuffix(norm, " "+c); ok {
				norm, cut = rest, true
			}
		}
		if !cut {
			return ""
		}
	}
}
