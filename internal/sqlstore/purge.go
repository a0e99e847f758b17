package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/retention"
)

// Purge removes what is older than each cutoff, kind by kind, in
// transactions of at most batch rows; see retention.Store. The kinds go in
// an order that leaves nothing half-done between transactions: a
// conversation's turns, feedback and question log before the conversation, an
// escalation's outbox rows with it, an employer's introduction quota row
// after their last introduction.
func (s *Store) Purge(ctx context.Context, c retention.Cutoffs, batch int) (retention.Counts, error) {
	if batch <= 0 {
		batch = 500
	}
	var n retention.Counts
	steps := []struct {
		kind string
		run  func() (bool, error) // one batch; true when there may be more
	}{
		{"turns", func() (bool, error) {
			k, err := s.execBatch(ctx, `DELETE FROM turns WHERE seq IN (SELECT seq FROM turns WHERE at < ? LIMIT ?)`, nanos(c.Conversations), batch)
			n.Turns += k
			return k == int64(batch), err
		}},
		{"feedback", func() (bool, error) {
			id := s.d.RowID
			k, err := s.execBatch(ctx, `DELETE FROM feedback WHERE `+id+` IN (SELECT `+id+` FROM feedback WHERE at < ? LIMIT ?)`, nanos(c.Conversations), batch)
			n.Feedback += k
			return k == int64(batch), err
		}},
		{"questions", func() (bool, error) {
			k, err := s.execBatch(ctx, `DELETE FROM question_events WHERE seq IN (SELECT seq FROM question_events WHERE at < ? LIMIT ?)`, nanos(c.Conversations), batch)
			n.Questions += k
			return k == int64(batch), err
		}},
		{"conversations", func() (bool, error) { return s.purgeConversations(ctx, c.Conversations, batch, &n) }},
		{"escalations", func() (bool, error) { return s.purgeEscalations(ctx, c.Escalations, batch, &n) }},
		{"payloads", func() (bool, error) {
			k, err := s.execBatch(ctx, `UPDATE outbox SET payload = '' WHERE seq IN (
				SELECT seq FROM outbox WHERE status <> 'pending' AND payload <> '' AND updated_at < ? LIMIT ?)`, nanos(c.Payloads), batch)
			n.Payloads += k
			return k == int64(batch), err
		}},
		{"seen", func() (bool, error) {
			k, err := s.execBatch(ctx, `DELETE FROM seen WHERE (source, id) IN (SELECT source, id FROM seen WHERE at < ? LIMIT ?)`, nanos(c.Seen), batch)
			n.Seen += k
			return k == int64(batch), err
		}},
		{"mail", func() (bool, error) {
			k, err := s.execBatch(ctx, `DELETE FROM mail WHERE (user_id, seq) IN (SELECT user_id, seq FROM mail WHERE at < ? LIMIT ?)`, nanos(c.Mail), batch)
			n.Mail += k
			return k == int64(batch), err
		}},
		{"web sessions", func() (bool, error) {
			k, err := s.execBatch(ctx, `DELETE FROM web_sessions WHERE token_hash IN (
				SELECT token_hash FROM web_sessions WHERE expires_at <= ? LIMIT ?)`, nanos(c.WebSessions), batch)
			n.WebSessions += k
			return k == int64(batch), err
		}},
		{"introductions", func() (bool, error) { return s.purgeIntroductions(ctx, c.Introductions, batch, &n) }},
		{"introduction quota", func() (bool, error) {
			// The row that serialises an employer's requests names them and
			// exists only for their introductions: it goes once they are all
			// gone (here, or by an erasure of the PA they asked). It is not
			// counted: it holds nothing but the employer's address. A
			// request made meanwhile makes it again (CreateIntroduction).
			k, err := s.db.Exec(ctx, `DELETE FROM introduction_quota WHERE employer IN (
				SELECT employer FROM introduction_quota q WHERE NOT EXISTS (
					SELECT 1 FROM introductions i WHERE i.employer = q.employer) LIMIT ?)`, batch)
			return k == int64(batch), err
		}},
	}
	for _, st := range steps {
		for {
			if err := ctx.Err(); err != nil {
				return n, fmt.Errorf("purge %s: %w", st.kind, err)
			}
			more, err := st.run()
			if err != nil {
				return n, fmt.Errorf("purge %s: %w", st.kind, err)
			}
			if !more {
				break
			}
		}
	}
	return n, nil
}

// execBatch runs one batch statement whose arguments are a cutoff and
// the batch size, in a transaction of its own, and returns the rows it
// affected.
func (s *Store) execBatch(ctx context.Context, q string, cutoff int64, batch int) (int64, error) {
	var n int64
	err := s.db.InTx(ctx, func(tx Querier) error {
		var err error
		n, err = tx.Exec(ctx, q, cutoff, batch)
		return err
	})
	return n, err
}

// purgeConversations handles one batch of conversations last written in
// before cutoff: each loses its turns, feedback and question log, and is deleted unless
// it is with the support team, in which case it keeps its row (so that the
// desk's news still reaches the person) without its last question. It
// reports whether there may be more.
func (s *Store) purgeConversations(ctx context.Context, cutoff time.Time, batch int, n *retention.Counts) (bool, error) {
	var found int
	err := s.db.InTx(ctx, func(q Querier) error {
		rows, err := q.Query(ctx, `SELECT id, created_at, doc FROM conversations WHERE cleared = 0 AND last_at < ?
			ORDER BY last_at LIMIT ?`+s.d.SkipLocked, nanos(cutoff), batch)
		if err != nil {
			return err
		}
		var cs []bot.Conversation
		for rows.Next() {
			c, err := s.scanConversation(rows)
			if err != nil {
				rows.Close()
				return err
			}
			cs = append(cs, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		found = len(cs)
		var gone, kept []string
		for _, c := range cs {
			if c.Mode == bot.ModeBot {
				gone = append(gone, c.ID)
				continue
			}
			kept = append(kept, c.ID)
			c.LastQuestion, c.LastPassageID = "", ""
			doc, err := json.Marshal(toDoc(c))
			if err != nil {
				return err
			}
			if _, err := q.Exec(ctx, `UPDATE conversations SET doc = ?, cleared = 1 WHERE id = ?`, string(doc), c.ID); err != nil {
				return err
			}
		}
		all := append(append([]string(nil), gone...), kept...)
		if len(all) == 0 {
			return nil
		}
		k, err := q.Exec(ctx, `DELETE FROM turns WHERE conversation_id IN (`+marks(len(all))+`)`, anys(all)...)
		if err != nil {
			return err
		}
		n.Turns += k
		if k, err = q.Exec(ctx, `DELETE FROM feedback WHERE conversation_id IN (`+marks(len(all))+`)`, anys(all)...); err != nil {
			return err
		}
		n.Feedback += k
		if k, err = q.Exec(ctx, `DELETE FROM question_events WHERE conversation_id IN (`+marks(len(all))+`)`, anys(all)...); err != nil {
			return err
		}
		n.Questions += k
		if len(gone) > 0 {
			if k, err = q.Exec(ctx, `DELETE FROM conversations WHERE id IN (`+marks(len(gone))+`)`, anys(gone)...); err != nil {
				return err
			}
			n.Conversations += k
		}
		n.ConversationsCleared += int64(len(kept))
		return nil
	})
	return found == batch, err
}

// purgeEscalations deletes one batch of escalations resolved (last
// changed) before cutoff, with their outbox rows, and reports whether
// there may be more.
func (s *Store) purgeEscalations(ctx context.Context, cutoff time.Time, batch int, n *retention.Counts) (bool, error) {
	var found int
	err := s.db.InTx(ctx, func(q Querier) error {
		ids, err := queryIDs(ctx, q, `SELECT id FROM escalations WHERE status = 'resolved' AND updated_at < ? LIMIT ?`+s.d.SkipLocked, nanos(cutoff), batch)
		if err != nil {
			return err
		}
		found = len(ids)
		if len(ids) == 0 {
			return nil
		}
		k, err := q.Exec(ctx, `DELETE FROM outbox WHERE escalation_id IN (`+marks(len(ids))+`)`, anys(ids)...)
		if err != nil {
			return err
		}
		n.Deliveries += k
		if k, err = q.Exec(ctx, `DELETE FROM escalations WHERE id IN (`+marks(len(ids))+`)`, anys(ids)...); err != nil {
			return err
		}
		n.Escalations += k
		return nil
	})
	return found == batch, err
}

// purgeIntroductions deletes one batch of introductions answered,
// declined or expired (last changed) before cutoff, with the employer's
// note, both sides' contact details and the audit trail they hold, and
// reports whether there may be more. A request still waiting is never
// purged, and a zero cutoff purges none. A row with no updated_at (0:
// written by an askpa older than migration 011, during a rolling upgrade)
// is judged by its expiry instead, which an answer or an expiry is never
// long after: purging it at once could lose an answer before the employer
// is told of it. Their outbox rows stay: they
// are keyed by the listing, carry no employer, note or contact details
// (directory.Introduction.Shared), lose their payload to the Payloads
// retention and go with the listing.
func (s *Store) purgeIntroductions(ctx context.Context, cutoff time.Time, batch int, n *retention.Counts) (bool, error) {
	if cutoff.IsZero() {
		return false, nil
	}
	var found int
	err := s.db.InTx(ctx, func(q Querier) error {
		ids, err := queryIDs(ctx, q, `SELECT id FROM introductions WHERE status <> 'requested' AND updated_at < ?
			AND (updated_at > 0 OR expires_at < ?) ORDER BY updated_at LIMIT ?`+s.d.SkipLocked, nanos(cutoff), nanos(cutoff), batch)
		if err != nil {
			return err
		}
		found = len(ids)
		if len(ids) == 0 {
			return nil
		}
		k, err := q.Exec(ctx, `DELETE FROM introductions WHERE status <> 'requested' AND id IN (`+marks(len(ids))+`)`, anys(ids)...)
		n.Introductions += k
		return err
	})
	return found == batch, err
}

// marks returns n comma-separated placeholders.
func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// queryIDs runs query, which selects one text column, and returns its
// values in order.
func queryIDs(ctx context.Context, q Querier, query string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
