-- The question log that the content editors' gap report reads
-- (bot.QuestionEvent): one row per question the bot answered or could not
-- answer, with its outcome, the passage shown and the question with
-- personal details redacted (empty where editors do not need it). A row
-- goes with its conversation (erasure, the purge) and by its own time under
-- the conversations' retention period. Times are Unix nanoseconds.
CREATE TABLE question_events (
	seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	conversation_id TEXT NOT NULL,
	at              BIGINT NOT NULL,
	audience        TEXT NOT NULL,
	outcome         TEXT NOT NULL,
	reason          TEXT NOT NULL,
	passage_id      TEXT NOT NULL,
	confidence      DOUBLE PRECISION NOT NULL,
	body            TEXT NOT NULL
);
CREATE INDEX question_events_at ON question_events (at);
CREATE INDEX question_events_conversation ON question_events (conversation_id);

-- The report counts hand-overs by the week they were made in.
CREATE INDEX escalations_created ON escalations (created_at);
