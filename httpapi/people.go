package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/askpa/askpa/bot"
)

// People carries out a person's rights over their data for staff:
// erasure and a copy of everything held (a subject access request).
// *bot.Service implements it (in order with the person's own messages), as
// does *bot.Privacy.
type People interface {
	// Forget erases everything held about p; see bot.Privacy.Forget. It
	// returns bot.ErrInvalidPerson for a bad p and bot.ErrNotFound when
	// nothing is held.
	Forget(ctx context.Context, p bot.Person) (bot.Erasure, error)
	// Export returns everything held about p; see bot.Privacy.Export. It
	// returns the same errors as Forget.
	Export(ctx context.Context, p bot.Person) (bot.Export, error)
}

// mountPeople serves POST /api/v1/people/forget (staff who may act) and
// GET /api/v1/people/export (any staff).
func (s *server) mountPeople(r gin.IRoutes) {
	r.POST("/api/v1/people/forget", s.authenticate, s.everyArea, s.mayAct, s.forgetPerson)
	r.GET("/api/v1/people/export", s.authenticate, s.everyArea, s.exportPerson)
}

// personBody is the body of POST /api/v1/people/forget.
type personBody struct {
	Channel string `json:"channel"`
	User    string `json:"user"`
}

func (s *server) forgetPerson(c *gin.Context) {
	var b personBody
	if !s.decode(c, &b) {
		return
	}
	if s.cfg.People == nil {
		fail(c, http.StatusServiceUnavailable, "Erasure is not available on this server.")
		return
	}
	p := bot.Person{Channel: b.Channel, UserID: b.User}
	er, err := s.cfg.People.Forget(c.Request.Context(), p)
	if err != nil {
		s.failPerson(c, err)
		return
	}
	// Who asked is known to the token holder; the log keeps no name or id.
	s.log.InfoContext(c.Request.Context(), "person's data erased at staff request", slog.String("channel", p.Channel), slog.Bool("by_staff", true))
	c.JSON(http.StatusOK, er)
}

func (s *server) exportPerson(c *gin.Context) {
	p := bot.Person{Channel: c.Query("channel"), UserID: c.Query("user")}
	if s.cfg.People == nil {
		fail(c, http.StatusServiceUnavailable, "Export is not available on this server.")
		return
	}
	x, err := s.cfg.People.Export(c.Request.Context(), p)
	if err != nil {
		s.failPerson(c, err)
		return
	}
	s.log.InfoContext(c.Request.Context(), "person's data exported at staff request", slog.String("channel", p.Channel), slog.Bool("by_staff", true))
	c.JSON(http.StatusOK, x)
}

// failPerson answers for an error of People: 400 naming the field, 404
// when nothing is held, and failErr's answers otherwise.
func (s *server) failPerson(c *gin.Context, err error) {
	var pe *bot.PersonError
	switch {
	case errors.As(err, &pe):
		c.AbortWithStatusJSON(http.StatusBadRequest, errorBody{Error: pe.Problem, Field: pe.Field})
	case errors.Is(err, bot.ErrNotFound):
		fail(c, http.StatusNotFound, "Nothing is held about this person: they were never known here, or everything was erased.")
	default:
		s.failErr(c, err)
	}
}
