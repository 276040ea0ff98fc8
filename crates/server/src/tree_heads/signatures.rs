//! Checking a signature of the hub's with public keys only: the key named,
//! in use at the time signed. What lets a tree head or a checkpoint from
//! before a key rotation verify after it, without the private key directory.

use referral_hub_store::SigningKeyPeriod;

/// Whether a signature holds, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureCheck {
    /// The named key signed it, while in use.
    Valid,
    /// No published key has this id.
    UnknownKey,
    /// The key was not in use at the time the statement claims.
    OutsidePeriod,
    /// The key did not sign these bytes.
    Invalid,
}

impl SignatureCheck {
    /// What to tell the operator.
    pub fn reason(self) -> &'static str {
        match self {
            SignatureCheck::Valid => "the signature verifies",
            SignatureCheck::UnknownKey => "no published signing key has its key id",
            SignatureCheck::OutsidePeriod => "its signing key was not in use at the time it was signed",
            SignatureCheck::Invalid => "the signature does not verify with the published key",
        }
    }
}

/// Checks that `kid`, in use at `at` (µs), signed `message` with `signature`.
pub fn check(keys: &[SigningKeyPeriod], kid: &str, at: i64, message: &[u8], signature: &[u8]) -> SignatureCheck {
    let Some(key) = keys.iter().find(|key| key.kid == kid) else { return SignatureCheck::UnknownKey };
    if at < key.valid_from || key.valid_until.is_some_and(|until| at >= until) {
        return SignatureCheck::OutsidePeriod;
    }
    let public = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &key.public_key);
    match public.verify(message, signature) {
        Ok(()) => SignatureCheck::Valid,
        Err(_) => SignatureCheck::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use ring::signature::{Ed25519KeyPair, KeyPair};

    use super::*;

    fn pair() -> Ed25519KeyPair {
        let document = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).expect("key");
        Ed25519KeyPair::from_pkcs8(document.as_ref()).expect("key")
    }

    #[test]
    fn a_signature_holds_only_by_its_key_within_its_period() {
        let (old, new) = (pair(), pair());
        let period = |kid: &str, key: &Ed25519KeyPair, from, until| SigningKeyPeriod {
            kid: kid.into(),
            public_key: key.public_key().as_ref().to_vec(),
            valid_from: from,
            valid_until: until,
        };
        let keys = [period("old", &old, 100, Some(200)), period("new", &new, 200, None)];
        let signed = old.sign(b"statement");
        assert_eq!(check(&keys, "old", 150, b"statement", signed.as_ref()), SignatureCheck::Valid);
        assert_eq!(check(&keys, "old", 250, b"statement", signed.as_ref()), SignatureCheck::OutsidePeriod);
        assert_eq!(check(&keys, "old", 150, b"another", signed.as_ref()), SignatureCheck::Invalid);
        assert_eq!(check(&keys, "new", 250, b"statement", signed.as_ref()), SignatureCheck::Invalid);
        assert_eq!(check(&keys, "gone", 150, b"statement", signed.as_ref()), SignatureCheck::UnknownKey);
    }
}
