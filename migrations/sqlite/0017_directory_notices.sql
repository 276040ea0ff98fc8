-- Directory notices (security.md "Authorisation"): when an organisation's
-- directory entry changes, the hub tells the organisation in its own inbox,
-- naming every changed field, so that a channel or endpoint diverted from it
-- is noticed by its owner. An inbox entry is now a message (or a follow-up on
-- one) or a notice: SQLite cannot drop NOT NULL in place, so the table is
-- rebuilt with the same columns, key and rows.

CREATE TABLE directory_notices (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organisations (id),
    created_at BIGINT NOT NULL,
    -- The encoded referralhub.v1.DirectoryNotice (no child data).
    body       BLOB NOT NULL
);

CREATE TABLE inbox_entries_rebuilt (
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    position     BIGINT NOT NULL,
    message_id   TEXT REFERENCES messages (id),
    follow_up_id TEXT REFERENCES follow_ups (id),
    created_at   BIGINT NOT NULL,
    notice_id    TEXT REFERENCES directory_notices (id),
    PRIMARY KEY (org_id, position),
    CHECK ((message_id IS NULL) <> (notice_id IS NULL))
);
INSERT INTO inbox_entries_rebuilt (org_id, position, message_id, follow_up_id, created_at)
    SELECT org_id, position, message_id, follow_up_id, created_at FROM inbox_entries;
DROP TABLE inbox_entries;
ALTER TABLE inbox_entries_rebuilt RENAME TO inbox_entries;
