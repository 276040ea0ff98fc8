//! The middleware in front of every request that keeps the hub within its
//! in-flight bound (`limits.rs` holds the bound): a request beyond it is
//! answered at once instead of queueing.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{error::ApiError, hub::Hub};

/// Middleware: sheds a request when the hub's in-flight permits are all
/// taken. gRPC callers get `RESOURCE_EXHAUSTED`, HTTP callers (adapters) 503.
/// Health checks are never shed: an orchestrator must not restart a replica
/// for being busy. (Metrics are on the admin listener, outside this bound.)
pub async fn shed_beyond_in_flight(State(hub): State<Arc<Hub>>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/grpc.health.v1.Health/") {
        return next.run(request).await;
    }
    match hub.limits.admit() {
        // The permit is held until the request is answered.
        Ok(_permit) => next.run(request).await,
        Err(busy) => {
            hub.metrics.shed();
            refusal(&request, busy)
        }
    }
}

/// `busy` as a gRPC status or, for the adapters' HTTP callers, a 503.
fn refusal(request: &Request, busy: ApiError) -> Response {
    if crate::authenticate::is_grpc(request) {
        tonic::Status::from(busy).into_http::<axum::body::Body>().into_response()
    } else {
        (axum::http::StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "1")], busy.to_string()).into_response()
    }
}
