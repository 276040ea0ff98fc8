//! The cross-agency child link key: an HMAC of a national identifier with the
//! hub's secret, so two agencies can tell they speak of the same child while
//! the hub never holds the identifier.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::audit::hex;

/// The link key of `national_id` under `secret`: HMAC-SHA256, hex. The
/// identifier is normalised first (spaces, dashes and dots dropped, letters
/// upper-cased) so that formatting differences between agencies do not matter.
pub fn link_key(secret: &[u8], national_id: &str) -> String {
    let normalised: String = normalise(national_id);
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(normalised.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// How a stored local-id key starts, so that a row from before local ids were
/// keyed can be told apart (and keyed by the server's background pass).
pub const LOCAL_ID_KEY_PREFIX: &str = "lk1:";

/// What the hub keeps of a child's local case id in organisation `org`: an
/// HMAC under the hub's secret, bound to the organisation. Consent records are
/// found by equality with it, as they were by the id itself, while the
/// database holds no agency's case numbers. Empty stays empty (a child known
/// by link key only).
pub fn local_id_key(secret: &[u8], org: &str, local_id: &str) -> String {
    if local_id.is_empty() {
        return String::new();
    }
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    // Each part length-prefixed, so no two (org, id) pairs give the same input.
    for part in ["local-id", org, local_id] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    format!("{LOCAL_ID_KEY_PREFIX}{}", hex(&mac.finalize().into_bytes()))
}

/// Whether `stored` is a local-id key rather than an id stored as sent.
pub fn is_local_id_key(stored: &str) -> bool {
    stored.strip_prefix(LOCAL_ID_KEY_PREFIX).is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The identifier as compared: letters and digits only, upper-case.
pub fn normalise(national_id: &str) -> String {
    national_id.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_identifier_gives_the_same_key_whatever_its_formatting() {
        let secret = b"hub secret";
        let key = link_key(secret, "12/ABC(N) 045-678");
        assert_eq!(key, link_key(secret, "12abcn045678"));
        assert_eq!(key.len(), 64);
        assert_ne!(key, link_key(secret, "12ABCN045679"));
        assert_ne!(key, link_key(b"another hub", "12ABCN045678"), "the secret matters");
        assert!(!key.contains("045678"));
    }

    #[test]
    fn a_local_id_key_matches_by_equality_and_reveals_neither_id_nor_organisation() {
        let secret = b"hub secret";
        let key = local_id_key(secret, "clinic", "HF-0001");
        assert_eq!(key, local_id_key(secret, "clinic", "HF-0001"));
        assert!(is_local_id_key(&key));
        assert!(!key.contains("HF-0001") && !key.contains("clinic"));
        assert_ne!(key, local_id_key(secret, "school", "HF-0001"), "bound to the organisation");
        assert_ne!(key, local_id_key(secret, "clinic", "HF-0002"));
        assert_ne!(key, local_id_key(b"another hub", "clinic", "HF-0001"));
        assert_ne!(local_id_key(secret, "a", "b\0c"), local_id_key(secret, "a\0b", "c"));
        assert_eq!(local_id_key(secret, "clinic", ""), "");
        assert!(!is_local_id_key("HF-0001") && !is_local_id_key("lk1:HF-0001"));
    }
}
