//! How one replica's periodic tasks (the deadline scheduler, the pusher, key
//! and revocation refreshes, refusal counts) are driven and observed. A leaf:
//! the authenticator holds one to wake the identity provider's refresher, and
//! the tasks it drives import the hub, so it cannot live beside them. The loop
//! that runs a task on it is `SchedulerControl::run` (`scheduler.rs`).

use std::{sync::Arc, time::Duration};

use tokio::sync::watch;

/// How one replica's periodic task (the deadline scheduler, the pusher) is
/// driven and observed.
#[derive(Debug)]
pub struct SchedulerControl {
    /// Time between scans.
    pub interval: Duration,
    /// Bumped to ask for a scan at once (tests, after moving the clock).
    pub tick: watch::Sender<u64>,
    /// The latest tick whose scan has completed.
    pub scanned: watch::Sender<u64>,
}

impl SchedulerControl {
    /// Scans every `interval`.
    pub fn every(interval: Duration) -> Arc<SchedulerControl> {
        Arc::new(SchedulerControl { interval, tick: watch::Sender::new(0), scanned: watch::Sender::new(0) })
    }

    /// Asks for a scan now and waits until one that started after this call has completed.
    pub async fn scan_now(&self) {
        self.tick.send_modify(|n| *n += 1);
        let wanted = *self.tick.borrow();
        let mut scanned = self.scanned.subscribe();
        let _ = scanned.wait_for(|done| *done >= wanted).await;
    }
}
