-- When the bot last showed a crisis signposting line (a caution) in a
-- conversation that has not been written in since: NULL otherwise. The
-- service follows up conversations that go quiet after one.
ALTER TABLE conversations ADD COLUMN caution_at BIGINT;
CREATE INDEX conversations_caution_at ON conversations (caution_at) WHERE caution_at IS NOT NULL;
