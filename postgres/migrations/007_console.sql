-- The support console. Staff sessions: a random session id, kept only as
-- the hex SHA-256 of it, bound to a member of staff by name. Times are Unix
-- nanoseconds; expires_at is when the session ends unless it is used again.
CREATE TABLE console_sessions (
	id_hash      TEXT PRIMARY KEY,
	staff        TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	last_used_at BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL
);
CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at);
-- rev counts the changes saved to an escalation, so that the console's live
-- pages can tell by polling that something changed (see Store.Revision).
ALTER TABLE escalations ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;
