-- Consent records whose child local id is still stored as sent (from before
-- local ids were keyed, server/src/local_ids.rs). The keying pass looks for
-- them at every start; with this index, once they are keyed, that is a look
-- at an empty index instead of a scan of every consent record. The predicate
-- is the pass's query's, term for term, so the planner can use it.
CREATE INDEX consent_unkeyed_local_ids ON consent_records (id)
    WHERE child_local_id <> '' AND child_local_id NOT LIKE 'lk1:%';
