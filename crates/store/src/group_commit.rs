//! Group commit for the hot writes: submissions (`insert_message`) and
//! stand-alone audit appends (reads, deliveries, refusals: `audit`) are queued
//! to one task that writes as many as are waiting in one transaction (each in
//! its own savepoint, so a failing one fails alone) and commits once: one
//! fsync for the whole group instead of one per call. Every caller still gets
//! its own result, and only after the commit.

use tokio::sync::{mpsc, oneshot};

use referral_hub_domain::audit::Entry;

use crate::{ConsentRow, MessageRecord, Result, Store, StoreError};

/// How many submissions one transaction takes at most.
const MAX_GROUP: usize = 256;
/// How many submissions may wait for the committer before callers wait to queue.
const QUEUE: usize = 4096;

/// One unit of work for the committer.
pub(crate) enum Job {
    /// Store a message.
    Message(Box<Submission>),
    /// Append audit entries.
    Audit(Vec<Entry>),
}

/// What a job produced.
pub(crate) enum Done {
    /// The stored message.
    Message(Box<MessageRecord>),
    /// The sequence number of the last entry appended (0 for none).
    Audit(u64),
}

/// One message to store, with what it brings along.
pub(crate) struct Submission {
    pub message: MessageRecord,
    pub consent: Option<ConsentRow>,
    /// Protection concern codes, for statistics.
    pub concerns: Vec<String>,
    pub audit: Vec<Entry>,
}

type Reply = oneshot::Sender<Result<Done>>;

/// The handle callers queue submissions through.
#[derive(Clone)]
pub(crate) struct Committer {
    queue: mpsc::Sender<(Job, Reply)>,
}

impl Committer {
    /// Starts the committing task over `store`'s write pool.
    pub(crate) fn start(store: Store) -> Committer {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(commit_groups(store, waiting));
        Committer { queue }
    }

    /// Queues a job and waits for its committed result.
    pub(crate) async fn run(&self, job: Job) -> Result<Done> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((job, reply)).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

/// Takes every submission waiting (up to [`MAX_GROUP`]) and commits them together, until the store is dropped.
async fn commit_groups(store: Store, mut waiting: mpsc::Receiver<(Job, Reply)>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while waiting.recv_many(&mut group, MAX_GROUP).await > 0 {
        let replies = commit_group(&store, &mut group).await;
        for (reply, result) in replies {
            let _ = reply.send(result);
        }
        group.clear();
    }
}

async fn commit_group(store: &Store, group: &mut Vec<(Job, Reply)>) -> Vec<(Reply, Result<Done>)> {
    let outcome = write_group(store, group).await;
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
    group.drain(..).map(|(_, reply)| reply).zip(results).collect()
}

/// Writes the group in one transaction; `Err` only if the transaction itself fails.
async fn write_group(store: &Store, group: &mut [(Job, Reply)]) -> Result<Vec<Result<Done>>> {
    let mut tx = store.write.begin().await?;
    let mut head = Store::lock_audit_head(&mut tx).await?;
    let mut results = Vec::with_capacity(group.len());
    for (job, _) in group.iter_mut() {
        sqlx::query("SAVEPOINT submission").execute(&mut *tx).await?;
        let before = head;
        let done = match job {
            Job::Message(submission) => {
                store.insert_message_tx(&mut tx, &mut head, submission).await.map(|m| Done::Message(Box::new(m)))
            }
            Job::Audit(entries) => {
                store.append_audit(&mut tx, &mut head, entries).await.map(|()| Done::Audit(head.seq()))
            }
        };
        match done {
            Ok(done) => {
                sqlx::query("RELEASE SAVEPOINT submission").execute(&mut *tx).await?;
                results.push(Ok(done));
            }
            Err(error) => {
                head = before;
                sqlx::query("ROLLBACK TO SAVEPOINT submission").execute(&mut *tx).await?;
                sqlx::query("RELEASE SAVEPOINT submission").execute(&mut *tx).await?;
                results.push(Err(error));
            }
        }
    }
    Store::write_audit_head(&mut tx, &head).await?;
    tx.commit().await?;
    Ok(results)
}
