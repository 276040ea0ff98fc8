//! Who is calling: bearer JWT verification (docs/security.md "Identity") and the
//! role and organisation checks every RPC starts with.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{
        Arc, OnceLock, RwLock,
        atomic::{AtomicBool, Ordering},
    },
};

use jsonwebtoken::{Algorithm, Validation};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tonic::Request;

use referral_hub_domain::{
    ids::OrgId,
    roles::Role,
    tokens::{LifetimeRefusal, Revocations, TokenFacts, check_lifetime},
    wire::Sector,
};

use crate::{
    claims::TokenProfile,
    error::ApiError,
    keys::VerificationKey,
    scheduler_control::SchedulerControl,
    verified_tokens::{Identity, VerifiedTokens},
};

/// Seconds of clock skew allowed for `exp`, `nbf` and `iat`.
const LEEWAY_SECONDS: u64 = 30;

/// Verifies bearer tokens against the configured keys, which can be
/// replaced while serving (key rotation, an identity provider's JWKS).
pub struct Authenticator {
    /// The hub's own keys and those read from files (`KeyReload`).
    keys: RwLock<HashMap<String, VerificationKey>>,
    /// The identity provider's keys, fetched over HTTPS (`identity_provider`).
    provider_keys: RwLock<HashMap<String, VerificationKey>>,
    /// Issuer, audience and claims of tokens whose key has no profile of its own.
    own: TokenProfile,
    verified: VerifiedTokens,
    /// Seconds a token may live (`exp - iat`).
    max_lifetime: u64,
    /// Every revocation in force, re-read from the store on an interval.
    revocations: RwLock<Revocations>,
    /// Whether a token named a key nobody knows since the provider last looked.
    unknown_kid: AtomicBool,
    /// The identity provider's refresher, woken by an unknown key id.
    provider_refresh: OnceLock<Arc<SchedulerControl>>,
}

/// The verified caller of an RPC.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `org`: the calling organisation.
    pub org: OrgId,
    /// `sub`: the worker or system.
    pub subject: String,
    /// Known roles from `roles`; unknown role names are ignored.
    pub roles: BTreeSet<Role>,
    /// What the transport says about the call, for the audit log.
    pub facts: CallFacts,
    /// The sector of the caller's organisation (what it needs to know), from the directory.
    pub sector: Sector,
    /// Whether the caller is the hub operator: `admin` of an operator
    /// organisation (`crate::authority`), who alone acts hub-wide.
    pub operator: bool,
}

impl Caller {
    /// The caller a verified token names, before the directory is consulted.
    pub(crate) fn verified(identity: Identity, facts: CallFacts) -> Caller {
        Caller {
            org: identity.org.into(),
            subject: identity.subject,
            roles: identity.roles,
            facts,
            sector: Sector::Unspecified,
            operator: false,
        }
    }

    /// Whether the caller holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The roles, comma-separated, as the audit log records them.
    pub fn roles_text(&self) -> String {
        self.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
    }
}

/// The identity the middleware (`authenticate::authenticate_first`) verified,
/// in the request's extensions for `Hub::caller` (`access.rs`), which goes on
/// to check the directory and roles.
#[derive(Debug, Clone)]
pub(crate) struct Verified(pub(crate) Identity);

/// What is known of a call before (and whether or not) its token verifies.
#[derive(Debug, Clone, Default)]
pub struct CallFacts {
    /// Peer address.
    pub source_address: String,
    /// SHA-256 (hex) of the client certificate, when one was presented.
    pub certificate: String,
    /// Trace id of the request's span when spans are exported, else from a W3C
    /// `traceparent` header when sent.
    pub trace_id: String,
    /// The RPC, e.g. `referralhub.v1.MessageService/SubmitMessage`.
    pub rpc: String,
}

impl CallFacts {
    /// Reads the facts off a request.
    pub fn of<T>(request: &Request<T>) -> CallFacts {
        let certificate = request
            .peer_certs()
            .and_then(|certs| certs.first().map(|c| referral_hub_domain::audit::hex(&Sha256::digest(c.as_ref()))))
            .unwrap_or_default();
        let sent = || {
            let header = request.metadata().get("traceparent").and_then(|v| v.to_str().ok());
            let id = header.and_then(|v| v.split('-').nth(1));
            id.filter(|id| id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit())).map(str::to_owned)
        };
        let trace_id = crate::telemetry::current_trace_id().or_else(sent).unwrap_or_default();
        let rpc = request.extensions().get::<RpcPath>().map(|path| path.0.trim_start_matches('/').to_owned());
        let rpc = rpc.unwrap_or_default();
        CallFacts {
            source_address: request.remote_addr().map(|a| a.to_string()).unwrap_or_default(),
            certificate,
            trace_id,
            rpc,
        }
    }
}

/// The request path (`/referralhub.v1.MessageService/SubmitMessage`, or an
/// adapter's `/fhir/…`), put in every request's extensions by
/// [`trace_the_rpc`]: tonic's server does not tell a handler which RPC it is
/// serving, and audit entries must say.
#[derive(Debug, Clone)]
pub struct RpcPath(pub String);

/// Middleware: records the request path as [`RpcPath`] and runs the request
/// in its own span, continuing the caller's trace (W3C `traceparent`).
pub async fn trace_the_rpc(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path().to_owned();
    let span = crate::telemetry::request_span(&path, request.headers());
    request.extensions_mut().insert(RpcPath(path));
    tracing::Instrument::instrument(next.run(request), span).await
}

impl Authenticator {
    /// Accepts tokens signed by one of `keys` (by `kid`) with the algorithm
    /// the key is pinned to, for an organisation the key speaks for, issued
    /// by `issuer` for `audience` (unless the key has a profile of its own,
    /// an identity provider's), with an `iat` and at most `max_lifetime`
    /// between `iat` and `exp`. `alg: none` and HS256 never verify.
    pub fn new(
        keys: HashMap<String, VerificationKey>,
        issuer: &str,
        audience: &str,
        max_lifetime: std::time::Duration,
    ) -> Self {
        Self {
            keys: RwLock::new(keys),
            provider_keys: RwLock::default(),
            own: TokenProfile::own(issuer, audience),
            verified: VerifiedTokens::default(),
            max_lifetime: max_lifetime.as_secs(),
            revocations: RwLock::new(Revocations::default()),
            unknown_kid: AtomicBool::new(false),
            provider_refresh: OnceLock::new(),
        }
    }

    /// Verifies with the identity provider's `keys` from now on (beside the
    /// others); returns whether they differ from before (by `kid`).
    pub fn replace_provider_keys(&self, keys: HashMap<String, VerificationKey>) -> bool {
        replace(&self.provider_keys, keys, &self.verified)
    }

    /// Wakes `refresh` when a token names an unknown key: the provider may
    /// have started signing with a new one. It decides whether to fetch.
    pub fn wake_on_unknown_kid(&self, refresh: Arc<SchedulerControl>) {
        let _ = self.provider_refresh.set(refresh);
    }

    /// Whether a token named an unknown key since [`Authenticator::unknown_kid_served`].
    pub fn unknown_kid_seen(&self) -> bool {
        self.unknown_kid.load(Ordering::Relaxed)
    }

    /// The provider is fetching its keys: later unknown key ids wake it again.
    pub fn unknown_kid_served(&self) {
        self.unknown_kid.store(false, Ordering::Relaxed);
    }

    /// Notes an unknown key id; only the first since the last fetch wakes
    /// the refresher, so a flood of them costs an atomic swap each.
    fn note_unknown_kid(&self) {
        if self.unknown_kid.swap(true, Ordering::Relaxed) {
            return;
        }
        if let Some(refresh) = self.provider_refresh.get() {
            refresh.tick.send_modify(|tick| *tick += 1);
        }
    }

    /// The key named `kid`: the hub's and files' first, then the provider's.
    fn key(&self, kid: &str) -> Option<VerificationKey> {
        let own = self.keys.read().unwrap_or_else(|p| p.into_inner()).get(kid).cloned();
        own.or_else(|| self.provider_keys.read().unwrap_or_else(|p| p.into_inner()).get(kid).cloned())
    }

    /// Verifies with `keys` from now on; returns whether they differ from before (by `kid`).
    pub fn replace_keys(&self, keys: HashMap<String, VerificationKey>) -> bool {
        replace(&self.keys, keys, &self.verified)
    }

    /// Refuses the tokens `revocations` name from now on, remembered or not;
    /// returns how many revocations are in force.
    pub fn replace_revocations(&self, revocations: Revocations) -> usize {
        let count = revocations.len();
        *self.revocations.write().unwrap_or_else(|p| p.into_inner()) = revocations;
        count
    }

    /// The longest a token may live (`exp - iat`), in seconds.
    pub fn max_lifetime_seconds(&self) -> u64 {
        self.max_lifetime
    }

    /// The verified identity in `authorization: Bearer …`, or `UNAUTHENTICATED`.
    /// The reason stays in the server's log and the audit log; the caller
    /// learns only that it failed.
    pub(crate) fn verify_headers(&self, headers: &axum::http::HeaderMap) -> Result<Identity, ApiError> {
        let token = bearer(headers).ok_or(ApiError::Unauthenticated("missing bearer token"))?;
        let now = jsonwebtoken::get_current_timestamp();
        let identity = match self.verified.get(token, now) {
            Some(identity) => identity,
            None => {
                let identity = self.verify_signed(token, now)?;
                self.verified.remember(token, identity.clone());
                identity
            }
        };
        // Checked on every call, after the cache: a remembered token is never
        // honoured once revoked.
        let facts = TokenFacts {
            jti: identity.jti.as_deref(),
            org: &identity.org,
            subject: &identity.subject,
            issued_at: identity.issued_at,
        };
        if self.revocations.read().unwrap_or_else(|p| p.into_inner()).revokes(&facts) {
            return Err(ApiError::Unauthenticated("token revoked"));
        }
        Ok(identity)
    }

    /// Checks `token`'s signature (with its key's one algorithm), issuer,
    /// audience, times and lifetime, and that its key speaks for its organisation.
    fn verify_signed(&self, token: &str, now: u64) -> Result<Identity, ApiError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| ApiError::Unauthenticated("malformed token"))?;
        let kid = header.kid.as_deref().ok_or(ApiError::Unauthenticated("token names no key"))?;
        let Some(key) = self.key(kid) else {
            self.note_unknown_kid();
            return Err(ApiError::Unauthenticated("unknown signing key"));
        };
        let profile = key.profile.as_deref().unwrap_or(&self.own);
        let validation = validation(key.algorithm, profile);
        let data = jsonwebtoken::decode::<Value>(token, &key.key, &validation).map_err(|e| {
            tracing::info!(reason = %e, "token refused");
            ApiError::Unauthenticated("invalid token")
        })?;
        let claims = data.claims;
        let text = |name: &str| claims.get(name).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_owned);
        let (Some(org), Some(subject)) = (profile.org_of(&claims), text("sub")) else {
            return Err(ApiError::Unauthenticated("token lacks org or sub"));
        };
        let roles = profile.roles_of(&claims).ok_or(ApiError::Unauthenticated("token lacks roles"))?;
        let (issued_at, expires_at) = (seconds(claims.get("iat")), seconds(claims.get("exp")).unwrap_or_default());
        check_lifetime(issued_at, expires_at, now, self.max_lifetime, LEEWAY_SECONDS).map_err(|refusal| {
            ApiError::Unauthenticated(match refusal {
                LifetimeRefusal::NoIssuedAt => "token lacks iat",
                LifetimeRefusal::IssuedInTheFuture => "token issued in the future",
                LifetimeRefusal::TooLong => "token lifetime beyond the maximum",
            })
        })?;
        if !key.speaks_for.allows(&org) {
            return Err(ApiError::Unauthenticated("signing key not bound to the organisation"));
        }
        Ok(Identity {
            org,
            subject,
            roles: roles.iter().filter_map(|r| Role::parse(r)).collect(),
            honoured_until: expires_at.saturating_add(LEEWAY_SECONDS),
            // Entra ID carries its token identifier as `uti` ("equivalent to jti").
            jti: text("jti").or_else(|| text("uti")),
            issued_at: issued_at.unwrap_or_default(),
        })
    }
}

/// Replaces the keys in `slot` with `keys`, forgetting every remembered
/// token; whether they differ from before (by `kid`).
fn replace(
    slot: &RwLock<HashMap<String, VerificationKey>>,
    keys: HashMap<String, VerificationKey>,
    verified: &VerifiedTokens,
) -> bool {
    let mut current = slot.write().unwrap_or_else(|p| p.into_inner());
    let changed = current.len() != keys.len() || keys.keys().any(|kid| !current.contains_key(kid));
    *current = keys;
    verified.forget_all();
    changed
}

/// How tokens of `algorithm` from `profile`'s issuer are checked.
fn validation(algorithm: Algorithm, profile: &TokenProfile) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&[&profile.issuer]);
    validation.set_audience(&[&profile.audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = LEEWAY_SECONDS;
    validation
}

/// A NumericDate claim (RFC 7519: seconds, possibly fractional), whole seconds.
fn seconds(claim: Option<&Value>) -> Option<u64> {
    let number = claim?;
    number.as_u64().or_else(|| number.as_f64().filter(|s| s.is_finite() && *s >= 0.0).map(|s| s as u64))
}

/// The token of `authorization: Bearer <token>`; the scheme is
/// case-insensitive (RFC 6750 §2.1, RFC 9110 §11.1), so `bearer` works too.
fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim_start();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> axum::http::HeaderMap {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("authorization", value.parse().unwrap());
        headers
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for value in ["Bearer t.o.k", "bearer t.o.k", "BEARER t.o.k", "bEaReR  t.o.k"] {
            assert_eq!(bearer(&headers(value)), Some("t.o.k"), "{value}");
        }
        for value in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearert.o.k", "t.o.k"] {
            assert_eq!(bearer(&headers(value)), None, "{value}");
        }
        assert_eq!(bearer(&axum::http::HeaderMap::new()), None);
    }

    #[test]
    fn numeric_dates_may_be_fractional_but_not_negative_or_text() {
        assert_eq!(seconds(Some(&serde_json::json!(1_700_000_000))), Some(1_700_000_000));
        assert_eq!(seconds(Some(&serde_json::json!(1_700_000_000.9))), Some(1_700_000_000));
        assert_eq!(seconds(Some(&serde_json::json!(-1))), None);
        assert_eq!(seconds(Some(&serde_json::json!("1700000000"))), None);
        assert_eq!(seconds(None), None);
    }
}
