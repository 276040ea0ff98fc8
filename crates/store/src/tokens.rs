//! Tokens the hub issued (metadata, never the token) and the operator's
//! revocations, which every replica re-reads on an interval.

use referral_hub_domain::{audit::Entry, ids::OrgId, timestamps::UnixMicros, tokens::Revocation};

use crate::{Result, Store, StoreError};

/// What the hub records of a token it issued: enough to list and revoke it,
/// never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IssuedTokenRow {
    /// `jti`.
    pub jti: String,
    /// `org`.
    #[sqlx(try_from = "String")]
    pub org_id: OrgId,
    /// `sub`.
    pub subject: String,
    /// `roles`, comma-separated.
    pub roles: String,
    /// The signing key's id.
    pub kid: String,
    /// `iat`.
    #[sqlx(try_from = "i64")]
    pub issued_at: UnixMicros,
    /// `exp`.
    #[sqlx(try_from = "i64")]
    pub expires_at: UnixMicros,
}

const MICROS: i64 = 1_000_000;

impl Store {
    /// Records a token the hub issued, with its audit entry.
    pub async fn record_issued_token(&self, token: &IssuedTokenRow, mut audit: Entry) -> Result<()> {
        let mut tx = self.pools.write.begin().await?;
        let mut head = Self::lock_audit_head(&mut tx).await?;
        sqlx::query(
            "INSERT INTO issued_tokens (jti, org_id, subject, roles, kid, issued_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&token.jti)
        .bind(token.org_id.as_str())
        .bind(&token.subject)
        .bind(&token.roles)
        .bind(&token.kid)
        .bind(token.issued_at.get())
        .bind(token.expires_at.get())
        .execute(&mut *tx)
        .await?;
        self.append_audit(&mut tx, &mut head, std::slice::from_mut(&mut audit)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Issued tokens, newest first: `org`'s only when given, those still
    /// valid at `valid_at` (µs) only when given; at most `limit`.
    pub async fn issued_tokens(
        &self,
        org: Option<&OrgId>,
        valid_at: Option<UnixMicros>,
        limit: u32,
    ) -> Result<Vec<IssuedTokenRow>> {
        let rows = sqlx::query_as(
            "SELECT jti, org_id, subject, roles, kid, issued_at, expires_at FROM issued_tokens \
             WHERE ($1 = '' OR org_id = $1) AND expires_at >= $2 ORDER BY issued_at DESC, jti LIMIT $3",
        )
        .bind(org.map_or("", |org| org.as_str()))
        .bind(valid_at.map_or(i64::MIN, UnixMicros::get))
        .bind(i64::from(limit))
        .fetch_all(&self.pools.read)
        .await?;
        Ok(rows)
    }

    /// Records `revocation`, made at `now`, with its audit entry.
    pub async fn revoke_tokens(&self, revocation: &Revocation, now: UnixMicros, mut audit: Entry) -> Result<()> {
        let (kind, jti, org, subject, issued_before) = match revocation {
            Revocation::Token { jti } => ("TOKEN", jti.as_str(), "", "", 0),
            Revocation::Subject { org, subject, issued_before } => {
                ("SUBJECT", "", org.as_str(), subject.as_str(), *issued_before)
            }
            Revocation::Organisation { org, issued_before } => ("ORGANISATION", "", org.as_str(), "", *issued_before),
        };
        let mut tx = self.pools.write.begin().await?;
        let mut head = Self::lock_audit_head(&mut tx).await?;
        sqlx::query(
            "INSERT INTO token_revocations (id, kind, jti, org_id, subject, issued_before, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(kind)
        .bind(jti)
        .bind(org)
        .bind(subject)
        .bind(i64::try_from(issued_before).unwrap_or(i64::MAX / MICROS).saturating_mul(MICROS))
        .bind(now.get())
        .execute(&mut *tx)
        .await?;
        self.append_audit(&mut tx, &mut head, std::slice::from_mut(&mut audit)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The revocations made after `since`: older ones name only tokens
    /// that have expired, once `since` is the maximum token lifetime ago.
    pub async fn revocations_since(&self, since: UnixMicros) -> Result<Vec<Revocation>> {
        let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
            "SELECT kind, jti, org_id, subject, issued_before FROM token_revocations WHERE revoked_at > $1",
        )
        .bind(since.get())
        .fetch_all(&self.pools.read)
        .await?;
        rows.into_iter()
            .map(|(kind, jti, org, subject, before)| {
                let issued_before = u64::try_from(before / MICROS).unwrap_or(0);
                match kind.as_str() {
                    "TOKEN" => Ok(Revocation::Token { jti }),
                    "SUBJECT" => Ok(Revocation::Subject { org, subject, issued_before }),
                    "ORGANISATION" => Ok(Revocation::Organisation { org, issued_before }),
                    _ => Err(StoreError::Corrupt { column: "token_revocations.kind" }),
                }
            })
            .collect()
    }
}
