-- Webhook signing secrets sealed at rest like payloads (issue 26): the
-- columns become blobs that the store seals (store::seal, the organisation id
-- bound as associated data) and opens only to sign. SQLite cannot change a
-- column's type, so the table is rebuilt. The secrets already stored are
-- copied as they are: a blob that does not start with 0x00 reads as plain,
-- so they keep signing, and the background `Store::reseal` pass seals them.
CREATE TABLE push_secrets_sealed (
    org_id          TEXT PRIMARY KEY REFERENCES organisations (id),
    secret          BLOB NOT NULL,
    previous_secret BLOB,
    rotated_at      BIGINT NOT NULL
);
INSERT INTO push_secrets_sealed (org_id, secret, previous_secret, rotated_at)
    SELECT org_id, CAST(secret AS BLOB), CAST(previous_secret AS BLOB), rotated_at FROM push_secrets;
DROP TABLE push_secrets;
ALTER TABLE push_secrets_sealed RENAME TO push_secrets;
