//! Standard Webhooks (v1) requests: the headers a receiving agency verifies
//! with an off-the-shelf library, and what its answer means for the hub.

use std::{sync::Arc, time::Duration};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use referral_hub_adapters::{Document, MAX_DOCUMENT_BYTES};
use referral_hub_domain::push_policy::PushPolicy;

use super::pinned::{PinnedResolver, refusal_in};

/// How long the hub waits for an endpoint before counting the attempt
/// failed (`--push-connect-timeout-seconds`, `--push-timeout-seconds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushTimeouts {
    /// For the connection (TCP and TLS).
    pub connect: Duration,
    /// For the whole exchange: connecting, sending, and reading the answer.
    pub total: Duration,
}

impl Default for PushTimeouts {
    fn default() -> Self {
        Self { connect: Duration::from_secs(10), total: Duration::from_secs(10) }
    }
}

/// The HTTP client of push delivery: addresses only through the
/// [`PinnedResolver`], no proxy (it would resolve the host itself), no
/// redirects (a 3xx sent the signed payload to a URL nobody registered).
pub fn client(policy: Arc<PushPolicy>, timeouts: PushTimeouts) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(PinnedResolver::new(policy)))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.total)
        .build()
}

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

/// POSTs `document` to `endpoint` with the Standard Webhooks headers, if
/// `policy` admits it (checked again at every attempt: the policy may have
/// changed since it was registered, and reqwest resolves no IP literal).
pub async fn send(
    client: &reqwest::Client,
    policy: &PushPolicy,
    endpoint: &str,
    id: &str,
    timestamp: i64,
    signature: &str,
    document: &Document,
) -> Answer {
    let url = match policy.endpoint(endpoint) {
        Ok(url) => url,
        Err(refusal) => return Answer::Failed(format!("endpoint refused: {refusal}")),
    };
    let request = client
        .post(url)
        .header("content-type", document.content_type)
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(document.body.clone());
    match request.send().await {
        Ok(response) if response.status().is_success() => Answer::Delivered(bounded_body(response).await),
        Ok(response) if response.status() == reqwest::StatusCode::GONE => Answer::Gone,
        Ok(response) if response.status().is_redirection() => {
            Answer::Failed(format!("HTTP {}: redirects are not followed", response.status().as_u16()))
        }
        Ok(response) => Answer::Failed(format!("HTTP {}", response.status().as_u16())),
        // Only the kind of error is kept: it goes to the audit log and dead letters.
        Err(error) => match refusal_in(&error) {
            Some(refusal) => Answer::Failed(format!("endpoint refused: {refusal}")),
            None if error.is_timeout() => Answer::Failed("timeout".into()),
            None if error.is_connect() => Answer::Failed("connection refused or unreachable".into()),
            None => Answer::Failed("transport error".into()),
        },
    }
}

/// The answer's body, read chunk by chunk up to the document limit: an answer
/// too large or cut off is still a delivery, only its follow-ups are lost
/// (and logged). Reading stops at the first byte past the limit, so an
/// endless answer costs at most the limit and one chunk.
async fn bounded_body(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() <= MAX_DOCUMENT_BYTES => body.extend_from_slice(&chunk),
            Ok(None) => return body,
            Ok(Some(_)) | Err(_) => {
                tracing::warn!("push answer over the document limit or cut off; follow-ups in it are not taken");
                return Vec::new();
            }
        }
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
