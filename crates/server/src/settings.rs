//! What a hub is started with: one typed value the binary fills from its
//! flags, environment and file, and the test harness from its options, so
//! both start the hub by the same path ([`crate::Application::build`]).

use std::{collections::HashMap, net::SocketAddr, sync::Arc};

use referral_hub_domain::{deadlines::DeadlinePolicy, statistics::PeriodUnit, validation::Rules};

use crate::{
    admission::Admission,
    authority::Authority,
    clock::Clock,
    identity_provider::IdentityProvider,
    keys::{KeyError, VerificationKey},
    limits::Limits,
    push::webhook::PushTimeouts,
    scheduler::SchedulerControl,
    tls_listener::TlsConfig,
};

/// Everything the hub needs besides the store.
pub struct Settings {
    /// Where the API (gRPC and the adapters' HTTP endpoints) listens; port 0
    /// picks a free one ([`crate::Application::address`] tells which).
    pub listen: SocketAddr,
    /// Where operators scrape `GET /metrics` (Prometheus text) and probes
    /// reach the gRPC health service, in plaintext; apart from the API
    /// listener so it can stay on an internal network. `None`: neither.
    pub admin_listen: Option<SocketAddr>,
    /// `iss` tokens must carry.
    pub issuer: String,
    /// `aud` tokens must carry.
    pub audience: String,
    /// Token verification keys by `kid`, each with the organisations it speaks for.
    pub verification_keys: HashMap<String, VerificationKey>,
    /// Where the verification keys come from, re-read while serving; `None`:
    /// `verification_keys` for good.
    pub key_reload: Option<KeyReload>,
    /// An external identity provider whose keys are fetched over HTTPS
    /// (`--jwks-url`, `--oidc-issuer`), already started; `None`: none.
    pub identity_provider: Option<IdentityProvider>,
    /// TLS; `None` only in dev mode and tests on loopback.
    pub tls: Option<TlsConfig>,
    /// Validation rules.
    pub rules: Rules,
    /// Response deadlines.
    pub deadlines: DeadlinePolicy,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Secret of the child link key HMAC (at least 32 bytes).
    pub link_key_secret: Vec<u8>,
    /// The deadline scheduler's interval and controls.
    pub scheduler: Arc<SchedulerControl>,
    /// The pusher's interval and controls.
    pub push: Arc<SchedulerControl>,
    /// How long the pusher waits for an endpoint (which endpoints it may
    /// reach is `rules.push`).
    pub push_timeouts: PushTimeouts,
    /// How long after a message is closed or withdrawn its payload is kept.
    pub retention: time::Duration,
    /// Overload bounds: requests in flight, each organisation's rate.
    pub limits: Limits,
    /// The operator's organisations and the oversight grants (`crate::authority`).
    pub authority: Authority,
    /// The one period unit statistics are published by (`--statistics-period`).
    pub statistics_period: PeriodUnit,
    /// Token lifetimes, revocation and refusal-count intervals, body read
    /// timeout, HTTP/2 limits.
    pub admission: Admission,
    /// A FHIR R4 ConceptMap (JSON) replacing the built-in SNOMED CT one, so
    /// a deployment maps the codes its clinics record (`--fhir-concept-map`).
    pub fhir_concept_map: Option<String>,
    /// When the audit log's tree heads are signed, with which key, and the
    /// witness directory they are also written to (docs/transparency.md).
    pub tree_heads: crate::tree_heads::TreeHeadSettings,
}

/// Re-reads the keys tokens may be signed with every interval (and on
/// `control.scan_now()`), so a rotated signing key or an identity provider's
/// new JWKS applies without a restart. A read that fails keeps the keys in use.
pub struct KeyReload {
    /// Reads every verification key, by `kid`, with whom it speaks for.
    pub load: Box<dyn Fn() -> Result<HashMap<String, VerificationKey>, KeyError> + Send + Sync>,
    /// When to re-read.
    pub control: Arc<SchedulerControl>,
}
