package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/knowledge"
)

// conversationDoc is the stored form of a bot.Conversation; ID, Address key
// and CreatedAt live in their own columns.
type conversationDoc struct {
	Address        bot.Address        `json:"address"`
	Audience       knowledge.Audience `json:"audience"`
	AudienceChosen bool               `json:"audience_chosen"`
	Mode           bot.Mode           `json:"mode"`
	EscalationID   string             `json:"escalation_id"`
	LastPassageID  string             `json:"last_passage_id"`
	LastQuestion   string             `json:"last_question"`
	Misses         int                `json:"misses"`
	ToldWaiting    bool               `json:"told_waiting"`
	Caution        string             `json:"caution,omitempty"`
	CautionAt      time.Time          `json:"caution_at,omitzero"`
	UpdatedAt      time.Time          `json:"updated_at"`
	LastMessageID  string             `json:"last_message_id,omitempty"`
	Awaiting       string             `json:"awaiting,omitempty"`
	Draft          string             `json:"draft,omitempty"`
	Search         string             `json:"search,omitempty"`
	Area           string             `json:"area,omitempty"`
}

func toDoc(c bot.Conversation) conversationDoc {
	return conversationDoc{c.Address, c.Audience, c.AudienceChosen, c.Mode, c.EscalationID, c.LastPassageID, c.LastQuestion, c.Misses, c.ToldWaiting,
		c.Caution, c.CautionAt.UTC(), c.UpdatedAt.UTC(), c.LastMessageID, c.Awaiting, c.Draft, c.Search, c.Area}
}

func fromDoc(id string, created int64, d conversationDoc) bot.Conversation {
	return bot.Conversation{ID: id, Address: d.Address, Audience: d.Audience, AudienceChosen: d.AudienceChosen, Mode: d.Mode,
		EscalationID: d.EscalationID, LastPassageID: d.LastPassageID, LastQuestion: d.LastQuestion, Misses: d.Misses,
		ToldWaiting: d.ToldWaiting, Caution: d.Caution, CautionAt: d.CautionAt, CreatedAt: fromNanos(created), UpdatedAt: d.UpdatedAt,
		LastMessageID: d.LastMessageID, Awaiting: d.Awaiting, Draft: d.Draft, Search: d.Search, Area: d.Area}
}

func (s *Store) scanConversation(r Row) (bot.Conversation, error) {
	var id, doc string
	var created int64
	if err := r.Scan(&id, &created, &doc); err != nil {
		if errors.Is(err, ErrNoRows) {
			return bot.Conversation{}, bot.ErrNotFound
		}
		return bot.Conversation{}, err
	}
	var d conversationDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return bot.Conversation{}, fmt.Errorf("conversation %s: stored document: %w", id, err)
	}
	return fromDoc(id, created, d), nil
}

// Conversation returns the conversation of the person at addr, creating it
// in bot mode with audience def when there is none; see bot.Store.
func (s *Store) Conversation(ctx context.Context, addr bot.Address, def knowledge.Audience, now time.Time) (bot.Conversation, error) {
	var c bot.Conversation
	err := s.db.InTx(ctx, func(q Querier) error {
		var err error
		c, err = s.scanConversation(q.QueryRow(ctx, `SELECT id, created_at, doc FROM conversations WHERE conv_key = ?`+s.d.ForUpdate, addr.Key()))
		switch {
		case err == nil:
			if c.Address == addr {
				return nil
			}
			c.Address = addr
			return s.saveConversation(ctx, q, c)
		case !errors.Is(err, bot.ErrNotFound):
			return err
		}
		c = bot.Conversation{ID: uuid.Must(uuid.NewV7()).String(), Address: addr, Audience: def, Mode: bot.ModeBot, CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
		doc, _ := json.Marshal(toDoc(c))
		n, err := q.Exec(ctx, `INSERT INTO conversations (id, conv_key, created_at, doc, last_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			c.ID, addr.Key(), nanos(c.CreatedAt), string(doc), nanos(c.UpdatedAt))
		if err != nil || n == 1 {
			return err
		}
		// Another process created it first: use theirs.
		c, err = s.scanConversation(q.QueryRow(ctx, `SELECT id, created_at, doc FROM conversations WHERE conv_key = ?`+s.d.ForUpdate, addr.Key()))
		if err != nil {
			return err
		}
		c.Address = addr
		return s.saveConversation(ctx, q, c)
	})
	if err != nil {
		return bot.Conversation{}, fmt.Errorf("conversation: %w", err)
	}
	return c, nil
}

// ConversationByID returns a conversation, or bot.ErrNotFound.
func (s *Store) ConversationByID(ctx context.Context, id string) (bot.Conversation, error) {
	c, err := s.scanConversation(s.db.QueryRow(ctx, `SELECT id, created_at, doc FROM conversations WHERE id = ?`, id))
	if err != nil {
		return bot.Conversation{}, fmt.Errorf("conversation %s: %w", id, err)
	}
	return c, nil
}

// SaveConversation stores c's mutable fields; bot.ErrNotFound for an
// unknown id.
func (s *Store) SaveConversation(ctx context.Context, c bot.Conversation) error {
	if err := s.saveConversation(ctx, s.db, c); err != nil {
		return fmt.Errorf("save conversation %s: %w", c.ID, err)
	}
	return nil
}

func (s *Store) saveConversation(ctx context.Context, q Querier, c bot.Conversation) error {
	doc, err := json.Marshal(toDoc(c))
	if err != nil {
		return err
	}
	var cautionAt any // NULL unless a caution waits for a reply
	if c.Caution != "" && !c.CautionAt.IsZero() {
		cautionAt = nanos(c.CautionAt)
	}
	// A save is a message (or staff news): the retention purge looks at
	// the conversation afresh.
	n, err := q.Exec(ctx, `UPDATE conversations SET doc = ?, caution_at = ?, last_at = ?, cleared = 0 WHERE id = ?`,
		string(doc), cautionAt, nanos(c.UpdatedAt), c.ID)
	if err != nil {
		return err
	}
	if n == 0 {
		return bot.ErrNotFound
	}
	return nil
}

// TakeQuietCautions returns up to limit conversations whose caution was
// shown at or before before and not written in since, oldest first, and
// clears their caution in the same transaction, so that each is returned
// once across processes; see bot.Store.
func (s *Store) TakeQuietCautions(ctx context.Context, before time.Time, limit int) ([]bot.Conversation, error) {
	var out []bot.Conversation
	err := s.db.InTx(ctx, func(q Querier) error {
		out = out[:0]
		rows, err := q.Query(ctx, `SELECT id, created_at, doc FROM conversations
			WHERE caution_at IS NOT NULL AND caution_at <= ? ORDER BY caution_at, id LIMIT ?`+s.d.SkipLocked, nanos(before), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			c, err := s.scanConversation(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range out {
			c.Caution, c.CautionAt = "", time.Time{}
			if err := s.saveConversation(ctx, q, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("quiet cautions: %w", err)
	}
	return out, nil
}

// SaveExchange saves c and appends turns to its history in one
// transaction; bot.ErrNotFound for an unknown conversation. See
// bot.ExchangeStore.
func (s *Store) SaveExchange(ctx context.Context, c bot.Conversation, turns []bot.Turn) error {
	err := s.db.InTx(ctx, func(q Querier) error {
		// The update first: it finds an unknown conversation, and on
		// PostgreSQL locks the row the turns belong to.
		if err := s.saveConversation(ctx, q, c); err != nil {
			return err
		}
		for _, t := range turns {
			sources, err := turnSources(t)
			if err != nil {
				return err
			}
			if _, err := q.Exec(ctx, `INSERT INTO turns (conversation_id, sender, body, at, sources) VALUES (?, ?, ?, ?, ?)`,
				c.ID, t.From, t.Text, nanos(t.At), sources); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save exchange %s: %w", c.ID, err)
	}
	return nil
}

// AppendTurn adds a turn to a conversation; bot.ErrNotFound for an unknown
// conversation.
func (s *Store) AppendTurn(ctx context.Context, conversationID string, t bot.Turn) error {
	sources, err := turnSources(t)
	if err != nil {
		return fmt.Errorf("append turn: %w", err)
	}
	n, err := s.db.Exec(ctx, `INSERT INTO turns (conversation_id, sender, body, at, sources)
		SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM conversations WHERE id = ?)`,
		conversationID, t.From, t.Text, nanos(t.At), sources, conversationID)
	if err != nil {
		return fmt.Errorf("append turn: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("append turn to %s: %w", conversationID, bot.ErrNotFound)
	}
	return nil
}

// Turns returns the last limit turns of a conversation, oldest first; all of
// them when limit is 0 or less.
func (s *Store) Turns(ctx context.Context, conversationID string, limit int) ([]bot.Turn, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	rows, err := s.db.Query(ctx, `SELECT sender, body, at, sources FROM turns WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?`, conversationID, limit)
	if err != nil {
		return nil, fmt.Errorf("turns: %w", err)
	}
	defer rows.Close()
	var ts []bot.Turn
	for rows.Next() {
		var t bot.Turn
		var at int64
		var sources string
		if err := rows.Scan(&t.From, &t.Text, &at, &sources); err != nil {
			return nil, err
		}
		t.At = fromNanos(at)
		if sources != "" {
			if err := json.Unmarshal([]byte(sources), &t.Sources); err != nil {
				return nil, fmt.Errorf("turn sources: %w", err)
			}
		}
		ts = append(ts, t)
	}
	slices.Reverse(ts)
	return ts, rows.Err()
}

// turnSources returns the sources column of t: its sources as JSON, or the
// empty string when it has none.
func turnSources(t bot.Turn) (string, error) {
	if len(t.Sources) == 0 {
		return "", nil
	}
	b, err := json.Marshal(t.Sources)
	if err != nil {
		return "", fmt.Errorf("turn sources: %w", err)
	}
	return string(b), nil
}

// RecordFeedback stores a person's verdict on a passage.
func (s *Store) RecordFeedback(ctx context.Context, f bot.Feedback) error {
	helpful := 0
	if f.Helpful {
		helpful = 1
	}
	_, err := s.db.Exec(ctx, `INSERT INTO feedback (conversation_id, passage_id, helpful, at) VALUES (?, ?, ?, ?)`,
		f.ConversationID, f.PassageID, helpful, nanos(f.At))
	if err != nil {
		return fmt.Errorf("record feedback: %w", err)
	}
	return nil
}

// FirstDelivery reports whether (source, id) is new, across processes.
func (s *Store) FirstDelivery(ctx context.Context, source, id string, now time.Time) (bool, error) {
	n, err := s.db.Exec(ctx, `INSERT INTO seen (source, id, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, source, id, nanos(now))
	if err != nil {
		return false, fmt.Errorf("first delivery: %w", err)
	}
	return n == 1, nil
}

// Post appends m to user's mailbox and returns its sequence number; a
// message whose key the mailbox already holds is not added again (see
// bot.Mailbox).
func (s *Store) Post(ctx context.Context, user string, m bot.MailMessage) (int64, error) {
	posted := func(q Querier) (int64, error) {
		var seq int64
		err := q.QueryRow(ctx, `SELECT seq FROM mail WHERE user_id = ? AND mkey = ?`, user, m.Key).Scan(&seq)
		if errors.Is(err, ErrNoRows) {
			return 0, nil
		}
		return seq, err
	}
	err := s.db.InTx(ctx, func(q Querier) error {
		if m.Key != "" {
			seq, err := posted(q)
			if err != nil || seq > 0 {
				m.Seq = seq
				return err
			}
		}
		if err := q.QueryRow(ctx, `INSERT INTO mail_counters (user_id, n) VALUES (?, 1)
			ON CONFLICT (user_id) DO UPDATE SET n = mail_counters.n + 1 RETURNING n`, user).Scan(&m.Seq); err != nil {
			return err
		}
		m.At = m.At.UTC()
		doc, err := json.Marshal(m)
		if err != nil {
			return err
		}
		_, err = q.Exec(ctx, `INSERT INTO mail (user_id, seq, doc, at, mkey) VALUES (?, ?, ?, ?, ?)`, user, m.Seq, string(doc), nanos(m.At), m.Key)
		return err
	})
	if err != nil && m.Key != "" {
		// The same key posted at the same moment by another process: its
		// message is the one.
		if seq, perr := posted(s.db); perr == nil && seq > 0 {
			return seq, nil
		}
	}
	if err != nil {
		return 0, fmt.Errorf("post to mailbox: %w", err)
	}
	return m.Seq, nil
}

// Since returns up to limit messages (100 when limit is 0 or less) for user
// after sequence number after.
func (s *Store) Since(ctx context.Context, user string, after int64, limit int) ([]bot.MailMessage, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.Query(ctx, `SELECT doc FROM mail WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT ?`, user, after, limit)
	if err != nil {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	defer rows.Close()
	var ms []bot.MailMessage
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		var m bot.MailMessage
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, rows.Err()
}
