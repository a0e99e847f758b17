package httpapi

import (
	"context"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/askpa/askpa/directory"
)

// seesListing reports whether st may see or moderate the listing with
// details d: staff of every area see every listing; staff limited to some
// areas see those that cover a postcode area or district of one of them
// (Config.AreaDistricts: "EX" covers EX4). A listing that names only towns
// is left to staff of every area.
func (s *server) seesListing(st Staff, d directory.Details) bool {
	if len(st.Areas) == 0 {
		return true
	}
	for _, a := range (directory.Listing{Details: d}).ParsedAreas() {
		if a.District == "" {
			continue
		}
		for _, area := range st.Areas {
			for _, covered := range s.cfg.AreaDistricts[area] {
				if covered == a.District || covered == a.PostcodeArea() {
					return true
				}
			}
		}
	}
	return false
}

// checkListingArea returns directory.ErrNotFound for listing id when st
// may not see it (see seesListing), as for one that does not exist, and
// the directory's error when it cannot tell; nil otherwise.
func (s *server) checkListingArea(ctx context.Context, st Staff, id string) error {
	if len(st.Areas) == 0 {
		return nil
	}
	l, err := s.cfg.Directory.Get(ctx, id)
	if err == nil && !s.seesListing(st, l.Details) {
		err = directory.ErrNotFound
	}
	return err
}

// inListingArea answers 404 for a listing (the route's :id) that the member
// of staff may not see (see checkListingArea).
func (s *server) inListingArea(c *gin.Context) {
	if err := s.checkListingArea(c.Request.Context(), staffOf(c), c.Param("id")); err != nil {
		s.failListing(c, err)
		c.Abort()
		return
	}
	c.Next()
}

// visibleListings returns the listings of ls that st may see.
func (s *server) visibleListings(st Staff, ls []directory.Listing) []directory.Listing {
	return slices.DeleteFunc(ls, func(l directory.Listing) bool { return !s.seesListing(st, l.Details) })
}
