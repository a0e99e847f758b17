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

	"github.com/askpa/askpa/directory"
)

// The console's moderation of the PA network (/console/listings): the
// listings waiting for moderation first, each with its details (contact
// details too: the console is for staff only; search results never carry
// them), then the published, paused, expired, rejected, draft and
// withdrawn ones; one listing's page with its audit trail; Approve, Reject
// with a reason and Withdraw, through directory.Network exactly as the
// staff API does, with the console's CSRF and read-only rules.

// listingGroups are the states the list page shows, in its order, with
// their headings.
var listingGroups = []struct {
	status  directory.Status
	heading string
	empty   string
}{
	{directory.StatusPending, "Waiting for moderation", "Nothing is waiting for moderation."},
	{directory.StatusApproved, "Published", "No listing is published."},
	{directory.StatusPaused, "Paused by the person", "No listing is paused."},
	{directory.StatusExpired, "Expired (not renewed)", "No listing has expired."},
	{directory.StatusRejected, "Rejected", "No listing is rejected."},
	{directory.StatusDraft, "Drafts (not yet sent for moderation)", "There are no drafts."},
	{directory.StatusWithdrawn, "Withdrawn", "No listing has been withdrawn."},
}

// listingsCap is the most listings of one state the list page gathers.
const listingsCap = 500

// listingRow is a listing as staff see it.
type listingRow struct {
	ID, Name, DisplayName, Kind, Status, StatusLabel string
	Areas, Services, Languages, Training             string
	Availability, About, Experience, Employment      string
	Rate                                             string
	DBS                                              bool
	Phone, Email, ContactNote                        string
	Owner, Reason                                    string
	Created, Updated, Expires                        time.Time
	CanApprove, CanReject, CanWithdraw               bool
	CSRF                                             string
}

// listingGroup is one state's listings on the list page.
type listingGroup struct {
	ID, Heading, Empty string
	Pending            bool // shown whole, with the moderation forms
	Rows               []listingRow
	Truncated          bool
}

// listingsView is the data of the list page.
type listingsView struct {
	page
	Groups []listingGroup
}

// listingView is the data of one listing's page.
type listingView struct {
	page
	L              listingRow
	Audit          []auditRow
	Reason         string // the reject form's text, after a refusal
	ReasonError    string
	WithdrawReason string
	WithdrawError  string
	ReadOnly       bool
}

// listingDone are the messages shown after an action, by ?done=.
var listingDone = map[string]string{
	"approved":  "The listing is approved and published for 90 days. The person has been told.",
	"rejected":  "The listing is rejected. The person has been told why, so that they can put it right.",
	"withdrawn": "The listing is withdrawn: it no longer shows in searches.",
}

// mountListings adds the moderation pages to g.
func (k *console) mountListings(g *gin.RouterGroup) {
	g.GET("/listings", k.auth(true), k.listings)
	g.GET("/listings/:id", k.auth(true), k.inListingArea, k.listing)
	act := g.Group("/listings/:id", k.auth(true), k.checkCSRF, k.mayAct, k.inListingArea)
	act.POST("/approve", k.moderate("approved"))
	act.POST("/reject", k.moderate("rejected"))
	act.POST("/withdraw", k.moderate("withdrawn"))
}

// listings shows every listing, those waiting for moderation first.
func (k *console) listings(c *gin.Context) {
	ctx := c.Request.Context()
	v := listingsView{page: k.newPage(c, "PA network")}
	for _, g := range listingGroups {
		ls, more, err := k.collectListings(ctx, g.status)
		if err != nil {
			k.failPage(c, fmt.Errorf("console listings: %w", err))
			return
		}
		lg := listingGroup{ID: "listings-" + string(g.status), Heading: g.heading, Empty: g.empty, Pending: g.status == directory.StatusPending, Truncated: more}
		for _, l := range k.s.visibleListings(consoleStaff(c), ls) {
			lg.Rows = append(lg.Rows, k.listingRow(c, l))
		}
		v.Groups = append(v.Groups, lg)
	}
	v.Flash = listingDone[c.Query("done")]
	k.render(c, http.StatusOK, "listings.html", v)
}

// collectListings reads the listings in status, oldest first, up to
// listingsCap; more reports that there were more.
func (k *console) collectListings(ctx context.Context, status directory.Status) (ls []directory.Listing, more bool, err error) {
	r := directory.ListRequest{Status: status, Limit: directory.MaxListLimit}
	for {
		p, err := k.s.cfg.Directory.List(ctx, r)
		if err != nil {
			return nil, false, err
		}
		ls = append(ls, p.Listings...)
		if p.Next == "" {
			return ls, false, nil
		}
		if len(ls) >= listingsCap {
			return ls, true, nil
		}
		r.Cursor = p.Next
	}
}

// listingRow words l for staff, with the moves the signed-in member of
// staff may make.
func (k *console) listingRow(c *gin.Context, l directory.Listing) listingRow {
	vocab := k.s.cfg.Directory.Services()
	var services []string
	for _, s := range l.Services {
		services = append(services, vocab.Label(s))
	}
	r := listingRow{ID: l.ID, Name: l.Name, DisplayName: l.DisplayName, Kind: kindName(l.Kind), Status: string(l.Status), StatusLabel: listingStatusName(l.Status),
		Areas: strings.Join(l.Areas, ", "), Services: strings.Join(services, ", "), Languages: strings.Join(l.Languages, ", "),
		Training: strings.Join(l.Training, ", "), Availability: l.Availability, About: l.About, Experience: l.Experience,
		Employment: employmentName(l.Employment), DBS: l.DBSUpdateService,
		Phone: l.Contact.Phone, Email: l.Contact.Email, ContactNote: l.Contact.Note, Owner: l.Owner, Reason: l.Reason,
		Created: l.CreatedAt, Updated: l.UpdatedAt, Expires: l.ExpiresAt, CSRF: c.GetString(consoleCSRFKey)}
	if l.HourlyRatePence != nil {
		r.Rate = fmt.Sprintf("£%d.%02d an hour", *l.HourlyRatePence/100, *l.HourlyRatePence%100)
	}
	if !consoleStaff(c).ReadOnly {
		r.CanApprove = l.Status == directory.StatusPending
		r.CanReject = l.Status == directory.StatusPending
		r.CanWithdraw = l.Status != directory.StatusWithdrawn
	}
	return r
}

// inListingArea shows 404 for a listing the member of staff may not see
// (see server.checkListingArea).
func (k *console) inListingArea(c *gin.Context) {
	if err := k.s.checkListingArea(c.Request.Context(), consoleStaff(c), c.Param("id")); err != nil {
		k.failPage(c, fmt.Errorf("console listing: %w", err))
		c.Abort()
		return
	}
	c.Next()
}

// listing shows one listing with its audit trail and the moves allowed.
func (k *console) listing(c *gin.Context) {
	v, err := k.listingView(c, c.Param("id"))
	if err != nil {
		k.failPage(c, err)
		return
	}
	v.Flash = listingDone[c.Query("done")]
	k.render(c, http.StatusOK, "listing.html", v)
}

// listingView gathers one listing's page.
func (k *console) listingView(c *gin.Context, id string) (listingView, error) {
	l, err := k.s.cfg.Directory.Get(c.Request.Context(), id)
	if err != nil {
		return listingView{}, fmt.Errorf("console listing: %w", err)
	}
	v := listingView{page: k.newPage(c, "Listing: "+l.DisplayName), L: k.listingRow(c, l), ReadOnly: consoleStaff(c).ReadOnly}
	for i := len(l.Audit) - 1; i >= 0; i-- { // newest first
		a := l.Audit[i]
		who := a.Who
		switch who {
		case directory.ByOwner:
			who = "The person listed"
		case directory.BySystem:
			who = "askpa"
		}
		v.Audit = append(v.Audit, auditRow{Who: who, What: a.What, At: a.At})
	}
	return v, nil
}

// moderate serves approve, reject (a reason is required) and withdraw (a
// reason is optional): the network's own moves, then back to the
// listing's page (Post/Redirect/Get).
func (k *console) moderate(what string) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, id, staff, reason := c.Request.Context(), c.Param("id"), consoleStaff(c).Name, c.PostForm("reason")
		var err error
		switch what {
		case "approved":
			_, err = k.s.cfg.Directory.Approve(ctx, id, staff)
		case "rejected":
			_, err = k.s.cfg.Directory.Reject(ctx, id, staff, reason)
		default:
			_, err = k.s.cfg.Directory.Withdraw(ctx, id, staff, reason)
		}
		if err != nil {
			k.listingRefused(c, id, what, reason, err)
			return
		}
		c.Redirect(http.StatusSeeOther, consolePath+"/listings/"+url.PathEscape(id)+"?done="+what)
	}
}

// listingRefused shows the listing's page again with what went wrong,
// keeping the reason that was typed, with the status errorStatus gives
// err.
func (k *console) listingRefused(c *gin.Context, id, what, reason string, err error) {
	status, body, known := errorStatus(err)
	if !known || errors.Is(err, directory.ErrNotFound) {
		k.failPage(c, err)
		return
	}
	v, verr := k.listingView(c, id)
	if verr != nil {
		k.failPage(c, verr)
		return
	}
	var inv *directory.InvalidError
	switch {
	case errors.As(err, &inv) && what == "rejected":
		v.Reason, v.ReasonError = reason, "Say why the listing is rejected, so that the person can put it right."
		if !strings.Contains(inv.Problem, "required") {
			v.ReasonError = sentence("the reason " + inv.Problem)
		}
		v.Error = "There is a problem with the reason."
	case errors.As(err, &inv) && what == "withdrawn":
		v.WithdrawReason, v.WithdrawError = reason, sentence("the reason "+inv.Problem)
		v.Error = "There is a problem with the reason."
	case errors.Is(err, directory.ErrConflict):
		v.Error = k.s.listingConflict(c.Request.Context(), id)
	default:
		v.Error = body.Error
	}
	k.render(c, status, "listing.html", v)
}

// listingStatusName names a listing's state for staff.
func listingStatusName(s directory.Status) string {
	switch s {
	case directory.StatusPending:
		return "Waiting for moderation"
	case directory.StatusApproved:
		return "Published"
	case directory.StatusPaused:
		return "Paused"
	case directory.StatusExpired:
		return "Expired"
	case directory.StatusRejected:
		return "Rejected"
	case directory.StatusDraft:
		return "Draft"
	case directory.StatusWithdrawn:
		return "Withdrawn"
	}
	return string(s)
}

// kindName names a kind of listing.
func kindName(k directory.Kind) string {
	switch k {
	case directory.KindPA:
		return "Personal assistant"
	case directory.KindMicroProvider:
		return "Micro-provider"
	}
	return string(k)
}

// employmentName says how a PA wants to work.
func employmentName(e directory.Employment) string {
	switch e {
	case directory.SelfEmployed:
		return "Self-employed"
	case directory.LookingForEmployer:
		return "Employed by the person they support"
	case directory.EitherEmployment:
		return "Either"
	}
	return string(e)
}
