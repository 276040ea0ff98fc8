//! The committer's task: takes the jobs waiting, writes them as one group
//! (see the module documentation of `group_commit`) and answers each caller.

use std::time::{Duration, Instant};

use sqlx::{Any, AnyConnection, AnyPool, Connection, Transaction, pool::PoolConnection};
use tokio::sync::{mpsc, oneshot};

use super::{
    held_acks::HeldAcks,
    jobs::{Job, Submission, settle},
    one_statement::{OneStatement, Sent},
    queue::Committer,
};
use crate::{Backend, Result, Store, StoreError, audit::ChainHead, pools::postgres_pool};

/// How many submissions one transaction takes at most.
const MAX_GROUP: usize = 256;
/// How many submissions may wait for the committer before callers wait to queue.
const QUEUE: usize = 4096;
/// How long the committer keeps the writer connection across consecutive
/// groups before it hands it back, so that other writers (on SQLite they share
/// the one connection) get their turn.
const HOLD: Duration = Duration::from_millis(25);

/// One result per job of a group, in order.
type Results = Vec<Result<()>>;

/// Starts the committer: on SQLite a task over `store`'s one writer
/// connection; on PostgreSQL a thread with its own runtime and its own
/// connection to `url` (see the module documentation).
pub(crate) async fn start(store: Store, url: &str) -> Result<Committer> {
    let (queue, waiting) = mpsc::channel(QUEUE);
    let own_pool = match store.pools.backend {
        Backend::Sqlite => {
            let writer = store.pools.write.clone();
            tokio::spawn(commit_groups(store, writer, waiting));
            None
        }
        Backend::Postgres => {
            // Lazy, so that the connection is opened on (and its socket
            // polled by) the committer's own runtime.
            let writer = postgres_pool().max_connections(1).connect_lazy(url)?;
            let own_pool = writer.clone();
            // The runtime is built on the thread: dropped on the caller's
            // (if spawning failed) it would panic inside async code. The
            // thread says whether it could, so that a store without a
            // committer does not start.
            let (built, runtime_built) = oneshot::channel();
            std::thread::Builder::new()
                .name("group-commit".into())
                .spawn(move || match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => {
                        let _ = built.send(Ok(()));
                        runtime.block_on(async move {
                            commit_groups(store, writer.clone(), waiting).await;
                            writer.close().await;
                        });
                    }
                    Err(error) => {
                        let _ = built.send(Err(error));
                    }
                })
                .map_err(StoreError::Thread)?;
            runtime_built.await.map_err(|_| StoreError::Closed)?.map_err(StoreError::Thread)?;
            Some(own_pool)
        }
    };
    Ok(Committer { queue, own_pool })
}

/// Takes every job waiting (up to [`MAX_GROUP`]) and commits them together, until the store is dropped.
async fn commit_groups(store: Store, pool: AnyPool, mut waiting: mpsc::Receiver<Job>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    let mut writer = None;
    let mut statement = (store.pools.backend == Backend::Postgres).then(|| OneStatement::new(&store));
    let mut held_acks = HeldAcks::new();
    let mut due_acks = Vec::new();
    loop {
        if held_acks.is_empty() {
            if waiting.recv_many(&mut group, MAX_GROUP).await == 0 {
                break;
            }
        } else {
            // Acknowledgements are waiting: take what else has queued, without waiting for more.
            while group.len() < MAX_GROUP {
                match waiting.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
        }
        let now = Instant::now();
        held_acks.hold(now, group.extract_if(.., |job| job.is_ack()));
        held_acks.take_due(now, &mut due_acks);
        for jobs in [&mut group, &mut due_acks].into_iter().filter(|jobs| !jobs.is_empty()) {
            let results = commit_group(&store, &pool, &mut writer, statement.as_mut(), jobs).await;
            for (job, result) in jobs.drain(..).zip(results) {
                match job {
                    // A long acknowledgement goes on in a later round, behind those held now.
                    Job::Ack(ack, reply) if result.is_ok() && !ack.finished() => {
                        held_acks.hold(Instant::now(), [Job::Ack(ack, reply)]);
                    }
                    job => job.answer(result),
                }
            }
        }
        let idle = waiting.is_empty() && held_acks.is_empty();
        if idle || writer.as_ref().is_some_and(|held: &Writer| held.since.elapsed() >= HOLD) {
            writer = None;
        }
    }
}

/// The writer connection the committer holds across consecutive groups.
struct Writer {
    connection: PoolConnection<Any>,
    /// When it was taken from the pool.
    since: Instant,
}

/// Writes `group` on the held writer connection (taken from `pool` if none
/// is held) and wakes the recipients' streams of the messages written.
async fn commit_group(
    store: &Store,
    pool: &AnyPool,
    writer: &mut Option<Writer>,
    statement: Option<&mut OneStatement>,
    group: &mut [Job],
) -> Results {
    let outcome = match writer {
        Some(held) => write_group(store, &mut held.connection, statement, group).await,
        None => match pool.acquire().await {
            Ok(connection) => {
                let held = writer.insert(Writer { connection, since: Instant::now() });
                write_group(store, &mut held.connection, statement, group).await
            }
            Err(error) => Err(error.into()),
        },
    };
    if outcome.is_err() {
        // The pool tests a connection handed back, and drops a broken one.
        *writer = None;
    }
    let results: Results = match outcome {
        Ok(results) => results,
        Err(error) => {
            tracing::error!(%error, size = group.len(), "group commit failed");
            group.iter().map(|_| Err(StoreError::Unavailable(error.to_string()))).collect()
        }
    };
    for (job, result) in group.iter().zip(&results) {
        if let (Some(submission), Ok(())) = (job.submission(), result) {
            store.shared.notifier.notify(&submission.message.recipient_org);
        }
    }
    results
}

/// Writes the group: on PostgreSQL as one statement when it can (see
/// `one_statement`), otherwise in a transaction that holds the chain head's
/// lock. `Err` only if no transaction can be written at all.
async fn write_group(
    store: &Store,
    writer: &mut AnyConnection,
    mut statement: Option<&mut OneStatement>,
    jobs: &mut [Job],
) -> Result<Results> {
    let in_one_statement = match statement.as_deref_mut() {
        Some(statement) => statement.write(store, writer, jobs).await,
        None => Ok(Sent::Declined),
    };
    let together = match in_one_statement {
        Ok(Sent::Written) => {
            store.shared.group_counts.one_statement();
            return Ok(jobs.iter().map(|_| Ok(())).collect());
        }
        Ok(Sent::Declined) => write_together(store, writer, jobs).await,
        Err(error) => Err(error),
    };
    let written = match together {
        Ok(head) => Ok((jobs.iter().map(|_| Ok(())).collect(), head)),
        Err(error) => {
            // Something in the group failed, most often a retry that a
            // concurrent one beat to it: write each job in its own savepoint
            // instead, so it fails alone.
            tracing::debug!(%error, size = jobs.len(), "group written one job at a time");
            write_one_by_one(store, writer, jobs).await
        }
    };
    written.map(|(results, head)| {
        store.shared.group_counts.locked();
        if let Some(statement) = statement {
            statement.head = Some(head);
        }
        results
    })
}

/// The whole group in one transaction, each table in as few statements as
/// possible; any failure fails (and rolls back) all of it. Returns the chain
/// head it committed.
async fn write_together(store: &Store, writer: &mut AnyConnection, jobs: &mut [Job]) -> Result<ChainHead> {
    let mut tx = writer.begin().await?;
    let mut head = Store::lock_audit_head(&mut tx).await?;
    write_jobs(store, &mut tx, &mut head, jobs).await?;
    tx.commit().await?;
    Ok(head)
}

/// One transaction, each job in its own savepoint, so a failing one fails
/// alone. Returns the chain head it committed.
async fn write_one_by_one(store: &Store, writer: &mut AnyConnection, jobs: &mut [Job]) -> Result<(Results, ChainHead)> {
    let mut tx = writer.begin().await?;
    let mut head = Store::lock_audit_head(&mut tx).await?;
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs.iter_mut() {
        sqlx::query("SAVEPOINT submission").execute(&mut *tx).await?;
        let before = head;
        match write_jobs(store, &mut tx, &mut head, std::slice::from_mut(job)).await {
            Ok(()) => {
                sqlx::query("RELEASE SAVEPOINT submission").execute(&mut *tx).await?;
                results.push(Ok(()));
            }
            Err(error) => {
                head = before;
                sqlx::query("ROLLBACK TO SAVEPOINT submission").execute(&mut *tx).await?;
                sqlx::query("RELEASE SAVEPOINT submission").execute(&mut *tx).await?;
                results.push(Err(error));
            }
        }
    }
    tx.commit().await?;
    Ok((results, head))
}

/// The writes of `jobs` inside `tx`: the messages (with what they bring), the
/// acknowledgements, then every audit entry in job order.
async fn write_jobs(
    store: &Store,
    tx: &mut Transaction<'_, Any>,
    head: &mut ChainHead,
    jobs: &mut [Job],
) -> Result<()> {
    let submissions: Vec<&Submission> = jobs.iter().filter_map(Job::submission).collect();
    store.insert_messages_tx(tx, &submissions).await?;
    for job in jobs.iter_mut() {
        if let Job::Ack(ack, _) = job {
            store.ack_inbox_tx(tx, ack).await?;
        }
    }
    let before = head.seq();
    store.append_audit(tx, head, jobs.iter_mut().flat_map(|job| job.audit_mut().iter_mut())).await?;
    settle(jobs, before);
    Ok(())
}
