-- Deadlines and escalation (domain.md "Deadlines and escalation").
-- `area` is where the child is (an area code path, no name): escalations go
-- to that area's lead agency. A message is flagged overdue once per deadline;
-- the partial indexes hold only messages still waiting on that deadline, so a
-- scan costs what is due, not what is stored.

ALTER TABLE messages ADD COLUMN area TEXT;
ALTER TABLE messages ADD COLUMN acknowledge_overdue_at BIGINT;
ALTER TABLE messages ADD COLUMN respond_overdue_at BIGINT;
CREATE INDEX messages_acknowledge_due ON messages (acknowledge_by)
    WHERE acknowledge_overdue_at IS NULL AND status IN ('MESSAGE_STATUS_SUBMITTED', 'MESSAGE_STATUS_DELIVERED');
CREATE INDEX messages_respond_due ON messages (respond_by)
    WHERE respond_overdue_at IS NULL AND status = 'MESSAGE_STATUS_ACKNOWLEDGED';

CREATE TABLE organisation_lead_areas (
    org_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    area   TEXT NOT NULL,
    PRIMARY KEY (org_id, area)
);
CREATE INDEX organisation_lead_areas_by_area ON organisation_lead_areas (area);
