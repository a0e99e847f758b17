package safety_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/askpa/askpa/bot/safety"
	"github.com/askpa/askpa/knowledge"
)

// testshire is a council with every safeguarding detail; its numbers are
// Ofcom's drama numbers.
var testshire = &knowledge.Area{
	ID: "testshire", Name: "Testshire Council",
	SocialCare:     knowledge.Contact{Phone: "01632 960100"},
	Safeguarding:   knowledge.Safeguarding{Phone: "01632 960200", OutOfHours: "01632 960201"},
	SupportService: knowledge.SupportService{Name: "Testshire Direct Payment Support", Phone: "01632 960300", Hours: "9am to 5pm, Monday to Friday"},
}

// TestLocaliseGivesTheCouncilsNumbers checks that a local pack's
// safeguarding numbers reach the safeguarding scripts and lines, and that
// without one every reply says the national words, with no placeholder
// left anywhere.
func TestLocaliseGivesTheCouncilsNumbers(t *testing.T) {
	national := defaultChecker(t)
	local := national.Localise(testshire)
	team := "Testshire Council's adult safeguarding team on 01632 960200 (out of hours: 01632 960201)"
	for _, k := range []safety.Kind{safety.Abuse, safety.DomesticAbuse, safety.Neglect, safety.FinancialAbuse, safety.Exploitation, safety.Medicines} {
		r, _ := local.Reply(k)
		if !strings.Contains(r.Other, team) {
			t.Errorf("%s (other) lacks the council's team and numbers:\n%s", k, r.Other)
		}
		if k != safety.Exploitation && !strings.Contains(r.Self, team) {
			t.Errorf("%s (self) lacks the council's team and numbers:\n%s", k, r.Self)
		}
		n, _ := national.Reply(k)
		if strings.Contains(n.Self+n.Other+n.Line, "Testshire") {
			t.Errorf("%s: Localise changed the checker it was called on", k)
		}
	}
	abuse, _ := local.Reply(safety.Abuse)
	if !strings.Contains(abuse.Self, "• Call "+team+": they will listen") || !strings.Contains(abuse.Line, team+" can help") {
		t.Errorf("abuse script with a pack:\n%s\nline: %s", abuse.Self, abuse.Line)
	}
	neglect, _ := local.Reply(safety.Neglect)
	if !strings.Contains(neglect.Other, "call 01632 960201.") || !strings.Contains(neglect.Self, "Testshire Direct Payment Support on 01632 960300 (open 9am to 5pm, Monday to Friday) can help you find cover") {
		t.Errorf("neglect scripts with a pack:\n%s\n%s", neglect.Self, neglect.Other)
	}
	harmed, _ := local.Reply(safety.PAHarmed)
	if !strings.Contains(harmed.Self, "tell Testshire Council's adult social care team on 01632 960100 so someone else can cover") {
		t.Errorf("pa-harmed script with a pack:\n%s", harmed.Self)
	}
	nAbuse, _ := national.Reply(safety.Abuse)
	if !strings.Contains(nAbuse.Self, "• Call your council's adult safeguarding team (most councils have an out-of-hours number): they will listen") {
		t.Errorf("abuse script without a pack:\n%s", nAbuse.Self)
	}
	for _, c := range []*safety.Checker{national, local, national.Localise(nil), local.Localise(nil)} {
		for _, k := range safety.Kinds {
			if r, ok := c.Reply(k); ok && strings.Contains(r.Line+r.Self+r.Other, "{{") {
				t.Errorf("%s: a placeholder is left:\n%s\n%s\n%s", k, r.Line, r.Self, r.Other)
			}
		}
	}
	again, _ := local.Localise(nil).Reply(safety.Abuse)
	if again != nAbuse {
		t.Error("Localise(nil) on a localised checker does not give the national replies")
	}
}

// TestRepliesPlaceholdersAreChecked breaks a placeholder in replies.md:
// loading fails naming the file and line.
func TestRepliesPlaceholdersAreChecked(t *testing.T) {
	replies, err := os.ReadFile("data/replies.md")
	if err != nil {
		t.Fatal(err)
	}
	const good = "{{local.safeguarding_team | the council's adult safeguarding team}} can help, and in danger call 999."
	text := string(replies)
	i := strings.Index(text, good)
	if i < 0 {
		t.Fatalf("replies.md no longer has %q", good)
	}
	line := strings.Count(text[:i], "\n") + 1
	for _, tt := range []struct{ name, with, want string }{
		{"unknown name", "{{local.safeguarding_number | the council's team}} can help.", "unknown placeholder local.safeguarding_number"},
		{"no fallback", "{{local.safeguarding_team}} can help.", "{{local.safeguarding_team}} needs a fallback"},
		{"not closed", "{{local.safeguarding_team | the council's team can help.", `"{{" starts no placeholder`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := safety.Load(dataWith(t, "replies.md", strings.Replace(text, good, tt.with, 1)))
			want := "replies.md:" + strconv.Itoa(line) + ": "
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load: %v, want %s...%s", err, want, tt.want)
			}
		})
	}
}
