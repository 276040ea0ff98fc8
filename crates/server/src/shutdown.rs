//! The hub's one stop signal. Begun once, when the process is asked to stop
//! (SIGTERM, Ctrl-C, a test); the background tasks finish the pass they are
//! in and end, and open inbox streams end cleanly so that their receivers
//! resume on another replica.

use std::{future::Future, sync::Arc};

use tokio::sync::watch;

/// Whether the hub is stopping; every clone sees the same signal.
#[derive(Clone, Debug)]
pub struct Shutdown(Arc<watch::Sender<bool>>);

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown(Arc::new(watch::Sender::new(false)))
    }
}

impl Shutdown {
    /// Starts the stop; doing it again changes nothing.
    pub fn begin(&self) {
        self.0.send_replace(true);
    }

    /// Whether the stop has begun: a task checks it before taking on more work.
    pub fn has_begun(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes once the stop has begun. It owns what it waits on, so a
    /// response stream can be cut at it.
    pub fn begun(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut signal = self.0.subscribe();
        async move {
            // An error means every handle is gone: nothing is left to stop.
            let _ = signal.wait_for(|begun| *begun).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn begun_completes_for_waiters_from_before_and_after_the_stop() {
        let shutdown = Shutdown::default();
        let early = shutdown.begun();
        assert!(!shutdown.has_begun());
        shutdown.begin();
        shutdown.begin();
        assert!(shutdown.has_begun());
        early.await;
        shutdown.clone().begun().await;
    }
}
