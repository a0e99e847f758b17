package support

import (
	"testing"
	"time"
)

// TestWithoutNotes checks that WithoutNotes takes the text of every note
// out of a copy, keeps the entries and leaves the escalation it was given
// alone.
func TestWithoutNotes(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	e := Escalation{ID: "e1", Audit: []Action{
		{Who: ByPerson, What: "escalated (requested)", At: at},
		{Who: "alex", What: NoteAction, At: at, Note: "she may need a referral"},
		{Who: "alex", What: "claimed", At: at},
		{Who: "sam", What: NoteAction, At: at, Note: "rang back"},
	}}
	got := WithoutNotes(e)
	if len(got.Audit) != 4 || got.Audit[1].What != NoteAction || got.Audit[2].What != "claimed" {
		t.Fatalf("the trail changed shape: %+v", got.Audit)
	}
	for _, a := range got.Audit {
		if a.Note != "" {
			t.Errorf("a note's text is left: %+v", a)
		}
	}
	if e.Audit[1].Note != "she may need a referral" || e.Audit[3].Note != "rang back" {
		t.Errorf("the original lost its notes: %+v", e.Audit)
	}
	plain := Escalation{Audit: []Action{{Who: "alex", What: "claimed", At: at}}}
	if got := WithoutNotes(plain); &got.Audit[0] != &plain.Audit[0] {
		t.Error("an escalation without notes was copied needlessly")
	}
}
