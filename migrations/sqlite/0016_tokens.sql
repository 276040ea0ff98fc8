-- Tokens the hub issued (`referral-hub token issue`), metadata only: the token
-- itself is printed once and never stored, so this table cannot leak one.
-- `token list` reads it; `token revoke --jti` names its rows.
CREATE TABLE issued_tokens (
    jti TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    roles TEXT NOT NULL,
    kid TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX issued_tokens_by_org ON issued_tokens (org_id, issued_at);

-- The operator's revocations (`referral-hub token revoke`): by jti, by
-- organisation and subject, or every token of an organisation issued before a
-- time (`issued_before`, µs; tokens with an earlier `iat` are refused). Every
-- replica re-reads those younger than the maximum token lifetime on an
-- interval; older ones can no longer match a token that has not expired.
CREATE TABLE token_revocations (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    jti TEXT NOT NULL,
    org_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    issued_before BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX token_revocations_by_time ON token_revocations (revoked_at);
