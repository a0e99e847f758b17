package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/insights"
	"github.com/askpa/askpa/knowledge"
	"github.com/askpa/askpa/support"
)

// RecordQuestion appends one event to the question log; see
// bot.QuestionLog. Text from outside is cleaned as every stored text is.
func (s *Store) RecordQuestion(ctx context.Context, e bot.QuestionEvent) error {
	_, err := s.db.Exec(ctx, `INSERT INTO question_events (conversation_id, at, audience, outcome, reason, passage_id, confidence, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ConversationID, nanos(e.At), string(e.Audience), e.Outcome, e.Reason, e.PassageID, e.Confidence, support.CleanText(e.Text))
	if err != nil {
		return fmt.Errorf("record question: %w", err)
	}
	return nil
}

// QuestionEvents returns the question log between from (inclusive) and to
// (exclusive), oldest first; see insights.Store.
func (s *Store) QuestionEvents(ctx context.Context, from, to time.Time) ([]bot.QuestionEvent, error) {
	rows, err := s.db.Query(ctx, `SELECT conversation_id, at, audience, outcome, reason, passage_id, confidence, body
		FROM question_events WHERE at >= ? AND at < ? ORDER BY at, seq`, nanos(from), nanos(to))
	if err != nil {
		return nil, fmt.Errorf("question log: %w", err)
	}
	defer rows.Close()
	var out []bot.QuestionEvent
	for rows.Next() {
		var e bot.QuestionEvent
		var at int64
		var audience string
		if err := rows.Scan(&e.ConversationID, &at, &audience, &e.Outcome, &e.Reason, &e.PassageID, &e.Confidence, &e.Text); err != nil {
			return nil, fmt.Errorf("question log: %w", err)
		}
		e.At, e.Audience = fromNanos(at), knowledge.Audience(audience)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("question log: %w", err)
	}
	return out, nil
}

// FeedbackBetween returns the verdicts on answers given between from
// (inclusive) and to (exclusive), oldest first; see insights.Store.
func (s *Store) FeedbackBetween(ctx context.Context, from, to time.Time) ([]bot.Feedback, error) {
	rows, err := s.db.Query(ctx, `SELECT conversation_id, passage_id, helpful, at FROM feedback WHERE at >= ? AND at < ? ORDER BY at`,
		nanos(from), nanos(to))
	if err != nil {
		return nil, fmt.Errorf("feedback: %w", err)
	}
	defer rows.Close()
	var out []bot.Feedback
	for rows.Next() {
		var f bot.Feedback
		var helpful int
		var at int64
		if err := rows.Scan(&f.ConversationID, &f.PassageID, &helpful, &at); err != nil {
			return nil, fmt.Errorf("feedback: %w", err)
		}
		f.Helpful, f.At = helpful == 1, fromNanos(at)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("feedback: %w", err)
	}
	return out, nil
}

// HandOvers returns the escalations created between from (inclusive) and
// to (exclusive), oldest first, with their reason and priority; see
// insights.Store.
func (s *Store) HandOvers(ctx context.Context, from, to time.Time) ([]insights.HandOver, error) {
	rows, err := s.db.Query(ctx, `SELECT created_at, doc FROM escalations WHERE created_at >= ? AND created_at < ? ORDER BY created_at, id`,
		nanos(from), nanos(to))
	if err != nil {
		return nil, fmt.Errorf("hand-overs: %w", err)
	}
	defer rows.Close()
	var out []insights.HandOver
	for rows.Next() {
		var at int64
		var doc string
		if err := rows.Scan(&at, &doc); err != nil {
			return nil, fmt.Errorf("hand-overs: %w", err)
		}
		var e struct {
			Reason   string `json:"reason"`
			Priority string `json:"priority"`
		}
		if err := json.Unmarshal([]byte(doc), &e); err != nil {
			return nil, fmt.Errorf("hand-overs: stored document: %w", err)
		}
		out = append(out, insights.HandOver{At: fromNanos(at), Reason: e.Reason, Priority: e.Priority})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hand-overs: %w", err)
	}
	return out, nil
}

// questionsOf returns the question log of one conversation, oldest first,
// for a person's export.
func (s *Store) questionsOf(ctx context.Context, conversationID string) ([]bot.QuestionRecord, error) {
	rows, err := s.db.Query(ctx, `SELECT at, outcome, reason, passage_id, body FROM question_events WHERE conversation_id = ? ORDER BY at, seq`, conversationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []bot.QuestionRecord{}
	for rows.Next() {
		var q bot.QuestionRecord
		var at int64
		if err := rows.Scan(&at, &q.Outcome, &q.Reason, &q.PassageID, &q.Text); err != nil {
			return nil, err
		}
		q.At = fromNanos(at)
		out = append(out, q)
	}
	return out, rows.Err()
}
