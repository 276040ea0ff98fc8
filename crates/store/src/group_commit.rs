//! Group commit for the hot writes: submissions (`insert_message`), inbox
//! acknowledgements (`ack_inbox`) and stand-alone audit appends (reads,
//! deliveries, refusals: `audit`) are queued
//! to one task that writes as many as are waiting in one transaction and
//! commits once: one fsync for the whole group instead of one per call. The
//! group goes in as multi-row INSERTs, a handful of statements whatever its
//! size; if any of it fails (a retry that a concurrent one beat, a bad row),
//! the group is written again one job per savepoint, so a failing job fails
//! alone. Every caller gets its own result, and only after the commit.
//!
//! On PostgreSQL a group of submissions and audit appends is written as one
//! statement, in one round trip, while the chain head is where this committer
//! left it ([`crate::group_statement`]); otherwise, and always on SQLite, in a
//! transaction that holds the head's lock.
//!
//! Inbox acknowledgements (each an `UPDATE` of every message it delivers, on
//! the locked path) are held back and written one per round, after whatever
//! else queued meanwhile ([`crate::held_acks`]); a long one is written in
//! steps (`inbox::ACK_STEP` positions each), one per round, behind those held.
//!
//! The committer keeps the writer connection across consecutive groups (the
//! pool would ping it on every return, one more round trip per group). On
//! PostgreSQL it runs on a thread of its own, with a connection of its own: a
//! locked group is nine round trips in a row, and on the server's runtime each
//! answer waited behind the gRPC tasks before the next statement could go.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use sqlx::{Any, AnyConnection, AnyPool, Connection, Transaction, pool::PoolConnection};
use tokio::sync::{mpsc, oneshot};

use referral_hub_domain::audit::Entry;

use crate::{
    Backend, ConsentRow, MessageRecord, Result, Store, StoreError, audit::ChainHead, group_statement::GroupStatement,
    held_acks::HeldAcks, inbox::InboxAck,
};

/// How many submissions one transaction takes at most.
const MAX_GROUP: usize = 256;
/// How many submissions may wait for the committer before callers wait to queue.
const QUEUE: usize = 4096;
/// How long the committer keeps the writer connection across consecutive
/// groups before it hands it back, so that other writers (on SQLite they share
/// the one connection) get their turn.
const HOLD: Duration = Duration::from_millis(25);

/// One unit of work for the committer.
pub(crate) enum Job {
    /// Store a message.
    Message(Box<Submission>),
    /// Append audit entries.
    Audit(Vec<Entry>),
    /// Acknowledge an inbox.
    Ack(Box<InboxAck>),
}

/// What a job produced.
pub(crate) enum Done {
    /// The stored message.
    Message(Box<MessageRecord>),
    /// The sequence number of the last entry appended (0 for none).
    Audit(u64),
    /// The inbox cursor after the acknowledgement.
    Ack(u64),
}

/// One message to store, with what it brings along.
pub(crate) struct Submission {
    pub message: MessageRecord,
    pub consent: Option<ConsentRow>,
    /// Protection concern codes, for statistics.
    pub concerns: Vec<String>,
    pub audit: Vec<Entry>,
}

impl Job {
    /// The message the job stores, if it stores one.
    pub(crate) fn submission(&self) -> Option<&Submission> {
        match self {
            Job::Message(submission) => Some(submission),
            Job::Audit(_) | Job::Ack(_) => None,
        }
    }

    /// The audit entries the job appends.
    pub(crate) fn audit_mut(&mut self) -> &mut Vec<Entry> {
        match self {
            Job::Message(submission) => &mut submission.audit,
            Job::Audit(entries) => entries,
            Job::Ack(ack) => &mut ack.audit,
        }
    }
}

type Reply = oneshot::Sender<Result<Done>>;

/// How many groups this process committed, by path: on PostgreSQL the share
/// on the locked path shows how often the chain head moved between this
/// committer's groups (other replicas, follow-ups, consent records) or a
/// group was acknowledgements (see [`crate::group_statement`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupCommits {
    /// Written as one statement, without the head's lock.
    pub one_statement: u64,
    /// Written in a transaction holding the head's lock.
    pub locked: u64,
}

/// Running [`GroupCommits`], shared by every handle of a store.
#[derive(Debug, Default)]
pub(crate) struct GroupCounts {
    one_statement: AtomicU64,
    locked: AtomicU64,
}

impl Store {
    /// Groups committed so far by this process, by path.
    pub fn group_commits(&self) -> GroupCommits {
        GroupCommits {
            one_statement: self.group_counts.one_statement.load(Ordering::Relaxed),
            locked: self.group_counts.locked.load(Ordering::Relaxed),
        }
    }
}

/// The handle callers queue submissions through.
#[derive(Clone)]
pub(crate) struct Committer {
    queue: mpsc::Sender<(Job, Reply)>,
    /// The committer's own connection pool (PostgreSQL), for the connection metrics.
    pub(crate) own_pool: Option<AnyPool>,
}

impl Committer {
    /// Starts the committer: on SQLite a task over `store`'s one writer
    /// connection; on PostgreSQL a thread with its own runtime and its own
    /// connection to `url` (see the module documentation).
    pub(crate) async fn start(store: Store, url: &str) -> Result<Committer> {
        let (queue, waiting) = mpsc::channel(QUEUE);
        let own_pool = match store.backend {
            Backend::Sqlite => {
                let writer = store.write.clone();
                tokio::spawn(commit_groups(store, writer, waiting));
                None
            }
            Backend::Postgres => {
                // Lazy, so that the connection is opened on (and its socket
                // polled by) the committer's own runtime.
                let writer = crate::connect::postgres_pool().max_connections(1).connect_lazy(url)?;
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

    /// Queues a job and waits for its committed result.
    pub(crate) async fn run(&self, job: Job) -> Result<Done> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((job, reply)).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

/// Takes every submission waiting (up to [`MAX_GROUP`]) and commits them together, until the store is dropped.
async fn commit_groups(store: Store, pool: AnyPool, mut waiting: mpsc::Receiver<(Job, Reply)>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    let mut writer = None;
    let mut statement = (store.backend == Backend::Postgres).then(|| GroupStatement::new(&store));
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
        held_acks.hold(now, group.extract_if(.., |(job, _)| matches!(job, Job::Ack(_))));
        held_acks.take_due(now, &mut due_acks);
        for jobs in [&mut group, &mut due_acks].into_iter().filter(|jobs| !jobs.is_empty()) {
            for (job, reply, result) in commit_group(&store, &pool, &mut writer, statement.as_mut(), jobs).await {
                match job {
                    // A long acknowledgement goes on in a later round, behind those held now.
                    Job::Ack(ack) if result.is_ok() && !ack.finished() => {
                        held_acks.hold(Instant::now(), [(Job::Ack(ack), reply)]);
                    }
                    _ => {
                        let _ = reply.send(result);
                    }
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

async fn commit_group(
    store: &Store,
    pool: &AnyPool,
    writer: &mut Option<Writer>,
    statement: Option<&mut GroupStatement>,
    group: &mut Vec<(Job, Reply)>,
) -> Vec<(Job, Reply, Result<Done>)> {
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
    let results: Vec<Result<Done>> = match outcome {
        Ok(results) => results,
        Err(error) => {
            tracing::error!(%error, size = group.len(), "group commit failed");
            group.iter().map(|_| Err(StoreError::Unavailable(error.to_string()))).collect()
        }
    };
    for result in &results {
        if let Ok(Done::Message(message)) = result {
            store.notifier.notify(&message.recipient_org);
        }
    }
    group.drain(..).zip(results).map(|((job, reply), result)| (job, reply, result)).collect()
}

/// Writes the group: on PostgreSQL as one statement when it can (see
/// [`crate::group_statement`]), otherwise in a transaction that holds the
/// chain head's lock. `Err` only if no transaction can be written at all.
async fn write_group(
    store: &Store,
    writer: &mut AnyConnection,
    mut statement: Option<&mut GroupStatement>,
    group: &mut [(Job, Reply)],
) -> Result<Vec<Result<Done>>> {
    let mut jobs: Vec<&mut Job> = group.iter_mut().map(|(job, _)| job).collect();
    let in_one_statement = match statement.as_deref_mut() {
        Some(statement) => statement.write(store, writer, &mut jobs).await,
        None => Ok(None),
    };
    let together = match in_one_statement {
        Ok(Some(done)) => {
            store.group_counts.one_statement.fetch_add(1, Ordering::Relaxed);
            return Ok(done.into_iter().map(Ok).collect());
        }
        Ok(None) => write_together(store, writer, &mut jobs).await,
        Err(error) => Err(error),
    };
    let written = match together {
        Ok((done, head)) => Ok((done.into_iter().map(Ok).collect(), head)),
        Err(error) => {
            // Something in the group failed, most often a retry that a
            // concurrent one beat to it: write each job in its own savepoint
            // instead, so it fails alone.
            tracing::debug!(%error, size = jobs.len(), "group written one job at a time");
            write_one_by_one(store, writer, &mut jobs).await
        }
    };
    written.map(|(results, head)| {
        store.group_counts.locked.fetch_add(1, Ordering::Relaxed);
        if let Some(statement) = statement {
            statement.head = Some(head);
        }
        results
    })
}

/// The whole group in one transaction, each table in as few statements as
/// possible; any failure fails (and rolls back) all of it. Returns the chain
/// head it committed.
async fn write_together(
    store: &Store,
    writer: &mut AnyConnection,
    jobs: &mut [&mut Job],
) -> Result<(Vec<Done>, ChainHead)> {
    let mut tx = writer.begin().await?;
    let mut head = Store::lock_audit_head(&mut tx).await?;
    let done = write_jobs(store, &mut tx, &mut head, jobs).await?;
    tx.commit().await?;
    Ok((done, head))
}

/// One transaction, each job in its own savepoint, so a failing one fails
/// alone. Returns the chain head it committed.
async fn write_one_by_one(
    store: &Store,
    writer: &mut AnyConnection,
    jobs: &mut [&mut Job],
) -> Result<(Vec<Result<Done>>, ChainHead)> {
    let mut tx = writer.begin().await?;
    let mut head = Store::lock_audit_head(&mut tx).await?;
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs.iter_mut() {
        sqlx::query("SAVEPOINT submission").execute(&mut *tx).await?;
        let before = head;
        match write_jobs(store, &mut tx, &mut head, std::slice::from_mut(job)).await {
            Ok(mut done) => {
                sqlx::query("RELEASE SAVEPOINT submission").execute(&mut *tx).await?;
                results.extend(done.pop().map(Ok));
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

/// The writes of `jobs` inside `tx`: the messages (with what they bring), then
/// every audit entry in job order. One result per job.
async fn write_jobs(
    store: &Store,
    tx: &mut Transaction<'_, Any>,
    head: &mut ChainHead,
    jobs: &mut [&mut Job],
) -> Result<Vec<Done>> {
    let submissions: Vec<&Submission> = jobs.iter().filter_map(|job| job.submission()).collect();
    store.insert_messages_tx(tx, &submissions).await?;
    for job in jobs.iter_mut() {
        if let Job::Ack(ack) = &mut **job {
            store.ack_inbox_tx(tx, ack).await?;
        }
    }
    let before = head.seq();
    store.append_audit(tx, head, jobs.iter_mut().flat_map(|job| job.audit_mut().iter_mut())).await?;
    Ok(results(jobs, before))
}

/// One result per written job; `seq` is the chain head's sequence number
/// before the jobs' audit entries were appended.
pub(crate) fn results(jobs: &[&mut Job], mut seq: u64) -> Vec<Done> {
    jobs.iter()
        .map(|job| match &**job {
            Job::Message(submission) => Done::Message(Box::new(submission.message.clone())),
            Job::Audit(entries) => {
                seq = entries.last().map_or(seq, |entry| entry.seq);
                Done::Audit(seq)
            }
            Job::Ack(ack) => {
                seq = ack.audit.last().map_or(seq, |entry| entry.seq);
                Done::Ack(ack.cursor)
            }
        })
        .collect()
}
