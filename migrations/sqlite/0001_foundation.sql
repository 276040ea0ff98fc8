-- Foundation: directory, messages with their follow-ups, per-organisation inboxes.
-- Times are microseconds since the Unix epoch (UTC). Enum values are the proto
-- value names (e.g. MESSAGE_STATUS_SUBMITTED) so the database reads plainly.
-- Payloads and follow-up texts live in `body` blobs (encoded protobuf) so they
-- can be sealed later without touching the routing columns.

CREATE TABLE organisations (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    sector            TEXT NOT NULL,
    channel           TEXT NOT NULL,
    status            TEXT NOT NULL,
    -- JSON arrays, for reading back; searches use the two tables below.
    areas             TEXT NOT NULL,
    services          TEXT NOT NULL,
    lead_agency_areas TEXT NOT NULL
);

CREATE TABLE organisation_areas (
    org_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    area   TEXT NOT NULL,
    PRIMARY KEY (org_id, area)
);

CREATE TABLE organisation_services (
    org_id  TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    service TEXT NOT NULL,
    PRIMARY KEY (org_id, service)
);
CREATE INDEX organisation_services_by_service ON organisation_services (service, org_id);

CREATE TABLE messages (
    id             TEXT PRIMARY KEY,
    sender_org     TEXT NOT NULL REFERENCES organisations (id),
    sender_subject TEXT NOT NULL,
    recipient_org  TEXT NOT NULL REFERENCES organisations (id),
    request_id     TEXT NOT NULL,
    request_hash   BLOB NOT NULL,
    kind           TEXT NOT NULL,
    status         TEXT NOT NULL,
    risk_level     TEXT NOT NULL,
    child_link_key TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    acknowledge_by BIGINT NOT NULL,
    respond_by     BIGINT NOT NULL,
    body           BLOB NOT NULL,
    UNIQUE (sender_org, request_id)
);
CREATE INDEX messages_sent ON messages (sender_org, id);
CREATE INDEX messages_received ON messages (recipient_org, id);

CREATE TABLE follow_ups (
    id             TEXT PRIMARY KEY,
    message_id     TEXT NOT NULL REFERENCES messages (id),
    author_org     TEXT NOT NULL REFERENCES organisations (id),
    author_subject TEXT NOT NULL,
    request_id     TEXT NOT NULL,
    request_hash   BLOB NOT NULL,
    action         TEXT NOT NULL,
    status_after   TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    body           BLOB NOT NULL,
    UNIQUE (author_org, request_id)
);
CREATE INDEX follow_ups_by_message ON follow_ups (message_id, id);

-- One row per receiving organisation: the last position handed out and the
-- last one its system acknowledged. Positions are taken under this row's lock,
-- so they commit in order and a reader never skips one.
CREATE TABLE inboxes (
    org_id         TEXT PRIMARY KEY REFERENCES organisations (id),
    last_position  BIGINT NOT NULL,
    acked_position BIGINT NOT NULL
);

CREATE TABLE inbox_entries (
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    position     BIGINT NOT NULL,
    message_id   TEXT NOT NULL REFERENCES messages (id),
    follow_up_id TEXT REFERENCES follow_ups (id),
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (org_id, position)
);
