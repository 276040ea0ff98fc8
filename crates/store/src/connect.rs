//! Opening the database, per backend, and running the embedded migrations.

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    Connection, Executor,
    any::{AnyConnectOptions, AnyPoolOptions, install_default_drivers},
    migrate::Migrator,
    postgres::PgListener,
};

use crate::{InboxNotifier, Result, Store, StoreError, consent_reads, group_commit};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

/// How long a caller waits for a free connection before the store answers
/// with an error.
pub(crate) const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// A PostgreSQL connection idle this long is tested before use: long enough
/// that under load (idle for microseconds) no read pays a ping, short enough
/// that a connection left idle across a server restart is tested, not handed
/// to a caller whose query would fail on it.
const TEST_AFTER_IDLE: Duration = Duration::from_secs(1);

/// PostgreSQL channel on which a replica tells the others that an inbox grew.
pub(crate) const INBOX_CHANNEL: &str = "referralhub_inbox";

/// Pool options for PostgreSQL. sqlx's default pings every connection before
/// handing it out, one more round trip for every read (with the ping sqlx
/// always sends when a connection goes back, a seventh of the hub's CPU in the
/// closed-loop benchmark). Only a connection idle for [`TEST_AFTER_IDLE`] is
/// pinged; one that fails is dropped and another taken, as before.
pub(crate) fn postgres_pool() -> AnyPoolOptions {
    AnyPoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT).test_before_acquire(false).before_acquire(
        |connection, meta| {
            Box::pin(async move {
                if meta.idle_for >= TEST_AFTER_IDLE {
                    connection.ping().await?;
                }
                Ok(true)
            })
        },
    )
}

/// Which database the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded, one file, one writer.
    Sqlite,
    /// A server, shared by replicas.
    Postgres,
}

impl Backend {
    /// The backend a URL names.
    pub fn of_url(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }
}

/// Connections of a PostgreSQL store's inbox-read pool: reads run for every
/// delivery, more often than anything else on a busy hub.
const INBOX_READERS: u32 = 4;

/// Settings of an inbox reader: the prepared read's generic plan, always.
/// PostgreSQL otherwise compares it with plans for each call's values, and a
/// stream reads at the end of its inbox, where the planner's estimate (almost
/// no rows) makes a plan for the values look cheaper. Once the table's
/// statistics said so, every read was planned anew: 0.4 ms of the server's
/// CPU each, a fifth of its CPU per referral at 500/s, for the same plan.
/// Without parallel workers: not knowing the position, the generic plan
/// expects a third of the organisation's entries, and with a million stored
/// it gathered two workers for every read (16 ms instead of 0.2 ms).
const INBOX_READER_SETTINGS: &str = "SET plan_cache_mode = force_generic_plan; SET max_parallel_workers_per_gather = 0";

/// Per-connection settings for SQLite: WAL for concurrent readers, foreign keys
/// on, FULL sync so a commit is on disk before the RPC answers, and a busy
/// timeout instead of immediate lock errors.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                              PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;";

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://…`); creates a SQLite
    /// file if it does not exist. Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &str) -> Result<Store> {
        install_default_drivers();
        let backend = Backend::of_url(url)?;
        let (read, write, inbox_reads) = match backend {
            Backend::Sqlite => {
                let url = if url.contains("mode=") {
                    url.to_owned()
                } else {
                    format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
                };
                let options = AnyConnectOptions::from_str(&url)?;
                let pool = || {
                    AnyPoolOptions::new()
                        .acquire_timeout(ACQUIRE_TIMEOUT)
                        // A file does not hang up: no ping (a round trip to the
                        // connection's worker thread) before every use.
                        .test_before_acquire(false)
                        .after_connect(|conn, _| Box::pin(async move { conn.execute(SQLITE_PRAGMAS).await.map(drop) }))
                };
                let write = pool().max_connections(1).connect_with(options.clone()).await?;
                let read = pool().max_connections(4).connect_with(options).await?;
                (read.clone(), write, read)
            }
            Backend::Postgres => {
                let pool = postgres_pool().max_connections(16).connect(url).await?;
                let inbox_reads = postgres_pool()
                    .max_connections(INBOX_READERS)
                    .after_connect(|conn, _| {
                        Box::pin(async move { conn.execute(INBOX_READER_SETTINGS).await.map(drop) })
                    })
                    .connect_lazy(url)?;
                (pool.clone(), pool, inbox_reads)
            }
        };
        let notifier = Arc::new(InboxNotifier::default());
        if backend == Backend::Postgres {
            spawn_inbox_listener(url, notifier.clone()).await?;
        }
        let mut store = Store {
            read,
            write,
            inbox_reads,
            backend,
            notifier,
            committer: None,
            consent_reads: None,
            directory_cache: Arc::default(),
            audit_timing: Arc::default(),
            group_counts: Arc::default(),
            sealer: Arc::default(),
        };
        store.consent_reads = Some(consent_reads::ConsentReads::start(store.clone()));
        store.committer = Some(group_commit::Committer::start(store.clone(), url).await?);
        Ok(store)
    }

    /// Applies the embedded migrations of this backend that are not yet applied.
    pub async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.write).await?;
        Ok(())
    }

    /// Which backend this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Wakes inbox streams when their organisation's inbox grows.
    pub fn notifier(&self) -> &Arc<InboxNotifier> {
        &self.notifier
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
        self.write.close().await;
        self.read.close().await;
        self.inbox_reads.close().await;
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
