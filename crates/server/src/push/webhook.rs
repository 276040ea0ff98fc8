//! Standard Webhooks (v1) requests: the headers a receiving agency verifies
//! with an off-the-shelf library, and what its answer means for the hub.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use referral_hub_adapters::{Document, MAX_DOCUMENT_BYTES};

/// How long the hub waits for an endpoint before counting the attempt failed.
pub const PUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What an endpoint's answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 2xx: delivered; the body, which may hold the agency's follow-ups.
    Delivered(Vec<u8>),
    /// 410 Gone: the endpoint is no more; stop at once.
    Gone,
    /// Anything else (a status or a transport error kind): retry later.
    Failed(String),
}

/// The `webhook-signature` value: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`
/// for each secret (the previous one too while a rotation is under way),
/// space-separated. Secrets are `whsec_<base64 key>`.
pub fn signature(secrets: &[&str], id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let mut signed = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let key = STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        signed.push(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())));
    }
    Some(signed.join(" "))
}

/// A new signing secret: 32 random bytes, `whsec_`-prefixed base64.
pub fn new_secret() -> Result<String, ring::error::Unspecified> {
    let mut key = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)?;
    Ok(format!("whsec_{}", STANDARD.encode(key)))
}

/// POSTs `document` to `endpoint` with the Standard Webhooks headers.
pub async fn send(
    client: &reqwest::Client,
    endpoint: &str,
    id: &str,
    timestamp: i64,
    signature: &str,
    document: &Document,
) -> Answer {
    let request = client
        .post(endpoint)
        .timeout(PUSH_TIMEOUT)
        .header("content-type", document.content_type)
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(document.body.clone());
    match request.send().await {
        Ok(response) if response.status().is_success() => {
            // An answer too large or cut off is still a delivery; only its follow-ups are lost (and logged).
            let body = response.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
            Answer::Delivered(if body.len() <= MAX_DOCUMENT_BYTES { body } else { Vec::new() })
        }
        Ok(response) if response.status() == reqwest::StatusCode::GONE => Answer::Gone,
        Ok(response) => Answer::Failed(format!("HTTP {}", response.status().as_u16())),
        // Only the kind of error is kept: it goes to the audit log and dead letters.
        Err(error) if error.is_timeout() => Answer::Failed("timeout".into()),
        Err(error) if error.is_connect() => Answer::Failed("connection refused or unreachable".into()),
        Err(_) => Answer::Failed("transport error".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification.
    #[test]
    fn signs_like_the_specification_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let signed = signature(&[secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let rotating = signature(&[secret, secret], "id", 1, b"x").unwrap();
        assert_eq!(rotating.split(' ').count(), 2);
        assert_eq!(signature(&["not-a-secret"], "id", 1, b"x"), None);
    }

    #[test]
    fn new_secrets_are_distinct_and_usable() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert_ne!(a, b);
        assert!(signature(&[&a], "id", 1, b"x").is_some());
    }
}
