//! An identity provider's JSON Web Key Set read as keys with their algorithm
//! pinned: each key verifies tokens of one algorithm only (the JWK's `alg`
//! when it says, else the one its type and curve imply), so a token cannot
//! choose how it is checked (algorithm confusion: `none`, HS256 keyed with a
//! public key, RS256 against an ECDSA key). Keys the hub cannot use (for
//! encryption, symmetric, unknown curves) are listed with the reason, never
//! skipped silently: providers publish such keys beside their signing keys.

use jsonwebtoken::{
    Algorithm, DecodingKey,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse},
};

/// One key of a set, ready to verify tokens of `algorithm`.
pub struct PinnedKey {
    /// `kid`: tokens name their key by it.
    pub kid: String,
    /// The public key.
    pub key: DecodingKey,
    /// The one algorithm its tokens may use.
    pub algorithm: Algorithm,
}

/// Why a key of a set is not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    /// Not a JWK this verifier understands (unknown `kty`, `alg` or `crv`, a missing member).
    #[error("not a JWK the hub reads ({0})")]
    Unreadable(String),
    /// No `kid`: tokens could not name it.
    #[error("no kid")]
    NoKid,
    /// `use` other than `sig`, or `key_ops` without `verify`.
    #[error("not for signatures (use or key_ops)")]
    NotForSignatures,
    /// `kty: oct`: a shared secret never verifies tokens here.
    #[error("a symmetric key")]
    Symmetric,
    /// `alg` is not a signature algorithm of this key's type (e.g. `RSA-OAEP`).
    #[error("alg {0} does not sign with this key type")]
    WrongAlgorithm(String),
    /// A curve without a JWS algorithm here (P-521, X25519).
    #[error("curve {0} not supported")]
    Curve(String),
    /// The key material does not parse.
    #[error("malformed key material")]
    Malformed,
}

/// The keys of a set: those usable, and every other one with its reason.
#[derive(Default)]
pub struct ReadSet {
    /// Keys tokens may be verified with.
    pub usable: Vec<PinnedKey>,
    /// `(kid or position, reason)` of each key left out.
    pub unusable: Vec<(String, Unusable)>,
}

impl ReadSet {
    /// The left-out keys, for a log line or an error message: `kid: reason; …`.
    pub fn unusable_text(&self) -> String {
        let each = self.unusable.iter().map(|(kid, why)| format!("{kid}: {why}"));
        each.collect::<Vec<_>>().join("; ")
    }
}

/// Why a document is not a key set at all.
#[derive(Debug, thiserror::Error)]
#[error("not a JSON Web Key Set (an object with a `keys` array)")]
pub struct NotAKeySet;

/// Reads a JWKS document key by key, so one key the hub cannot use does not
/// take the others with it.
pub fn read_set(document: &[u8]) -> Result<ReadSet, NotAKeySet> {
    #[derive(serde::Deserialize)]
    struct Set {
        keys: Vec<serde_json::Value>,
    }
    let set: Set = serde_json::from_slice(document).map_err(|_| NotAKeySet)?;
    let mut read = ReadSet::default();
    for (position, value) in set.keys.into_iter().enumerate() {
        let named = value.get("kid").and_then(|k| k.as_str()).map(str::to_owned);
        let name = named.unwrap_or_else(|| format!("key #{position}"));
        match pin(value) {
            Ok(key) => read.usable.push(key),
            Err(why) => read.unusable.push((name, why)),
        }
    }
    Ok(read)
}

/// One JWK as a pinned key, or why not.
fn pin(value: serde_json::Value) -> Result<PinnedKey, Unusable> {
    let jwk: Jwk = serde_json::from_value(value).map_err(|e| Unusable::Unreadable(e.to_string()))?;
    let kid = jwk.common.key_id.clone().filter(|kid| !kid.is_empty()).ok_or(Unusable::NoKid)?;
    let signs = match &jwk.common.public_key_use {
        Some(PublicKeyUse::Signature) | None => true,
        Some(_) => false,
    };
    let verifies = jwk
        .common
        .key_operations
        .as_ref()
        .is_none_or(|ops| ops.iter().any(|op| matches!(op, jsonwebtoken::jwk::KeyOperations::Verify)));
    if !signs || !verifies {
        return Err(Unusable::NotForSignatures);
    }
    let algorithm = algorithm_of(&jwk)?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| Unusable::Malformed)?;
    Ok(PinnedKey { kid, key, algorithm })
}

/// The algorithm a key verifies: its `alg` if that fits its type, else its type's default.
fn algorithm_of(jwk: &Jwk) -> Result<Algorithm, Unusable> {
    let declared = jwk.common.key_algorithm;
    let wrong = || Unusable::WrongAlgorithm(declared.map(|a| format!("{a:?}")).unwrap_or_default());
    match &jwk.algorithm {
        AlgorithmParameters::OctetKey(_) => Err(Unusable::Symmetric),
        AlgorithmParameters::RSA(_) => match declared {
            None | Some(KeyAlgorithm::RS256) => Ok(Algorithm::RS256),
            Some(KeyAlgorithm::RS384) => Ok(Algorithm::RS384),
            Some(KeyAlgorithm::RS512) => Ok(Algorithm::RS512),
            Some(KeyAlgorithm::PS256) => Ok(Algorithm::PS256),
            Some(KeyAlgorithm::PS384) => Ok(Algorithm::PS384),
            Some(KeyAlgorithm::PS512) => Ok(Algorithm::PS512),
            Some(_) => Err(wrong()),
        },
        AlgorithmParameters::EllipticCurve(ec) => match (&ec.curve, declared) {
            (EllipticCurve::P256, None | Some(KeyAlgorithm::ES256)) => Ok(Algorithm::ES256),
            (EllipticCurve::P384, None | Some(KeyAlgorithm::ES384)) => Ok(Algorithm::ES384),
            (EllipticCurve::P256 | EllipticCurve::P384, Some(_)) => Err(wrong()),
            (curve, _) => Err(Unusable::Curve(format!("{curve:?}"))),
        },
        AlgorithmParameters::OctetKeyPair(okp) => match (&okp.curve, declared) {
            (EllipticCurve::Ed25519, None | Some(KeyAlgorithm::EdDSA)) => Ok(Algorithm::EdDSA),
            (EllipticCurve::Ed25519, Some(_)) => Err(wrong()),
            (curve, _) => Err(Unusable::Curve(format!("{curve:?}"))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The modulus and exponent of a real RSA key (any will do: only parsing is tested).
    const N: &str = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";

    fn rsa(extra: serde_json::Value) -> serde_json::Value {
        let mut key = json!({ "kty": "RSA", "kid": "r", "n": N, "e": "AQAB" });
        key.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        key
    }

    fn read(keys: Vec<serde_json::Value>) -> ReadSet {
        read_set(json!({ "keys": keys }).to_string().as_bytes()).unwrap()
    }

    #[test]
    fn rsa_keys_are_pinned_to_their_alg_or_rs256() {
        let set = read(vec![rsa(json!({})), rsa(json!({"kid": "p", "alg": "PS256", "use": "sig"}))]);
        let algorithms: Vec<_> = set.usable.iter().map(|k| (k.kid.as_str(), k.algorithm)).collect();
        assert_eq!(algorithms, [("r", Algorithm::RS256), ("p", Algorithm::PS256)]);
        assert!(set.unusable.is_empty());
    }

    #[test]
    fn keys_the_hub_cannot_verify_with_are_listed_with_the_reason() {
        let set = read(vec![
            rsa(json!({"kid": "enc", "use": "enc", "alg": "RSA-OAEP"})),
            rsa(json!({"kid": "oaep", "alg": "RSA-OAEP"})),
            rsa(json!({"kid": "es", "alg": "ES256"})),
            json!({ "kty": "oct", "kid": "secret", "k": "c2VjcmV0" }),
            rsa(json!({"kid": null})),
            json!({ "kty": "EC", "kid": "p521", "crv": "P-521", "x": "AA", "y": "AA" }),
            json!({ "kty": "RSA", "kid": "weird", "alg": "RSA-OAEP-384", "n": N, "e": "AQAB" }),
        ]);
        assert!(set.usable.is_empty());
        let reasons: Vec<_> = set.unusable.iter().map(|(kid, why)| (kid.as_str(), why.clone())).collect();
        assert_eq!(reasons[0], ("enc", Unusable::NotForSignatures));
        assert_eq!(reasons[1], ("oaep", Unusable::WrongAlgorithm("RSA_OAEP".into())));
        assert_eq!(reasons[2], ("es", Unusable::WrongAlgorithm("ES256".into())));
        assert_eq!(reasons[3], ("secret", Unusable::Symmetric));
        assert_eq!(reasons[4], ("key #4", Unusable::NoKid));
        assert_eq!(reasons[5], ("p521", Unusable::Curve("P521".into())));
        assert!(matches!(reasons[6].1, Unusable::Unreadable(_)), "{:?}", reasons[6]);
        assert!(set.unusable_text().starts_with("enc: not for signatures"), "{}", set.unusable_text());
    }

    #[test]
    fn a_document_without_keys_is_not_a_set() {
        assert!(read_set(b"not json").is_err());
        assert!(read_set(br#"{"issuer": "x"}"#).is_err());
        assert!(read_set(br#"{"keys": []}"#).unwrap().usable.is_empty());
    }
}
