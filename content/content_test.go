package content_test

import (
	"testing"
	"time"

	"github.com/askpa/askpa/content"
	"github.com/askpa/askpa/knowledge"
)

// TestKnowledgeBaseIsClean keeps the built-in knowledge base lint-free:
// every problem askpa lint would report fails the build, with its file and
// line. Review dates are judged against today, so a guide left unreviewed
// for 18 months fails here until someone checks it.
func TestKnowledgeBaseIsClean(t *testing.T) {
	for _, p := range knowledge.Lint(content.FS, time.Now()) {
		t.Errorf("%s", p)
	}
}

// TestScope checks the knowledge base still covers what the service
// promises: enough guidance for each audience, case studies, good-practice
// notes, standards and the emergency signposting the safety layer sends.
func TestScope(t *testing.T) {
	base, err := knowledge.Load(content.FS)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, d := range base.Documents {
		count[string(d.Kind)]++
		if d.Kind == knowledge.Guidance {
			count["guidance-"+string(d.Audience)]++
		}
	}
	for what, least := range map[string]int{
		"guidance-employer":            30,
		"guidance-pa":                  15,
		string(knowledge.CaseStudy):    12,
		string(knowledge.GoodPractice): 10,
		string(knowledge.Standard):     4,
		string(knowledge.Signposting):  1,
	} {
		if count[what] < least {
			t.Errorf("%d documents of %s, want at least %d", count[what], what, least)
		}
	}
	if count["guidance-employer"]+count["guidance-both"] < 40 {
		t.Errorf("%d guidance documents employers see, want at least 40", count["guidance-employer"]+count["guidance-both"])
	}
}
