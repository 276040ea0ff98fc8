//! Who is calling: bearer JWT verification (security.md "Identity") and the
//! role and organisation checks every RPC starts with.

use std::collections::{BTreeSet, HashMap};

use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tonic::Request;

use referral_hub_domain::{
    roles::Role,
    tokens::{LifetimeRefusal, Revocations, TokenFacts, check_lifetime},
    wire::Sector,
};

use crate::{
    error::ApiError,
    keys::VerificationKey,
    verified_tokens::{Identity, VerifiedTokens},
};

/// Verifies bearer tokens against the configured keys, which can be
/// replaced while serving (key rotation, an identity provider's JWKS).
pub struct Authenticator {
    keys: std::sync::RwLock<HashMap<String, VerificationKey>>,
    validation: Validation,
    verified: VerifiedTokens,
    /// Seconds a token may live (`exp - iat`).
    max_lifetime: u64,
    /// Every revocation in force, re-read from the store on an interval.
    revocations: std::sync::RwLock<Revocations>,
}

/// The verified caller of an RPC.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `org`: the calling organisation.
    pub org: String,
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
            org: identity.org,
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

#[derive(Deserialize)]
struct Claims {
    sub: String,
    org: String,
    roles: Vec<String>,
    exp: u64,
    iat: Option<u64>,
    jti: Option<String>,
}

impl Authenticator {
    /// Accepts EdDSA tokens signed by one of `keys` (by `kid`) for an
    /// organisation the key speaks for, issued by `issuer` for `audience`,
    /// with an `iat` and at most `max_lifetime` between `iat` and `exp`. Only
    /// asymmetric algorithms: an HS256 token (algorithm confusion) or
    /// `alg: none` never verifies.
    pub fn new(
        keys: HashMap<String, VerificationKey>,
        issuer: &str,
        audience: &str,
        max_lifetime: std::time::Duration,
    ) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        Self {
            keys: std::sync::RwLock::new(keys),
            validation,
            verified: VerifiedTokens::default(),
            max_lifetime: max_lifetime.as_secs(),
            revocations: std::sync::RwLock::new(Revocations::default()),
        }
    }

    /// Verifies with `keys` from now on; returns whether they differ from before (by `kid`).
    pub fn replace_keys(&self, keys: HashMap<String, VerificationKey>) -> bool {
        let mut current = self.keys.write().unwrap_or_else(|p| p.into_inner());
        let changed = current.len() != keys.len() || keys.keys().any(|kid| !current.contains_key(kid));
        *current = keys;
        self.verified.forget_all();
        changed
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
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthenticated("missing bearer token"))?;
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

    /// Checks `token`'s signature, issuer, audience, times and lifetime, and
    /// that its key speaks for its organisation.
    fn verify_signed(&self, token: &str, now: u64) -> Result<Identity, ApiError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| ApiError::Unauthenticated("malformed token"))?;
        let key = {
            let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
            header.kid.as_deref().and_then(|kid| keys.get(kid)).cloned()
        };
        let key = key.ok_or(ApiError::Unauthenticated("unknown signing key"))?;
        let data = jsonwebtoken::decode::<Claims>(token, &key.key, &self.validation).map_err(|e| {
            tracing::info!(reason = %e, "token refused");
            ApiError::Unauthenticated("invalid token")
        })?;
        let claims = data.claims;
        if claims.org.is_empty() || claims.sub.is_empty() {
            return Err(ApiError::Unauthenticated("token lacks org or sub"));
        }
        check_lifetime(claims.iat, claims.exp, now, self.max_lifetime, self.validation.leeway).map_err(|refusal| {
            ApiError::Unauthenticated(match refusal {
                LifetimeRefusal::NoIssuedAt => "token lacks iat",
                LifetimeRefusal::IssuedInTheFuture => "token issued in the future",
                LifetimeRefusal::TooLong => "token lifetime beyond the maximum",
            })
        })?;
        if !key.speaks_for.allows(&claims.org) {
            return Err(ApiError::Unauthenticated("signing key not bound to the organisation"));
        }
        Ok(Identity {
            org: claims.org,
            subject: claims.sub,
            roles: claims.roles.iter().filter_map(|r| Role::parse(r)).collect(),
            honoured_until: claims.exp.saturating_add(self.validation.leeway),
            jti: claims.jti,
            issued_at: claims.iat.unwrap_or_default(),
        })
    }
}
