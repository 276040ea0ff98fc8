//! Opening a store: its pools, its PostgreSQL listener and its queues
//! (migrating it is `migrations.rs`).

use std::sync::Arc;

use sqlx::{any::install_default_drivers, postgres::PgListener};

use crate::{
    Backend, InboxNotifier, Result, Store, consent_reads, group_commit,
    handle::{Queues, Shared},
    notify::INBOX_CHANNEL,
    pools::Pools,
};

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://…`); creates a SQLite
    /// file if it does not exist. Does not migrate: call [`Store::migrate`], or
    /// [`Store::require_migrated`] as a role that may not.
    pub async fn connect(url: &str) -> Result<Store> {
        install_default_drivers();
        let backend = Backend::of_url(url)?;
        let pools = Pools::open(url, backend).await?;
        let shared = Arc::new(Shared::default());
        if backend == Backend::Postgres {
            spawn_inbox_listener(url, shared.notifier.clone()).await?;
        }
        let mut store = Store { pools, queues: Queues::default(), shared };
        store.queues.consent_reads = Some(consent_reads::start(store.clone()));
        store.queues.committer = Some(group_commit::start(store.clone(), url).await?);
        Ok(store)
    }

    /// Which backend this store runs on.
    pub fn backend(&self) -> Backend {
        self.pools.backend
    }

    /// Wakes inbox streams when their organisation's inbox grows.
    pub fn notifier(&self) -> &Arc<InboxNotifier> {
        &self.shared.notifier
    }

    /// Waits until the group committer has written everything queued before
    /// this call: an empty append, queued now, is answered in queue order
    /// (acknowledgements it holds back may still follow; each one's caller
    /// is still waiting for it). Used at shutdown, before [`Store::close`].
    pub async fn flush(&self) -> Result<()> {
        self.audit(Vec::new()).await.map(drop)
    }

    /// Closes every connection; used at shutdown so SQLite checkpoints cleanly.
    pub async fn close(&self) {
        self.pools.write.close().await;
        self.pools.read.close().await;
        self.pools.inbox_reads.close().await;
    }
}

/// Listens for other replicas' inbox notifications and wakes local streams
/// (this process's own come back too, and are skipped).
/// sqlx's listener reconnects by itself; if it gives up, streams still poll.
async fn spawn_inbox_listener(url: &str, notifier: Arc<InboxNotifier>) -> Result<()> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(INBOX_CHANNEL).await?;
    tokio::spawn(async move {
        loop {
            match listener.recv().await {
                Ok(notification) => {
                    if let Some(org) = notifier.org_from_elsewhere(notification.payload()) {
                        notifier.notify(org);
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "inbox listener stopped; streams fall back to polling");
                    return;
                }
            }
        }
    });
    Ok(())
}
