//! Overload protection: a bound on requests handled at once, and a request
//! budget per organisation. Beyond either the hub answers `RESOURCE_EXHAUSTED`
//! at once, with a retry hint, instead of queueing work and growing memory.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{extract::Request, middleware::Next, response::IntoResponse};
use referral_hub_domain::rate_limit::{RateLimit, TokenBucket};
use tokio::sync::Semaphore;

use crate::{error::ApiError, hub::Hub};

/// What the hub takes on at once.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Each organisation's request budget; `None`: unlimited.
    pub per_organisation: Option<RateLimit>,
    /// Permits for requests being handled (a stream counts until it starts).
    /// Shared so that a test can hold permits as busy requests would.
    pub in_flight: Arc<Semaphore>,
}

impl Limits {
    /// At most `max_in_flight` requests at once, and `per_organisation` each.
    pub fn new(per_organisation: Option<RateLimit>, max_in_flight: usize) -> Limits {
        Limits { per_organisation, in_flight: Arc::new(Semaphore::new(max_in_flight)) }
    }
}

/// The budgets of the organisations that called lately.
#[derive(Debug, Default)]
pub struct Budgets {
    buckets: Mutex<HashMap<String, TokenBucket>>,
}

impl Budgets {
    /// Spends one request of `org`'s budget at `now` (µs), or says how long to wait.
    pub fn spend(&self, org: &str, limit: RateLimit, now: i64) -> Result<(), ApiError> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets.entry(org.to_owned()).or_insert_with(|| TokenBucket::full(limit, now));
        bucket.take(limit, now).map_err(|wait_micros| ApiError::ResourceExhausted {
            reason: "this organisation's request rate limit",
            retry_after: std::time::Duration::from_micros(wait_micros.max(0).unsigned_abs()),
        })
    }
}

/// Middleware: sheds a request when the hub's in-flight permits are all
/// taken. gRPC callers get `RESOURCE_EXHAUSTED`, HTTP callers (adapters) 503.
/// Health checks are never shed: an orchestrator must not restart a replica
/// for being busy. (Metrics are on the admin listener, outside this bound.)
pub async fn shed_beyond_in_flight(
    axum::extract::State(hub): axum::extract::State<Arc<Hub>>,
    request: Request,
    next: Next,
) -> axum::response::Response {
    let path = request.uri().path();
    if path.starts_with("/grpc.health.v1.Health/") {
        return next.run(request).await;
    }
    let Ok(_permit) = hub.limits.in_flight.clone().try_acquire_owned() else {
        hub.metrics.shed();
        let grpc = request.headers().get("content-type").is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
        let busy = ApiError::ResourceExhausted {
            reason: "the hub is at its limit of requests in flight",
            retry_after: std::time::Duration::from_secs(1),
        };
        return if grpc {
            tonic::Status::from(busy).into_http::<axum::body::Body>().into_response()
        } else {
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "1")], busy.to_string()).into_response()
        };
    };
    next.run(request).await
}
