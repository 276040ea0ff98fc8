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
}
