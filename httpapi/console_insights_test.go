package httpapi

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/askpa/askpa/sqlite"
)

// TestConsoleInsights checks the insights page: the period form, the
// totals, the clusters with their examples and the passages shown linked
// to their guide, a chart for each weekly figure (SVG with a title and a
// description, no script or style) with a table of the same figures; that
// no personal detail shows; and that a bad period is refused.
func TestConsoleInsights(t *testing.T) {
	r := newConsoleRig(t, func(c *Config) {
		c.Insights = c.Console.(*sqlite.Store)
		c.Guides = testGuides(t)
	})
	seedGaps(t, r.store, r.clock.Now())
	v := r.visitor()
	v.mustSignIn(readerToken)
	res, body := v.get("/console/insights")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /console/insights: %d\n%s", res.StatusCode, body)
	}
	checkConsoleHeaders(t, "the insights page", res.Header)
	if regexp.MustCompile(`\sstyle=|<style|<script>|\son[a-z]+=`).MatchString(body) {
		t.Error("the insights page has inline style or script")
	}
	page := html.UnescapeString(body)
	for _, want := range []string{
		`<option value="28d" selected>Last 28 days</option>`,
		`<dt>Questions</dt><dd>3 (33% answered)</dd>`,
		`<dt>Feedback</dt><dd>0 helpful, 1 not helpful</dd>`,
		`id="cluster-1"`, "2 questions", "2 not answered", "pension",
		"can I opt out of the workplace pension",
		`id="cluster-2"`, "1 answer marked not helpful", "are bank holidays on top of holiday pay",
		`<a href="/guides/holiday#how-much-holiday">Holiday pay: How much holiday</a> (1)`,
		`<code>pensions#opting-out</code> (2)`,
		`href="/console/insights" aria-current="page"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the insights page lacks %q", want)
		}
	}
	for _, id := range []string{"chart-questions", "chart-hand-overs", "chart-feedback"} {
		svg := regexp.MustCompile(`(?s)<svg[^>]*id="` + id + `".*?</svg>`).FindString(body)
		if svg == "" || !strings.Contains(svg, `role="img"`) || !strings.Contains(svg, `aria-labelledby="`+id+`-title `+id+`-desc"`) ||
			!strings.Contains(svg, `<title id="`+id+`-title">`) || !strings.Contains(svg, `<desc id="`+id+`-desc">`) {
			t.Errorf("chart %s is missing or not labelled:\n%s", id, svg)
		}
		if !strings.Contains(body, `id="`+id+`-table"`) {
			t.Errorf("chart %s has no table of its figures", id)
		}
	}
	if !strings.Contains(page, "<rect") || !strings.Contains(page, "30 Nov: Not answered 2</title>") {
		t.Error("the questions chart draws no bar for the week's unanswered questions")
	}
	for _, d := range personalDetails {
		if strings.Contains(page, d) {
			t.Errorf("the insights page shows %q", d)
		}
	}

	if _, body := v.get("/console/insights?since=7d"); !strings.Contains(body, `<option value="7d" selected>`) {
		t.Error("the 7-day period is not the one chosen")
	}
	if _, body := v.get("/console/insights?since=2026-11-20"); !strings.Contains(body, `Since 20 November 2026</option>`) {
		t.Error("a period from a date is not offered as chosen")
	}
	if res, body := v.get("/console/insights?since=fortnight"); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Since") {
		t.Errorf("a bad period: %d\n%s", res.StatusCode, body)
	}
	anon := r.visitor()
	if res, _ := anon.get("/console/insights"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the insights page signed out: %d, want a redirect to sign in", res.StatusCode)
	}
}
