-- The audit log as a Merkle tree (docs/transparency.md): the hashes of its
-- complete subtrees, the signed tree heads handed to every organisation,
-- and every public key the hub ever signed with. All append-only: a tree
-- head once handed out must stay provable.

-- Every perfect subtree (2^level leaves from idx * 2^level), level 0 being
-- the leaves, written once complete by the tree-head task
-- (crates/store/src/audit_tree.rs), from which any proof is a few reads.
CREATE TABLE audit_tree_nodes (
    level BIGINT NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE audit_tree_heads (
    tree_size  BIGINT PRIMARY KEY,
    root_hash  BYTEA NOT NULL,
    signed_at  BIGINT NOT NULL,
    key_id     TEXT NOT NULL,
    signature  BYTEA NOT NULL
);

-- A key is valid from its first use until the next key's first use.
CREATE TABLE audit_signing_keys (
    key_id     TEXT PRIMARY KEY,
    public_key BYTEA NOT NULL,
    valid_from BIGINT NOT NULL
);

-- A hub notice in an inbox is now a directory change or a new tree head:
-- the body is the encoded referralhub.v1.DirectoryNotice or SignedTreeHead.
ALTER TABLE directory_notices ADD COLUMN kind TEXT NOT NULL DEFAULT 'DIRECTORY';

-- Append-only for the hub itself (the function is 0002's).
CREATE TRIGGER audit_tree_nodes_no_change BEFORE UPDATE OR DELETE ON audit_tree_nodes
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_tree_nodes_no_truncate BEFORE TRUNCATE ON audit_tree_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_tree_heads_no_change BEFORE UPDATE OR DELETE ON audit_tree_heads
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_tree_heads_no_truncate BEFORE TRUNCATE ON audit_tree_heads
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_signing_keys_no_change BEFORE UPDATE OR DELETE ON audit_signing_keys
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_signing_keys_no_truncate BEFORE TRUNCATE ON audit_signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
