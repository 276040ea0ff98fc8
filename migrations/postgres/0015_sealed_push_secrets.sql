-- Webhook signing secrets sealed at rest like payloads (issue 26): the
-- columns become blobs that the store seals (store::seal, the organisation id
-- bound as associated data) and opens only to sign. The secrets already
-- stored keep their bytes: a blob that does not start with 0x00 reads as
-- plain, so they keep signing, and the background `Store::reseal` pass seals them.
ALTER TABLE push_secrets
    ALTER COLUMN secret TYPE BYTEA USING convert_to(secret, 'UTF8'),
    ALTER COLUMN previous_secret TYPE BYTEA USING convert_to(previous_secret, 'UTF8');
