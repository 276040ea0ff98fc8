//! Who is calling: bearer JWT verification (security.md "Identity") and the
//! role and organisation checks every RPC starts with.

use std::collections::{BTreeSet, HashMap};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tonic::{Request, metadata::MetadataMap};

use referral_hub_domain::{roles::Role, wire::Sector};

use crate::{
    error::ApiError,
    verified_tokens::{Identity, VerifiedTokens},
};

/// Verifies bearer tokens against the configured keys, which can be
/// replaced while serving (key rotation, an identity provider's JWKS).
pub struct Authenticator {
    keys: std::sync::RwLock<HashMap<String, DecodingKey>>,
    validation: Validation,
    verified: VerifiedTokens,
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
}

impl Authenticator {
    /// Accepts EdDSA tokens signed by one of `keys` (by `kid`), issued by
    /// `issuer` for `audience`. Only asymmetric algorithms: an HS256 token
    /// (algorithm confusion) or `alg: none` never verifies.
    pub fn new(keys: HashMap<String, DecodingKey>, issuer: &str, audience: &str) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        Self { keys: std::sync::RwLock::new(keys), validation, verified: VerifiedTokens::default() }
    }

    /// Verifies with `keys` from now on; returns whether they differ from before (by `kid`).
    pub fn replace_keys(&self, keys: HashMap<String, DecodingKey>) -> bool {
        let mut current = self.keys.write().unwrap_or_else(|p| p.into_inner());
        let changed = current.len() != keys.len() || keys.keys().any(|kid| !current.contains_key(kid));
        *current = keys;
        self.verified.forget_all();
        changed
    }

    /// The verified identity in `authorization: Bearer …`, or `UNAUTHENTICATED`.
    /// The reason stays in the server's log; the caller learns only that it failed.
    pub fn verify(&self, metadata: &MetadataMap, facts: CallFacts) -> Result<Caller, ApiError> {
        let token = metadata
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthenticated("missing bearer token"))?;
        let now = jsonwebtoken::get_current_timestamp();
        let identity = match self.verified.get(token, now) {
            Some(identity) => identity,
            None => {
                let identity = self.verify_signed(token)?;
                self.verified.remember(token, identity.clone());
                identity
            }
        };
        Ok(Caller {
            org: identity.org,
            subject: identity.subject,
            roles: identity.roles,
            facts,
            sector: Sector::Unspecified,
            operator: false,
        })
    }

    /// Checks `token`'s signature, issuer, audience and times.
    fn verify_signed(&self, token: &str) -> Result<Identity, ApiError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| ApiError::Unauthenticated("malformed token"))?;
        let key = {
            let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
            header.kid.as_deref().and_then(|kid| keys.get(kid)).cloned()
        };
        let key = key.ok_or(ApiError::Unauthenticated("unknown signing key"))?;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &self.validation).map_err(|e| {
            tracing::info!(reason = %e, "token refused");
            ApiError::Unauthenticated("invalid token")
        })?;
        let claims = data.claims;
        if claims.org.is_empty() || claims.sub.is_empty() {
            return Err(ApiError::Unauthenticated("token lacks org or sub"));
        }
        Ok(Identity {
            org: claims.org,
            subject: claims.sub,
            roles: claims.roles.iter().filter_map(|r| Role::parse(r)).collect(),
            honoured_until: claims.exp.saturating_add(self.validation.leeway),
        })
    }
}
