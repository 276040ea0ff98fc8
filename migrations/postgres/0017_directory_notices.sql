-- Directory notices (security.md "Authorisation"): when an organisation's
-- directory entry changes, the hub tells the organisation in its own inbox,
-- naming every changed field, so that a channel or endpoint diverted from it
-- is noticed by its owner. An inbox entry is now a message (or a follow-up on
-- one) or a notice.

CREATE TABLE directory_notices (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organisations (id),
    created_at BIGINT NOT NULL,
    -- The encoded referralhub.v1.DirectoryNotice (no child data).
    body       BYTEA NOT NULL
);

ALTER TABLE inbox_entries ALTER COLUMN message_id DROP NOT NULL;
ALTER TABLE inbox_entries ADD COLUMN notice_id TEXT REFERENCES directory_notices (id);
-- NOT VALID: every existing row has a message, and checking them all would
-- hold the table's lock for a scan of the whole inbox history.
ALTER TABLE inbox_entries ADD CONSTRAINT inbox_entries_message_or_notice
    CHECK ((message_id IS NULL) <> (notice_id IS NULL)) NOT VALID;
