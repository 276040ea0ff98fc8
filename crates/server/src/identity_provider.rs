//! An external identity provider (Keycloak, Microsoft Entra ID, Okta …) as it
//! is: its keys fetched over HTTPS from a JWKS URL, or found by OpenID
//! Connect discovery from its issuer, refreshed when its cache headers say
//! (`domain::key_refresh`), the last good set kept when a refresh fails, and
//! fetched early, at most once per cooldown, when a token names a key the hub
//! does not know. Its tokens are checked against its own issuer, audience
//! and claim paths (`claims::TokenProfile`), and each of its keys speaks only
//! for the organisations the operator bound it (or its issuer) to.

use std::{collections::HashMap, sync::Arc, time::Duration};

use referral_hub_domain::key_refresh::{CacheHeaders, Refresh, RefreshSchedule, freshness};

use crate::{
    claims::{ClaimPath, TokenProfile},
    hub::Hub,
    jwk::ReadSet,
    keys::{KeyBindings, KeyError, SpeaksFor, VerificationKey},
    scheduler_control::SchedulerControl,
};

/// The largest discovery document or key set read (Entra's is about 10 KiB).
const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// How long a fetch may take, connection included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// What the operator configured about the provider.
pub struct ProviderConfig {
    /// `iss` of its tokens; discovery starts at `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// `aud` its tokens must carry for this hub (Entra: the application's client id).
    pub audience: String,
    /// The key set's URL; discovered from the issuer when `None`.
    pub jwks_url: Option<String>,
    /// CA certificates (PEM) trusted for the provider besides the public roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Where its tokens carry the organisation.
    pub org_claim: ClaimPath,
    /// Where its tokens carry the roles.
    pub roles_claim: ClaimPath,
    /// Whom its keys speak for unless `bindings` names their `kid` (`--oidc-orgs`).
    pub organisations: SpeaksFor,
    /// Per-key bindings (`--key-orgs`), which win over `organisations`.
    pub bindings: KeyBindings,
}

/// Why the provider's keys could not be had.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Keys and discovery are fetched over HTTPS only.
    #[error("{0}: the identity provider is reached over https only")]
    NotHttps(String),
    /// The CA file or the HTTP client is unusable.
    #[error("identity provider client: {0}")]
    Client(String),
    /// The request failed or was answered with an error status.
    #[error("{url}: {reason}")]
    Fetch {
        /// What was fetched (without its query).
        url: String,
        /// Connection error or HTTP status.
        reason: String,
    },
    /// The discovery document is not what OpenID Connect Discovery 1.0 says.
    #[error("{url}: {reason}")]
    Discovery {
        /// The discovery document's URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The answer is not a key set.
    #[error("{0}: not a JSON Web Key Set")]
    NotAKeySet(String),
    /// The key set has no usable signing key.
    #[error(transparent)]
    NoUsableKey(#[from] KeyError),
}

/// The provider's keys and what the refresher needs to keep them current.
pub struct IdentityProvider {
    profile: Arc<TokenProfile>,
    organisations: SpeaksFor,
    bindings: KeyBindings,
    client: reqwest::Client,
    jwks_url: String,
    keys: HashMap<String, VerificationKey>,
    /// Seconds the set fetched at start stays fresh.
    fresh_for: u64,
    control: Arc<SchedulerControl>,
}

impl IdentityProvider {
    /// Discovers the key set (unless its URL is configured) and fetches it at
    /// `now` (Unix seconds). An unreachable provider or a set without a usable
    /// key is an error: the hub does not start with a provider whose tokens
    /// it would all refuse. `control` drives the refresher (its interval is
    /// how often it looks whether a fetch is due).
    pub async fn start(
        config: ProviderConfig,
        control: Arc<SchedulerControl>,
        now: i64,
    ) -> Result<IdentityProvider, ProviderError> {
        let client = client(config.ca_pem.as_deref())?;
        let jwks_url = match config.jwks_url {
            Some(url) => https(url)?,
            None => discover(&client, &config.issuer).await?,
        };
        let profile = TokenProfile {
            issuer: config.issuer,
            audience: config.audience,
            org: config.org_claim,
            roles: config.roles_claim,
        };
        let mut provider = IdentityProvider {
            profile: Arc::new(profile),
            organisations: config.organisations,
            bindings: config.bindings,
            client,
            jwks_url,
            keys: HashMap::new(),
            fresh_for: 0,
            control,
        };
        let (set, fresh_for) = provider.fetch(now).await?;
        if !set.unusable.is_empty() {
            tracing::warn!(jwks = %shown(&provider.jwks_url), unusable = %set.unusable_text(), "JWKS keys left out");
        }
        provider.keys = provider.pinned(set);
        provider.fresh_for = fresh_for;
        tracing::info!(jwks = %shown(&provider.jwks_url), keys = provider.keys.len(), fresh_for, "identity provider keys");
        Ok(provider)
    }

    /// The refresher's controls (`scan_now` looks whether a fetch is due).
    pub fn control(&self) -> Arc<SchedulerControl> {
        self.control.clone()
    }

    /// The `kid`s of the keys fetched at start.
    pub fn kids(&self) -> Vec<String> {
        self.keys.keys().cloned().collect()
    }

    /// Installs the keys fetched at start in `auth`, before the first call.
    pub(crate) fn install(&self, auth: &crate::auth::Authenticator) {
        auth.replace_provider_keys(self.keys.clone());
        auth.wake_on_unknown_kid(self.control.clone());
    }

    /// Keeps the keys current until the hub stops; the fetch at
    /// start counts as made now on the hub's clock.
    pub(crate) async fn run(self, hub: Arc<Hub>) {
        let started = RefreshSchedule::after_fetch(hub.clock.now().unix_timestamp(), Some(self.fresh_for));
        let schedule = std::sync::Mutex::new(started);
        self.control.run(&hub.shutdown, || self.refresh_if_due(&hub, &schedule)).await;
    }

    /// One look: fetches if the set is stale, or an unknown key id was seen
    /// and the cooldown has passed; a failed fetch keeps the keys in use.
    async fn refresh_if_due(&self, hub: &Hub, schedule: &std::sync::Mutex<RefreshSchedule>) {
        let now = hub.clock.now().unix_timestamp();
        let current = *schedule.lock().unwrap_or_else(|p| p.into_inner());
        let why = current.decide(now, hub.auth.unknown_kid_seen());
        if why == Refresh::NotYet {
            return;
        }
        hub.auth.unknown_kid_served();
        let next = match self.fetch(now).await {
            Ok((set, fresh_for)) => {
                let changed = hub.auth.replace_provider_keys(self.pinned(set));
                tracing::info!(?why, changed, fresh_for, "identity provider keys fetched");
                RefreshSchedule::after_fetch(now, Some(fresh_for))
            }
            Err(error) => {
                tracing::warn!(?why, %error, "identity provider keys not refreshed; the last good set stays");
                RefreshSchedule::after_fetch(now, None)
            }
        };
        *schedule.lock().unwrap_or_else(|p| p.into_inner()) = next;
    }

    /// Fetches the key set: its usable keys (at least one) and how long it stays fresh.
    async fn fetch(&self, now: i64) -> Result<(ReadSet, u64), ProviderError> {
        let (body, headers) = get(&self.client, &self.jwks_url).await?;
        let set = crate::jwk::read_set(&body).map_err(|_| ProviderError::NotAKeySet(shown(&self.jwks_url)))?;
        if set.usable.is_empty() {
            let unusable = set.unusable_text();
            return Err(KeyError::NoUsableKey { location: shown(&self.jwks_url), unusable }.into());
        }
        Ok((set, headers.freshness(now)))
    }

    /// The usable keys of `set`, each with this provider's profile and bindings.
    fn pinned(&self, set: ReadSet) -> HashMap<String, VerificationKey> {
        let each = set.usable.into_iter().map(|pinned| {
            let key = VerificationKey {
                speaks_for: self.bindings.of_or(&pinned.kid, &self.organisations),
                key: pinned.key,
                algorithm: pinned.algorithm,
                profile: Some(self.profile.clone()),
            };
            (pinned.kid, key)
        });
        each.collect()
    }
}

/// The HTTPS client: public roots plus `ca_pem`, no plaintext, few redirects.
fn client(ca_pem: Option<&[u8]>) -> Result<reqwest::Client, ProviderError> {
    let mut builder = reqwest::Client::builder()
        .https_only(true)
        .redirect(reqwest::redirect::Policy::limited(3))
        .connect_timeout(FETCH_TIMEOUT)
        .timeout(FETCH_TIMEOUT);
    if let Some(pem) = ca_pem {
        let certificates =
            reqwest::Certificate::from_pem_bundle(pem).map_err(|e| ProviderError::Client(e.to_string()))?;
        if certificates.is_empty() {
            return Err(ProviderError::Client("the CA file holds no PEM certificate".into()));
        }
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build().map_err(|e| ProviderError::Client(e.to_string()))
}

/// `url` if it is https.
fn https(url: String) -> Result<String, ProviderError> {
    match url.starts_with("https://") {
        true => Ok(url),
        false => Err(ProviderError::NotHttps(shown(&url))),
    }
}

/// OpenID Connect Discovery 1.0 §4: the `jwks_uri` of `issuer`'s
/// configuration, whose `issuer` must be exactly `issuer` (§4.3).
async fn discover(client: &reqwest::Client, issuer: &str) -> Result<String, ProviderError> {
    let url = https(format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/')))?;
    let (body, _) = get(client, &url).await?;
    let wrong = |reason: &str| ProviderError::Discovery { url: shown(&url), reason: reason.to_owned() };
    let document: serde_json::Value = serde_json::from_slice(&body).map_err(|_| wrong("not JSON"))?;
    let found = document.get("issuer").and_then(|i| i.as_str()).ok_or_else(|| wrong("no issuer"))?;
    if found != issuer {
        return Err(wrong(&format!("its issuer {found:?} is not the configured {issuer:?}")));
    }
    let jwks = document.get("jwks_uri").and_then(|u| u.as_str()).ok_or_else(|| wrong("no jwks_uri"))?;
    https(jwks.to_owned())
}

/// The cache headers of an answer, owned.
struct Freshness {
    cache_control: Option<String>,
    expires: Option<i64>,
    date: Option<i64>,
}

impl Freshness {
    fn of(headers: &reqwest::header::HeaderMap) -> Freshness {
        let text = |name| headers.get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok());
        let date = |value: &str| httpdate::parse_http_date(value).ok().map(unix_seconds);
        Freshness {
            cache_control: text(reqwest::header::CACHE_CONTROL).map(str::to_owned),
            // An `Expires` that is not a date means already expired (RFC 9111 §5.3).
            expires: text(reqwest::header::EXPIRES).map(|v| date(v).unwrap_or(i64::MIN)),
            date: text(reqwest::header::DATE).and_then(date),
        }
    }

    fn freshness(&self, now: i64) -> u64 {
        let headers =
            CacheHeaders { cache_control: self.cache_control.as_deref(), expires: self.expires, date: self.date };
        freshness(&headers, now)
    }
}

fn unix_seconds(at: std::time::SystemTime) -> i64 {
    match at.duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// GETs `url`: its body (at most [`MAX_DOCUMENT_BYTES`]) and cache headers.
async fn get(client: &reqwest::Client, url: &str) -> Result<(Vec<u8>, Freshness), ProviderError> {
    let failed = |reason: String| ProviderError::Fetch { url: shown(url), reason };
    let sent = client.get(url).header(reqwest::header::ACCEPT, "application/json").send().await;
    let mut response = sent.map_err(|e| failed(e.without_url().to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("answered {}", response.status())));
    }
    let headers = Freshness::of(response.headers());
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| failed(e.without_url().to_string()))? {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(failed(format!("larger than {MAX_DOCUMENT_BYTES} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, headers))
}

/// `url` without its query or fragment, for logs and messages (a provider's
/// URL may carry parameters that are nobody's business).
fn shown(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or_default().to_owned()
}
