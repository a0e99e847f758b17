package httpapi

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/askpa/askpa/support"
)

// queueCap is the most escalations one view of the queue gathers.
const queueCap = 500

// The queue's filters, by the value of ?show=.
const (
	showOpen      = ""          // open and claimed
	showMine      = "mine"      // claimed by the member of staff
	showUnclaimed = "unclaimed" // open, nobody has it
	showUrgent    = "urgent"    // urgent, open or claimed
	showResolved  = "resolved"  // resolved today
)

// filterLink is one of the filters above the queue.
type filterLink struct {
	Label, URL string
	Current    bool
}

// queueRow is one escalation in the queue.
type queueRow struct {
	ID        string
	Urgent    bool
	Status    string
	Waiting   string // "12 min": since it was made (resolved: how long it took)
	Since     time.Time
	Channel   string
	Reason    string
	ClaimedBy string
	Mine      bool
	Summary   string
	Resolved  time.Time
}

// queueList is the live part of the queue page.
type queueList struct {
	Rows      []queueRow
	Resolved  bool // the list of resolved today
	Caption   string
	Count     string // "3 escalations, 1 urgent"
	Empty     string
	Truncated bool
}

// queueView is the data of the queue page.
type queueView struct {
	page
	Filters  []filterLink
	Fragment string
	List     queueList
}

// queue shows the queue page.
func (k *console) queue(c *gin.Context) {
	show := c.Query("show")
	if !validShow(show) {
		k.errorPage(c, http.StatusBadRequest, "Unknown filter", "Choose one of the filters above the queue.")
		return
	}
	ctx := c.Request.Context()
	rev, err := k.marks.Revision(ctx, "") // before reading: a change in between shows twice, never not at all
	if err != nil {
		k.failPage(c, fmt.Errorf("console queue: %w", err))
		return
	}
	list, err := k.queueList(ctx, consoleStaff(c), show)
	if err != nil {
		k.failPage(c, err)
		return
	}
	v := queueView{page: k.newPage(c, "Queue"), List: list}
	v.Fragment = consolePath + "/fragments/queue?show=" + url.QueryEscape(show)
	v.Events = consolePath + "/events?since=" + url.QueryEscape(rev)
	for _, f := range []struct{ show, label string }{
		{showOpen, "All open"}, {showMine, "Mine"}, {showUnclaimed, "Unclaimed"}, {showUrgent, "Urgent"}, {showResolved, "Resolved today"},
	} {
		u := consolePath
		if f.show != "" {
			u += "?show=" + f.show
		}
		v.Filters = append(v.Filters, filterLink{Label: f.label, URL: u, Current: f.show == show})
	}
	k.render(c, http.StatusOK, "queue.html", v)
}

// queueFragment answers the live part of the queue, for the script.
func (k *console) queueFragment(c *gin.Context) {
	show := c.Query("show")
	if !validShow(show) {
		c.Data(http.StatusBadRequest, "text/plain; charset=utf-8", []byte("Unknown filter."))
		return
	}
	list, err := k.queueList(c.Request.Context(), consoleStaff(c), show)
	if err != nil {
		k.failPage(c, err)
		return
	}
	k.render(c, http.StatusOK, "queue-list", list)
}

func validShow(s string) bool {
	switch s {
	case showOpen, showMine, showUnclaimed, showUrgent, showResolved:
		return true
	}
	return false
}

// queueList gathers the escalations a filter shows, urgent first, then
// oldest first.
func (k *console) queueList(ctx context.Context, st Staff, show string) (queueList, error) {
	now := k.s.cfg.Now()
	var es []support.Escalation
	var truncated bool
	var err error
	gather := func(reqs ...support.ListRequest) {
		for _, r := range reqs {
			if err != nil {
				return
			}
			var got []support.Escalation
			var more bool
			r.Areas = st.listAreas()
			got, more, err = k.collect(ctx, r)
			es, truncated = append(es, got...), truncated || more
		}
	}
	l := queueList{}
	switch show {
	case showOpen:
		gather(support.ListRequest{Status: support.StatusOpen}, support.ListRequest{Status: support.StatusClaimed})
		l.Caption, l.Empty = "Open escalations", "Nobody is waiting. New escalations appear here by themselves."
	case showMine:
		gather(support.ListRequest{Status: support.StatusClaimed})
		es = slices.DeleteFunc(es, func(e support.Escalation) bool { return e.ClaimedBy != st.Name })
		l.Caption, l.Empty = "Escalations you have claimed", "You have not claimed any open escalation."
	case showUnclaimed:
		gather(support.ListRequest{Status: support.StatusOpen})
		l.Caption, l.Empty = "Escalations nobody has claimed", "Every open escalation has been claimed."
	case showUrgent:
		gather(support.ListRequest{Status: support.StatusOpen, Priority: support.PriorityUrgent},
			support.ListRequest{Status: support.StatusClaimed, Priority: support.PriorityUrgent})
		l.Caption, l.Empty = "Urgent escalations", "There are no urgent escalations open."
	case showResolved:
		y, m, d := now.In(k.loc).Date()
		midnight := time.Date(y, m, d, 0, 0, 0, 0, k.loc)
		gather(support.ListRequest{Status: support.StatusResolved, UpdatedSince: midnight})
		es = slices.DeleteFunc(es, func(e support.Escalation) bool { return resolvedAt(e).Before(midnight) })
		l.Resolved = true
		l.Caption, l.Empty = "Escalations resolved today", "Nothing has been resolved today yet."
	}
	if err != nil {
		return queueList{}, fmt.Errorf("console queue: %w", err)
	}
	slices.SortFunc(es, func(a, b support.Escalation) int {
		pa, pb := support.PositionOf(a), support.PositionOf(b)
		switch {
		case pa.Rank != pb.Rank:
			return pa.Rank - pb.Rank
		case !pa.CreatedAt.Equal(pb.CreatedAt):
			return pa.CreatedAt.Compare(pb.CreatedAt)
		}
		return strings.Compare(pa.ID, pb.ID)
	})
	urgent := 0
	for _, e := range es {
		r := queueRow{ID: e.ID, Urgent: e.Priority == support.PriorityUrgent, Status: string(e.Status), Since: e.CreatedAt,
			Waiting: waited(now.Sub(e.CreatedAt)), Channel: channelName(e.Address.Channel), Reason: reasonName(e.Reason),
			ClaimedBy: e.ClaimedBy, Mine: e.ClaimedBy != "" && e.ClaimedBy == st.Name, Summary: shorten(e.Summary, 140)}
		if l.Resolved {
			r.Resolved = resolvedAt(e)
			r.Waiting = waited(r.Resolved.Sub(e.CreatedAt))
		}
		if r.Summary == "" {
			r.Summary = "(no summary)"
		}
		if r.Urgent {
			urgent++
		}
		l.Rows = append(l.Rows, r)
	}
	l.Truncated = truncated
	l.Count = plural(len(l.Rows), "escalation", "escalations")
	if urgent > 0 && show != showUrgent {
		l.Count += fmt.Sprintf(", %d urgent", urgent)
	}
	return l, nil
}

// collect reads every page of r, up to queueCap escalations; more reports
// that there were more.
func (k *console) collect(ctx context.Context, r support.ListRequest) (es []support.Escalation, more bool, err error) {
	r.Limit = support.MaxListLimit
	for {
		p, err := k.s.cfg.Desk.List(ctx, r)
		if err != nil {
			return nil, false, err
		}
		es = append(es, p.Escalations...)
		if p.Next == "" {
			return es, false, nil
		}
		if len(es) >= queueCap {
			return es, true, nil
		}
		r.Cursor = p.Next
	}
}

// resolvedAt is when e was last resolved, from its audit trail.
func resolvedAt(e support.Escalation) time.Time {
	for i := len(e.Audit) - 1; i >= 0; i-- {
		if strings.HasPrefix(e.Audit[i].What, "resolved") {
			return e.Audit[i].At
		}
	}
	return e.UpdatedAt
}

// waited says how long d is, as staff would: "under a minute", "12 min",
// "2 h 5 min", "3 days 4 h".
func waited(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	s := plural(days, "day", "days")
	if h > 0 {
		s += fmt.Sprintf(" %d h", h)
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// channelName names a channel for people.
func channelName(ch string) string {
	switch ch {
	case "telegram":
		return "Telegram"
	case "slack":
		return "Slack"
	case "web":
		return "Web chat"
	case "":
		return "Unknown"
	}
	return ch
}

// reasonName says why the bot handed over, for people.
func reasonName(r string) string {
	switch r {
	case "requested":
		return "Asked for a person"
	case "low_confidence":
		return "Bot could not answer"
	case "safeguarding":
		return "Safeguarding"
	case "crisis":
		return "Crisis"
	case "dispute":
		return "Dispute"
	case "needs-support":
		return "Wanted to talk it through"
	case "not_helpful":
		return "Answer not helpful"
	case "quiet_after_signpost":
		return "Went quiet after a crisis line"
	case "":
		return "Not given"
	}
	return strings.ToUpper(r[:1]) + strings.ReplaceAll(r[1:], "_", " ")
}

// shorten cuts s to about n bytes at a space, adding an ellipsis.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n], ' ')
	if cut < n/2 {
		cut = n
		for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
			cut--
		}
	}
	return s[:cut] + "…"
}

// funcs are the templates' helpers.
func (k *console) funcs() template.FuncMap {
	return template.FuncMap{
		// when shows a time of day, with the date unless it is today.
		"when": func(t time.Time) string {
			t, now := t.In(k.loc), k.s.cfg.Now().In(k.loc)
			if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
				return t.Format("15:04")
			}
			if t.Year() == now.Year() {
				return t.Format("Mon 2 Jan, 15:04")
			}
			return t.Format("2 Jan 2006, 15:04")
		},
		"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	}
}
