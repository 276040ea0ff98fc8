//! The hub's background tasks: the deadline scheduler, re-sealing, the
//! pusher, the audit tree heads, the verification keys' reload, the identity provider's refresh,
//! the revocations' refresh, the refusal counts' flush and the admin
//! listener. The [`crate::Application`] owns them: they start when it runs,
//! and when the hub's shutdown begins each finishes the pass it is in and
//! ends, and the application waits for them before it finishes.

use referral_hub_domain::timestamps::UnixMicros;
use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use tokio::{net::TcpListener, task::JoinSet};

use referral_hub_adapters::Adapters;

use crate::{
    hub::Hub, identity_provider::IdentityProvider, push::Pusher, push::webhook::PushTimeouts,
    scheduler::SchedulerControl, settings::KeyReload,
};

/// What drives each periodic task (their intervals, and the controls tests tick).
pub(crate) struct Schedules {
    /// The deadline scheduler.
    pub scheduler: Arc<SchedulerControl>,
    /// The pusher.
    pub push: Arc<SchedulerControl>,
    /// How long the pusher waits for an endpoint.
    pub push_timeouts: PushTimeouts,
    /// The verification keys' reload, if they are re-read.
    pub key_reload: Option<KeyReload>,
    /// The external identity provider's refresh, if there is one.
    pub identity_provider: Option<IdentityProvider>,
    /// The revocations' refresh.
    pub revocation_refresh: Arc<SchedulerControl>,
    /// The refusal counts' flush.
    pub refusal_flush: Arc<SchedulerControl>,
    /// The audit log's tree heads.
    pub tree_heads: crate::tree_heads::TreeHeadSettings,
}

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The tasks of one hub, built and not yet started.
pub(crate) struct BackgroundTasks(Vec<Task>);

impl BackgroundTasks {
    /// The periodic tasks of `hub`; the identity provider's keys fetched at
    /// start are installed now, before the first call. Fails only if the
    /// pusher's HTTP client cannot be built.
    pub(crate) fn new(hub: &Arc<Hub>, adapters: &Arc<Adapters>, schedules: Schedules) -> reqwest::Result<Self> {
        let pusher = Pusher::new(hub.clone(), adapters.clone(), schedules.push_timeouts)?;
        let mut tasks: Vec<Task> = vec![
            Box::pin(refresh_revocations(hub.clone(), schedules.revocation_refresh)),
            Box::pin(crate::refused_calls::flush_refusals(hub.clone(), schedules.refusal_flush)),
            Box::pin(crate::scheduler::run(hub.clone(), schedules.scheduler)),
            Box::pin(reseal(hub.clone())),
            Box::pin(pusher.run(schedules.push)),
            Box::pin(crate::tree_heads::run(hub.clone(), schedules.tree_heads)),
        ];
        if let Some(reload) = schedules.key_reload {
            tasks.push(Box::pin(reload_keys(hub.clone(), reload)));
        }
        if let Some(provider) = schedules.identity_provider {
            provider.install(&hub.auth);
            tasks.push(Box::pin(provider.run(hub.clone())));
        }
        Ok(BackgroundTasks(tasks))
    }

    /// Adds the admin listener, serving `routes` until the hub's shutdown begins.
    pub(crate) fn serve_admin(&mut self, hub: &Hub, listener: TcpListener, routes: axum::Router) {
        let shutdown = hub.shutdown.begun();
        self.0.push(Box::pin(async move {
            if let Err(error) = axum::serve(listener, routes).with_graceful_shutdown(shutdown).await {
                tracing::error!(%error, "the admin listener stopped");
            }
        }));
    }

    /// Starts every task; the set aborts those still running if it is dropped.
    pub(crate) fn start(self) -> JoinSet<()> {
        let mut running = JoinSet::new();
        for task in self.0 {
            running.spawn(task);
        }
        running
    }
}

/// Payloads re-sealed per table per round.
const RESEAL_BATCH: u32 = 200;
/// How long re-sealing rests once nothing is left to seal again.
const RESEAL_IDLE: Duration = Duration::from_secs(600);
/// How long re-sealing waits after a round that failed.
const RESEAL_RETRY: Duration = Duration::from_secs(60);

/// Seals again, in the background, payloads under an older key (after the
/// payload key id changed) or from before sealing, a batch at a time, until
/// the hub stops.
async fn reseal(hub: Arc<Hub>) {
    let mut busy = false;
    while !hub.shutdown.has_begun() {
        let rest = match hub.store.reseal(RESEAL_BATCH).await {
            Ok(0) => {
                if std::mem::take(&mut busy) {
                    tracing::info!("every payload is sealed under the current key; older keys can be retired");
                }
                RESEAL_IDLE
            }
            Ok(changed) => {
                busy = true;
                tracing::info!(changed, "payloads sealed under the current key");
                continue;
            }
            Err(error) => {
                tracing::warn!(%error, "re-sealing payloads failed; retrying later");
                RESEAL_RETRY
            }
        };
        tokio::select! {
            () = hub.shutdown.begun() => return,
            () = tokio::time::sleep(rest) => {}
        }
    }
}

/// Applies re-read verification keys until the hub stops.
async fn reload_keys(hub: Arc<Hub>, reload: KeyReload) {
    let control = reload.control.clone();
    control
        .run(&hub.shutdown, || async {
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

/// Re-reads the revocations in force on every tick of `control`, until the
/// hub stops, so a `token revoke` on any replica's database applies here
/// within an interval.
async fn refresh_revocations(hub: Arc<Hub>, control: Arc<SchedulerControl>) {
    control.run(&hub.shutdown, || reread_revocations(&hub)).await;
}

/// Reads the revocations that can still name an unexpired token (those
/// younger than the longest a token may live). A read that fails keeps the
/// revocations in use.
pub(crate) async fn reread_revocations(hub: &Hub) {
    let lifetime = hub.auth.max_lifetime_seconds().saturating_add(REVOCATION_MARGIN_SECONDS);
    let lifetime = i64::try_from(lifetime).unwrap_or(i64::MAX / 1_000_000).saturating_mul(1_000_000);
    let since = crate::clock::micros(hub.clock.now()).saturating_sub(lifetime);
    match hub.store.revocations_since(UnixMicros::new(since)).await {
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
