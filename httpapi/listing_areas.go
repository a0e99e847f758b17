package httpapi

import (
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

// inListingArea answers 404 for a listing (the route's :id) that the member
// of staff may not see (see seesListing), as for one that does not exist.
func (s *server) inListingArea(c *gin.Context) {
	st := staffOf(c)
	if len(st.Areas) == 0 {
		c.Next()
		return
	}
	l, err := s.cfg.Directory.Get(c.Request.Context(), c.Param("id"))
	if err == nil && !s.seesListing(st, l.Details) {
		err = directory.ErrNotFound
	}
	if err != nil {
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
