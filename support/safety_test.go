package support_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/askpa/askpa/bot/safety"
	"github.com/askpa/askpa/sqlite"
	"github.com/askpa/askpa/support"
)

// labelRig is a desk on a fresh SQLite store with a settable clock and one
// webhook-like target, so that tests can see what a change told.
type labelRig struct {
	desk  *support.Desk
	store support.Store
	mu    sync.Mutex
	now   time.Time
}

func newLabelRig(t *testing.T, wrap func(support.Store) support.Store) *labelRig {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "labels.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	r := &labelRig{store: store, now: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	var s support.Store = store
	if wrap != nil {
		s = wrap(store)
	}
	r.desk, err = support.NewDesk(support.Config{Store: s, Targets: []support.Target{nopTarget{}}, Now: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *labelRig) clock() time.Time { r.mu.Lock(); defer r.mu.Unlock(); return r.now }

func (r *labelRig) tick() { r.mu.Lock(); r.now = r.now.Add(time.Minute); r.mu.Unlock() }

// nopTarget accepts the webhook events and delivers nothing; it is there so
// that a change that tells a webhook leaves an outbox row.
type nopTarget struct{}

func (nopTarget) Name() string                                 { return "webhook:test" }
func (nopTarget) Deliver(context.Context, support.Event) error { return nil }

// assessment is what the safety layer hands over with: it saw financial
// abuse.
func assessment() *support.SafetyAssessment {
	return &support.SafetyAssessment{Kind: "financial-abuse", Level: "urgent", Probability: 0.91, By: "model"}
}

// escalateSafety opens an escalation for user, with the safety layer's
// assessment when a is not nil, and moves the clock on.
func (r *labelRig) escalateSafety(t *testing.T, user string, p support.Priority, a *support.SafetyAssessment) support.Escalation {
	t.Helper()
	e, err := r.desk.Escalate(context.Background(), support.NewEscalation{
		ConversationID: "conv-" + user,
		Address:        support.Address{Channel: "telegram", UserID: user, ChatID: user},
		Audience:       "employer",
		Reason:         "safeguarding",
		Priority:       p,
		Safety:         a,
		Messages: []support.Message{
			{From: support.FromUser, Text: user + ": my PA keeps my bank card"},
			{From: support.FromBot, Text: "That sounds worrying. I am passing this to a person."},
		},
	})
	if err != nil {
		t.Fatalf("Escalate: %v", err)
	}
	r.tick()
	return e
}

func TestLabelSafety(t *testing.T) {
	ctx := context.Background()
	r := newLabelRig(t, nil)
	setups := map[string]func(t *testing.T, id string){
		"open":    func(*testing.T, string) {},
		"claimed": func(t *testing.T, id string) { must(t)(r.desk.Claim(ctx, id, "sam")) },
		"resolved": func(t *testing.T, id string) {
			must(t)(r.desk.Reply(ctx, id, "sam", "We have told the council."))
			must(t)(r.desk.Resolve(ctx, id, "sam"))
		},
	}
	note500 := strings.Repeat("n", support.MaxLabelNoteLen)
	tests := []struct {
		name    string
		state   string
		plain   bool // an escalation the safety layer did not start
		staff   string
		correct bool
		kind    string
		note    string
		field   string // the field an *InvalidError names; empty for success
		label   support.SafetyLabel
		audit   string
	}{
		{name: "right, kind left out", state: "open", correct: true,
			label: support.SafetyLabel{Correct: true, Kind: "financial-abuse"}, audit: "alex safety verdict marked right"},
		{name: "right, kind given", state: "claimed", correct: true, kind: "financial-abuse", note: "clear case",
			label: support.SafetyLabel{Correct: true, Kind: "financial-abuse", Note: "clear case"}, audit: "alex safety verdict marked right"},
		{name: "wrong on a resolved escalation", state: "resolved", kind: "ordinary", note: note500,
			label: support.SafetyLabel{Kind: "ordinary", Note: note500}, audit: "alex safety verdict marked wrong: ordinary"},
		{name: "wrong, another danger", state: "claimed", kind: "exploitation",
			label: support.SafetyLabel{Kind: "exploitation"}, audit: "alex safety verdict marked wrong: exploitation"},
		{name: "not started by the safety layer", state: "open", plain: true, correct: true, field: "safety"},
		{name: "not started by the safety layer, resolved", state: "resolved", plain: true, kind: "ordinary", field: "safety"},
		{name: "wrong without a kind", state: "open", field: "kind"},
		{name: "unknown kind", state: "open", kind: "scary", field: "kind"},
		{name: "kind in capitals", state: "open", kind: "Ordinary", field: "kind"},
		{name: "right with another kind", state: "open", correct: true, kind: "ordinary", field: "kind"},
		{name: "wrong with the kind it saw", state: "resolved", kind: "financial-abuse", field: "kind"},
		{name: "note too long", state: "open", correct: true, note: note500 + "x", field: "note"},
		{name: "no staff name", state: "open", staff: " ", correct: true, field: "staff"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := assessment()
			if tc.plain {
				a = nil
			}
			e := r.escalateSafety(t, fmt.Sprintf("label%d", i), support.PriorityUrgent, a)
			setups[tc.state](t, e.ID)
			before, err := r.desk.Get(ctx, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			outbox := deliveryCount(t, r.store, e.ID)
			staff := "alex"
			if tc.staff != "" {
				staff = tc.staff
			}
			r.tick()
			got, err := r.desk.LabelSafety(ctx, e.ID, staff, tc.correct, tc.kind, tc.note)
			stored, gerr := r.desk.Get(ctx, e.ID)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if tc.field != "" {
				var inv *support.InvalidError
				if !errors.As(err, &inv) || !errors.Is(err, support.ErrInvalid) || inv.Field != tc.field {
					t.Fatalf("LabelSafety: %v, want an *InvalidError naming %q", err, tc.field)
				}
				if len(stored.Audit) != len(before.Audit) || !stored.UpdatedAt.Equal(before.UpdatedAt) ||
					(stored.Safety != nil && stored.Safety.Label != nil) {
					t.Errorf("a refused label changed the escalation: audit %v, safety %+v", stored.Audit, stored.Safety)
				}
				return
			}
			if err != nil {
				t.Fatalf("LabelSafety: %v", err)
			}
			want := tc.label
			want.By, want.At = "alex", r.clock()
			for name, e := range map[string]support.Escalation{"returned": got, "stored": stored} {
				if e.Safety == nil || e.Safety.Label == nil {
					t.Fatalf("%s escalation has no label: %+v", name, e.Safety)
				}
				if l := *e.Safety.Label; l != want {
					t.Errorf("%s label %+v, want %+v", name, l, want)
				}
				if a := *e.Safety; a.Kind != "financial-abuse" || a.Level != "urgent" || a.Probability != 0.91 || a.By != "model" {
					t.Errorf("%s assessment changed: %+v", name, a)
				}
				last := e.Audit[len(e.Audit)-1]
				if len(e.Audit) != len(before.Audit)+1 || last.Who+" "+last.What != tc.audit || !last.At.Equal(r.clock()) {
					t.Errorf("%s audit trail ends %+v (%d entries, %d before), want %q", name, last, len(e.Audit), len(before.Audit), tc.audit)
				}
				if e.Status != before.Status || e.ClaimedBy != before.ClaimedBy || len(e.Messages) != len(before.Messages) {
					t.Errorf("%s escalation is %s by %q with %d messages; labelling must not move it (was %s by %q with %d)",
						name, e.Status, e.ClaimedBy, len(e.Messages), before.Status, before.ClaimedBy, len(before.Messages))
				}
			}
			if n := deliveryCount(t, r.store, e.ID); n != outbox {
				t.Errorf("labelling added %d outbox rows, want none", n-outbox)
			}
		})
	}
	t.Run("unknown id", func(t *testing.T) {
		for _, id := range []string{"no-such-id", ""} {
			if _, err := r.desk.LabelSafety(ctx, id, "alex", true, "", ""); !errors.Is(err, support.ErrNotFound) {
				t.Errorf("LabelSafety(%q): %v, want ErrNotFound", id, err)
			}
		}
	})
	t.Run("relabel", func(t *testing.T) {
		e := r.escalateSafety(t, "relabel", support.PriorityUrgent, assessment())
		must(t)(r.desk.Resolve(ctx, e.ID, "sam"))
		must(t)(r.desk.LabelSafety(ctx, e.ID, "alex", true, "", "looked right"))
		r.tick()
		got, err := r.desk.LabelSafety(ctx, e.ID, "sam", false, "ordinary", "")
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := r.desk.Get(ctx, e.ID)
		want := support.SafetyLabel{Correct: false, Kind: "ordinary", By: "sam", At: r.clock()}
		for name, e := range map[string]support.Escalation{"returned": got, "stored": stored} {
			if l := *e.Safety.Label; l != want {
				t.Errorf("%s label after relabelling %+v, want %+v (the note goes with the old label)", name, l, want)
			}
			var trail []string
			for _, a := range e.Audit[len(e.Audit)-2:] {
				trail = append(trail, a.Who+" "+a.What)
			}
			if w := []string{"alex safety verdict marked right", "sam safety verdict marked wrong: ordinary"}; !slices.Equal(trail, w) {
				t.Errorf("%s audit trail ends %q, want %q", name, trail, w)
			}
		}
	})
	// The kinds support accepts are the safety layer's (support keeps its
	// own copy, since it does not import bot).
	t.Run("every safety kind", func(t *testing.T) {
		e := r.escalateSafety(t, "kinds", support.PriorityUrgent, assessment())
		for _, k := range safety.Kinds {
			if string(k) == "financial-abuse" {
				continue
			}
			got, err := r.desk.LabelSafety(ctx, e.ID, "alex", false, string(k), "")
			if err != nil || got.Safety.Label.Kind != string(k) {
				t.Errorf("wrong, really %q: %v", k, err)
			}
		}
		_, err := r.desk.LabelSafety(ctx, e.ID, "alex", false, "crisis", "")
		var inv *support.InvalidError
		if !errors.As(err, &inv) || !strings.Contains(inv.Problem, "suicidal") {
			t.Errorf("an unknown kind: %v, want an error listing the kinds", err)
		}
	})
}

// deliveryCount returns how many outbox rows escalation id has, for every
// target.
func deliveryCount(t *testing.T, s support.Store, id string) int {
	t.Helper()
	ds, err := s.Deliveries(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return len(ds)
}

// must returns a function that fails t when a desk action returns an error.
func must(t *testing.T) func(support.Escalation, error) {
	return func(_ support.Escalation, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestSafetyLabels(t *testing.T) {
	ctx := context.Background()
	support.SetLabelPage(t, 2)
	r := newLabelRig(t, nil)
	type made struct {
		id       string
		labelled bool
		person   []string
	}
	var urgent, normal []made
	for i, tc := range []struct {
		priority support.Priority
		safety   bool
		label    func(id string) // nil: left unlabelled
	}{
		{support.PriorityUrgent, true, func(id string) { must(t)(r.desk.LabelSafety(ctx, id, "alex", true, "", "")) }},
		{support.PriorityNormal, false, nil},
		{support.PriorityUrgent, true, nil},
		{support.PriorityNormal, true, func(id string) {
			must(t)(r.desk.Reply(ctx, id, "alex", "Can you tell me more?"))
			if err := r.desk.AddPersonMessage(ctx, id, "she took £200 last week", time.Time{}); err != nil {
				t.Fatal(err)
			}
			must(t)(r.desk.Resolve(ctx, id, "alex"))
			must(t)(r.desk.LabelSafety(ctx, id, "alex", false, "dispute", "a pay dispute"))
		}},
		{support.PriorityUrgent, true, func(id string) { must(t)(r.desk.LabelSafety(ctx, id, "sam", false, "ordinary", "")) }},
		{support.PriorityNormal, true, nil},
		{support.PriorityNormal, true, func(id string) {
			must(t)(r.desk.Claim(ctx, id, "sam"))
			must(t)(r.desk.LabelSafety(ctx, id, "sam", true, "financial-abuse", ""))
		}},
	} {
		var a *support.SafetyAssessment
		if tc.safety {
			a = assessment()
		}
		user := fmt.Sprintf("walk%d", i)
		e := r.escalateSafety(t, user, tc.priority, a)
		m := made{id: e.ID, person: []string{user + ": my PA keeps my bank card"}}
		if tc.label != nil {
			tc.label(e.ID)
			m.labelled = true
			if e, _ := r.desk.Get(ctx, e.ID); len(e.Messages) > 2 {
				m.person = append(m.person, "she took £200 last week")
			}
		}
		if tc.priority == support.PriorityUrgent {
			urgent = append(urgent, m)
		} else {
			normal = append(normal, m)
		}
	}
	var want []made
	for _, m := range append(urgent, normal...) {
		if m.labelled {
			want = append(want, m)
		}
	}

	var got []support.LabelledConversation
	for l, err := range r.desk.SafetyLabels(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, l)
	}
	if len(got) != len(want) {
		t.Fatalf("yielded %d labelled conversations, want %d: %+v", len(got), len(want), got)
	}
	for i, l := range got {
		w := want[i]
		stored, _ := r.desk.Get(ctx, w.id)
		if l.EscalationID != w.id || l.Audience != "employer" || !slices.Equal(l.Messages, w.person) {
			t.Errorf("conversation %d: %s (%s) %q, want %s with the person's messages %q", i, l.EscalationID, l.Audience, l.Messages, w.id, w.person)
		}
		if l.Assessment.Label == nil || *l.Assessment.Label != *stored.Safety.Label || l.Assessment.Kind != "financial-abuse" {
			t.Errorf("conversation %d: assessment %+v, want the stored one with its label", i, l.Assessment)
		}
	}
	if got[2].Assessment.Label.Kind != "dispute" || got[2].Assessment.Label.Note != "a pay dispute" {
		t.Errorf("the resolved escalation's label: %+v", got[2].Assessment.Label)
	}

	t.Run("stopping early", func(t *testing.T) {
		n := 0
		for _, err := range r.desk.SafetyLabels(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			n++
			break
		}
		if n != 1 {
			t.Errorf("ranged %d times before break", n)
		}
	})
	t.Run("nothing labelled", func(t *testing.T) {
		empty := newLabelRig(t, nil)
		empty.escalateSafety(t, "unlabelled", support.PriorityUrgent, assessment())
		for l, err := range empty.desk.SafetyLabels(ctx) {
			t.Errorf("yielded %+v, %v from a store with no labels", l, err)
		}
	})
	t.Run("store fails", func(t *testing.T) {
		broken := errors.New("disk on fire")
		fr := newLabelRig(t, func(s support.Store) support.Store { return failingList{s, broken} })
		n := 0
		for _, err := range fr.desk.SafetyLabels(ctx) {
			n++
			if !errors.Is(err, broken) {
				t.Errorf("yielded %v, want the store's error", err)
			}
		}
		if n != 1 {
			t.Errorf("yielded %d times, want the error once", n)
		}
	})
}

// failingList is a store whose List always fails.
type failingList struct {
	support.Store
	err error
}

func (f failingList) List(context.Context, support.ListQuery) ([]support.Escalation, error) {
	return nil, f.err
}
