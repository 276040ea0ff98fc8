-- The tamper-evident audit log (security.md "Audit log"). Entries are chained
-- by hash (see referral_hub_domain::audit for the canonical encoding); the
-- single audit_head row holds the chain head and, being updated by every
-- append, serialises appends so concurrent transactions never fork the chain.

CREATE TABLE audit_log (
    seq               BIGINT PRIMARY KEY,
    at                BIGINT NOT NULL,
    action            TEXT NOT NULL,
    outcome           TEXT NOT NULL,
    severity          TEXT NOT NULL,
    actor_org         TEXT NOT NULL,
    actor_subject     TEXT NOT NULL,
    actor_roles       TEXT NOT NULL,
    actor_certificate TEXT NOT NULL,
    source_address    TEXT NOT NULL,
    purpose           TEXT NOT NULL,
    message_id        TEXT NOT NULL,
    message_kind      TEXT NOT NULL,
    child_key_hash    TEXT NOT NULL,
    consent_id        TEXT NOT NULL,
    legal_basis       TEXT NOT NULL,
    detail            TEXT NOT NULL,
    trace_id          TEXT NOT NULL,
    previous_hash     BLOB NOT NULL,
    hash              BLOB NOT NULL
);
CREATE INDEX audit_by_time ON audit_log (at, seq);
CREATE INDEX audit_by_org ON audit_log (actor_org, seq);
CREATE INDEX audit_by_message ON audit_log (message_id, seq);
CREATE INDEX audit_by_child ON audit_log (child_key_hash, seq);
CREATE INDEX audit_by_action ON audit_log (action, seq);

CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash BLOB NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));

-- Append-only for the hub itself.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
