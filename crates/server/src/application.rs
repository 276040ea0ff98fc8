//! The one way a hub starts and stops, for the binary and the test harness
//! alike: [`Application::build`] reads the configuration, binds the
//! listeners and assembles the hub; [`Application::run_until_stopped`] runs
//! the background tasks and serves until told to stop, then stops in order.
//!
//! Stopping: the hub reports itself not serving, stops accepting, lets the
//! calls in flight finish and ends open inbox streams cleanly (receivers
//! resume after their last acknowledgement on another replica); each
//! background task finishes the pass it is in (the pusher the entry in
//! flight, then releases its queues to other replicas); the refusals counted
//! since the last flush are written and the group committer is flushed.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use tokio::{net::TcpListener, task::JoinSet};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::server::Router;
use tonic_health::{ServingStatus, server::HealthReporter};

use referral_hub_adapters::{Adapters, health::HealthAdapter};
use referral_hub_store::Store;

use crate::{
    auth::Authenticator,
    background::{BackgroundTasks, Schedules},
    hub::Hub,
    routes,
    settings::Settings,
    shutdown::Shutdown,
};

/// How long the API listener's connections may take to finish once the hub
/// stops: a client that neither finishes its calls nor reads what it was
/// sent holds the stop no longer than this.
const DRAIN_LIMIT: Duration = Duration::from_secs(20);

/// Why the hub could not start, or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A listener's address cannot be bound (in use, not local).
    #[error("{address}: {source}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// Why the system refused it.
        source: std::io::Error,
    },
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

/// A hub ready to serve: its listeners bound, its state and tasks assembled.
pub struct Application {
    hub: Arc<Hub>,
    api: Router,
    listener: TcpListener,
    address: SocketAddr,
    admin_address: Option<SocketAddr>,
    tls: Option<Arc<rustls::ServerConfig>>,
    health: HealthReporter,
    background: BackgroundTasks,
}

impl Application {
    /// Reads the configuration (a bad file stops the start here, before the
    /// hub says it serves), prepares the store's data, assembles the hub on
    /// `store` and binds its listeners. Nothing is served and no task runs
    /// until [`Application::run_until_stopped`].
    pub async fn build(settings: Settings, store: Store) -> Result<Application, ServeError> {
        let adapters = Arc::new(adapters(settings.fhir_concept_map.as_deref())?);
        let tls = settings.tls.as_ref().map(crate::tls_listener::server_config).transpose()?;
        key_local_ids(&store, &settings.link_key_secret).await?;
        let (listener, address) = bind(settings.listen).await?;
        let admin = match settings.admin_listen {
            Some(admin) => Some(bind(admin).await?),
            None => None,
        };
        let api = routes::Api {
            adapters: adapters.clone(),
            statistics_period: settings.statistics_period,
            body_read_timeout: settings.admission.body_read_timeout,
            http2: settings.admission.http2,
            tls: tls.is_some(),
        };
        let (hub, schedules) = assemble(settings, store);
        // Revocations are read before the first call is served, then on the interval.
        crate::background::reread_revocations(&hub).await;
        let mut background = BackgroundTasks::new(&hub, &adapters, schedules)?;
        let (health, health_service) = tonic_health::server::health_reporter();
        routes::report(&health, ServingStatus::Serving).await;
        let api = routes::api(&hub, api, health_service.clone())?;
        let admin_address = admin.map(|(listener, at)| {
            tracing::info!(metrics = %format!("http://{at}/metrics"), "admin listener");
            background.serve_admin(&hub, listener, routes::admin(hub.clone(), health_service));
            at
        });
        Ok(Application { hub, api, listener, address, admin_address, tls, health, background })
    }

    /// Where the API listens (the port picked, when the settings asked for 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where the admin listener serves `GET /metrics` and health, if there is one.
    pub fn admin_address(&self) -> Option<SocketAddr> {
        self.admin_address
    }

    /// Runs the background tasks and serves until `stop` completes, then
    /// stops as the module documentation says and returns once everything
    /// has ended.
    pub async fn run_until_stopped(self, stop: impl Future<Output = ()> + Send) -> Result<(), ServeError> {
        let Application { hub, api, listener, address, tls, health, background, .. } = self;
        let mut tasks = background.start();
        tracing::info!(%address, backend = ?hub.store.backend(), "serving");
        let shutdown = hub.shutdown.clone();
        let stopping = async move {
            stop.await;
            tracing::info!("stopping: calls in flight finish, streams end, background tasks finish their pass");
            routes::report(&health, ServingStatus::NotServing).await;
            shutdown.begin();
        };
        let served = serve(api, listener, tls, stopping, &hub.shutdown).await;
        // Also when serving failed: the tasks end either way.
        hub.shutdown.begin();
        wait_for(&mut tasks).await;
        finish(&hub).await;
        served
    }
}

/// Hands each part of `settings` to what uses it: the state every request
/// shares, and the schedules of the background tasks.
fn assemble(settings: Settings, store: Store) -> (Arc<Hub>, Schedules) {
    let admission = settings.admission;
    let auth = Authenticator::new(
        settings.verification_keys,
        &settings.issuer,
        &settings.audience,
        admission.max_token_lifetime,
    );
    let hub = Arc::new(Hub {
        metrics: crate::metrics::Metrics::new(&store),
        store,
        rules: settings.rules,
        deadlines: settings.deadlines,
        clock: settings.clock,
        auth,
        link_key_secret: settings.link_key_secret,
        retention: settings.retention,
        limits: settings.limits,
        budgets: Default::default(),
        authority: settings.authority,
        refusals: crate::refused_calls::new_tally(),
        streams: Default::default(),
        shutdown: Shutdown::default(),
    });
    let schedules = Schedules {
        scheduler: settings.scheduler,
        push: settings.push,
        push_timeouts: settings.push_timeouts,
        key_reload: settings.key_reload,
        identity_provider: settings.identity_provider,
        revocation_refresh: admission.revocation_refresh,
        refusal_flush: admission.refusal_flush,
        tree_heads: settings.tree_heads,
    };
    (hub, schedules)
}

/// The built-in adapters, the HEALTH one with `concept_map` (FHIR R4 JSON) if given.
fn adapters(concept_map: Option<&str>) -> Result<Adapters, ServeError> {
    let mut health = HealthAdapter::new()?;
    if let Some(concept_map) = concept_map {
        health = health.with_concept_map(concept_map)?;
    }
    Ok(Adapters::builtin_with(health)?)
}

/// Replaces children's local ids in stored consent records by their keys;
/// before any lookup, as records are found by the key.
async fn key_local_ids(store: &Store, link_key_secret: &[u8]) -> Result<(), ServeError> {
    let keyed = crate::local_ids::key_stored_local_ids(store, link_key_secret).await?;
    if keyed > 0 {
        tracing::info!(keyed, "children's local ids in consent records replaced by their keys");
    }
    Ok(())
}

/// A listener on `address`, and the address it got (the port, when 0 asked for one).
async fn bind(address: SocketAddr) -> Result<(TcpListener, SocketAddr), ServeError> {
    let bound = TcpListener::bind(address).await.and_then(|listener| Ok((listener.local_addr()?, listener)));
    let (at, listener) = bound.map_err(|source| ServeError::Bind { address, source })?;
    Ok((listener, at))
}

/// Serves `api` on `listener` until `stopping` completes and the connections
/// have finished, or [`DRAIN_LIMIT`] after the hub's shutdown began.
async fn serve(
    api: Router,
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    stopping: impl Future<Output = ()> + Send,
    shutdown: &Shutdown,
) -> Result<(), ServeError> {
    let serving = async {
        match tls {
            Some(tls) => {
                let incoming = crate::tls_listener::incoming(listener, tls);
                api.serve_with_incoming_shutdown(incoming, stopping).await
            }
            None => api.serve_with_incoming_shutdown(without_nagle(listener), stopping).await,
        }
    };
    let drain_limit = async {
        shutdown.begun().await;
        tokio::time::sleep(DRAIN_LIMIT).await;
    };
    tokio::select! {
        served = serving => Ok(served?),
        () = drain_limit => {
            tracing::warn!(limit = ?DRAIN_LIMIT, "connections still open at the drain limit are cut");
            Ok(())
        }
    }
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

/// Waits until every background task has ended; one that panicked is logged.
async fn wait_for(tasks: &mut JoinSet<()>) {
    while let Some(ended) = tasks.join_next().await {
        if let Err(error) = ended {
            tracing::error!(%error, "a background task failed");
        }
    }
}

/// What is left once nothing else runs: the refusals counted since the last
/// flush are written, and the group committer writes what is queued.
async fn finish(hub: &Hub) {
    if let Err(error) = hub.flush_refusals(true).await {
        tracing::error!(%error, "refusal counts not written at shutdown");
    }
    if let Err(error) = hub.store.flush().await {
        tracing::error!(%error, "the group committer was not flushed at shutdown");
    }
}
