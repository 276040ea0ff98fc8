//! Bearer tokens verified already. An agency's system sends the same token
//! with every call until it expires, and checking its Ed25519 signature again
//! each time cost about a tenth of the hub's CPU under load. A remembered token
//! still expires on time, and every remembered token is forgotten whenever the
//! verification keys change (rotation, retirement, a new JWKS). What the
//! directory says (suspension, certificate binding) is checked on every call
//! regardless, and so are revocations (`Authenticator::verify_headers` checks
//! them after this cache). Tokens are remembered by their SHA-256, never kept
//! themselves.

use std::{
    collections::{BTreeSet, HashMap},
    sync::Mutex,
};

use sha2::{Digest, Sha256};

use referral_hub_domain::roles::Role;

/// How many tokens are remembered at most; when full, all are forgotten (the
/// next call of each verifies again), which bounds memory without bookkeeping.
const CAPACITY: usize = 10_000;

/// Who a verified token names, and until when it is honoured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    /// `org`.
    pub org: String,
    /// `sub`.
    pub subject: String,
    /// The known roles of `roles`.
    pub roles: BTreeSet<Role>,
    /// The last second (Unix time) the token is honoured: `exp` plus the leeway.
    pub honoured_until: u64,
    /// `jti`, when the token has one (the hub's own always do).
    pub jti: Option<String>,
    /// `iat`, Unix seconds.
    pub issued_at: u64,
}

/// Tokens verified already, by hash.
#[derive(Default)]
pub(crate) struct VerifiedTokens {
    by_hash: Mutex<HashMap<[u8; 32], Identity>>,
}

impl VerifiedTokens {
    /// The identity `token` was verified as, if it was and is still honoured at `now`.
    pub(crate) fn get(&self, token: &str, now: u64) -> Option<Identity> {
        let mut by_hash = self.by_hash.lock().unwrap_or_else(|p| p.into_inner());
        let hash = hash(token);
        match by_hash.get(&hash) {
            Some(identity) if now <= identity.honoured_until => Some(identity.clone()),
            Some(_) => {
                by_hash.remove(&hash);
                None
            }
            None => None,
        }
    }

    /// Remembers that `token` verified as `identity`.
    pub(crate) fn remember(&self, token: &str, identity: Identity) {
        let mut by_hash = self.by_hash.lock().unwrap_or_else(|p| p.into_inner());
        if by_hash.len() >= CAPACITY {
            by_hash.clear();
        }
        by_hash.insert(hash(token), identity);
    }

    /// Forgets every token: the keys they were verified with changed.
    pub(crate) fn forget_all(&self) {
        self.by_hash.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(until: u64) -> Identity {
        Identity {
            org: "o".into(),
            subject: "s".into(),
            roles: BTreeSet::new(),
            honoured_until: until,
            jti: None,
            issued_at: 0,
        }
    }

    #[test]
    fn a_token_is_honoured_until_its_time_and_only_if_remembered() {
        let tokens = VerifiedTokens::default();
        assert_eq!(tokens.get("t", 0), None);
        tokens.remember("t", identity(100));
        assert_eq!(tokens.get("t", 100), Some(identity(100)));
        assert_eq!(tokens.get("other", 100), None);
        assert_eq!(tokens.get("t", 101), None, "expired");
        assert_eq!(tokens.get("t", 50), None, "an expired token is forgotten, not kept");
    }

    #[test]
    fn key_changes_and_a_full_cache_forget_tokens() {
        let tokens = VerifiedTokens::default();
        tokens.remember("t", identity(100));
        tokens.forget_all();
        assert_eq!(tokens.get("t", 0), None);
        for i in 0..CAPACITY {
            tokens.remember(&i.to_string(), identity(100));
        }
        assert!(tokens.get("0", 0).is_some());
        tokens.remember("one more", identity(100));
        assert_eq!(tokens.get("0", 0), None);
        assert!(tokens.get("one more", 0).is_some());
    }
}
