//! In-process wake-ups for inbox streams, so a new entry reaches an open stream
//! at once instead of at the next poll.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use tokio::sync::Notify;

/// One [`Notify`] per organisation with an open stream.
#[derive(Default)]
pub struct InboxNotifier {
    by_org: Mutex<HashMap<String, Arc<Notify>>>,
}

impl InboxNotifier {
    /// The wake-up handle of `org`'s inbox. Create the `notified()` future
    /// (and `enable` it) before reading the inbox, so no wake-up is missed.
    pub fn subscribe(&self, org: &str) -> Arc<Notify> {
        let mut by_org = self.by_org.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        by_org.entry(org.to_owned()).or_default().clone()
    }

    /// Wakes every stream of `org`.
    pub fn notify(&self, org: &str) {
        let by_org = self.by_org.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(notify) = by_org.get(org) {
            notify.notify_waiters();
        }
    }
}
