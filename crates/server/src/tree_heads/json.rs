//! Tree heads and signing keys written out: the protobuf JSON mapping of
//! `SignedTreeHead` and `ListSigningKeysResponse`, exactly as `grpcurl`
//! prints them, so that a file from the hub and a response fetched with any
//! gRPC client read the same (docs/transparency.md). Hand-written because
//! these two small messages are all the hub writes this way.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde_json::{Value, json};

use referral_hub_domain::{audit::merkle::Hash, audit::tree_head::TreeHead, wire::SignedTreeHead};
use referral_hub_store::SigningKeyPeriod;

/// `head` in the protobuf JSON mapping.
pub fn tree_head(head: &SignedTreeHead) -> Value {
    json!({
        "treeSize": head.tree_size.to_string(),
        "rootHash": STANDARD.encode(&head.root_hash),
        "signedAtMicros": head.signed_at_micros.to_string(),
        "keyId": head.key_id,
        "signature": STANDARD.encode(&head.signature),
    })
}

/// Reads a `SignedTreeHead` (or a `GetTreeHeadResponse` holding one) in the
/// protobuf JSON mapping; `None` if it is not one.
pub fn parse_tree_head(value: &Value) -> Option<TreeHead> {
    let head = value.get("treeHead").or_else(|| value.get("tree_head")).unwrap_or(value);
    let field = |camel: &str, snake: &str| head.get(camel).or_else(|| head.get(snake));
    let number = |value: &Value| value.as_str().map_or_else(|| value.as_i64(), |text| text.parse().ok());
    let bytes = |value: &Value| STANDARD.decode(value.as_str()?).ok();
    let root: Hash = bytes(field("rootHash", "root_hash")?)?.try_into().ok()?;
    Some(TreeHead {
        size: u64::try_from(number(field("treeSize", "tree_size")?)?).ok()?,
        root,
        at: number(field("signedAtMicros", "signed_at_micros")?)?,
        kid: field("keyId", "key_id")?.as_str()?.to_owned(),
        signature: bytes(field("signature", "signature")?)?,
    })
}

/// Every signing key as a JWK set (RFC 7517; Ed25519 as RFC 8037 `OKP`),
/// each with the period it was in use.
pub fn key_set(keys: &[SigningKeyPeriod]) -> Value {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let keys: Vec<Value> = keys
        .iter()
        .map(|key| {
            let mut jwk = json!({
                "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
                "kid": key.kid, "x": URL_SAFE_NO_PAD.encode(&key.public_key),
                "valid_from_micros": key.valid_from,
            });
            if let Some(until) = key.valid_until {
                jwk["valid_until_micros"] = until.into();
            }
            jwk
        })
        .collect();
    json!({ "keys": keys })
}

/// Reads a JWK set as [`key_set`] writes it (the keys an organisation kept);
/// `None` if a key is not an Ed25519 key with a kid and a period.
pub fn parse_key_set(value: &Value) -> Option<Vec<SigningKeyPeriod>> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let keys = value.get("keys")?.as_array()?;
    keys.iter()
        .map(|jwk| {
            (jwk.get("crv")?.as_str()? == "Ed25519").then_some(())?;
            Some(SigningKeyPeriod {
                kid: jwk.get("kid")?.as_str()?.to_owned(),
                public_key: URL_SAFE_NO_PAD.decode(jwk.get("x")?.as_str()?).ok()?,
                valid_from: jwk.get("valid_from_micros")?.as_i64()?,
                valid_until: jwk.get("valid_until_micros").and_then(Value::as_i64),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_head_reads_back_as_written_and_as_grpcurl_prints_it() {
        let head =
            TreeHead { size: 7, root: [3; 32], at: 1_796_716_800_000_001, kid: "k1".into(), signature: vec![9; 64] };
        let written = tree_head(&SignedTreeHead::from(&head));
        assert_eq!(parse_tree_head(&written), Some(head.clone()));
        let wrapped = json!({ "treeHead": written });
        assert_eq!(parse_tree_head(&wrapped), Some(head));
        assert_eq!(parse_tree_head(&json!({ "treeSize": "x" })), None);
    }

    #[test]
    fn a_key_set_reads_back_as_written() {
        let keys = vec![
            SigningKeyPeriod { kid: "a".into(), public_key: vec![1; 32], valid_from: 5, valid_until: Some(9) },
            SigningKeyPeriod { kid: "b".into(), public_key: vec![2; 32], valid_from: 9, valid_until: None },
        ];
        assert_eq!(parse_key_set(&key_set(&keys)), Some(keys));
    }
}
