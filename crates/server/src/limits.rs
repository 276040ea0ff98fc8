//! Overload protection: a bound on requests handled at once, a request
//! budget per organisation, and a bound on open inbox streams. Beyond any of
//! them the hub answers `RESOURCE_EXHAUSTED` at once, with a retry hint,
//! instead of queueing work and growing memory. The policy only: the
//! middleware that sheds requests is `load_shedding.rs`, the per-call budget
//! check `Hub::authenticated` (`access.rs`).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use referral_hub_domain::rate_limit::{RateLimit, TokenBucket};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// What the hub takes on at once.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Each organisation's request budget; `None`: unlimited.
    pub per_organisation: Option<RateLimit>,
    /// Permits for requests being handled (a stream counts until it starts).
    /// Shared so that a test can hold permits as busy requests would.
    pub in_flight: Arc<Semaphore>,
    /// Inbox streams each organisation may hold open on this replica.
    pub streams_per_organisation: usize,
}

/// Inbox streams an organisation may hold open per replica unless configured:
/// an agency's system needs one or two; each holds a task and a channel.
pub const DEFAULT_STREAMS_PER_ORGANISATION: usize = 8;

impl Limits {
    /// At most `max_in_flight` requests at once, and `per_organisation` each;
    /// [`DEFAULT_STREAMS_PER_ORGANISATION`] open streams per organisation.
    pub fn new(per_organisation: Option<RateLimit>, max_in_flight: usize) -> Limits {
        Limits {
            per_organisation,
            in_flight: Arc::new(Semaphore::new(max_in_flight)),
            streams_per_organisation: DEFAULT_STREAMS_PER_ORGANISATION,
        }
    }

    /// The same, with at most `streams` open inbox streams per organisation.
    pub fn with_streams_per_organisation(self, streams: usize) -> Limits {
        Limits { streams_per_organisation: streams, ..self }
    }

    /// A slot for one more request in flight, held until it is answered, or
    /// `RESOURCE_EXHAUSTED` when every slot is taken.
    pub fn admit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.in_flight.clone().try_acquire_owned().map_err(|_| ApiError::ResourceExhausted {
            reason: "the hub is at its limit of requests in flight",
            retry_after: std::time::Duration::from_secs(1),
        })
    }
}

/// The inbox streams open on this replica, by organisation.
#[derive(Debug, Default)]
pub struct StreamSlots {
    open: Arc<Mutex<HashMap<String, usize>>>,
}

/// One open stream's slot; freed when the stream's task ends.
#[derive(Debug)]
pub struct StreamSlot {
    open: Arc<Mutex<HashMap<String, usize>>>,
    org: String,
}

impl StreamSlots {
    /// A slot for another stream of `org`, or `RESOURCE_EXHAUSTED` when it has `max` open.
    pub fn open(&self, org: &str, max: usize) -> Result<StreamSlot, ApiError> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(org.to_owned()).or_default();
        if *count >= max {
            return Err(ApiError::ResourceExhausted {
                reason: "this organisation's limit of open inbox streams",
                retry_after: std::time::Duration::from_secs(5),
            });
        }
        *count += 1;
        Ok(StreamSlot { open: self.open.clone(), org: org.to_owned() })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.org) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.org);
            }
        }
    }
}

/// The budgets of the organisations that called lately.
#[derive(Debug, Default)]
pub struct Budgets {
    buckets: Mutex<HashMap<String, TokenBucket>>,
}

impl Budgets {
    /// Spends `requests` of `org`'s budget at `now` (µs), all or none, or
    /// says how long to wait (a batch beyond the burst never fits).
    pub fn spend(&self, org: &str, limit: RateLimit, requests: u32, now: i64) -> Result<(), ApiError> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets.entry(org.to_owned()).or_insert_with(|| TokenBucket::full(limit, now));
        bucket.take_many(limit, now, requests).map_err(|wait_micros| ApiError::ResourceExhausted {
            reason: if requests > limit.burst {
                "this organisation's request burst, which a batch of this many items exceeds (split it)"
            } else {
                "this organisation's request rate limit"
            },
            retry_after: std::time::Duration::from_micros(wait_micros.max(0).unsigned_abs()),
        })
    }
}
