//! The handle callers queue jobs to the group committer through.

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use super::jobs::{Job, Reply};
use crate::{Result, StoreError};

/// The handle callers queue jobs through.
#[derive(Clone)]
pub(crate) struct Committer {
    pub(super) queue: mpsc::Sender<Job>,
    /// The committer's own connection pool (PostgreSQL), for the connection metrics.
    pub(crate) own_pool: Option<AnyPool>,
}

impl Committer {
    /// Queues the job `job` makes of a reply channel, and waits for its
    /// committed result.
    pub(crate) async fn run<T>(&self, job: impl FnOnce(Reply<T>) -> Job) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(job(reply)).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}
