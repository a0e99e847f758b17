-- Web-channel sessions: a bearer token, kept only as the hex SHA-256 of it,
-- bound to one web user. Times are Unix nanoseconds; expires_at is when the
-- session ends unless it is used again (the edge slides it forward on use,
-- up to an absolute limit).
CREATE TABLE web_sessions (
	token_hash   TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL
);
CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at);
