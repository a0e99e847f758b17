package httpapi

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// Bar charts drawn on the server as SVG, for the console's insights page:
// no script, no style attribute (the console's Content-Security-Policy
// allows neither), only presentation attributes. Each chart has a title
// and a description for screen readers, a <title> on every bar, and the
// page shows a table of the same figures beside it.

// chartSeries is one series of a bar chart: a name for the legend, a
// colour, and a value for each category.
type chartSeries struct {
	Name   string
	Colour string
	Values []int
}

// chart is a bar chart: Categories along the bottom (weeks), a bar for
// each series in each category, side by side or, when Stacked, one on
// another.
type chart struct {
	ID, Title, Desc string
	Categories      []string
	Series          []chartSeries
	Stacked         bool
}

// chartColours are the colours series take in order: each has a contrast
// of 3:1 or more with the white background (WCAG 2.2 non-text contrast),
// and the legend and the table name them too.
var chartColours = []string{"#1d70b8", "#d4351c", "#00703c", "#4c2c92", "#505a5f", "#912b88", "#003078", "#b84a00"}

// The chart's geometry, in SVG units.
const (
	chartW, chartH  = 720, 300
	chartLeft       = 48  // room for the axis labels
	chartTop        = 16  // room above the tallest bar
	chartBottom     = 250 // where bars stand
	chartLegendY    = 285
	chartLegendRow  = 18 // the height of a row of the legend
	chartGridLines  = 4
	chartMinBarGap  = 2
	chartFontSize   = 13
	chartLegendSize = 12
)

// niceMax returns the top of the value axis: the smallest of 4, 8, 12,
// 20, 40, 80, 120, 200... at or above max, so that a quarter of it is a
// whole number.
func niceMax(max int) int {
	if max <= 4 {
		return 4
	}
	for scale := 1; ; scale *= 10 {
		for _, step := range []int{1, 2, 3, 5} {
			if top := step * 4 * scale; top >= max {
				return top
			}
		}
	}
}

// svg draws c.
func (c chart) svg() template.HTML {
	esc := html.EscapeString
	// The legend runs along the bottom, in as many rows as it needs.
	type key struct{ x, y float64 }
	keys := make([]key, len(c.Series))
	lx, ly := float64(chartLeft), float64(chartLegendY)
	for i, s := range c.Series {
		w := 16 + float64(len(s.Name))*7 + 18
		if lx+w > chartW && lx > chartLeft {
			lx, ly = chartLeft, ly+chartLegendRow
		}
		keys[i] = key{lx, ly}
		lx += w
	}
	height := max(int(ly)+chartLegendRow/2, chartH)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="%s-title %s-desc" class="chart" id="%s" font-family="system-ui, Arial, sans-serif" font-size="%d">`,
		chartW, height, esc(c.ID), esc(c.ID), esc(c.ID), chartFontSize)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(c.ID), esc(c.Title), esc(c.ID), esc(c.Desc))
	most := 0
	for i := range c.Categories {
		sum := 0
		for _, s := range c.Series {
			v := s.Values[i]
			sum += v
			if !c.Stacked {
				most = max(most, v)
			}
		}
		if c.Stacked {
			most = max(most, sum)
		}
	}
	top := niceMax(most)
	y := func(v int) float64 { return chartBottom - float64(v)*float64(chartBottom-chartTop)/float64(top) }
	// The value axis: grid lines with their values.
	for g := 0; g <= chartGridLines; g++ {
		v := top * g / chartGridLines
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#b1b4b6" stroke-width="1"/>`, chartLeft, chartW, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#0b0c0c">%d</text>`, chartLeft-6, y(v)+4, v)
	}
	if n := len(c.Categories); n > 0 {
		slot := float64(chartW-chartLeft) / float64(n)
		group := slot * 0.7
		bars := len(c.Series)
		if c.Stacked {
			bars = 1
		}
		bar := (group - float64(chartMinBarGap*(bars-1))) / float64(bars)
		for i, cat := range c.Categories {
			x0 := float64(chartLeft) + slot*float64(i) + (slot-group)/2
			base := 0
			for k, s := range c.Series {
				v := s.Values[i]
				x, lo, hi := x0, base, base+v
				if !c.Stacked {
					x, lo, hi = x0+float64(k)*(bar+chartMinBarGap), 0, v
				}
				if v > 0 {
					fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %s %d</title></rect>`,
						x, y(hi), bar, y(lo)-y(hi), esc(s.Colour), esc(cat), esc(s.Name), v)
				}
				if c.Stacked {
					base += v
				}
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#0b0c0c">%s</text>`, x0+group/2, chartBottom+18, esc(cat))
		}
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#0b0c0c" stroke-width="1"/>`, chartLeft, chartW, chartBottom, chartBottom)
	for i, s := range c.Series {
		k := keys[i]
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="12" height="12" fill="%s"/><text x="%.1f" y="%.1f" font-size="%d" fill="#0b0c0c">%s</text>`,
			k.x, k.y-10, esc(s.Colour), k.x+16, k.y, chartLegendSize, esc(s.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every value above is escaped
}
