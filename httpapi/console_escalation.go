package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/askpa/askpa/support"
)

// messageRow is one turn of the conversation as staff see it.
type messageRow struct {
	Who   string // "The person", "askpa (the bot)", "alex (staff)"
	Class string // user, bot or staff
	Text  string
	At    time.Time
	// Delivery and DeliveryClass say whether a staff reply reached the
	// person; DeliveryError why not.
	Delivery, DeliveryClass, DeliveryError string
	// Sources are the guides a bot message's answer came from, as the
	// person was shown them.
	Sources []sourceLink
}

// sourceLink is one source of a bot message: its title, and the page it
// links to (empty when the guide has none).
type sourceLink struct {
	Title, URL string
}

// auditRow is one entry of the audit trail.
type auditRow struct {
	Who, What, Note string
	At              time.Time
}

// deliveryRow is one outbox row.
type deliveryRow struct {
	Target, Event, Status, LastError string
	Attempts                         int
	At                               time.Time
}

// escalationLive is the live part of an escalation's page.
type escalationLive struct {
	ID, Status, Reason, Channel, Audience, Summary, Waiting string
	Area                                                    string // the local area the person picked
	Urgent                                                  bool
	Created                                                 time.Time
	ClaimedBy                                               string
	Mine, HeldByOther                                       bool
	ReadOnly                                                bool
	CanClaim, CanResolve, CanReopen                         bool
	CSRF                                                    string
	Messages                                                []messageRow
	Audit                                                   []auditRow
	Deliveries                                              []deliveryRow
	Notes                                                   int
}

// escalationView is the data of an escalation's page.
type escalationView struct {
	page
	Live escalationLive
	// Fragment URLs of the two live regions.
	TopURL, TrailURL string
	// Reply and Note are shown when the member of staff may write them;
	// the texts and their errors come back after a refused form.
	CanReply, CanNote     bool
	Reply, Note           string
	ReplyError, NoteError string
	// ReplyKey is the reply form's idempotency key, new on each page.
	ReplyKey string
	// Safety is the safety layer's verdict and staff's label of it; nil
	// when the safety layer did not start the hand-over.
	Safety                    *safetyView
	SafetyError               string
	ReplyChannel, ReplyTarget string
}

// done are the messages shown after an action succeeded, by ?done=.
var done = map[string]string{
	"claimed":  "You have claimed this escalation. The person has been told that someone is looking at it.",
	"replied":  "Your reply is on its way to the person. Its delivery status shows below.",
	"noted":    "Your note is saved. Only staff can see it.",
	"resolved": "The escalation is resolved.",
	"reopened": "The escalation is back in the queue, unclaimed.",
}

// escalation shows one escalation's page.
func (k *console) escalation(c *gin.Context) {
	v, err := k.escalationView(c, c.Param("id"))
	if err != nil {
		k.failPage(c, err)
		return
	}
	v.Flash = done[c.Query("done")]
	k.render(c, http.StatusOK, "escalation.html", v)
}

// escalationView gathers an escalation's page for the signed-in member of
// staff.
func (k *console) escalationView(c *gin.Context, id string) (escalationView, error) {
	ctx := c.Request.Context()
	rev, err := k.marks.Revision(ctx, id) // before reading, as in queue
	if err != nil {
		return escalationView{}, fmt.Errorf("console escalation: %w", err)
	}
	live, e, err := k.escalationLive(ctx, c, id)
	if err != nil {
		return escalationView{}, err
	}
	v := escalationView{page: k.newPage(c, "Escalation: "+shorten(live.Summary, 60)), Live: live}
	if live.Summary == "" {
		v.Title = "Escalation from " + live.Channel
	}
	base := consolePath + "/fragments/escalations/" + url.PathEscape(id)
	v.TopURL, v.TrailURL = base+"/top", base+"/trail"
	v.Events = consolePath + "/events?escalation=" + url.QueryEscape(id) + "&since=" + url.QueryEscape(rev)
	st := consoleStaff(c)
	v.CanReply = !st.ReadOnly && e.Status != support.StatusResolved && !live.HeldByOther
	v.ReplyKey = newSessionID()
	v.CanNote = !st.ReadOnly
	v.ReplyChannel = live.Channel
	if a := e.Safety; a != nil {
		v.Safety = &safetyView{Kind: a.Kind, Level: a.Level, Percent: int(a.Probability*100 + 0.5), By: a.By,
			CanLabel: !st.ReadOnly, Kinds: support.SafetyKinds()}
		if l := a.Label; l != nil {
			v.Safety.Labelled, v.Safety.Correct, v.Safety.LabelKind, v.Safety.LabelBy = true, l.Correct, l.Kind, l.By
		}
	}
	return v, nil
}

// safetyView is the safety verdict panel of an escalation's page: what the
// safety layer saw, and staff's label of it, which goes into the next
// training run of the classifier (GET /api/v1/safety-labels).
type safetyView struct {
	Kind, Level, By string
	Percent         int
	Labelled        bool
	Correct         bool
	LabelKind       string
	LabelBy         string
	CanLabel        bool
	Kinds           []string
}

// labelSafety serves the safety verdict form: right, or wrong and what the
// conversation really was, through Desk.LabelSafety as the staff API does.
func (k *console) labelSafety(c *gin.Context) {
	id := c.Param("id")
	var correct bool
	switch c.PostForm("verdict") {
	case "right":
		correct = true
	case "wrong":
	default:
		k.refused(c, id, &support.InvalidError{Field: "verdict", Problem: "is required: say whether the safety layer was right"}, "safety", "")
		return
	}
	kind := c.PostForm("kind")
	if correct {
		kind = ""
	}
	if _, err := k.s.cfg.Desk.LabelSafety(c.Request.Context(), id, consoleStaff(c).Name, correct, kind, c.PostForm("note")); err != nil {
		k.refused(c, id, err, "safety", "")
		return
	}
	c.Redirect(http.StatusSeeOther, consolePath+"/escalations/"+url.PathEscape(id)+"?done=labelled#safety-form")
}

// escalationLive reads escalation id and its deliveries.
func (k *console) escalationLive(ctx context.Context, c *gin.Context, id string) (escalationLive, support.Escalation, error) {
	desk := k.s.cfg.Desk
	e, err := desk.Get(ctx, id)
	if err != nil {
		return escalationLive{}, e, fmt.Errorf("console escalation: %w", err)
	}
	ds, err := desk.Deliveries(ctx, id)
	if err != nil {
		return escalationLive{}, e, fmt.Errorf("console escalation: %w", err)
	}
	st := consoleStaff(c)
	now := k.s.cfg.Now()
	l := escalationLive{ID: e.ID, Status: statusName(e.Status), Reason: reasonName(e.Reason), Channel: channelName(e.Address.Channel),
		Audience: audienceName(e.Audience), Summary: e.Summary, Urgent: e.Priority == support.PriorityUrgent, Area: e.Area,
		Created: e.CreatedAt, Waiting: waited(now.Sub(e.CreatedAt)), ClaimedBy: e.ClaimedBy,
		ReadOnly: st.ReadOnly, CSRF: c.GetString(consoleCSRFKey)}
	l.Mine = e.Status == support.StatusClaimed && e.ClaimedBy == st.Name
	l.HeldByOther = e.Status == support.StatusClaimed && e.ClaimedBy != st.Name
	if !st.ReadOnly {
		l.CanClaim = e.Status == support.StatusOpen
		l.CanResolve = e.Status == support.StatusOpen || l.Mine
		l.CanReopen = e.Status == support.StatusResolved
	}
	for _, m := range e.Messages {
		r := messageRow{Text: m.Text, At: m.At, Class: m.From}
		switch m.From {
		case support.FromUser:
			r.Who = "The person"
		case support.FromBot:
			r.Who = "askpa (the bot)"
			for _, src := range m.Sources {
				title := src.Title
				if title == "" {
					title = src.ID
				}
				r.Sources = append(r.Sources, sourceLink{Title: title, URL: src.URL})
			}
		default:
			r.Who = m.Author + " (staff)"
			switch {
			case m.Author == "":
				r.Who = "Staff"
			case m.Via == support.ViaHelpdesk:
				r.Who = m.Author + " (staff, through the helpdesk)"
			}
			switch m.Delivery {
			case support.DeliveryDelivered:
				r.Delivery, r.DeliveryClass = "Delivered", "delivered"
			case support.DeliveryFailed:
				r.Delivery, r.DeliveryClass, r.DeliveryError = "Not delivered", "failed", m.DeliveryError
			case support.DeliveryPending:
				r.Delivery, r.DeliveryClass = "Sending", "pending"
			}
		}
		l.Messages = append(l.Messages, r)
	}
	for i := len(e.Audit) - 1; i >= 0; i-- { // newest first
		a := e.Audit[i]
		who := a.Who
		switch who {
		case support.ByPerson:
			who = "The person"
		case support.BySystem:
			who = "askpa"
		}
		l.Audit = append(l.Audit, auditRow{Who: who, What: a.What, Note: a.Note, At: a.At})
		if a.What == support.NoteAction {
			l.Notes++
		}
	}
	for _, d := range ds {
		l.Deliveries = append(l.Deliveries, deliveryRow{Target: targetName(d.Target), Event: d.Event.Name, Status: string(d.Status),
			LastError: d.LastError, Attempts: d.Attempts, At: d.UpdatedAt})
	}
	return l, e, nil
}

// escalationFragment answers one live region of an escalation's page, for
// the script: "top" (status, actions, conversation) or "trail" (audit
// trail and deliveries).
func (k *console) escalationFragment(c *gin.Context) {
	part := c.Param("part")
	if part != "top" && part != "trail" {
		k.errorPage(c, http.StatusNotFound, "Page not found", "There is nothing at this address in the console.")
		return
	}
	l, _, err := k.escalationLive(c.Request.Context(), c, c.Param("id"))
	if err != nil {
		k.failPage(c, err)
		return
	}
	k.render(c, http.StatusOK, "escalation-"+part, l)
}

// move serves claim, resolve and reopen: the desk's own moves, then back
// to the page (Post/Redirect/Get).
func (k *console) move(do func(ctx context.Context, id, staff string) (support.Escalation, error), what string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.Param("id")
		if _, err := do(c.Request.Context(), id, consoleStaff(c).Name); err != nil {
			k.refused(c, id, err, "", "")
			return
		}
		c.Redirect(http.StatusSeeOther, consolePath+"/escalations/"+url.PathEscape(id)+"?done="+what)
	}
}

// write serves the reply and note forms: field names the form's text
// area. A reply goes through Desk.ReplyOnce exactly as the staff API's
// does, so it reaches the person on their own channel through the outbox;
// do gets the form's text and its key (the hidden field "key", which makes
// a form sent twice, by a double click or a reload, count once). A repeat
// is shown as done.
func (k *console) write(field string, do func(ctx context.Context, key, id, staff, text string) (support.Escalation, error), what string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, text := c.Param("id"), c.PostForm(field)
		if _, err := do(c.Request.Context(), c.PostForm("key"), id, consoleStaff(c).Name, text); err != nil && !errors.Is(err, support.ErrDuplicate) {
			k.refused(c, id, err, field, text)
			return
		}
		c.Redirect(http.StatusSeeOther, consolePath+"/escalations/"+url.PathEscape(id)+"?done="+what+"#"+field+"-form")
	}
}

// refused shows the escalation's page again with what went wrong, keeping
// the text of the form that was sent (field names it), with the status
// errorStatus gives err.
func (k *console) refused(c *gin.Context, id string, err error, field, text string) {
	status, body, known := errorStatus(err)
	if !known || errors.Is(err, support.ErrNotFound) {
		k.failPage(c, err)
		return
	}
	v, verr := k.escalationView(c, id)
	if verr != nil {
		k.failPage(c, verr)
		return
	}
	msg := body.Error
	if errors.Is(err, support.ErrConflict) && v.Live.ClaimedBy != "" {
		msg = v.Live.ClaimedBy + " has claimed this escalation. Only they can reply to it or resolve it."
	}
	var inv *support.InvalidError
	switch {
	case field == "reply" && errors.As(err, &inv):
		v.ReplyError = fieldMessage("reply", inv)
	case field == "note" && errors.As(err, &inv):
		v.NoteError = fieldMessage("note", inv)
	case field == "safety" && errors.As(err, &inv):
		v.SafetyError = "The " + inv.Field + " " + inv.Problem + "."
	default:
		v.Error = msg
	}
	switch field {
	case "reply":
		v.Reply, v.ReplyKey = text, c.PostForm("key")
	case "note":
		v.Note = text
	}
	if v.Error == "" {
		v.Error = "There is a problem with your " + field + "."
	}
	k.render(c, status, "escalation.html", v)
}

// fieldMessage words an invalid reply or note for its form.
func fieldMessage(field string, inv *support.InvalidError) string {
	if strings.Contains(inv.Problem, "empty") {
		return "Enter your " + field + "."
	}
	return sentence("your " + field + " " + inv.Problem)
}

// statusName names a status for people.
func statusName(s support.Status) string {
	switch s {
	case support.StatusOpen:
		return "Waiting"
	case support.StatusClaimed:
		return "Claimed"
	case support.StatusResolved:
		return "Resolved"
	}
	return string(s)
}

// audienceName says who the person is.
func audienceName(a string) string {
	switch a {
	case "employer":
		return "Employer"
	case "pa":
		return "Personal assistant"
	case "":
		return "Not known"
	}
	return a
}

// targetName names an outbox target for people.
func targetName(t string) string {
	if t == support.RelayTargetName {
		return "The person, on their channel"
	}
	return t
}
