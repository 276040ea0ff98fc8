-- How far the background re-sealing (store::seal, `Store::reseal`) has
-- checked each sealed table: every row with an id up to `checked_through` was
-- sealed under `key_id`. Without it every pass, at each start and every ten
-- minutes, read every payload of every table.
CREATE TABLE reseal_marks (
    table_name TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    checked_through TEXT NOT NULL
);
