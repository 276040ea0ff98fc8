-- The privileges of the role the hub serves as (docs/operations.md
-- "PostgreSQL roles"). Run it as the owner role, the one `referral-hub
-- migrate` ran as, after every `migrate`, naming the serving role:
--
--   psql "postgres://referral_hub_owner@db.internal/referral_hub" \
--        -v serving_role=referral_hub -f deploy/postgres/serving-role.sql
--
-- It takes back whatever the serving role had on the tables, then grants
-- exactly what the hub's statements need (crates/store). The audit tables
-- are append-only: the serving role reads them and INSERTs into them, and may
-- not UPDATE, DELETE or TRUNCATE them; not owning them, it may not ALTER or
-- DROP them or their triggers, so it cannot switch the triggers off.
--
-- A table this list does not name gets nothing, and the hub fails on it:
-- name every new table here, in its class (tests/e2e/roles.rs fails while
-- one is missing). A table named here that does not exist yet (a migration
-- this database has not had) is passed over; run the file again after the
-- migration that creates it.

\set ON_ERROR_STOP on

\if :{?serving_role}
\else
DO $$ BEGIN RAISE EXCEPTION 'name the serving role: psql -v serving_role=NAME -f serving-role.sql'; END $$;
\endif

BEGIN;

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM :"serving_role";
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM :"serving_role";
GRANT USAGE ON SCHEMA public TO :"serving_role";
-- None today; a serial column's sequence needs USAGE for an INSERT.
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO :"serving_role";

SELECT format('GRANT %s ON TABLE %I TO %I', privileges, table_name, :'serving_role')
FROM (VALUES
    -- Which migrations are applied: `serve --migrations check` reads it.
    ('_sqlx_migrations',        'SELECT'),

    -- The audit log and what proves it: read and appended, never changed.
    ('audit_log',               'SELECT, INSERT'),
    ('audit_tree_nodes',        'SELECT, INSERT'),
    ('audit_tree_heads',        'SELECT, INSERT'),
    ('audit_signing_keys',      'SELECT, INSERT'),
    -- The chain head: one row (inserted by its migration) that every append moves.
    ('audit_head',              'SELECT, UPDATE'),

    -- Written once, never changed: inbox entries, concerns, notices, and the
    -- console's token records (`token issue|revoke` may run as this role).
    ('inbox_entries',           'SELECT, INSERT'),
    ('message_concerns',        'SELECT, INSERT'),
    ('directory_notices',       'SELECT, INSERT'),
    ('issued_tokens',           'SELECT, INSERT'),
    ('token_revocations',       'SELECT, INSERT'),

    -- Rows that move: a message's status and erased payload, a consent
    -- record's or follow-up's re-sealed body, inbox positions, push leases,
    -- retries and secrets, re-sealing marks, a directory entry.
    ('messages',                'SELECT, INSERT, UPDATE'),
    ('follow_ups',              'SELECT, INSERT, UPDATE'),
    ('consent_records',         'SELECT, INSERT, UPDATE'),
    ('unrouted_alerts',         'SELECT, INSERT, UPDATE'),
    ('inboxes',                 'SELECT, INSERT, UPDATE'),
    ('push_state',              'SELECT, INSERT, UPDATE'),
    ('dead_letters',            'SELECT, INSERT, UPDATE'),
    ('push_secrets',            'SELECT, INSERT, UPDATE'),
    ('reseal_marks',            'SELECT, INSERT, UPDATE'),
    ('organisations',           'SELECT, INSERT, UPDATE'),

    -- An organisation's lists, replaced whole when its entry changes.
    ('organisation_areas',      'SELECT, INSERT, DELETE'),
    ('organisation_services',   'SELECT, INSERT, DELETE'),
    ('organisation_lead_areas', 'SELECT, INSERT, DELETE')
) AS grants (table_name, privileges)
WHERE to_regclass(format('%I', table_name)) IS NOT NULL
\gexec

COMMIT;
