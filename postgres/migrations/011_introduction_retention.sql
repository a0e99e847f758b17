-- Retention of PA network introductions. Times are Unix nanoseconds.
--
-- introductions.updated_at is the time of the introduction's last change
-- (its doc's updated_at): the request, then the PA's answer or its
-- expiry. The purge compares it with the retention period of answered,
-- declined and expired introductions; a request still waiting is never
-- purged. Rows written before this migration take their doc's
-- updated_at, else their expiry (when an unanswered request expires); a row
-- an older askpa writes during a rolling upgrade keeps 0, and the purge
-- judges it by its expiry.
ALTER TABLE introductions ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE introductions SET updated_at = COALESCE(
	CASE WHEN doc::jsonb->>'updated_at' >= '1970'
		THEN (EXTRACT(EPOCH FROM (doc::jsonb->>'updated_at')::timestamptz) * 1000000)::bigint * 1000 END,
	expires_at);
CREATE INDEX introductions_settled ON introductions (updated_at) WHERE status <> 'requested';
