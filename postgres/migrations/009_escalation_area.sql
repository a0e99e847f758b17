-- The local area (a local pack's id) of the person an escalation is for,
-- in a column of its own so that staff limited to some areas see only
-- theirs; '' when the service answers for one area or none.
ALTER TABLE escalations ADD COLUMN area TEXT NOT NULL DEFAULT '';
UPDATE escalations SET area = COALESCE(doc::jsonb ->> 'area', '');
CREATE INDEX escalations_area_queue ON escalations (area, prank, created_at, id);
