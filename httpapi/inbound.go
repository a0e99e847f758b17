package httpapi

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/askpa/askpa/support"
)

// helpdeskIn is the body of POST /webhooks/support.
type helpdeskIn struct {
	EscalationID string `json:"escalation_id"`
	Text         string `json:"text"`
	Author       string `json:"author"`
	DeliveryID   string `json:"delivery_id"`
}

// helpdeskReply takes a staff reply from a helpdesk: signed with the
// support secret, at most MaxSkew old, applied once per delivery_id (from
// the signed body, never from the unsigned X-Askpa-Delivery header).
func (s *server) helpdeskReply(c *gin.Context) {
	if len(s.cfg.SupportSecret) == 0 {
		fail(c, http.StatusNotFound, "Helpdesk replies are not switched on here.")
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		s.failErr(c, err)
		return
	}
	err = support.Verify(s.cfg.SupportSecret, c.GetHeader(support.HeaderTimestamp), c.GetHeader(support.HeaderSignature), body, s.cfg.Now())
	switch {
	case errors.Is(err, support.ErrStale):
		s.log.WarnContext(c.Request.Context(), "helpdesk webhook refused", slog.String("reason", "stale timestamp"))
		fail(c, http.StatusUnauthorized, "The timestamp is more than 5 minutes from now; sign the request again.")
		return
	case err != nil:
		s.log.WarnContext(c.Request.Context(), "helpdesk webhook refused", slog.String("reason", "bad signature"))
		fail(c, http.StatusUnauthorized, "The signature does not match; sign timestamp + \".\" + body with the shared secret.")
		return
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	var in helpdeskIn
	if !s.decode(c, &in) {
		return
	}
	// The delivery id that makes a reply new must be in the signed body:
	// X-Askpa-Delivery is not signed, so taking it instead would let anyone
	// who saw one signed request send it again under a new id.
	if in.DeliveryID == "" {
		badField(c, "delivery_id", "Delivery_id is required in the signed body; a repeated one is not applied twice.")
		return
	}
	if in.EscalationID == "" {
		badField(c, "escalation_id", "Escalation_id is required.")
		return
	}
	if in.Author == "" {
		in.Author = "helpdesk"
	}
	e, err := s.cfg.Desk.HelpdeskReply(c.Request.Context(), in.DeliveryID, in.EscalationID, in.Author, in.Text)
	if errors.Is(err, support.ErrDuplicate) {
		c.JSON(http.StatusOK, gin.H{"status": "duplicate", "delivery_id": in.DeliveryID})
		return
	}
	if err != nil {
		s.failErr(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "accepted", "delivery_id": in.DeliveryID, "escalation": e})
}
