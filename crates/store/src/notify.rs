//! In-process wake-ups for inbox streams, so a new entry reaches an open stream
//! at once instead of at the next poll.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use tokio::sync::Notify;

/// PostgreSQL channel on which a replica tells the others that an inbox grew.
pub(crate) const INBOX_CHANNEL: &str = "referralhub_inbox";

/// One [`Notify`] per organisation with an open stream.
pub struct InboxNotifier {
    by_org: Mutex<HashMap<String, Arc<Notify>>>,
    /// Marks the notifications this process sends other replicas through
    /// PostgreSQL (`<replica> <org>`), so that its own listener skips them:
    /// its streams were woken at commit already, and a second wake-up would
    /// cost each of them a read that finds nothing.
    replica: String,
}

impl Default for InboxNotifier {
    fn default() -> InboxNotifier {
        InboxNotifier { by_org: Mutex::default(), replica: uuid::Uuid::now_v7().simple().to_string() }
    }
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

    /// What this process puts before the organisation in the notifications
    /// it sends other replicas.
    pub(crate) fn replica(&self) -> &str {
        &self.replica
    }

    /// The organisation a notification from PostgreSQL names, unless this
    /// process sent it. A bare organisation id (from a replica of an earlier
    /// version) counts as another replica's.
    pub(crate) fn org_from_elsewhere<'a>(&self, payload: &'a str) -> Option<&'a str> {
        match payload.split_once(' ') {
            Some((replica, _)) if replica == self.replica => None,
            Some((_, org)) => Some(org),
            None => Some(payload),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replica_skips_its_own_notifications_only() {
        let here = InboxNotifier::default();
        let there = InboxNotifier::default();
        assert_ne!(here.replica(), there.replica());
        assert_eq!(here.org_from_elsewhere(&format!("{} org-a", here.replica())), None);
        assert_eq!(here.org_from_elsewhere(&format!("{} org-a", there.replica())), Some("org-a"));
        assert_eq!(here.org_from_elsewhere("org-a"), Some("org-a"));
    }
}
