package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/support"
)

// personKey is the escalations.person column: the person's channel and
// user id, as bot.Address.Key makes a conversation's key.
func personKey(channel, userID string) string { return channel + ":" + userID }

// EscalationsOf returns every escalation of one person, oldest first; see
// support.Store.
func (s *Store) EscalationsOf(ctx context.Context, channel, userID string) ([]support.Escalation, error) {
	rows, err := s.db.Query(ctx, `SELECT doc FROM escalations WHERE person = ? ORDER BY created_at, id`, personKey(channel, userID))
	if err != nil {
		return nil, fmt.Errorf("escalations of a person: %w", err)
	}
	defer rows.Close()
	var es []support.Escalation
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		var e support.Escalation
		if err := json.Unmarshal([]byte(doc), &e); err != nil {
			return nil, fmt.Errorf("escalations of a person: stored document: %w", err)
		}
		es = append(es, e)
	}
	return es, rows.Err()
}

// RewriteDeliveries rewrites the events of an escalation's outbox rows
// that still have a payload, in one transaction; see support.Store.
func (s *Store) RewriteDeliveries(ctx context.Context, escalationID string, rewrite func(*support.Event) bool) (int, error) {
	n := 0
	err := s.db.InTx(ctx, func(q Querier) error {
		n = 0
		rows, err := q.Query(ctx, `SELECT seq, payload FROM outbox WHERE escalation_id = ? AND payload <> '' ORDER BY seq`+s.d.ForUpdate, escalationID)
		if err != nil {
			return err
		}
		type row struct {
			seq     int64
			payload string
		}
		var rs []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.seq, &r.payload); err != nil {
				rows.Close()
				return err
			}
			rs = append(rs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range rs {
			var ev support.Event
			if err := json.Unmarshal([]byte(r.payload), &ev); err != nil {
				return fmt.Errorf("outbox row %d: stored event: %w", r.seq, err)
			}
			if !rewrite(&ev) {
				continue
			}
			b, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			if _, err := q.Exec(ctx, `UPDATE outbox SET payload = ? WHERE seq = ?`, string(b), r.seq); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("rewrite deliveries of %s: %w", escalationID, err)
	}
	return n, nil
}

// ForgetPerson deletes what the store holds about p outside escalations,
// in one transaction; see bot.PersonStore.
func (s *Store) ForgetPerson(ctx context.Context, p bot.Person, now time.Time) (bot.Forgotten, error) {
	var f bot.Forgotten
	err := s.db.InTx(ctx, func(q Querier) error {
		f = bot.Forgotten{}
		var id string
		err := q.QueryRow(ctx, `SELECT id FROM conversations WHERE conv_key = ?`+s.d.ForUpdate, p.Key()).Scan(&id)
		switch {
		case errors.Is(err, ErrNoRows):
		case err != nil:
			return err
		default:
			if f.Turns, err = q.Exec(ctx, `DELETE FROM turns WHERE conversation_id = ?`, id); err != nil {
				return err
			}
			if f.Feedback, err = q.Exec(ctx, `DELETE FROM feedback WHERE conversation_id = ?`, id); err != nil {
				return err
			}
			if f.Questions, err = q.Exec(ctx, `DELETE FROM question_events WHERE conversation_id = ?`, id); err != nil {
				return err
			}
			if f.Conversations, err = q.Exec(ctx, `DELETE FROM conversations WHERE id = ?`, id); err != nil {
				return err
			}
		}
		if p.Channel == bot.ChannelWeb {
			if f.Mail, err = q.Exec(ctx, `DELETE FROM mail WHERE user_id = ?`, p.UserID); err != nil {
				return err
			}
			if _, err = q.Exec(ctx, `DELETE FROM mail_counters WHERE user_id = ?`, p.UserID); err != nil {
				return err
			}
			if f.WebSessions, err = q.Exec(ctx, `DELETE FROM web_sessions WHERE user_id = ?`, p.UserID); err != nil {
				return err
			}
		}
		for _, k := range p.IntakeKeys() {
			n, err := q.Exec(ctx, `DELETE FROM intake WHERE source = ? AND conv = ? AND lease_until <= ?`, k.Source, k.Key, nanos(now))
			if err != nil {
				return err
			}
			f.Intake += n
		}
		f.Listings, f.Introductions, err = forgetInNetwork(ctx, q, p)
		return err
	})
	if err != nil {
		return bot.Forgotten{}, fmt.Errorf("forget person: %w", err)
	}
	return f, nil
}

// PersonData returns what the store holds about p outside escalations;
// see bot.PersonStore.
func (s *Store) PersonData(ctx context.Context, p bot.Person) (bot.PersonData, error) {
	var d bot.PersonData
	c, err := s.scanConversation(s.db.QueryRow(ctx, `SELECT id, created_at, doc FROM conversations WHERE conv_key = ?`, p.Key()))
	switch {
	case errors.Is(err, bot.ErrNotFound):
	case err != nil:
		return d, fmt.Errorf("person data: %w", err)
	default:
		r := bot.RecordOf(c)
		if r.Turns, err = s.Turns(ctx, c.ID, 0); err != nil {
			return d, fmt.Errorf("person data: %w", err)
		}
		if r.Turns == nil {
			r.Turns = []bot.Turn{}
		}
		if r.Feedback, err = s.feedbackOf(ctx, c.ID); err != nil {
			return d, fmt.Errorf("person data: %w", err)
		}
		if r.Questions, err = s.questionsOf(ctx, c.ID); err != nil {
			return d, fmt.Errorf("person data: %w", err)
		}
		d.Conversations = append(d.Conversations, r)
	}
	if p.Channel == bot.ChannelWeb {
		for after := int64(0); ; {
			ms, err := s.Since(ctx, p.UserID, after, 500)
			if err != nil {
				return d, fmt.Errorf("person data: %w", err)
			}
			d.Mailbox = append(d.Mailbox, ms...)
			if len(ms) < 500 {
				break
			}
			after = ms[len(ms)-1].Seq
		}
		if d.WebSessions, err = s.webSessionsOf(ctx, p.UserID); err != nil {
			return d, fmt.Errorf("person data: %w", err)
		}
	}
	for _, k := range p.IntakeKeys() {
		var n int64
		if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM intake WHERE source = ? AND conv = ?`, k.Source, k.Key).Scan(&n); err != nil {
			return d, fmt.Errorf("person data: %w", err)
		}
		d.Unhandled += n
	}
	if d.Listings, d.Introductions, err = s.networkDataOf(ctx, p); err != nil {
		return d, fmt.Errorf("person data: %w", err)
	}
	return d, nil
}

func (s *Store) feedbackOf(ctx context.Context, conversationID string) ([]bot.FeedbackRecord, error) {
	rows, err := s.db.Query(ctx, `SELECT passage_id, helpful, at FROM feedback WHERE conversation_id = ? ORDER BY at`, conversationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []bot.FeedbackRecord{}
	for rows.Next() {
		var f bot.FeedbackRecord
		var helpful int
		var at int64
		if err := rows.Scan(&f.PassageID, &helpful, &at); err != nil {
			return nil, err
		}
		f.Helpful, f.At = helpful == 1, fromNanos(at)
		out = append(out, f)
	}
	return out, rows.Err()
}

func (s *Store) webSessionsOf(ctx context.Context, userID string) ([]bot.WebSessionRecord, error) {
	rows, err := s.db.Query(ctx, `SELECT created_at, last_used_at, expires_at FROM web_sessions WHERE user_id = ? ORDER BY created_at`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []bot.WebSessionRecord
	for rows.Next() {
		var c, u, e int64
		if err := rows.Scan(&c, &u, &e); err != nil {
			return nil, err
		}
		out = append(out, bot.WebSessionRecord{CreatedAt: fromNanos(c), LastUsedAt: fromNanos(u), ExpiresAt: fromNanos(e)})
	}
	return out, rows.Err()
}

// listingsOf returns the ids of the listings p owns (see
// bot.Person.OwnsListing).
func listingsOf(ctx context.Context, q Querier, p bot.Person) ([]string, error) {
	if p.Channel != bot.ChannelSlack {
		return nil, nil
	}
	rows, err := q.Query(ctx, `SELECT id, owner FROM listings WHERE owner LIKE ? ORDER BY created_at, id`, bot.ChannelSlack+":%")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id, owner string
		if err := rows.Scan(&id, &owner); err != nil {
			return nil, err
		}
		if p.OwnsListing(owner) {
			ids = append(ids, id)
		}
	}
	return ids, rows.Err()
}

// forgetInNetwork deletes p's listings with their search rows, their
// outbox rows (listing events) and the introductions to them, and the
// introductions p asked for.
func forgetInNetwork(ctx context.Context, q Querier, p bot.Person) (listings, intros int64, err error) {
	ids, err := listingsOf(ctx, q, p)
	if err != nil {
		return 0, 0, err
	}
	for _, id := range ids {
		for _, table := range []string{"listing_live", "listing_areas", "listing_services", "listing_words"} {
			if _, err := q.Exec(ctx, `DELETE FROM `+table+` WHERE listing_id = ?`, id); err != nil {
				return 0, 0, err
			}
		}
		n, err := q.Exec(ctx, `DELETE FROM introductions WHERE listing_id = ?`, id)
		if err != nil {
			return 0, 0, err
		}
		intros += n
		// The listing's webhook events, sent or not, carry what it said.
		if _, err := q.Exec(ctx, `DELETE FROM outbox WHERE escalation_id = ?`, support.ListingKey(id)); err != nil {
			return 0, 0, err
		}
		n, err = q.Exec(ctx, `DELETE FROM listings WHERE id = ?`, id)
		if err != nil {
			return 0, 0, err
		}
		listings += n
	}
	n, err := q.Exec(ctx, `DELETE FROM introductions WHERE employer = ?`, p.Key())
	if err != nil {
		return 0, 0, err
	}
	if _, err := q.Exec(ctx, `DELETE FROM introduction_quota WHERE employer = ?`, p.Key()); err != nil {
		return 0, 0, err
	}
	return listings, intros + n, nil
}

// networkDataOf returns p's listings and the introductions to them or by
// them, oldest first.
func (s *Store) networkDataOf(ctx context.Context, p bot.Person) ([]directory.Listing, []directory.Introduction, error) {
	ids, err := listingsOf(ctx, s.db, p)
	if err != nil {
		return nil, nil, err
	}
	var ls []directory.Listing
	for _, id := range ids {
		l, err := s.GetListing(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		ls = append(ls, l)
	}
	var ins []directory.Introduction
	args := []any{p.Key()}
	where := `employer = ?`
	for _, id := range ids {
		where += ` OR listing_id = ?`
		args = append(args, id)
	}
	rows, err := s.db.Query(ctx, `SELECT doc FROM introductions WHERE `+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, nil, err
		}
		var in directory.Introduction
		if err := json.Unmarshal([]byte(doc), &in); err != nil {
			return nil, nil, fmt.Errorf("introduction: stored document: %w", err)
		}
		ins = append(ins, in)
	}
	return ls, ins, rows.Err()
}
