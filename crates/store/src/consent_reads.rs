//! Consent lookups of concurrent callers, merged into one query.
//!
//! Every submission reads its child's consent records before the decision.
//! One query each cost a round trip, plus the ping sqlx sends when a
//! connection goes back to its pool; at a few thousand submissions a second
//! on PostgreSQL that was about a third of the database's CPU per referral
//! and a quarter of the hub's. So lookups queue to one task, which runs one
//! query at a time for every lookup waiting, as the group commit does for
//! submissions. On an idle hub a lookup runs at once; under load it waits for
//! at most the query before it. (Two queries at a time made the batches
//! smaller and the closed-loop benchmark slower: 2,840-3,080 referrals/s
//! against 3,078-3,212.)
//!
//! The task keeps its connection from one query to the next instead of
//! handing it back to the pool, which would ping it each time: one round trip
//! per lookup fewer. It lets go of it only when a query fails, and the pool
//! then tests it and drops it if it is broken.

use sqlx::{Any, pool::PoolConnection};
use tokio::sync::{mpsc, oneshot};

use crate::{ChildKey, ConsentRow, Result, Store, StoreError};

/// Callers merged into one query at most.
const MAX_CALLERS: usize = 64;
/// How many callers may wait before more wait to queue.
const QUEUE: usize = 4096;

/// One caller's children (organisation, local id, link key), owned so that
/// they can wait in the queue, and where its answer goes.
struct Lookup {
    children: Vec<(String, String, String)>,
    reply: oneshot::Sender<Result<Vec<Vec<ConsentRow>>>>,
}

/// The handle callers queue lookups through.
#[derive(Clone)]
pub(crate) struct ConsentReads {
    queue: mpsc::Sender<Lookup>,
}

impl ConsentReads {
    /// Starts the batcher over `store`'s read pool. `store` is a handle
    /// without a batcher, so the queue closes when the last handle that has
    /// one is dropped.
    pub(crate) fn start(store: Store) -> ConsentReads {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(run_lookups(store, waiting));
        ConsentReads { queue }
    }

    /// The records of each of `children`, one list per child, in order.
    pub(crate) async fn lookup(&self, children: &[ChildKey<'_>]) -> Result<Vec<Vec<ConsentRow>>> {
        let children =
            children.iter().map(|c| (c.org.to_owned(), c.local_id.to_owned(), c.link_key.to_owned())).collect();
        let (reply, answer) = oneshot::channel();
        self.queue.send(Lookup { children, reply }).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

/// Takes every lookup waiting, one query at a time, until the queue closes.
async fn run_lookups(store: Store, mut waiting: mpsc::Receiver<Lookup>) {
    let mut batch = Vec::with_capacity(MAX_CALLERS);
    let mut connection = None;
    while waiting.recv_many(&mut batch, MAX_CALLERS).await > 0 {
        answer(&store, &mut connection, std::mem::take(&mut batch)).await;
    }
}

/// Runs one query for `batch` on the kept `connection` (taken from the pool
/// if there is none) and answers each caller with its own lists. A record that
/// does not open fails only the callers whose child it is.
async fn answer(store: &Store, connection: &mut Option<PoolConnection<Any>>, batch: Vec<Lookup>) {
    let keys: Vec<ChildKey<'_>> = batch
        .iter()
        .flat_map(|lookup| lookup.children.iter())
        .map(|(org, local_id, link_key)| ChildKey { org, local_id, link_key })
        .collect();
    let found = match connection {
        Some(kept) => store.read_consents(kept, &keys).await,
        None => match store.read.acquire().await {
            Ok(taken) => store.read_consents(connection.insert(taken), &keys).await,
            Err(error) => Err(error.into()),
        },
    };
    if found.is_err() {
        *connection = None;
    }
    match found {
        Ok(lists) => {
            let mut lists = lists.into_iter();
            for lookup in batch {
                // Taken whole before any error shortens it, so the next
                // caller's lists start where they should.
                let mine: Vec<Result<Vec<ConsentRow>>> = lists.by_ref().take(lookup.children.len()).collect();
                let _ = lookup.reply.send(mine.into_iter().collect());
            }
        }
        Err(error) => {
            for lookup in batch {
                let _ = lookup.reply.send(Err(StoreError::Unavailable(error.to_string())));
            }
        }
    }
}
