package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/askpa/askpa/support"
)

// Staff is a member of staff allowed to use the API.
type Staff struct {
	Name  string
	Token string
	// ReadOnly staff (auditors, dashboards) may read the queue but not act
	// on it: their claims, replies, resolutions and reopens get 403.
	ReadOnly bool
	// Areas, when not empty, limits them to escalations from those local
	// areas (Escalation.Area, a local pack's id): others are not listed and
	// answer 404, as if they did not exist. Empty for every area.
	Areas []string
}

// sees reports whether st may see escalation e.
func (st Staff) sees(e support.Escalation) bool {
	return len(st.Areas) == 0 || slices.Contains(st.Areas, e.Area)
}

// listAreas is what ListRequest.Areas should be for st: nil for every
// area.
func (st Staff) listAreas() []string {
	if len(st.Areas) == 0 {
		return nil
	}
	return st.Areas
}

// ParseStaff parses ASKPA_STAFF_TOKENS: "name:token,name:token", where a
// token may be followed by ":read" for read-only access and then by
// "@area+area" to limit the member of staff to escalations from those
// local areas (pack ids). It returns an error naming the entry (but not
// the token) that is malformed or repeated.
func ParseStaff(s string) ([]Staff, error) {
	var out []Staff
	names, tokens := map[string]bool{}, map[string]bool{}
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		st := Staff{}
		if rest, areas, ok := strings.Cut(entry, "@"); ok {
			entry = rest
			for _, a := range strings.Split(areas, "+") {
				if a = strings.TrimSpace(a); a == "" || strings.ContainsAny(a, " :") {
					return nil, fmt.Errorf("staff token %d: want @area+area after the token, with pack ids such as devon", i+1)
				}
				st.Areas = append(st.Areas, a)
			}
		}
		parts := strings.Split(entry, ":")
		switch {
		case len(parts) == 2:
		case len(parts) == 3 && parts[2] == "read":
			st.ReadOnly = true
		default:
			return nil, fmt.Errorf("staff token %d is not name:token or name:token:read", i+1)
		}
		st.Name, st.Token = strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
		if st.Name == "" || len(st.Token) < 16 {
			return nil, fmt.Errorf("staff token %d needs a name and a token of at least 16 characters", i+1)
		}
		if names[st.Name] {
			return nil, fmt.Errorf("staff name %q appears twice", st.Name)
		}
		if tokens[st.Token] {
			// One token under two names would act as whichever came last:
			// a read-only entry could be shadowed by a full one.
			return nil, fmt.Errorf("staff token %d is the same token as an earlier one", i+1)
		}
		names[st.Name], tokens[st.Token] = true, true
		out = append(out, st)
	}
	return out, nil
}

// staffTokens finds the member of staff a bearer token belongs to, in time
// that does not depend on which token matches or how much of it.
type staffTokens []struct {
	staff Staff
	sum   [32]byte
}

func newStaffTokens(ss []Staff) staffTokens {
	var t staffTokens
	for _, s := range ss {
		t = append(t, struct {
			staff Staff
			sum   [32]byte
		}{s, sha256.Sum256([]byte(s.Token))})
	}
	return t
}

func (t staffTokens) find(token string) (Staff, bool) {
	sum := sha256.Sum256([]byte(token))
	var found Staff
	ok := 0
	for _, e := range t {
		if subtle.ConstantTimeCompare(sum[:], e.sum[:]) == 1 {
			found, ok = e.staff, 1
		}
	}
	return found, ok == 1
}

const staffKey = "askpa.staff"

// authenticate answers 401 unless the request carries a staff token.
func (s *server) authenticate(c *gin.Context) {
	h := c.GetHeader("Authorization")
	token, isBearer := strings.CutPrefix(h, "Bearer ")
	st, ok := s.staff.find(strings.TrimSpace(token))
	if !isBearer || !ok {
		c.Header("WWW-Authenticate", `Bearer realm="askpa"`)
		fail(c, http.StatusUnauthorized, "Send a staff token as \"Authorization: Bearer TOKEN\".")
		return
	}
	c.Set(staffKey, st)
	c.Next()
}

// mayAct answers 403 for staff whose token may only read.
func (s *server) mayAct(c *gin.Context) {
	if staffOf(c).ReadOnly {
		fail(c, http.StatusForbidden, "This token may read the queue but not act on it.")
		return
	}
	c.Next()
}

func staffOf(c *gin.Context) Staff {
	st, _ := c.Get(staffKey)
	return st.(Staff)
}

// everyArea answers 403 for staff limited to some areas, on the routes
// that reach across every area: a person's data, the safety labels and the
// gap report.
func (s *server) everyArea(c *gin.Context) {
	if len(staffOf(c).Areas) > 0 {
		fail(c, http.StatusForbidden, "This token is limited to some areas; this needs a token for every area.")
		return
	}
	c.Next()
}

// inArea answers 404 for an escalation (the route's :id) from an area the
// member of staff is not limited to, as for one that does not exist.
func (s *server) inArea(c *gin.Context) {
	st := staffOf(c)
	if len(st.Areas) == 0 {
		c.Next()
		return
	}
	e, err := s.cfg.Desk.Get(c.Request.Context(), c.Param("id"))
	if err == nil && !st.sees(e) {
		err = support.ErrNotFound
	}
	if err != nil {
		s.failErr(c, err)
		c.Abort()
		return
	}
	c.Next()
}

// escalationList is the body of GET /api/v1/escalations.
type escalationList struct {
	Escalations []support.Escalation `json:"escalations"`
	NextCursor  string               `json:"next_cursor"`
}

func (s *server) list(c *gin.Context) {
	req := support.ListRequest{
		Status:   support.Status(c.Query("status")),
		Priority: support.Priority(c.Query("priority")),
		Cursor:   c.Query("cursor"),
		Areas:    staffOf(c).listAreas(),
	}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			c.AbortWithStatusJSON(http.StatusBadRequest, errorBody{Error: fmt.Sprintf("Limit must be a whole number from 1 to %d.", support.MaxListLimit), Field: "limit"})
			return
		}
		req.Limit = n
	}
	p, err := s.cfg.Desk.List(c.Request.Context(), req)
	if err != nil {
		s.failErr(c, err)
		return
	}
	if p.Escalations == nil {
		p.Escalations = []support.Escalation{}
	}
	c.JSON(http.StatusOK, escalationList{Escalations: p.Escalations, NextCursor: p.Next})
}

// deliveryView is how staff see one outbox row.
type deliveryView struct {
	ID          string                 `json:"id"`
	Target      string                 `json:"target"`
	Event       string                 `json:"event"`
	Status      support.DeliveryStatus `json:"status"`
	Attempts    int                    `json:"attempts"`
	NextAttempt *time.Time             `json:"next_attempt_at,omitempty"`
	LastError   string                 `json:"last_error,omitempty"`
	CreatedAt   time.Time              `json:"created_at"`
	UpdatedAt   time.Time              `json:"updated_at"`
}

func (s *server) get(c *gin.Context) {
	id := c.Param("id")
	e, err := s.cfg.Desk.Get(c.Request.Context(), id)
	if err != nil {
		s.failErr(c, err)
		return
	}
	ds, err := s.cfg.Desk.Deliveries(c.Request.Context(), id)
	if err != nil {
		s.failErr(c, err)
		return
	}
	views := []deliveryView{}
	for _, d := range ds {
		v := deliveryView{ID: d.ID, Target: d.Target, Event: d.Event.Name, Status: d.Status, Attempts: d.Attempts,
			LastError: d.LastError, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
		if d.Status == support.DeliveryPending {
			next := d.NextAttempt
			v.NextAttempt = &next
		}
		views = append(views, v)
	}
	body, err := withField(e, "deliveries", views)
	if err != nil {
		s.failErr(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", body)
}

// withField adds one field to the JSON object v encodes to.
func withField(v any, name string, value any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m[name], err = json.Marshal(value); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// act serves claim, resolve and reopen.
func (s *server) act(do func(ctx context.Context, id, staff string) (support.Escalation, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		e, err := do(c.Request.Context(), c.Param("id"), staffOf(c).Name)
		if err != nil {
			s.failErr(c, err)
			return
		}
		c.JSON(http.StatusOK, e)
	}
}

type replyBody struct {
	Text string `json:"text"`
}

func (s *server) reply(c *gin.Context) {
	var b replyBody
	if !s.decode(c, &b) {
		return
	}
	// An Idempotency-Key makes a retried POST (a timeout, a proxy that
	// resends) reach the person once: the repeat answers 200 with the
	// escalation as it is.
	ctx, id := c.Request.Context(), c.Param("id")
	e, err := s.cfg.Desk.ReplyOnce(ctx, c.GetHeader("Idempotency-Key"), id, staffOf(c).Name, b.Text)
	if errors.Is(err, support.ErrDuplicate) {
		if e, err = s.cfg.Desk.Get(ctx, id); err == nil {
			c.Header("Idempotent-Replayed", "true")
			c.JSON(http.StatusOK, e)
			return
		}
	}
	if err != nil {
		s.failErr(c, err)
		return
	}
	c.JSON(http.StatusCreated, e)
}

// noteBody is the body of POST /api/v1/escalations/{id}/notes.
type noteBody struct {
	Text string `json:"text"`
}

// note adds an internal note: an audit entry for staff, never sent to the
// person, on an escalation in any state, whoever holds it.
func (s *server) note(c *gin.Context) {
	var b noteBody
	if !s.decode(c, &b) {
		return
	}
	e, err := s.cfg.Desk.Note(c.Request.Context(), c.Param("id"), staffOf(c).Name, b.Text)
	if err != nil {
		s.failErr(c, err)
		return
	}
	c.JSON(http.StatusCreated, e)
}

// decode reads a JSON object body into v. It answers 413 for an oversized
// body and 400 naming the field for bad JSON, and returns false when it
// answered.
func (s *server) decode(c *gin.Context, v any) bool {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("extra data after the JSON object")
	}
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		s.failErr(c, err)
	case errors.As(err, &typ) && typ.Field == "":
		fail(c, http.StatusBadRequest, "The body must be a JSON object.")
	case errors.As(err, &typ):
		c.AbortWithStatusJSON(http.StatusBadRequest, errorBody{Error: fmt.Sprintf("Field %q must be a %s.", typ.Field, jsonType(typ.Type.Kind().String())), Field: typ.Field})
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		fail(c, http.StatusBadRequest, "The body is not valid JSON.")
	case errors.Is(err, io.EOF):
		fail(c, http.StatusBadRequest, "The body is empty; send a JSON object.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		c.AbortWithStatusJSON(http.StatusBadRequest, errorBody{Error: fmt.Sprintf("Field %q is not one this request takes.", field), Field: field})
	default:
		fail(c, http.StatusBadRequest, "The body is not a JSON object of the expected shape.")
	}
	return false
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean (true or false)"
	case "slice", "array":
		return "list"
	case "struct", "map":
		return "JSON object"
	}
	return "number"
}
