package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"

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

// HelpdeskKey is the HMAC key of a helpdesk limited to some areas
// (Escalation.Area, local pack ids).
type HelpdeskKey struct {
	Secret []byte
	Areas  []string
}

// helpdeskFor returns the areas of the helpdesk whose key signed body (nil
// for SupportSecret's, every area). It returns support.ErrStale for a
// timestamp too far from now, and support.ErrBadSignature when no key
// signed it.
func (s *server) helpdeskFor(timestamp, signature string, body []byte) ([]string, error) {
	keys := s.cfg.Helpdesks
	if len(s.cfg.SupportSecret) > 0 {
		keys = append([]HelpdeskKey{{Secret: s.cfg.SupportSecret}}, keys...)
	}
	err := support.ErrBadSignature
	for _, k := range keys {
		if err = support.Verify(k.Secret, timestamp, signature, body, s.cfg.Now()); err == nil || errors.Is(err, support.ErrStale) {
			return k.Areas, err
		}
	}
	return nil, err
}

// helpdeskReply takes a staff reply from a helpdesk: signed with the
// support secret or a helpdesk's own key, at most MaxSkew old, applied once
// per delivery_id (from the signed body, never from the unsigned
// X-Askpa-Delivery header); a helpdesk limited to some areas is told that
// another area's escalation does not exist.
func (s *server) helpdeskReply(c *gin.Context) {
	if len(s.cfg.SupportSecret) == 0 && len(s.cfg.Helpdesks) == 0 {
		fail(c, http.StatusNotFound, "Helpdesk replies are not switched on here.")
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		s.failErr(c, err)
		return
	}
	areas, err := s.helpdeskFor(c.GetHeader(support.HeaderTimestamp), c.GetHeader(support.HeaderSignature), body)
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
	if len(areas) > 0 {
		e, err := s.cfg.Desk.Get(c.Request.Context(), in.EscalationID)
		if err == nil && !slices.Contains(areas, e.Area) {
			err = support.ErrNotFound
		}
		if err != nil {
			s.failErr(c, err)
			return
		}
	}
	// Each helpdesk has delivery ids of its own: one limited to some
	// areas cannot use up another's.
	delivery := in.DeliveryID
	if len(areas) > 0 {
		delivery = strings.Join(areas, "+") + ":" + delivery
	}
	e, err := s.cfg.Desk.HelpdeskReply(c.Request.Context(), delivery, in.EscalationID, in.Author, in.Text)
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

// ParseHelpdeskKeys reads the keys of helpdesks limited to some areas:
// comma-separated entries "area+area=secret" (local pack ids, then a secret
// of at least 16 characters without commas). It returns an error naming the
// entry by its place, never its secret, for an entry that is not one, and
// for a secret given twice.
func ParseHelpdeskKeys(s string) ([]HelpdeskKey, error) {
	var out []HelpdeskKey
	seen := map[string]bool{}
	for i, entry := range strings.Split(s, ",") {
		if entry = strings.TrimSpace(entry); entry == "" {
			continue
		}
		areas, secret, ok := strings.Cut(entry, "=")
		secret = strings.TrimSpace(secret)
		if !ok || len(secret) < 16 {
			return nil, fmt.Errorf("helpdesk secret %d: want area+area=secret, with a secret of at least 16 characters", i+1)
		}
		k := HelpdeskKey{Secret: []byte(secret)}
		for _, a := range strings.Split(areas, "+") {
			if a = strings.TrimSpace(a); a == "" || strings.ContainsAny(a, " :@") {
				return nil, fmt.Errorf("helpdesk secret %d: want area+area= before the secret, with pack ids such as devon", i+1)
			}
			k.Areas = append(k.Areas, a)
		}
		if seen[secret] {
			return nil, fmt.Errorf("helpdesk secret %d is the same as an earlier one: each helpdesk needs its own", i+1)
		}
		seen[secret] = true
		out = append(out, k)
	}
	return out, nil
}
