package safety

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/askpa/askpa/knowledge"
)

// Reply is what askpa says for one danger kind.
type Reply struct {
	// Line is one sentence of signposting, shown above an answer at the
	// caution level.
	Line string
	// Guide is the passage of the knowledge base to link ("doc#anchor").
	Guide string
	// Self is the urgent reply to the person it is happening to, Other to
	// someone writing about another person.
	Self, Other string
}

// Script returns the urgent reply for v: the words for the person at risk
// when v.Self, for someone else otherwise.
func (r Reply) Script(self bool) string {
	if self {
		return r.Self
	}
	return r.Other
}

// Localise returns a copy of c whose replies give area's details (the
// council's safeguarding numbers, its support service) where replies.md
// has placeholders such as {{local.safeguarding_team | the council's
// adult safeguarding team}}; with a nil area they say their fallbacks, as
// the Checker Load returns does. c is not changed.
func (c *Checker) Localise(area *knowledge.Area) *Checker {
	cp := *c
	cp.replies = expandReplies(c.raw, area)
	return &cp
}

// expandReplies returns replies with their placeholders replaced for area.
func expandReplies(replies map[Kind]Reply, area *knowledge.Area) map[Kind]Reply {
	out := make(map[Kind]Reply, len(replies))
	for k, r := range replies {
		out[k] = Reply{Line: area.Expand(r.Line), Guide: r.Guide, Self: area.Expand(r.Self), Other: area.Expand(r.Other)}
	}
	return out
}

// parseReplies reads replies.md: a "## kind" section for every danger
// kind, each with "line:", "guide:", "### self" and "### other". Errors
// name the file and line, among them a placeholder that is malformed,
// unknown or without a fallback.
func parseReplies(file string, data []byte) (map[Kind]Reply, error) {
	out := map[Kind]Reply{}
	var kind Kind
	var cur Reply
	var part *string // the "### self" or "### other" text being read
	var body []string
	startLine := 0
	flushPart := func() {
		if part != nil {
			*part = strings.TrimSpace(strings.Join(body, "\n"))
		}
		part, body = nil, nil
	}
	flushKind := func() error {
		flushPart()
		if kind == "" {
			return nil
		}
		switch {
		case cur.Line == "" || cur.Guide == "":
			return fmt.Errorf("%s:%d: ## %s needs line: and guide:", file, startLine, kind)
		case cur.Self == "" || cur.Other == "":
			return fmt.Errorf("%s:%d: ## %s needs ### self and ### other", file, startLine, kind)
		}
		out[kind] = cur
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		found, problems := knowledge.ScanPlaceholders(file, text, line)
		if len(problems) > 0 {
			return nil, errors.New(problems[0].String())
		}
		for _, p := range found {
			if !p.HasFallback {
				return nil, fmt.Errorf("%s:%d: {{local.%s}} needs a fallback for places without a local pack: {{local.%s | what to say instead}}", file, line, p.Name, p.Name)
			}
		}
		switch {
		case strings.HasPrefix(text, "## "):
			if err := flushKind(); err != nil {
				return nil, err
			}
			kind, cur, startLine = Kind(strings.TrimSpace(text[3:])), Reply{}, line
			if !kind.Danger() {
				return nil, fmt.Errorf("%s:%d: %q is not a crisis or safeguarding kind", file, line, kind)
			}
			if _, dup := out[kind]; dup {
				return nil, fmt.Errorf("%s:%d: ## %s is written twice", file, line, kind)
			}
		case kind == "":
			// The introduction.
		case strings.HasPrefix(text, "### "):
			flushPart()
			switch strings.TrimSpace(text[4:]) {
			case "self":
				part = &cur.Self
			case "other":
				part = &cur.Other
			default:
				return nil, fmt.Errorf("%s:%d: want ### self or ### other", file, line)
			}
		case part != nil:
			body = append(body, text)
		case strings.HasPrefix(text, "line:"):
			cur.Line = strings.TrimSpace(text[len("line:"):])
		case strings.HasPrefix(text, "guide:"):
			cur.Guide = strings.TrimSpace(text[len("guide:"):])
		case strings.TrimSpace(text) != "":
			return nil, fmt.Errorf("%s:%d: want line:, guide:, ### self or ### other", file, line)
		}
	}
	if err := flushKind(); err != nil {
		return nil, err
	}
	for _, k := range Kinds {
		if _, ok := out[k]; k.Danger() && !ok {
			return nil, fmt.Errorf("%s: no reply for %s", file, k)
		}
	}
	return out, nil
}
