-- A web user's mailbox message may carry a key that names what it delivers
-- (a staff reply: its escalation and number), so that a delivery retried
-- after a crash is posted once; '' for messages without one.
ALTER TABLE mail ADD COLUMN mkey TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX mail_key ON mail (user_id, mkey) WHERE mkey <> '';
