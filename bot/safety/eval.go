package safety

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
)

// Tally counts what Check did with the examples of one label.
type Tally struct {
	N int `json:"n"`
	// Urgent: urgent verdicts; RightGroup: urgent with the label's group
	// (so the person got a crisis script for a crisis, a safeguarding one
	// for abuse); RightKind: urgent with the label's own kind and script.
	Urgent, RightGroup, RightKind int
	// Covered: urgent, and the reply's script or its added line is for the
	// label's group, so the person saw the numbers they need.
	Covered int
	// Caution: caution verdicts (the signposting line and the answer).
	Caution int
	// HandOver: requests and disputes handed over (normal priority).
	HandOver int
	// Found: the label itself was the verdict's kind (for requests,
	// disputes, off-topic and situations).
	Found int
}

// Report is an evaluation of a Checker on a set of examples.
type Report struct {
	Labels map[Kind]*Tally `json:"labels"`
	// Danger and Other add up the crisis and safeguarding examples, and
	// the rest; Tricky the ordinary and off-topic examples that use
	// alarming words harmlessly. Crisis and Safeguarding add up each group.
	Crisis, Safeguarding, Danger, Other, Tricky Tally
	// SelfRight counts the urgent danger verdicts that spoke to the right
	// person (the writer, or someone writing about another), of SelfN
	// whose writer's voice the corpus gives.
	SelfRight, SelfN int
}

// Evaluate checks every example as a conversation (a single message is a
// conversation of one) and counts the verdicts by label.
func (c *Checker) Evaluate(ctx context.Context, examples []Example) Report {
	r := Report{Labels: map[Kind]*Tally{}}
	for _, e := range examples {
		r.add(e, c.CheckConversation(ctx, e.Messages(), audienceOf(e)))
	}
	return r
}

func (r *Report) add(e Example, v Verdict) {
	if e.Label.Danger() && v.Level == LevelUrgent && e.Voice != "" {
		r.SelfN++
		if v.Self == e.self() {
			r.SelfRight++
		}
	}
	t := r.Labels[e.Label]
	if t == nil {
		t = &Tally{}
		r.Labels[e.Label] = t
	}
	sums := []*Tally{t, &r.Other}
	if e.Tricky {
		sums = append(sums, &r.Tricky)
	}
	switch e.Label.Group() {
	case GroupCrisis:
		sums = []*Tally{t, &r.Crisis, &r.Danger}
	case GroupSafeguarding:
		sums = []*Tally{t, &r.Safeguarding, &r.Danger}
	}
	for _, s := range sums {
		s.N++
		switch v.Level {
		case LevelUrgent:
			s.Urgent++
			if v.Group() == e.Label.Group() {
				s.RightGroup++
			}
			if v.Group() == e.Label.Group() || (v.Also != "" && v.Also.Group() == e.Label.Group()) {
				s.Covered++
			}
			if v.Kind == e.Label {
				s.RightKind++
			}
		case LevelCaution:
			s.Caution++
		case LevelHandOver:
			s.HandOver++
		}
		if v.Kind == e.Label {
			s.Found++
		}
	}
}

// Write prints r as a table: one row per label, then the sums.
func (r Report) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "label\tn\turgent\tright group\tcovered\tright script\tcaution\thand-over\tfound\t")
	row := func(name string, t Tally) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", name, t.N, t.Urgent, t.RightGroup, t.Covered, t.RightKind, t.Caution, t.HandOver, t.Found)
	}
	for _, k := range Kinds {
		if t := r.Labels[k]; t != nil {
			row(string(k), *t)
		}
	}
	row("= crisis", r.Crisis)
	row("= safeguarding", r.Safeguarding)
	row("= all danger", r.Danger)
	row("= all other", r.Other)
	row("  of which tricky", r.Tricky)
	if err := tw.Flush(); err != nil {
		return err
	}
	plain := r.Other.N - r.Tricky.N
	_, err := fmt.Fprintf(w, "\ncrisis urgent with a crisis script: %s (with its numbers in the reply: %s)\nsafeguarding urgent with a safeguarding script: %s (with its numbers in the reply: %s)\nfalse urgent hand-overs (not crisis or safeguarding): %s (tricky %s, others %s)\nfalse cautions: %s (tricky %s, others %s)\n",
		ratio(r.Crisis.RightGroup, r.Crisis.N), ratio(r.Crisis.Covered, r.Crisis.N),
		ratio(r.Safeguarding.RightGroup, r.Safeguarding.N), ratio(r.Safeguarding.Covered, r.Safeguarding.N),
		ratio(r.Other.Urgent, r.Other.N), ratio(r.Tricky.Urgent, r.Tricky.N), ratio(r.Other.Urgent-r.Tricky.Urgent, plain),
		ratio(r.Other.Caution, r.Other.N), ratio(r.Tricky.Caution, r.Tricky.N), ratio(r.Other.Caution-r.Tricky.Caution, plain))
	if err == nil {
		_, err = fmt.Fprintf(w, "urgent replies to the right person (the writer or someone else): %s\n", ratio(r.SelfRight, r.SelfN))
	}
	return err
}

func ratio(a, b int) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%d/%d (%.1f%%)", a, b, 100*float64(a)/float64(b))
}
