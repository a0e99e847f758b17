package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/askpa/askpa/directory"
)

// The PA network: staff moderate listings under /api/v1/listings, and
// anyone may search approved ones at GET /v1/listings (a council's own
// web page calls it, with CORS for AllowedOrigins). Search answers never
// carry contact details: they are built from directory.Result, which has
// none.

// mountListings adds the PA network's routes to g when the directory is
// configured.
func (s *server) mountListings(g *gin.RouterGroup) {
	if s.cfg.Directory == nil {
		return
	}
	g.GET("/v1/listings", s.searchListings)
	api := g.Group("/api/v1/listings", s.authenticate)
	api.GET("", s.listListings)
	api.POST("", s.mayAct, s.createListing)
	api.GET("/:id", s.inListingArea, s.getListing)
	api.POST("/:id/approve", s.mayAct, s.inListingArea, s.approveListing)
	api.POST("/:id/reject", s.mayAct, s.inListingArea, s.rejectListing)
	api.POST("/:id/withdraw", s.mayAct, s.inListingArea, s.withdrawListing)
}

// failListing answers with the status and sentence errorStatus gives an
// error from the directory; a conflict names the listing's state now.
func (s *server) failListing(c *gin.Context, err error) {
	if errors.Is(err, directory.ErrConflict) {
		fail(c, http.StatusConflict, s.listingConflict(c.Request.Context(), c.Param("id")))
		return
	}
	s.failErr(c, err)
}

// listingConflict says why a move on listing id was refused: the state it
// is in now.
func (s *server) listingConflict(ctx context.Context, id string) string {
	if l, err := s.cfg.Directory.Get(ctx, id); err == nil {
		return fmt.Sprintf("This listing is %s, which does not allow this (someone may have acted on it first).", l.Status)
	}
	return "The listing's state does not allow this."
}

// listingList is the body of GET /api/v1/listings.
type listingList struct {
	Listings   []directory.Listing `json:"listings"`
	NextCursor string              `json:"next_cursor"`
}

func (s *server) listListings(c *gin.Context) {
	req := directory.ListRequest{Status: directory.Status(c.Query("status")), Cursor: c.Query("cursor")}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			badField(c, "limit", fmt.Sprintf("Limit must be a whole number from 1 to %d.", directory.MaxListLimit))
			return
		}
		req.Limit = n
	}
	p, err := s.cfg.Directory.List(c.Request.Context(), req)
	if err != nil {
		s.failListing(c, err)
		return
	}
	// Staff limited to some areas are shown their areas' listings: a page
	// may then hold fewer than limit, and next_cursor still goes on.
	p.Listings = s.visibleListings(staffOf(c), p.Listings)
	if p.Listings == nil {
		p.Listings = []directory.Listing{}
	}
	c.JSON(http.StatusOK, listingList{Listings: p.Listings, NextCursor: p.Next})
}

func (s *server) getListing(c *gin.Context) {
	l, err := s.cfg.Directory.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.failListing(c, err)
		return
	}
	c.JSON(http.StatusOK, l)
}

// createListing is staff entering a listing for someone who phoned in: it
// starts approved.
func (s *server) createListing(c *gin.Context) {
	var d directory.Details
	if !s.decodeListing(c, &d) {
		return
	}
	if !s.seesListing(staffOf(c), d) {
		fail(c, http.StatusForbidden, "This token is limited to some areas; the listing must cover a postcode district in one of them.")
		return
	}
	l, err := s.cfg.Directory.AddByStaff(c.Request.Context(), staffOf(c).Name, d)
	if err != nil {
		s.failListing(c, err)
		return
	}
	c.JSON(http.StatusCreated, l)
}

// decodeListing reads the body into v like decode, and answers 400 naming
// the field for a value the directory refuses while decoding (a contact
// that is neither a string nor an object).
func (s *server) decodeListing(c *gin.Context, v any) bool {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		s.failErr(c, err)
		return false
	}
	var inv *directory.InvalidError
	if err := json.Unmarshal(body, v); errors.As(err, &inv) {
		s.failListing(c, err)
		return false
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	return s.decode(c, v)
}

func (s *server) approveListing(c *gin.Context) {
	l, err := s.cfg.Directory.Approve(c.Request.Context(), c.Param("id"), staffOf(c).Name)
	if err != nil {
		s.failListing(c, err)
		return
	}
	c.JSON(http.StatusOK, l)
}

// reasonBody is the body of reject (reason required) and withdraw
// (reason optional, and the body too).
type reasonBody struct {
	Reason string `json:"reason"`
}

func (s *server) rejectListing(c *gin.Context) {
	var b reasonBody
	if !s.decode(c, &b) {
		return
	}
	l, err := s.cfg.Directory.Reject(c.Request.Context(), c.Param("id"), staffOf(c).Name, b.Reason)
	if err != nil {
		s.failListing(c, err)
		return
	}
	c.JSON(http.StatusOK, l)
}

func (s *server) withdrawListing(c *gin.Context) {
	var b reasonBody
	if c.Request.ContentLength != 0 && !s.decode(c, &b) {
		return
	}
	l, err := s.cfg.Directory.Withdraw(c.Request.Context(), c.Param("id"), staffOf(c).Name, b.Reason)
	if err != nil {
		s.failListing(c, err)
		return
	}
	c.JSON(http.StatusOK, l)
}

// listingResults is the body of GET /v1/listings.
type listingResults struct {
	Listings []directory.Result `json:"listings"`
	// More is true when asking again with offset + the number of listings
	// gives more.
	More bool `json:"more"`
	// Notice says that listed PAs are not employed or vetted by the
	// council or the support service; show it with the results.
	Notice string `json:"notice"`
}

func (s *server) searchListings(c *gin.Context) {
	r := directory.SearchRequest{Area: c.Query("area"), Service: c.Query("service"), Q: c.Query("q")}
	for _, p := range []struct {
		name string
		to   *int
	}{{"limit", &r.Limit}, {"offset", &r.Offset}} {
		if v := c.Query(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				badField(c, p.name, fmt.Sprintf("%s must be a whole number.", sentence(p.name)))
				return
			}
			*p.to = n
		}
	}
	res, err := s.cfg.Directory.Search(c.Request.Context(), r)
	if err != nil {
		s.failListing(c, err)
		return
	}
	c.JSON(http.StatusOK, listingResults{Listings: res.Listings, More: res.More, Notice: res.Notice})
}
