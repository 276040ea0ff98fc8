-- Case transfers, separated-child alerts and re-referrals (domain.md "Message
-- kinds", issue 6).

-- The organisation that owns the case once the receiver accepts a transfer
-- (NULL: the sender), and the status as the original sender last saw it
-- (NULL: the current status) once the new owner stops sharing follow-ups.
ALTER TABLE messages ADD COLUMN owner_org TEXT REFERENCES organisations (id);
ALTER TABLE messages ADD COLUMN sender_view_status TEXT;
-- The declined referral this one re-refers to another provider.
ALTER TABLE messages ADD COLUMN re_referral_of TEXT REFERENCES messages (id);
-- When the receiver first acknowledged and accepted (µs), for statistics.
ALTER TABLE messages ADD COLUMN acknowledged_at BIGINT;
ALTER TABLE messages ADD COLUMN accepted_at BIGINT;

-- 1 for a follow-up by the new owner of a transferred case that it did not
-- share back: the original sender neither receives nor reads it.
ALTER TABLE follow_ups ADD COLUMN hidden_from_sender BIGINT NOT NULL DEFAULT 0;

-- Separated-child alerts no lead agency could be found for: kept whole (the
-- request as submitted, national ids already turned into link keys) until an
-- admin routes one, never dropped.
CREATE TABLE unrouted_alerts (
    id                TEXT PRIMARY KEY,
    sender_org        TEXT NOT NULL REFERENCES organisations (id),
    sender_subject    TEXT NOT NULL,
    request_id        TEXT NOT NULL,
    request_hash      BLOB NOT NULL,
    area              TEXT NOT NULL,
    received_at       BIGINT NOT NULL,
    body              BLOB NOT NULL,
    routed_message_id TEXT REFERENCES messages (id),
    UNIQUE (sender_org, request_id)
);
CREATE INDEX unrouted_alerts_waiting ON unrouted_alerts (routed_message_id, id);
