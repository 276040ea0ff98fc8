//! The handle callers queue consent lookups through, and what waits in the queue.

use tokio::sync::{mpsc, oneshot};

use referral_hub_domain::ids::OrgId;

use crate::{ChildKey, ConsentRow, Result, StoreError};

/// One caller's children (organisation, local id, link key), owned so that
/// they can wait in the queue, and where its answer goes.
pub(super) struct Lookup {
    pub(super) children: Vec<(OrgId, String, String)>,
    pub(super) reply: oneshot::Sender<Result<Vec<Vec<ConsentRow>>>>,
}

/// The handle callers queue lookups through.
#[derive(Clone)]
pub(crate) struct ConsentReads {
    pub(super) queue: mpsc::Sender<Lookup>,
}

impl ConsentReads {
    /// The records of each of `children`, one list per child, in order.
    pub(crate) async fn lookup(&self, children: &[ChildKey<'_>]) -> Result<Vec<Vec<ConsentRow>>> {
        let children = children.iter().map(|c| (c.org.clone(), c.local_id.to_owned(), c.link_key.to_owned())).collect();
        let (reply, answer) = oneshot::channel();
        self.queue.send(Lookup { children, reply }).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}
