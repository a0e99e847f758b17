package httpapi

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/askpa/askpa/insights"
)

// The console's insights page (/console/insights): the content editors'
// gap report, the same as GET /api/v1/insights/gaps and askpa gaps, with
// the weekly figures drawn as bar charts (SVG made here, no script) above
// a table of the same figures, and the clusters of questions the bot could
// not answer or answered unhelpfully.

// insightsPeriods are the periods the page offers, by ?since=.
var insightsPeriods = []struct{ since, label string }{
	{"7d", "Last 7 days"}, {"28d", "Last 28 days"}, {"13w", "Last 13 weeks"}, {"52w", "Last 52 weeks"},
}

// periodOption is one choice of the period form.
type periodOption struct {
	Value, Label string
	Selected     bool
}

// figureRow is one row of a chart's table.
type figureRow struct {
	Label  string
	Values []int
}

// figure is a chart with its table.
type figure struct {
	ID, Title, Hint string
	SVG             template.HTML
	Head            []string
	Rows            []figureRow
}

// passageLink is a passage a cluster's questions were shown.
type passageLink struct {
	ID, Title, URL string
	Count          int
}

// clusterView is one cluster as the page shows it.
type clusterView struct {
	N           int
	Size        string // "4 questions"
	Counts      string // "3 not answered, 1 handed over"
	Keywords    string
	Examples    []string
	Passages    []passageLink
	Audiences   string
	First, Last time.Time
}

// insightsView is the data of the insights page.
type insightsView struct {
	page
	Periods        []periodOption
	From, To       time.Time
	Totals         insights.Week
	AnsweredShare  string // "82%"
	HandOversTotal int
	Figures        []figure
	Clusters       []clusterView
	Gaps           int
	More, Clipped  int
}

// insightsPage shows the report for ?since= (28 days by default).
func (k *console) insightsPage(c *gin.Context) {
	since := c.Query("since")
	r, err := k.s.gapRequest(c)
	if err != nil {
		k.failPage(c, err)
		return
	}
	rep, err := insights.Gaps(c.Request.Context(), k.s.cfg.Insights, r)
	if err != nil {
		k.failPage(c, err)
		return
	}
	v := insightsView{page: k.newPage(c, "Insights for editors"), From: rep.From.In(k.loc), To: rep.To.In(k.loc), Totals: rep.Totals,
		HandOversTotal: rep.Totals.HandOversTotal, Gaps: rep.Gaps, More: rep.MoreClusters, Clipped: rep.Clipped}
	if since == "" {
		since = "28d"
	}
	known := false
	for _, p := range insightsPeriods {
		v.Periods = append(v.Periods, periodOption{Value: p.since, Label: p.label, Selected: p.since == since})
		known = known || p.since == since
	}
	if !known {
		v.Periods = append(v.Periods, periodOption{Value: since, Label: "Since " + rep.From.In(k.loc).Format("2 January 2006"), Selected: true})
	}
	if t := rep.Totals; t.Questions > 0 {
		v.AnsweredShare = fmt.Sprintf("%d%%", (t.Answered*100+t.Questions/2)/t.Questions)
	}
	v.Figures = weekFigures(rep)
	for i, cl := range rep.Clusters {
		v.Clusters = append(v.Clusters, k.clusterView(i+1, cl))
	}
	k.render(c, http.StatusOK, "insights.html", v)
}

// weekLabel shows a week's Monday ("2026-11-09") as "9 Nov".
func weekLabel(start string) string {
	d, err := time.Parse("2006-01-02", start)
	if err != nil {
		return start
	}
	return d.Format("2 Jan")
}

// weekFigures draws the report's weekly figures: questions by outcome,
// hand-overs by reason, feedback.
func weekFigures(rep insights.Report) []figure {
	var cats []string
	for _, w := range rep.Weeks {
		cats = append(cats, weekLabel(w.Start))
	}
	values := func(f func(insights.Week) int) []int {
		out := make([]int, len(rep.Weeks))
		for i, w := range rep.Weeks {
			out[i] = f(w)
		}
		return out
	}
	questions := chart{ID: "chart-questions", Title: "Questions each week, by what became of them", Categories: cats, Stacked: true,
		Series: []chartSeries{
			{"Answered", "#00703c", values(func(w insights.Week) int { return w.Answered })},
			{"Not answered", "#d4351c", values(func(w insights.Week) int { return w.Unanswered })},
			{"Handed over", "#1d70b8", values(func(w insights.Week) int { return w.Questions - w.Answered - w.Unanswered })},
		}}
	// Hand-overs: one series per reason, the most frequent first.
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
	handOvers := chart{ID: "chart-hand-overs", Title: "Hand-overs to the support team each week, by reason", Categories: cats, Stacked: true}
	for i, r := range reasons {
		handOvers.Series = append(handOvers.Series, chartSeries{reasonName(r), chartColours[i%len(chartColours)],
			values(func(w insights.Week) int { return w.HandOvers[r] })})
	}
	if len(reasons) == 0 {
		handOvers.Series = []chartSeries{{"Hand-overs", chartColours[0], values(func(insights.Week) int { return 0 })}}
	}
	feedback := chart{ID: "chart-feedback", Title: "Feedback on answers each week", Categories: cats,
		Series: []chartSeries{
			{"Helpful", "#00703c", values(func(w insights.Week) int { return w.Helpful })},
			{"Not helpful", "#d4351c", values(func(w insights.Week) int { return w.NotHelpful })},
		}}
	hints := []string{
		"Each bar is a week's questions: answered from the guides, not answered (no passage was good enough), or handed to a person.",
		"Why the bot handed conversations to the support team.",
		"What people pressed under an answer.",
	}
	var out []figure
	for i, ch := range []chart{questions, handOvers, feedback} {
		ch.Desc = describe(ch)
		f := figure{ID: ch.ID, Title: ch.Title, Hint: hints[i], SVG: ch.svg(), Head: []string{"Week of"}}
		for _, s := range ch.Series {
			f.Head = append(f.Head, s.Name)
		}
		for j, cat := range cats {
			row := figureRow{Label: cat}
			for _, s := range ch.Series {
				row.Values = append(row.Values, s.Values[j])
			}
			f.Rows = append(f.Rows, row)
		}
		out = append(out, f)
	}
	return out
}

// describe sums a chart up in a sentence, for screen readers.
func describe(c chart) string {
	if len(c.Series) == 0 {
		return "Nothing to show for this period. The table below has the figures."
	}
	var parts []string
	for _, s := range c.Series {
		n := 0
		for _, v := range s.Values {
			n += v
		}
		parts = append(parts, fmt.Sprintf("%s %d", strings.ToLower(s.Name), n))
	}
	return fmt.Sprintf("Bar chart over %s: in all, %s. The table below has the figures week by week.",
		plural(len(c.Categories), "week", "weeks"), strings.Join(parts, ", "))
}

// clusterView words a cluster for the page, linking its passages to their
// guides when the knowledge base is served.
func (k *console) clusterView(n int, cl insights.Cluster) clusterView {
	v := clusterView{N: n, Size: plural(cl.Size, "question", "questions"), Examples: cl.Examples, First: cl.First, Last: cl.Last,
		Keywords: strings.Join(cl.Keywords, ", ")}
	var counts []string
	for _, c := range []struct {
		n         int
		one, many string
	}{{cl.Unanswered, "not answered", "not answered"}, {cl.Escalated, "handed over", "handed over"}, {cl.NotHelpful, "answer marked not helpful", "answers marked not helpful"}} {
		if c.n > 0 {
			counts = append(counts, plural(c.n, c.one, c.many))
		}
	}
	v.Counts = strings.Join(counts, ", ")
	var auds []string
	for _, a := range []struct{ id, one, many string }{{"employer", "employer", "employers"}, {"pa", "personal assistant", "personal assistants"}} {
		if m := cl.Audiences[a.id]; m > 0 {
			auds = append(auds, plural(m, a.one, a.many))
		}
	}
	v.Audiences = strings.Join(auds, ", ")
	for _, p := range cl.Passages {
		l := passageLink{ID: p.ID, Title: p.ID, Count: p.Count}
		doc, anchor, _ := strings.Cut(p.ID, "#")
		if g := k.s.cfg.Guides; g != nil {
			if d := g.Document(doc); d != nil {
				l.URL = "/guides/" + url.PathEscape(doc)
				if anchor != "" {
					l.URL += "#" + url.PathEscape(anchor)
				}
				l.Title = d.Title
				for _, s := range d.Sections {
					if s.Anchor == anchor && s.Heading != "" {
						l.Title += ": " + s.Heading
					}
				}
			}
		}
		v.Passages = append(v.Passages, l)
	}
	return v
}
