//! Nothing before authentication (docs/security.md "Nothing before authentication"): the bearer token is verified
//! from the headers before the request takes an in-flight slot and before any
//! of its body is read, over gRPC and the adapters' HTTP endpoints alike. A
//! caller without a valid token costs a signature check at most, and its
//! refusal is counted (`refused_calls.rs`). Only the gRPC health and
//! reflection services and the FHIR CapabilityStatement answer without a
//! token (probes, `grpcurl` and FHIR clients, SMART ones included, read them
//! before they have one, and they reveal nothing about children).

use std::{sync::Arc, time::Duration};

use axum::{
    body::Body,
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};

use referral_hub_adapters::Adapters;

use crate::{
    auth::{CallFacts, Verified},
    error::ApiError,
    hub::Hub,
    read_deadline::ReadDeadline,
};

/// Paths served without a token.
const OPEN_PREFIXES: [&str; 3] =
    ["/grpc.health.v1.Health/", "/grpc.reflection.v1.ServerReflection/", "/grpc.reflection.v1alpha.ServerReflection/"];

/// Exact paths served without a token: the FHIR face's CapabilityStatement
/// (crates/server/src/fhir_rest/capability.rs), a description of the server,
/// and the audit signing keys (public keys, docs/transparency.md).
const OPEN_PATHS: [&str; 2] = ["/fhir/r4/metadata", crate::tree_heads::KEYS_PATH];

/// What the middleware needs.
pub(crate) struct Gate {
    /// The hub (authenticator, refusal audit).
    pub hub: Arc<Hub>,
    /// To answer an adapter's caller in its sector's error format.
    pub adapters: Arc<Adapters>,
    /// How long a verified request's body may take.
    pub body_read_timeout: Duration,
}

/// Middleware: verifies the token before anything else is spent on the call;
/// a verified request goes on with its identity and a body read deadline.
pub(crate) async fn authenticate_first(State(gate): State<Arc<Gate>>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if OPEN_PREFIXES.iter().any(|open| path.starts_with(open)) || OPEN_PATHS.contains(&path.as_str()) {
        return next.run(request).await;
    }
    match gate.hub.auth.verify_headers(request.headers()) {
        Ok(identity) => {
            request.extensions_mut().insert(Verified(identity));
            let timeout = gate.body_read_timeout;
            next.run(request.map(|body| Body::new(ReadDeadline::new(body, timeout)))).await
        }
        Err(ApiError::Unauthenticated(reason)) => {
            let grpc = is_grpc(&request);
            let call = tonic::Request::from_http(request.map(|_| ()));
            let error = gate.hub.refuse_unauthenticated(&CallFacts::of(&call), reason).await;
            refusal(&gate, &path, grpc, error)
        }
        Err(other) => refusal(&gate, &path, is_grpc(&request), other),
    }
}

/// Whether `request` is a gRPC call (its refusals are gRPC statuses, not documents).
pub(crate) fn is_grpc(request: &Request) -> bool {
    request.headers().get("content-type").is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"))
}

/// The refusal as the caller expects it: a gRPC status, an adapter's native
/// error document, or plain text.
fn refusal(gate: &Gate, path: &str, grpc: bool, error: ApiError) -> Response {
    if grpc {
        return tonic::Status::from(error).into_http::<Body>().into_response();
    }
    crate::adapter_http::refusal_response(&gate.adapters, path, error)
}
