-- Consent records (consent.md). Never updated: a change or a withdrawal is a
-- new row whose supersedes_id names the old one; the unique index makes a
-- record superseded at most once. Terms live in `body` (encoded ConsentRecord).

CREATE TABLE consent_records (
    id              TEXT PRIMARY KEY,
    recorded_by_org TEXT NOT NULL REFERENCES organisations (id),
    request_id      TEXT NOT NULL,
    request_hash    BLOB NOT NULL,
    kind            TEXT NOT NULL,
    child_local_id  TEXT NOT NULL,
    child_link_key  TEXT NOT NULL,
    supersedes_id   TEXT REFERENCES consent_records (id),
    recorded_at     BIGINT NOT NULL,
    body            BLOB NOT NULL,
    UNIQUE (recorded_by_org, request_id)
);
CREATE INDEX consent_by_child ON consent_records (recorded_by_org, child_local_id);
CREATE INDEX consent_by_link_key ON consent_records (recorded_by_org, child_link_key);
CREATE UNIQUE INDEX consent_superseded_once ON consent_records (supersedes_id);

-- What each message relies on: a consent record, or a legal basis (an override).
ALTER TABLE messages ADD COLUMN consent_id TEXT REFERENCES consent_records (id);
ALTER TABLE messages ADD COLUMN legal_basis TEXT;
ALTER TABLE messages ADD COLUMN hold_reason TEXT;
CREATE INDEX messages_by_consent ON messages (consent_id);
CREATE INDEX messages_overrides ON messages (id) WHERE legal_basis IS NOT NULL;
CREATE INDEX messages_overrides_by_sender ON messages (sender_org, id) WHERE legal_basis IS NOT NULL;
