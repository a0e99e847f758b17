package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// safetyLabelIn is the body of POST /api/v1/escalations/{id}/safety-label.
type safetyLabelIn struct {
	Correct *bool  `json:"correct"`
	Kind    string `json:"kind"`
	Note    string `json:"note"`
}

// labelSafety serves POST /api/v1/escalations/{id}/safety-label: staff's
// verdict on the safety layer's assessment.
func (s *server) labelSafety(c *gin.Context) {
	var in safetyLabelIn
	if !s.decode(c, &in) {
		return
	}
	if in.Correct == nil {
		c.AbortWithStatusJSON(http.StatusBadRequest, errorBody{Error: "Correct is required: true when the safety verdict was right, false when it was wrong.", Field: "correct"})
		return
	}
	e, err := s.cfg.Desk.LabelSafety(c.Request.Context(), c.Param("id"), staffOf(c).Name, *in.Correct, in.Kind, in.Note)
	if err != nil {
		s.failErr(c, err)
		return
	}
	c.JSON(http.StatusOK, e)
}

// corpusLine is one example of the safety classifier's corpus
// (bot/safety.Example): Text for a single message, Turns for several.
type corpusLine struct {
	ID       string   `json:"id"`
	Text     string   `json:"text,omitempty"`
	Turns    []string `json:"turns,omitempty"`
	Label    string   `json:"label"`
	Voice    string   `json:"voice"`
	Audience string   `json:"audience"`
}

// ndjson is the media type of GET /api/v1/safety-labels.
const ndjson = "application/x-ndjson"

// safetyLabels serves GET /api/v1/safety-labels: every labelled escalation
// as one line of the safety corpus, in the queue's order. The id is
// "staff-" and the escalation's id; the messages are the person's own (blank
// ones left out), and an escalation with none is left out, since the corpus
// has no empty examples; the voice is unknown (""); the audience is "pa" for
// PAs and "employer" otherwise. Lines are written as the desk yields them: a
// store failure before the first line answers 500, one after it cuts the
// response off so that the client cannot take a part for the whole.
func (s *server) safetyLabels(c *gin.Context) {
	ctx := c.Request.Context()
	enc := json.NewEncoder(c.Writer)
	enc.SetEscapeHTML(false)
	started := false
	for l, err := range s.cfg.Desk.SafetyLabels(ctx) {
		if err != nil {
			if !started {
				s.failErr(c, err)
				return
			}
			s.log.ErrorContext(ctx, "safety label export cut off", slog.String("error", err.Error()))
			panic(http.ErrAbortHandler)
		}
		var msgs []string
		for _, m := range l.Messages {
			if strings.TrimSpace(m) != "" {
				msgs = append(msgs, m)
			}
		}
		if len(msgs) == 0 {
			continue
		}
		line := corpusLine{ID: "staff-" + l.EscalationID, Label: l.Assessment.Label.Kind, Audience: "employer"}
		if l.Audience == "pa" {
			line.Audience = "pa"
		}
		if len(msgs) == 1 {
			line.Text = msgs[0]
		} else {
			line.Turns = msgs
		}
		if !started {
			c.Header("Content-Type", ndjson)
			c.Status(http.StatusOK)
			started = true
		}
		if err := enc.Encode(line); err != nil {
			// The client went away; there is no one to tell.
			return
		}
	}
	if !started {
		c.Header("Content-Type", ndjson)
		c.Status(http.StatusOK)
		c.Writer.WriteHeaderNow()
	}
}
