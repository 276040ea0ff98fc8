//! Bearer-token policy (docs/security.md "Identity"): how long a token may live,
//! and which tokens an operator has revoked. Pure functions of the token's
//! claims, the revocations and `now` (Unix seconds), so the verifier on every
//! replica applies them identically and the tests need no clock.

use std::collections::{HashMap, HashSet};

/// Why a token's times are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LifetimeRefusal {
    /// No `iat`: its lifetime cannot be checked, nor an "issued before" revocation applied.
    #[error("token lacks iat")]
    NoIssuedAt,
    /// `iat` lies in the future (beyond the leeway): it would escape "issued before" revocations.
    #[error("token issued in the future")]
    IssuedInTheFuture,
    /// `exp - iat` is longer than the hub's maximum token lifetime.
    #[error("token lifetime beyond the maximum")]
    TooLong,
}

/// Checks `iat` / `exp` (Unix seconds) at `now` against `max_lifetime`
/// seconds, allowing `leeway` seconds of clock skew for `iat`.
pub fn check_lifetime(
    issued_at: Option<u64>,
    expires_at: u64,
    now: u64,
    max_lifetime: u64,
    leeway: u64,
) -> Result<(), LifetimeRefusal> {
    let issued_at = issued_at.ok_or(LifetimeRefusal::NoIssuedAt)?;
    if issued_at > now.saturating_add(leeway) {
        return Err(LifetimeRefusal::IssuedInTheFuture);
    }
    if expires_at.saturating_sub(issued_at) > max_lifetime {
        return Err(LifetimeRefusal::TooLong);
    }
    Ok(())
}

/// One revocation, as the operator made it (`referral-hub token revoke`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// The token with this `jti`.
    Token {
        /// `jti`.
        jti: String,
    },
    /// Every token of `subject` in `org` issued before `issued_before` (Unix seconds).
    Subject {
        /// `org`.
        org: String,
        /// `sub`.
        subject: String,
        /// Tokens with `iat` before this are refused.
        issued_before: u64,
    },
    /// Every token of `org` issued before `issued_before` (Unix seconds).
    Organisation {
        /// `org`.
        org: String,
        /// Tokens with `iat` before this are refused.
        issued_before: u64,
    },
}

/// What of a verified token a revocation can name.
#[derive(Debug, Clone, Copy)]
pub struct TokenFacts<'a> {
    /// `jti`, if the token has one.
    pub jti: Option<&'a str>,
    /// `org`.
    pub org: &'a str,
    /// `sub`.
    pub subject: &'a str,
    /// `iat`, Unix seconds.
    pub issued_at: u64,
}

/// Every revocation in force, indexed so a check per call costs three lookups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revocations {
    jtis: HashSet<String>,
    subjects: HashMap<(String, String), u64>,
    organisations: HashMap<String, u64>,
}

impl Revocations {
    /// Whether any revocation refuses the token described by `token`.
    pub fn revokes(&self, token: &TokenFacts<'_>) -> bool {
        let before = |cutoff: Option<&u64>| cutoff.is_some_and(|cutoff| token.issued_at < *cutoff);
        token.jti.is_some_and(|jti| self.jtis.contains(jti))
            || before(self.subjects.get(&(token.org.to_owned(), token.subject.to_owned())))
            || before(self.organisations.get(token.org))
    }

    /// How many revocations are in force.
    pub fn len(&self) -> usize {
        self.jtis.len() + self.subjects.len() + self.organisations.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl FromIterator<Revocation> for Revocations {
    fn from_iter<I: IntoIterator<Item = Revocation>>(revocations: I) -> Self {
        let mut all = Revocations::default();
        for revocation in revocations {
            match revocation {
                Revocation::Token { jti } => {
                    all.jtis.insert(jti);
                }
                Revocation::Subject { org, subject, issued_before } => {
                    let cutoff = all.subjects.entry((org, subject)).or_default();
                    *cutoff = (*cutoff).max(issued_before);
                }
                Revocation::Organisation { org, issued_before } => {
                    let cutoff = all.organisations.entry(org).or_default();
                    *cutoff = (*cutoff).max(issued_before);
                }
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    #[test]
    fn a_token_needs_iat_and_a_lifetime_within_the_maximum() {
        assert_eq!(check_lifetime(None, 100, 50, DAY, 30), Err(LifetimeRefusal::NoIssuedAt));
        assert_eq!(check_lifetime(Some(0), DAY, 50, DAY, 30), Ok(()));
        assert_eq!(check_lifetime(Some(0), DAY + 1, 50, DAY, 30), Err(LifetimeRefusal::TooLong));
        assert_eq!(check_lifetime(Some(80), 90, 50, DAY, 30), Ok(()), "within the leeway");
        assert_eq!(check_lifetime(Some(81), 90, 50, DAY, 30), Err(LifetimeRefusal::IssuedInTheFuture));
        assert_eq!(check_lifetime(Some(10), 5, 50, DAY, 30), Ok(()), "expired is the verifier's to refuse");
    }

    fn token<'a>(jti: Option<&'a str>, org: &'a str, subject: &'a str, issued_at: u64) -> TokenFacts<'a> {
        TokenFacts { jti, org, subject, issued_at }
    }

    #[test]
    fn each_way_of_revoking_names_exactly_its_tokens() {
        let revocations: Revocations = [
            Revocation::Token { jti: "j1".into() },
            Revocation::Subject { org: "a".into(), subject: "w".into(), issued_before: 100 },
            Revocation::Organisation { org: "b".into(), issued_before: 200 },
            Revocation::Organisation { org: "b".into(), issued_before: 150 },
        ]
        .into_iter()
        .collect();
        assert_eq!(revocations.len(), 3);
        assert!(revocations.revokes(&token(Some("j1"), "z", "z", 0)));
        assert!(!revocations.revokes(&token(Some("j2"), "z", "z", 0)));
        assert!(!revocations.revokes(&token(None, "z", "z", 0)));
        assert!(revocations.revokes(&token(None, "a", "w", 99)));
        assert!(!revocations.revokes(&token(None, "a", "w", 100)), "issued after the revocation");
        assert!(!revocations.revokes(&token(None, "a", "other", 99)), "another subject");
        assert!(revocations.revokes(&token(None, "b", "any", 199)), "the later cutoff of the two wins");
        assert!(!revocations.revokes(&token(None, "b", "any", 200)));
        assert!(!Revocations::default().revokes(&token(Some("j1"), "a", "w", 0)));
    }
}
