//! Assembling the server: gRPC services, health, reflection, the adapters'
//! HTTP endpoints, TLS, limits, and the background tasks (deadline scheduler,
//! pusher).

use std::{collections::HashMap, future::Future, sync::Arc};

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{service::Routes, transport::Server};

use referral_hub_adapters::{Adapters, health::HealthAdapter};

use referral_hub_domain::{
    deadlines::DeadlinePolicy,
    validation::Rules,
    wire::{
        audit_service_server::AuditServiceServer, consent_service_server::ConsentServiceServer,
        diagnostics_service_server::DiagnosticsServiceServer, directory_service_server::DirectoryServiceServer,
        message_service_server::MessageServiceServer, stats_service_server::StatsServiceServer,
    },
};
use referral_hub_store::Store;

use crate::{
    admission::Admission, audit_service::AuditApi, auth::Authenticator, authenticate::Gate, clock::Clock,
    consent_service::ConsentApi, diagnostics_service::DiagnosticsApi, directory_service::DirectoryApi, hub::Hub,
    keys::VerificationKey, message_service::MessageApi, push::Pusher, scheduler::SchedulerControl,
    stats_service::StatsApi,
};

/// Largest request the hub decodes, over gRPC and through the adapters alike.
/// Referrals carry attachments by reference, so real ones are a few kilobytes.
pub const MAX_MESSAGE_BYTES: usize = referral_hub_adapters::MAX_DOCUMENT_BYTES;

/// Everything the server needs besides the store and the socket.
pub struct ServerConfig {
    /// `iss` tokens must carry.
    pub issuer: String,
    /// `aud` tokens must carry.
    pub audience: String,
    /// Token verification keys by `kid`, each with the organisations it speaks for.
    pub verification_keys: HashMap<String, VerificationKey>,
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
    pub push_timeouts: crate::push::webhook::PushTimeouts,
    /// How long after a message is closed or withdrawn its payload is kept.
    pub retention: time::Duration,
    /// Overload bounds: requests in flight, each organisation's rate.
    pub limits: crate::limits::Limits,
    /// Where the verification keys come from, re-read while serving; `None`:
    /// `verification_keys` for good.
    pub key_reload: Option<KeyReload>,
    /// An external identity provider whose keys are fetched over HTTPS
    /// (`--jwks-url`, `--oidc-issuer`), already started; `None`: none.
    pub identity_provider: Option<crate::identity_provider::IdentityProvider>,
    /// Where operators scrape `GET /metrics` (Prometheus text) and probes
    /// reach the gRPC health service, in plaintext; apart from the API
    /// listener so it can stay on an internal network. `None`: neither.
    pub admin_listener: Option<TcpListener>,
    /// The operator's organisations and the oversight grants (`crate::authority`).
    pub authority: crate::authority::Authority,
    /// The one period unit statistics are published by (`--statistics-period`).
    pub statistics_period: referral_hub_domain::statistics::PeriodUnit,
    /// Token lifetimes, revocation and refusal-count intervals, body read
    /// timeout, HTTP/2 limits.
    pub admission: Admission,
    /// A FHIR R4 ConceptMap (JSON) replacing the built-in SNOMED CT one, so
    /// a deployment maps the codes its clinics record (`--fhir-concept-map`).
    pub fhir_concept_map: Option<String>,
}

/// Re-reads the keys tokens may be signed with every interval (and on
/// `control.scan_now()`), so a rotated signing key or an identity provider's
/// new JWKS applies without a restart. A read that fails keeps the keys in use.
pub struct KeyReload {
    /// Reads every verification key, by `kid`, with whom it speaks for.
    pub load: Box<dyn Fn() -> Result<HashMap<String, VerificationKey>, crate::keys::KeyError> + Send + Sync>,
    /// When to re-read.
    pub control: Arc<SchedulerControl>,
}

/// PEM material for TLS.
pub struct TlsConfig {
    /// Server certificate chain.
    pub cert_pem: Vec<u8>,
    /// Server private key.
    pub key_pem: Vec<u8>,
    /// CA that signs client certificates; when set, clients may present one.
    pub client_ca_pem: Option<Vec<u8>>,
}

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The transport failed (bad TLS material, socket error).
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The reflection service could not be built.
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// An adapter's code tables are unusable.
    #[error("adapters: {0}")]
    Adapters(#[from] referral_hub_adapters::codes::CodeTableError),
    /// The FHIR ConceptMap (`--fhir-concept-map`) is unusable.
    #[error("FHIR ConceptMap: {0}")]
    FhirConceptMap(#[from] referral_hub_adapters::health::ConceptMapError),
    /// The pusher's HTTP client could not be built (no TLS backend).
    #[error("push client: {0}")]
    PushClient(#[from] reqwest::Error),
    /// The TLS certificate, key or client CA is unusable.
    #[error(transparent)]
    Tls(#[from] crate::tls_listener::TlsSetupError),
    /// The database failed a step that must be done before serving.
    #[error(transparent)]
    Store(#[from] referral_hub_store::StoreError),
}

/// Accepted connections with Nagle's algorithm off: gRPC writes small frames
/// and waits for the answer, so batching them only adds latency.
fn without_nagle(
    listener: TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> + Send + 'static {
    use tokio_stream::StreamExt;
    TcpListenerStream::new(listener).map(|accepted| {
        accepted.inspect(|stream| {
            let _ = stream.set_nodelay(true);
        })
    })
}

/// Seals again, in the background, payloads under an older key (after the
/// payload key id changed) or from before sealing, a batch at a time.
async fn reseal(store: Store) {
    let mut busy = false;
    loop {
        match store.reseal(RESEAL_BATCH).await {
            Ok(0) => {
                if std::mem::take(&mut busy) {
                    tracing::info!("every payload is sealed under the current key; older keys can be retired");
                }
                tokio::time::sleep(std::time::Duration::from_secs(600)).await
            }
            Ok(changed) => {
                busy = true;
                tracing::info!(changed, "payloads sealed under the current key");
            }
            Err(error) => {
                tracing::warn!(%error, "re-sealing payloads failed; retrying later");
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            }
        }
    }
}

/// Applies re-read verification keys for as long as the server runs.
async fn reload_keys(hub: Arc<Hub>, reload: KeyReload) {
    let control = reload.control.clone();
    control
        .run(|| async {
            match (reload.load)() {
                Ok(keys) => {
                    let count = keys.len();
                    if hub.auth.replace_keys(keys) {
                        tracing::info!(keys = count, "verification keys reloaded");
                    }
                }
                Err(error) => tracing::error!(%error, "verification keys unreadable; the keys in use stay"),
            }
        })
        .await;
}

/// Re-reads the revocations in force on every tick of `control`, for as long
/// as the server runs, so a `token revoke` on any replica's database applies
/// here within an interval.
async fn refresh_revocations(hub: Arc<Hub>, control: Arc<SchedulerControl>) {
    control.run(|| reread_revocations(&hub)).await;
}

/// Reads the revocations that can still name an unexpired token (those
/// younger than the longest a token may live). A read that fails keeps the
/// revocations in use.
async fn reread_revocations(hub: &Hub) {
    let lifetime = hub.auth.max_lifetime_seconds().saturating_add(REVOCATION_MARGIN_SECONDS);
    let lifetime = i64::try_from(lifetime).unwrap_or(i64::MAX / 1_000_000).saturating_mul(1_000_000);
    let since = crate::clock::micros(hub.clock.now()).saturating_sub(lifetime);
    match hub.store.revocations_since(since).await {
        Ok(revocations) => {
            let count = hub.auth.replace_revocations(revocations.into_iter().collect());
            tracing::debug!(count, "revocations re-read");
        }
        Err(error) => tracing::error!(%error, "revocations unreadable; those in use stay"),
    }
}

/// Revocations are kept this much longer than the longest token lifetime:
/// the verifier's leeway and clock skew between replicas.
const REVOCATION_MARGIN_SECONDS: u64 = 3_600;

/// Serves the admin endpoints on `listener`, in plaintext for the internal
/// network: `GET /metrics`, and the gRPC health service, which an
/// orchestrator's probes reach without the API listener's TLS.
async fn serve_admin<H>(hub: Arc<Hub>, health: tonic_health::pb::health_server::HealthServer<H>, listener: TcpListener)
where
    H: tonic_health::pb::health_server::Health,
{
    let routes = Routes::new(health)
        .into_axum_router()
        .route("/metrics", axum::routing::get(move || async move { hub.metrics.render() }));
    if let Err(error) = axum::serve(listener, routes).await {
        tracing::error!(%error, "the admin listener stopped");
    }
}

/// Payloads re-sealed per table per round.
const RESEAL_BATCH: u32 = 200;

/// Serves the hub on `listener` until `shutdown` completes.
pub async fn serve(
    store: Store,
    config: ServerConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    // Configuration first, so a bad file stops the start before the hub says it serves.
    let mut health = HealthAdapter::new()?;
    if let Some(concept_map) = &config.fhir_concept_map {
        health = health.with_concept_map(concept_map)?;
    }
    let adapters = Arc::new(Adapters::builtin_with(health)?);
    let tls = config.tls.as_ref().map(crate::tls_listener::server_config).transpose()?;
    // Before any lookup: records are found by the key of the child's local id.
    let keyed = crate::local_ids::key_stored_local_ids(&store, &config.link_key_secret).await?;
    if keyed > 0 {
        tracing::info!(keyed, "children's local ids in consent records replaced by their keys");
    }
    let metrics = crate::metrics::Metrics::new(&store);
    let hub = Arc::new(Hub {
        store,
        rules: config.rules,
        deadlines: config.deadlines,
        clock: config.clock,
        auth: Authenticator::new(
            config.verification_keys,
            &config.issuer,
            &config.audience,
            config.admission.max_token_lifetime,
        ),
        link_key_secret: config.link_key_secret,
        metrics,
        retention: config.retention,
        limits: config.limits,
        budgets: Default::default(),
        authority: config.authority,
        refusals: crate::refused_calls::new_tally(),
        streams: Default::default(),
    });
    let admission = config.admission;
    // Revocations are read before the first call is served, then on the interval.
    reread_revocations(&hub).await;
    tokio::spawn(refresh_revocations(hub.clone(), admission.revocation_refresh.clone()));
    tokio::spawn(crate::refused_calls::flush_refusals(hub.clone(), admission.refusal_flush.clone()));
    tokio::spawn(crate::scheduler::run(hub.clone(), config.scheduler));
    tokio::spawn(reseal(hub.store.clone()));
    tokio::spawn(Pusher::new(hub.clone(), adapters.clone(), config.push_timeouts)?.run(config.push));
    if let Some(reload) = config.key_reload {
        tokio::spawn(reload_keys(hub.clone(), reload));
    }
    if let Some(provider) = config.identity_provider {
        provider.install(&hub.auth);
        tokio::spawn(provider.run(hub.clone()));
    }
    let adapter_routes = crate::adapter_http::routes(hub.clone(), adapters.clone()).merge(crate::fhir_rest::routes(
        hub.clone(),
        adapters.clone(),
        config.tls.is_some(),
    ));
    let messages = MessageServiceServer::new(MessageApi::new(hub.clone())).max_decoding_message_size(MAX_MESSAGE_BYTES);
    let audit = AuditServiceServer::new(AuditApi::new(hub.clone())).max_decoding_message_size(MAX_MESSAGE_BYTES);
    let consent = ConsentServiceServer::new(ConsentApi::new(hub.clone())).max_decoding_message_size(MAX_MESSAGE_BYTES);
    let stats = StatsServiceServer::new(StatsApi::new(hub.clone(), config.statistics_period))
        .max_decoding_message_size(MAX_MESSAGE_BYTES);
    let diagnostics =
        DiagnosticsServiceServer::new(DiagnosticsApi::new(hub.clone())).max_decoding_message_size(MAX_MESSAGE_BYTES);
    let directory =
        DirectoryServiceServer::new(DirectoryApi::new(hub.clone())).max_decoding_message_size(MAX_MESSAGE_BYTES);

    let (health, health_service) = tonic_health::server::health_reporter();
    if let Some(admin) = config.admin_listener {
        tokio::spawn(serve_admin(hub.clone(), health_service.clone(), admin));
    }
    health.set_serving::<MessageServiceServer<MessageApi>>().await;
    health.set_serving::<DirectoryServiceServer<DirectoryApi>>().await;
    health.set_serving::<AuditServiceServer<AuditApi>>().await;
    health.set_serving::<ConsentServiceServer<ConsentApi>>().await;
    health.set_serving::<DiagnosticsServiceServer<DiagnosticsApi>>().await;
    health.set_serving::<StatsServiceServer<StatsApi>>().await;
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(referral_hub_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };

    let http2 = admission.http2;
    let builder = Server::builder()
        .max_concurrent_streams(http2.max_concurrent_streams)
        .http2_keepalive_interval(Some(http2.keepalive_interval))
        .http2_keepalive_timeout(Some(http2.keepalive_timeout))
        .http2_max_header_list_size(http2.max_header_list_size);
    let gate = Arc::new(Gate { hub: hub.clone(), adapters, body_read_timeout: admission.body_read_timeout });
    let routes = Routes::from(adapter_routes)
        .add_service(health_service)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?)
        .add_service(messages)
        .add_service(directory)
        .add_service(audit)
        .add_service(consent)
        .add_service(diagnostics)
        .add_service(stats)
        .into_axum_router()
        .layer(axum::middleware::from_fn_with_state(hub.clone(), crate::load_shedding::shed_beyond_in_flight))
        .layer(axum::middleware::from_fn_with_state(gate, crate::authenticate::authenticate_first))
        .layer(axum::middleware::from_fn(crate::auth::trace_the_rpc));
    // HTTP/1.1 too, for the adapters' endpoints; gRPC clients speak HTTP/2 as ever.
    let router = builder.accept_http1(true).add_routes(Routes::from(routes));
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, backend = ?hub.store.backend(), "serving");
    }
    match tls {
        Some(tls) => {
            router.serve_with_incoming_shutdown(crate::tls_listener::incoming(listener, tls), shutdown).await?
        }
        None => router.serve_with_incoming_shutdown(without_nagle(listener), shutdown).await?,
    }
    // The refusals counted since the last flush are written before the process ends.
    if let Err(error) = hub.flush_refusals(true).await {
        tracing::error!(%error, "refusal counts not written at shutdown");
    }
    Ok(())
}
