-- The intake: deliveries from Telegram and Slack, written before they are
-- acknowledged (in the same transaction as their row in seen) and removed
-- once handled. One conversation's deliveries (source, conv) are handled
-- in seq order. A person's message is kept here only until it is handled.
CREATE TABLE intake (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	source      TEXT NOT NULL,
	id          TEXT NOT NULL,
	conv        TEXT NOT NULL,
	payload     BLOB NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_at     INTEGER NOT NULL,
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until INTEGER NOT NULL DEFAULT 0,
	received_at INTEGER NOT NULL
);
CREATE INDEX intake_conv ON intake (source, conv, seq);
CREATE INDEX intake_source ON intake (source, seq);
