package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/askpa/askpa/insights"
)

// runGaps prints the content editors' gap report from the store askpa
// serve uses (ASKPA_DATABASE_URL, or the SQLite file under
// ASKPA_DATA_DIR): the weekly counts and the clusters of questions the bot
// could not answer or answered unhelpfully, as text or, with --json, as
// the JSON of GET /api/v1/insights/gaps. Weeks begin on Monday in the
// local time zone (TZ).
func runGaps(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fl := flag.NewFlagSet("gaps", flag.ContinueOnError)
	fl.SetOutput(stderr)
	since := fl.String("since", "28d", "where the report starts: days or weeks back (28d, 4w), a duration (72h) or a date (2026-11-01)")
	asJSON := fl.Bool("json", false, "print the report as JSON (as GET /api/v1/insights/gaps answers)")
	limit := fl.Int("limit", insights.DefaultMaxClusters, fmt.Sprintf("how many groups of questions to list, largest first (at most %d)", insights.MaxClusters))
	if err := fl.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fl.NArg() > 0 {
		return usageError{"gaps takes no arguments"}
	}
	now := time.Now()
	from, err := insights.ParseSince(*since, now, time.Local)
	if err != nil {
		return usageError{"--since: " + strings.TrimPrefix(err.Error(), "invalid since: ")}
	}
	if *limit < 1 || *limit > insights.MaxClusters {
		return usageError{fmt.Sprintf("--limit must be from 1 to %d", insights.MaxClusters)}
	}
	if getenv("ASKPA_DATABASE_URL") == "" {
		// Reading must not create an empty database where none was.
		path := filepath.Join(orDefault(getenv("ASKPA_DATA_DIR"), "./data"), "askpa.db")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no askpa database at %s: set ASKPA_DATA_DIR (or ASKPA_DATABASE_URL) as for askpa serve", path)
		}
	}
	store, err := openStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer store.Close()
	rep, err := insights.Gaps(ctx, store, insights.Request{From: from, To: now, Location: time.Local, MaxClusters: *limit})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printGaps(stdout, rep, time.Local)
	return nil
}

// printGaps writes rep for people: the weeks as a table, hand-overs by
// reason, then each cluster with its examples and the passages shown.
func printGaps(w io.Writer, rep insights.Report, loc *time.Location) {
	const day = "Mon 2 Jan 2006 15:04"
	fmt.Fprintf(w, "Gap report: %s to %s\n\n", rep.From.In(loc).Format(day), rep.To.In(loc).Format(day))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "Week of\tQuestions\tAnswered\tNot answered\tHand-overs\tHelpful\tNot helpful\t")
	row := func(label string, wk insights.Week) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", label, wk.Questions, wk.Answered, wk.Unanswered, wk.HandOversTotal, wk.Helpful, wk.NotHelpful)
	}
	for _, wk := range rep.Weeks {
		label := wk.Start
		if d, err := time.Parse("2006-01-02", wk.Start); err == nil {
			label = d.Format("2 Jan 2006")
		}
		row(label, wk)
	}
	row("Total", rep.Totals)
	tw.Flush()
	if len(rep.Totals.HandOvers) > 0 {
		reasons := make([]string, 0, len(rep.Totals.HandOvers))
		for r := range rep.Totals.HandOvers {
			reasons = append(reasons, r)
		}
		slices.SortFunc(reasons, func(a, b string) int {
			if c := cmp.Compare(rep.Totals.HandOvers[b], rep.Totals.HandOvers[a]); c != 0 {
				return c
			}
			return strings.Compare(a, b)
		})
		var parts []string
		for _, r := range reasons {
			parts = append(parts, fmt.Sprintf("%s %d", r, rep.Totals.HandOvers[r]))
		}
		fmt.Fprintf(w, "\nHand-overs to the support team, by reason: %s\n", strings.Join(parts, ", "))
	}
	if len(rep.Clusters) == 0 {
		fmt.Fprintln(w, "\nNo gaps: every question was answered, and no answer was marked not helpful.")
		return
	}
	fmt.Fprintf(w, "\nGaps: %d questions in %d groups, the largest first", rep.Gaps, len(rep.Clusters)+rep.MoreClusters)
	if rep.MoreClusters > 0 {
		fmt.Fprintf(w, " (%d smaller groups not listed: --limit)", rep.MoreClusters)
	}
	fmt.Fprintln(w, ".")
	if rep.Clipped > 0 {
		fmt.Fprintf(w, "The %d oldest questions were left out.\n", rep.Clipped)
	}
	for i, c := range rep.Clusters {
		var counts []string
		for _, n := range []struct {
			n    int
			what string
		}{{c.Unanswered, "not answered"}, {c.Escalated, "handed over"}, {c.NotHelpful, "marked not helpful"}} {
			if n.n > 0 {
				counts = append(counts, fmt.Sprintf("%d %s", n.n, n.what))
			}
		}
		noun := "questions"
		if c.Size == 1 {
			noun = "question"
		}
		fmt.Fprintf(w, "\n%2d. %d %s (%s)", i+1, c.Size, noun, strings.Join(counts, ", "))
		if len(c.Keywords) > 0 {
			fmt.Fprintf(w, ": %s", strings.Join(c.Keywords, ", "))
		}
		fmt.Fprintf(w, "\n    last asked %s\n", c.Last.In(loc).Format("2 Jan 2006"))
		for _, ex := range c.Examples {
			fmt.Fprintf(w, "    %q\n", ex)
		}
		if len(c.Passages) > 0 {
			var ps []string
			for _, p := range c.Passages {
				ps = append(ps, fmt.Sprintf("%s (%d)", p.ID, p.Count))
			}
			fmt.Fprintf(w, "    passages shown: %s\n", strings.Join(ps, ", "))
		}
	}
}
