-- Retention (security.md): a closed or withdrawn message's payload, and its
-- follow-ups' texts, are purged a configured time later; the routing
-- metadata (statistics) and the audit log stay.
ALTER TABLE messages ADD COLUMN purged_at BIGINT;
CREATE INDEX messages_awaiting_purge ON messages (updated_at) WHERE purged_at IS NULL;
