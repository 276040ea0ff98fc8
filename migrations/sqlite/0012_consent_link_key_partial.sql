-- Consent lookups by link key (store::consent::consents_for_children): only
-- records that have one are indexed. Most records have none (an empty key),
-- so the full index was mostly one long run of ('org', '') entries, and a
-- planner without statistics (a young database, or PostgreSQL's generic plan
-- cached while the table was empty) could pick it for the lookup by local id
-- and then scan every record of the organisation. A partial index serves only
-- queries that say `child_link_key <> ''`, as the lookup by link key does.

DROP INDEX consent_by_link_key;
CREATE INDEX consent_by_link_key ON consent_records (recorded_by_org, child_link_key) WHERE child_link_key <> '';
