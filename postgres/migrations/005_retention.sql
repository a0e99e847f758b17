-- Retention and people's rights (erasure, export). Times are Unix
-- nanoseconds.
--
-- conversations.last_at is the time of the conversation's last message
-- (its doc's updated_at), which the purge compares with the retention
-- period; cleared is 1 once the purge has cleared the text of a
-- conversation it keeps (one with the support team), until it is written
-- in again.
ALTER TABLE conversations ADD COLUMN last_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN cleared INTEGER NOT NULL DEFAULT 0;
UPDATE conversations SET last_at = COALESCE(
	CASE WHEN doc::jsonb->>'updated_at' >= '1970'
		THEN (EXTRACT(EPOCH FROM (doc::jsonb->>'updated_at')::timestamptz) * 1000000)::bigint * 1000 END,
	(SELECT MAX(at) FROM turns WHERE turns.conversation_id = conversations.id),
	created_at);
CREATE INDEX conversations_idle ON conversations (last_at) WHERE cleared = 0;

CREATE INDEX turns_at ON turns (at);
CREATE INDEX feedback_at ON feedback (at);
CREATE INDEX feedback_conversation ON feedback (conversation_id);
CREATE INDEX seen_at ON seen (at);

-- escalations.person is the person's channel and user id
-- ("telegram:12345"), as a conversation's key: an erasure or export finds
-- their escalations by it.
ALTER TABLE escalations ADD COLUMN person TEXT NOT NULL DEFAULT '';
UPDATE escalations SET person = COALESCE(doc::jsonb->'address'->>'channel', '') || ':' || COALESCE(doc::jsonb->'address'->>'user_id', '');
CREATE INDEX escalations_person ON escalations (person);
CREATE INDEX escalations_resolved ON escalations (updated_at) WHERE status = 'resolved';

-- Settled outbox rows whose payload the purge has not cleared yet (a
-- cleared payload is the empty string).
CREATE INDEX outbox_settled ON outbox (updated_at) WHERE status <> 'pending' AND payload <> '';

-- mail.at is when the message was posted (its doc's at).
ALTER TABLE mail ADD COLUMN at BIGINT NOT NULL DEFAULT 0;
UPDATE mail SET at = CASE WHEN doc::jsonb->>'at' >= '1970'
	THEN (EXTRACT(EPOCH FROM (doc::jsonb->>'at')::timestamptz) * 1000000)::bigint * 1000
	ELSE (EXTRACT(EPOCH FROM now()) * 1000000)::bigint * 1000 END;
CREATE INDEX mail_at ON mail (at);

CREATE INDEX web_sessions_user ON web_sessions (user_id);
