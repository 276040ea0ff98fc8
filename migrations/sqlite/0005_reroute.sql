-- Re-routing (domain.md "Deadlines and escalation"): a lead agency may move an
-- overdue referral to another provider; the new message names the old one.
ALTER TABLE messages ADD COLUMN rerouted_from TEXT REFERENCES messages (id);
