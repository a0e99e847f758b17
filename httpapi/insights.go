package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/askpa/askpa/insights"
)

// The content editors' gap report: GET /api/v1/insights/gaps for staff
// tokens (read-only ones too), and the console's /console/insights page.
// Both take ?since= (28d, 4w, 72h or a date; 28 days by default) and the
// API ?limit= (clusters listed).

// mountInsights adds GET /api/v1/insights/gaps to g when the report's
// store is configured.
func (s *server) mountInsights(g *gin.RouterGroup) {
	if s.cfg.Insights == nil {
		return
	}
	g.GET("/api/v1/insights/gaps", s.authenticate, s.everyArea, s.gaps)
}

// location is where the report's weeks begin and the console tells the
// time: Config.Location, or the local time zone.
func (s *server) location() *time.Location {
	if s.cfg.Location != nil {
		return s.cfg.Location
	}
	return time.Local
}

// gapRequest reads the report's period and limit from the query; it
// returns an *insights.InvalidError naming the parameter at fault.
func (s *server) gapRequest(c *gin.Context) (insights.Request, error) {
	now := s.cfg.Now()
	from, err := insights.ParseSince(c.Query("since"), now, s.location())
	if err != nil {
		return insights.Request{}, err
	}
	r := insights.Request{From: from, To: now, Location: s.location(), Now: s.cfg.Now}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > insights.MaxClusters {
			return insights.Request{}, &insights.InvalidError{Field: "limit", Problem: fmt.Sprintf("must be a whole number from 1 to %d", insights.MaxClusters)}
		}
		r.MaxClusters = n
	}
	return r, nil
}

// gaps answers the gap report as JSON.
func (s *server) gaps(c *gin.Context) {
	r, err := s.gapRequest(c)
	if err != nil {
		s.failErr(c, err)
		return
	}
	rep, err := insights.Gaps(c.Request.Context(), s.cfg.Insights, r)
	if err != nil {
		s.failErr(c, err)
		return
	}
	c.JSON(http.StatusOK, rep)
}
