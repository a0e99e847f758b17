-- Escalations: the document holds everything; the columns are what the
-- queue is sorted and filtered by. Times are Unix nanoseconds.
CREATE TABLE escalations (
	id         TEXT PRIMARY KEY,
	status     TEXT NOT NULL,
	prank      INTEGER NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	doc        TEXT NOT NULL
);
CREATE INDEX escalations_queue ON escalations (prank, created_at, id);
CREATE INDEX escalations_status_queue ON escalations (status, prank, created_at, id);

-- The outbox: one row per event and target, delivered in seq order per
-- escalation and target.
CREATE TABLE outbox (
	seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id            TEXT NOT NULL UNIQUE,
	escalation_id TEXT NOT NULL,
	target        TEXT NOT NULL,
	event         TEXT NOT NULL,
	payload       TEXT NOT NULL,
	status        TEXT NOT NULL,
	attempts      INTEGER NOT NULL DEFAULT 0,
	next_at       BIGINT NOT NULL,
	lease_owner   TEXT NOT NULL DEFAULT '',
	lease_until   BIGINT NOT NULL DEFAULT 0,
	last_error    TEXT NOT NULL DEFAULT '',
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);
CREATE INDEX outbox_pending ON outbox (escalation_id, target, seq) WHERE status = 'pending';
CREATE INDEX outbox_due ON outbox (seq) WHERE status = 'pending';
CREATE INDEX outbox_escalation ON outbox (escalation_id, seq);

-- Deliveries and changes already seen (Telegram updates, Slack events,
-- inbound helpdesk deliveries).
CREATE TABLE seen (
	source TEXT NOT NULL,
	id     TEXT NOT NULL,
	at     BIGINT NOT NULL,
	PRIMARY KEY (source, id)
);

-- The bot's conversations.
CREATE TABLE conversations (
	id         TEXT PRIMARY KEY,
	conv_key   TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	doc        TEXT NOT NULL
);
CREATE TABLE turns (
	seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	conversation_id TEXT NOT NULL,
	sender          TEXT NOT NULL,
	body            TEXT NOT NULL,
	at              BIGINT NOT NULL
);
CREATE INDEX turns_conversation ON turns (conversation_id, seq);
CREATE TABLE feedback (
	conversation_id TEXT NOT NULL,
	passage_id      TEXT NOT NULL,
	helpful         INTEGER NOT NULL,
	at              BIGINT NOT NULL
);

-- Web-channel mailboxes.
CREATE TABLE mail_counters (
	user_id TEXT PRIMARY KEY,
	n       BIGINT NOT NULL
);
CREATE TABLE mail (
	user_id TEXT NOT NULL,
	seq     BIGINT NOT NULL,
	doc     TEXT NOT NULL,
	PRIMARY KEY (user_id, seq)
);
