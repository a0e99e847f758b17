package bot

import (
	"context"
	"log/slog"
	"time"

	"github.com/askpa/askpa/knowledge"
)

// The outcomes of a question, as the question log and
// askpa_questions_total name them.
const (
	OutcomeAnswered   = "answered"   // answered from the knowledge base
	OutcomeUnanswered = "unanswered" // no passage was good enough
	OutcomeEscalated  = "escalated"  // handed to the support team
	OutcomeSmallTalk  = "small_talk" // a greeting, thanks, an off-topic message
)

// QuestionEvent is one typed message the bot answered, or tried to answer,
// from the knowledge base: what the content editors' gap report (the
// insights package) is made from. It holds no address: only the
// conversation's id, so that an erasure or the purge of the conversation
// takes its events with it, and feedback on the answer can be matched to
// the question.
type QuestionEvent struct {
	ConversationID string
	At             time.Time
	Audience       knowledge.Audience
	// Outcome is one of the Outcome constants; Reason is the answer's
	// (low_confidence, requested, crisis...), empty when it had none.
	Outcome string
	Reason  string
	// PassageID is the passage shown ("doc#anchor"): the answer's, or
	// when there was none the first one offered instead; empty when none
	// was shown. Confidence is the search's.
	PassageID  string
	Confidence float64
	// Text is the question with personal details taken out (see Redact).
	// It is kept only where an editor may need it: answered questions
	// (which feedback may mark "Not helpful") and those the knowledge base
	// could not answer. It is empty for small talk and for hand-overs that
	// are not about a gap in the guides (crisis, safeguarding, a dispute,
	// a request for a person).
	Text string
}

// QuestionLog keeps the question log. sqlite and postgres implement it;
// the events go when their conversation does (erasure, retention).
type QuestionLog interface {
	// RecordQuestion appends e to the log.
	RecordQuestion(ctx context.Context, e QuestionEvent) error
}

// outcome names what became of answer a.
func outcome(a Answer) string {
	switch {
	case a.Escalate:
		return OutcomeEscalated
	case a.Answered:
		return OutcomeAnswered
	case a.Reason == "":
		return OutcomeSmallTalk
	}
	return OutcomeUnanswered
}

// questionEvent is the question log's record of answer a to the message
// of t.
func questionEvent(t *turn, a Answer) QuestionEvent {
	e := QuestionEvent{ConversationID: t.conv.ID, At: t.now, Audience: a.Audience, Outcome: outcome(a), Reason: a.Reason,
		PassageID: a.PassageID, Confidence: a.Confidence}
	if e.Audience == "" {
		e.Audience = t.conv.Audience
	}
	if e.PassageID == "" && len(a.suggestionIDs) > 0 {
		e.PassageID = a.suggestionIDs[0]
	}
	switch {
	case e.Outcome == OutcomeAnswered, e.Outcome == OutcomeUnanswered,
		e.Outcome == OutcomeEscalated && (a.Reason == ReasonLowConfidence || a.Reason == ReasonNotHelpful):
		e.Text = Redact(t.msg.Text)
	}
	return e
}

// logQuestion records the question of t and its answer a in the question
// log, when there is one. A message handled again (after a crash) is not
// recorded twice. A failure is logged and does not fail the message: the
// person's answer matters more than the editors' report.
func (s *Service) logQuestion(ctx context.Context, t *turn, a Answer) {
	if s.cfg.Questions == nil || t.again {
		return
	}
	if err := s.cfg.Questions.RecordQuestion(ctx, questionEvent(t, a)); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "recording a question for the gap report failed",
			slog.String("conversation", t.conv.ID), slog.String("error", err.Error()))
	}
}
