// Package insights is the content editors' gap report: what people asked
// that the bot could not answer, or answered and was told "Not helpful",
// grouped into clusters of similar questions with counts, an example or
// two and the passage that was shown; and a weekly count of questions,
// answers, hand-overs by reason and feedback. askpa gaps prints it, GET
// /api/v1/insights/gaps serves it as JSON and /console/insights draws it.
//
// It reads the question log the bot keeps (bot.QuestionEvent), the
// feedback on answers and the escalations' reasons through Store; the
// stores (sqlite, postgres) implement it. Questions are kept with personal
// details redacted (bot.Redact), and every example is redacted again
// before it is shown, so a report made from rows written before a kind of
// detail was redacted holds none either. Clustering is deterministic: the
// same rows give the same report.
package insights

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/askpa/askpa/bot"
)

// DefaultPeriod is how far back a report looks unless told otherwise.
const DefaultPeriod = 28 * 24 * time.Hour

// DefaultMaxClusters is how many clusters a report lists unless told
// otherwise; MaxClusters is the most it lists.
const (
	DefaultMaxClusters = 50
	MaxClusters        = 500
)

// MaxPeriod is the longest period a report covers.
const MaxPeriod = 366 * 24 * time.Hour

// HandOver is one escalation as the report counts it: when the bot (or the
// person) handed the conversation to the support team, and why.
type HandOver struct {
	At       time.Time
	Reason   string // requested, low_confidence, crisis, safeguarding...
	Priority string // urgent or normal
}

// Store is what a report reads. sqlite and postgres implement it; each
// method returns the rows made at or after from and before to, oldest
// first, and none is not an error.
type Store interface {
	// QuestionEvents returns the question log (see bot.QuestionLog).
	QuestionEvents(ctx context.Context, from, to time.Time) ([]bot.QuestionEvent, error)
	// FeedbackBetween returns people's verdicts on the passages they were
	// shown.
	FeedbackBetween(ctx context.Context, from, to time.Time) ([]bot.Feedback, error)
	// HandOvers returns the escalations created.
	HandOvers(ctx context.Context, from, to time.Time) ([]HandOver, error)
}

// Request asks for one report.
type Request struct {
	// From and To bound the period: rows made at or after From and before
	// To. To zero means now; From zero means DefaultPeriod before To.
	From, To time.Time
	// Location is where weeks begin (Monday, 00:00); nil means UTC.
	Location *time.Location
	// MaxClusters bounds the clusters listed (0 means DefaultMaxClusters;
	// at most MaxClusters); the rest are counted in Report.MoreClusters.
	MaxClusters int
	// Now is the clock for a zero To; nil means time.Now.
	Now func() time.Time
}

// Report is the gap report for one period. Its JSON form is the body of
// GET /api/v1/insights/gaps and of askpa gaps --json.
type Report struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Totals are the whole period's figures (Start is the first week's).
	Totals Week `json:"totals"`
	// Weeks are the period's weeks, oldest first, each from Monday; the
	// first and last may be cut short by From and To.
	Weeks []Week `json:"weeks"`
	// Gaps is how many questions the clusters hold: unanswered, handed
	// over because the bot could not answer, or marked "Not helpful".
	Gaps int `json:"gaps"`
	// Clusters group similar gap questions, the largest first.
	Clusters []Cluster `json:"clusters"`
	// MoreClusters counts the clusters left out by MaxClusters (the
	// smallest).
	MoreClusters int `json:"more_clusters"`
	// Clipped is how many gap questions were left out of the clustering
	// because there were more than MaxGapQuestions (the oldest go first).
	Clipped int `json:"clipped"`
}

// Week is one week's figures.
type Week struct {
	// Start is the Monday the week begins on, as 2006-01-02.
	Start string `json:"start"`
	// Questions counts the questions the bot answered, could not answer
	// or handed over; SmallTalk the greetings, thanks and off-topic
	// messages it answered besides.
	Questions  int `json:"questions"`
	Answered   int `json:"answered"`
	Unanswered int `json:"unanswered"`
	SmallTalk  int `json:"small_talk"`
	// HandOvers counts escalations by reason; HandOversTotal all of them.
	HandOvers      map[string]int `json:"hand_overs"`
	HandOversTotal int            `json:"hand_overs_total"`
	// Helpful and NotHelpful count people's verdicts on answers.
	Helpful    int `json:"helpful"`
	NotHelpful int `json:"not_helpful"`
}

// Cluster is a group of similar gap questions.
type Cluster struct {
	// Size is how many questions it holds: Unanswered ones, Escalated
	// ones (handed over because the bot could not answer) and those
	// whose answer was marked NotHelpful.
	Size       int `json:"size"`
	Unanswered int `json:"unanswered"`
	Escalated  int `json:"escalated"`
	NotHelpful int `json:"not_helpful"`
	// Keywords are the words its questions share most, most shared first.
	Keywords []string `json:"keywords"`
	// Examples are one or two of its questions, redacted: the most
	// typical first.
	Examples []string `json:"examples"`
	// Passages are the passages shown for its questions, most often shown
	// first (at most three): the answer that was not helpful, or what was
	// offered instead of an answer.
	Passages []PassageCount `json:"passages"`
	// Audiences counts its questions by who asked (employer, pa).
	Audiences map[string]int `json:"audiences"`
	// First and Last are when the first and last of its questions were
	// asked.
	First time.Time `json:"first_at"`
	Last  time.Time `json:"last_at"`
}

// PassageCount is a passage ("doc#anchor") and how many times it was shown.
type PassageCount struct {
	ID    string `json:"id"`
	Count int    `json:"count"`
}

// ErrInvalid reports a request the report cannot be made for; the
// wrapping *InvalidError names the parameter.
var ErrInvalid = errors.New("invalid")

// InvalidError is the ErrInvalid Gaps and ParseSince return: the
// parameter at fault ("since", "limit") and what is wrong, in words fit
// to show a user.
type InvalidError struct {
	Field   string
	Problem string
}

// Error says which parameter is wrong and why.
func (e *InvalidError) Error() string { return "invalid " + e.Field + ": " + e.Problem }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// ParseSince reads when a report starts: a number of days or weeks back
// from now ("28d", "4w"), a Go duration ("72h"), or a date
// ("2026-11-01", midnight in loc). Empty means DefaultPeriod back. It
// returns an *InvalidError ("since") for anything else, a start after now
// or one more than MaxPeriod back.
func ParseSince(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	s = strings.TrimSpace(s)
	bad := func(problem string) (time.Time, error) {
		return time.Time{}, &InvalidError{Field: "since", Problem: problem}
	}
	var from time.Time
	switch {
	case s == "":
		from = now.Add(-DefaultPeriod)
	case len(s) == len("2006-01-02") && strings.Count(s, "-") == 2:
		d, err := time.ParseInLocation("2006-01-02", s, loc)
		if err != nil {
			return bad(fmt.Sprintf("%q is not a date like 2026-11-01", s))
		}
		from = d
	case strings.HasSuffix(s, "d") || strings.HasSuffix(s, "w"):
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil || n < 1 {
			return bad(fmt.Sprintf("%q is not a number of days or weeks like 28d or 4w", s))
		}
		unit := 24 * time.Hour
		if strings.HasSuffix(s, "w") {
			unit *= 7
		}
		if n > int(MaxPeriod/unit)+1 {
			return bad("must be at most 366 days back")
		}
		from = now.Add(-time.Duration(n) * unit)
	default:
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return bad(fmt.Sprintf("%q is not a period like 28d, 4w or 72h, or a date like 2026-11-01", s))
		}
		from = now.Add(-d)
	}
	switch {
	case !from.Before(now):
		return bad("must be before now")
	case now.Sub(from) > MaxPeriod:
		return bad("must be at most 366 days back")
	}
	return from, nil
}

// Gaps makes the report for r from what s holds. It returns an
// *InvalidError for a period that is empty, longer than MaxPeriod, or a
// MaxClusters out of range, and the store's error wrapped.
func Gaps(ctx context.Context, s Store, r Request) (Report, error) {
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.To.IsZero() {
		r.To = r.Now()
	}
	if r.From.IsZero() {
		r.From = r.To.Add(-DefaultPeriod)
	}
	if r.Location == nil {
		r.Location = time.UTC
	}
	switch {
	case !r.From.Before(r.To):
		return Report{}, &InvalidError{Field: "since", Problem: "must be before now"}
	case r.To.Sub(r.From) > MaxPeriod:
		return Report{}, &InvalidError{Field: "since", Problem: "must be at most 366 days back"}
	case r.MaxClusters < 0 || r.MaxClusters > MaxClusters:
		return Report{}, &InvalidError{Field: "limit", Problem: fmt.Sprintf("must be between 1 and %d", MaxClusters)}
	}
	if r.MaxClusters == 0 {
		r.MaxClusters = DefaultMaxClusters
	}
	events, err := s.QuestionEvents(ctx, r.From, r.To)
	if err != nil {
		return Report{}, fmt.Errorf("gap report: %w", err)
	}
	// Feedback may come a while after its question, which may be older
	// than the period: the question log of the week before is read too.
	feedback, err := s.FeedbackBetween(ctx, r.From, r.To)
	if err != nil {
		return Report{}, fmt.Errorf("gap report: %w", err)
	}
	earlier, err := s.QuestionEvents(ctx, r.From.Add(-7*24*time.Hour), r.From)
	if err != nil {
		return Report{}, fmt.Errorf("gap report: %w", err)
	}
	handOvers, err := s.HandOvers(ctx, r.From, r.To)
	if err != nil {
		return Report{}, fmt.Errorf("gap report: %w", err)
	}
	rep := Report{From: r.From.UTC(), To: r.To.UTC()}
	rep.Weeks, rep.Totals = weeks(r, events, feedback, handOvers)
	items, clipped := gapItems(append(earlier, events...), len(earlier), feedback)
	rep.Clipped = clipped
	rep.Gaps = len(items)
	all := cluster(items)
	if len(all) > r.MaxClusters {
		rep.MoreClusters = len(all) - r.MaxClusters
		all = all[:r.MaxClusters]
	}
	rep.Clusters = all
	return rep, nil
}

// weeks counts events, feedback and hand-overs by the week (from Monday in
// r.Location) they fall in, and over the whole period.
func weeks(r Request, events []bot.QuestionEvent, feedback []bot.Feedback, handOvers []HandOver) ([]Week, Week) {
	start := monday(r.From.In(r.Location))
	var ws []Week
	var starts []time.Time
	for d := start; d.Before(r.To); d = d.AddDate(0, 0, 7) {
		ws = append(ws, Week{Start: d.Format("2006-01-02"), HandOvers: map[string]int{}})
		starts = append(starts, d)
	}
	total := Week{Start: start.Format("2006-01-02"), HandOvers: map[string]int{}}
	index := func(at time.Time) int {
		i := 0
		for i+1 < len(starts) && !at.Before(starts[i+1]) {
			i++
		}
		return i
	}
	for _, e := range events {
		for _, w := range []*Week{&ws[index(e.At)], &total} {
			switch e.Outcome {
			case bot.OutcomeSmallTalk:
				w.SmallTalk++
				continue
			case bot.OutcomeAnswered:
				w.Answered++
			case bot.OutcomeUnanswered:
				w.Unanswered++
			}
			w.Questions++
		}
	}
	for _, f := range feedback {
		for _, w := range []*Week{&ws[index(f.At)], &total} {
			if f.Helpful {
				w.Helpful++
			} else {
				w.NotHelpful++
			}
		}
	}
	for _, h := range handOvers {
		reason := h.Reason
		if reason == "" {
			reason = "none"
		}
		for _, w := range []*Week{&ws[index(h.At)], &total} {
			w.HandOvers[reason]++
			w.HandOversTotal++
		}
	}
	return ws, total
}

// monday returns midnight at the start of the Monday of t's week, in t's
// location.
func monday(t time.Time) time.Time {
	y, m, d := t.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, t.Location())
	back := (int(day.Weekday()) + 6) % 7 // Monday 0 ... Sunday 6
	return day.AddDate(0, 0, -back)
}
