//! The task that runs the queued consent lookups, one query at a time.

use sqlx::{Any, pool::PoolConnection};
use tokio::sync::mpsc;

use super::queue::{ConsentReads, Lookup};
use crate::{ChildKey, ConsentRow, Result, Store, StoreError};

/// Callers merged into one query at most.
const MAX_CALLERS: usize = 64;
/// How many callers may wait before more wait to queue.
const QUEUE: usize = 4096;

/// Starts the batcher over `store`'s read pool. `store` is a handle
/// without a batcher, so the queue closes when the last handle that has
/// one is dropped.
pub(crate) fn start(store: Store) -> ConsentReads {
    let (queue, waiting) = mpsc::channel(QUEUE);
    tokio::spawn(run_lookups(store, waiting));
    ConsentReads { queue }
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
        None => match store.pools.read.acquire().await {
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
