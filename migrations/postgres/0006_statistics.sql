-- Statistics (security.md "Privacy", issue 6): clear, non-identifying
-- metadata written at submit, so figures never need the payload. Age is a
-- band, never a date; sex and displacement are taxonomy codes.
ALTER TABLE messages ADD COLUMN sender_sector TEXT;
ALTER TABLE messages ADD COLUMN recipient_sector TEXT;
ALTER TABLE messages ADD COLUMN sex TEXT;
ALTER TABLE messages ADD COLUMN age_band TEXT;
ALTER TABLE messages ADD COLUMN displacement TEXT;

CREATE TABLE message_concerns (
    message_id TEXT NOT NULL REFERENCES messages (id),
    concern    TEXT NOT NULL,
    PRIMARY KEY (message_id, concern)
);
CREATE INDEX messages_by_time ON messages (created_at);
