-- Push delivery (adapters.md "Shape", operations.md "Delivery guarantees"):
-- the hub POSTs a PUSH organisation's inbox, in order, to its endpoint.

ALTER TABLE organisations ADD COLUMN push_endpoint TEXT NOT NULL DEFAULT '';

-- One row per PUSH organisation being delivered to: which replica holds its
-- queue (a lease, so two replicas never push the same entry at once, and a
-- dead replica's queue is taken over once the lease runs out), and the retry
-- state of the entry at the head of the queue.
CREATE TABLE push_state (
    org_id          TEXT PRIMARY KEY REFERENCES organisations (id),
    lease_owner     TEXT NOT NULL,
    lease_until     BIGINT NOT NULL,
    -- Failed attempts at the head entry, and when the first one failed (µs).
    attempts        BIGINT NOT NULL DEFAULT 0,
    first_failed_at BIGINT,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    -- 1 after a 410 Gone: no pushing until an admin retries a dead letter.
    suspended       BIGINT NOT NULL DEFAULT 0
);

-- Entries given up on: metadata only (ids, counts, the last HTTP status),
-- never the payload. Retrying one puts its message or follow-up in the
-- organisation's inbox again.
CREATE TABLE dead_letters (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    position        BIGINT NOT NULL,
    message_id      TEXT NOT NULL REFERENCES messages (id),
    follow_up_id    TEXT REFERENCES follow_ups (id),
    attempts        BIGINT NOT NULL,
    first_failed_at BIGINT NOT NULL,
    dead_at         BIGINT NOT NULL,
    last_error      TEXT NOT NULL,
    -- DEAD, RETRIED or CANCELLED.
    state           TEXT NOT NULL
);
CREATE INDEX dead_letters_by_state ON dead_letters (state, id);

-- Standard Webhooks signing secrets (`whsec_…`), per organisation; the
-- previous one is kept while a rotation is under way (both sign).
CREATE TABLE push_secrets (
    org_id          TEXT PRIMARY KEY REFERENCES organisations (id),
    secret          TEXT NOT NULL,
    previous_secret TEXT,
    rotated_at      BIGINT NOT NULL
);
