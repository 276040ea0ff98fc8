//! The connection pools of a store, per backend: SQLite's pragmas and its
//! single writer connection, PostgreSQL's pool options and its inbox readers.

use std::{str::FromStr, time::Duration};

use sqlx::{
    AnyPool, Connection, Executor,
    any::{AnyConnectOptions, AnyPoolOptions},
};

use crate::{Backend, Result};

/// How long a caller waits for a free connection before the store answers
/// with an error.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// A PostgreSQL connection idle this long is tested before use: long enough
/// that under load (idle for microseconds) no read pays a ping, short enough
/// that a connection left idle across a server restart is tested, not handed
/// to a caller whose query would fail on it.
const TEST_AFTER_IDLE: Duration = Duration::from_secs(1);

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

/// Where a store's reads and writes go.
#[derive(Clone)]
pub(crate) struct Pools {
    /// Reads. On SQLite a pool of readers beside the single writer.
    pub(crate) read: AnyPool,
    /// Writes. On SQLite exactly one connection, the single writer path that
    /// avoids lock upgrades failing under WAL; on PostgreSQL the same pool as `read`.
    pub(crate) write: AnyPool,
    /// Inbox reads, for streams and push: on PostgreSQL a pool of their own
    /// that always uses the generic plan (see [`INBOX_READER_SETTINGS`]);
    /// on SQLite the same pool as `read`.
    pub(crate) inbox_reads: AnyPool,
    /// Which database they reach.
    pub(crate) backend: Backend,
}

impl Pools {
    /// Opens the pools of `url` on `backend`; creates a SQLite file if it
    /// does not exist.
    pub(crate) async fn open(url: &str, backend: Backend) -> Result<Pools> {
        match backend {
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
                Ok(Pools { read: read.clone(), write, inbox_reads: read, backend })
            }
            Backend::Postgres => {
                let pool = postgres_pool().max_connections(16).connect(url).await?;
                let inbox_reads = postgres_pool()
                    .max_connections(INBOX_READERS)
                    .after_connect(|conn, _| {
                        Box::pin(async move { conn.execute(INBOX_READER_SETTINGS).await.map(drop) })
                    })
                    .connect_lazy(url)?;
                Ok(Pools { read: pool.clone(), write: pool, inbox_reads, backend })
            }
        }
    }
}
