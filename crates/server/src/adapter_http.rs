//! The adapters' HTTP endpoints (adapters.md "Shape"): an agency POSTs a
//! document in its sector's format; the adapter turns it into canonical
//! requests, which go through exactly the gRPC services' path (token, role,
//! validation, consent, audit); refusals come back in the sector's error
//! format, naming the sender's own elements.
//!
//! Served by the gRPC server itself (tonic routes are an axum router, so
//! HTTP/1.1 and HTTP/2 requests share the listener and its TLS): no second
//! port, no second TLS setup. See ARCHITECTURE.md for the trade-off.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Path, Request},
    http::{StatusCode, header::CONTENT_TYPE},
    response::Response,
    routing::MethodFilter,
};

use referral_hub_adapters::{
    Adapter, Adapters, Document, Inbound, MAX_DOCUMENT_BYTES, Method, NativeViolation, Receipt, Route,
};
use referral_hub_domain::{roles::Role, validation::FieldViolation};

use crate::{
    error::{ApiError, refusal_text},
    hub::Hub,
    message_service::{MessageApi, Route as MessageRoute},
};

/// What every endpoint shares.
struct Endpoints {
    hub: Arc<Hub>,
    messages: MessageApi,
    adapters: Arc<Adapters>,
}

/// Where a document arrived: one of an adapter's POST paths, or one of its
/// routes with the values of the route's path parameters.
enum Target {
    Path(&'static str),
    Route(Route, Vec<String>),
}

impl Target {
    /// The path or pattern that names the target to its adapter.
    fn path(&self) -> &'static str {
        match self {
            Target::Path(path) => path,
            Target::Route(route, _) => route.path,
        }
    }

    /// The method and path, for the audit entry.
    fn rpc(&self) -> String {
        match self {
            Target::Path(path) => format!("POST {path}"),
            Target::Route(route, _) => format!("{} {}", route.method.as_str(), route.path),
        }
    }

    fn inbound(&self, adapter: &dyn Adapter, bytes: &[u8]) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
        match self {
            Target::Path(path) => adapter.inbound(path, bytes),
            Target::Route(route, params) => adapter.inbound_route(route, params, bytes),
        }
    }
}

/// One POST route per adapter path, and each adapter route with its method.
pub fn routes(hub: Arc<Hub>, adapters: Arc<Adapters>) -> axum::Router {
    let endpoints = Arc::new(Endpoints { messages: MessageApi::new(hub.clone()), hub, adapters: adapters.clone() });
    let mut router = axum::Router::new();
    for adapter in adapters.iter() {
        for path in adapter.paths() {
            let endpoints = endpoints.clone();
            router = router.route(
                path,
                axum::routing::post(move |request: Request| async move {
                    endpoints.handle(Target::Path(path), request).await
                }),
            );
        }
        for route in adapter.routes() {
            let endpoints = endpoints.clone();
            let filter = match route.method {
                Method::Post => MethodFilter::POST,
                Method::Patch => MethodFilter::PATCH,
                Method::Delete => MethodFilter::DELETE,
            };
            let handler = move |Path(params): Path<Vec<String>>, request: Request| async move {
                endpoints.handle(Target::Route(*route, params), request).await
            };
            router = router.route(route.path, axum::routing::on(filter, handler));
        }
    }
    router
}

impl Endpoints {
    async fn handle(&self, target: Target, request: Request) -> Response {
        let path = target.path();
        let Some(adapter) = self.adapters.for_path(path) else {
            return plain(StatusCode::NOT_FOUND, "no adapter serves this path");
        };
        let resource = request.uri().path().to_owned();
        let resource = resource.as_str();
        let (parts, body) = request.into_parts();
        let bytes = match axum::body::to_bytes(body, MAX_DOCUMENT_BYTES).await {
            Ok(bytes) => bytes,
            Err(error) if crate::read_deadline::is_too_slow(&error) => {
                let slow = "did not arrive within the body read timeout";
                return native(adapter, resource, StatusCode::REQUEST_TIMEOUT, &[violation("document", slow)]);
            }
            Err(_) => {
                let too_large = format!("larger than {MAX_DOCUMENT_BYTES} bytes");
                return native(adapter, resource, StatusCode::PAYLOAD_TOO_LARGE, &[violation("document", too_large)]);
            }
        };
        let call = tonic::Request::from_http(axum::http::Request::from_parts(parts, ()));
        let mut caller = match self.hub.caller(&call, &[Role::Referrer, Role::Receiver]).await {
            Ok(caller) => caller,
            Err(error) => return self.refused(adapter, resource, path, None, error),
        };
        caller.facts.rpc = target.rpc();
        let parsed = {
            let _span = tracing::info_span!("adapter.inbound", sector = adapter.sector().as_str_name()).entered();
            target.inbound(adapter, &bytes)
        };
        let inbound = match parsed {
            Ok(inbound) => inbound,
            Err(violations) => return native(adapter, resource, StatusCode::UNPROCESSABLE_ENTITY, &violations),
        };
        let batch = inbound.len() > 1;
        // A batch is charged per item (the call itself paid for the first),
        // all or nothing: refused whole, nothing stored, if the budget cannot pay.
        let items = u32::try_from(inbound.len()).unwrap_or(u32::MAX);
        if let Err(error) = self.hub.spend_budget(&caller.org, items.saturating_sub(1)) {
            return self.refused(adapter, resource, path, None, error);
        }
        let mut accepted = Vec::with_capacity(inbound.len());
        let mut refusals = Vec::new();
        for (index, item) in inbound.into_iter().enumerate() {
            let done = match item {
                Inbound::Submit(request) => match self.hub.require(&caller, &[Role::Referrer]).await {
                    Ok(()) => self.messages.submit(&caller, request, &MessageRoute::Directory).await.map(|r| {
                        let m = r.message.unwrap_or_default();
                        let status = m.status().as_str_name().to_owned();
                        Receipt::Submitted { message_id: m.id, status, replayed: r.replayed }
                    }),
                    Err(error) => Err(error),
                },
                Inbound::FollowUp(request) => self.messages.follow_up(&caller, request).await.map(|r| {
                    let f = r.follow_up.unwrap_or_default();
                    let status = f.status_after().as_str_name().to_owned();
                    Receipt::FollowedUp { follow_up_id: f.id, message_id: f.message_id, status, replayed: r.replayed }
                }),
            };
            match done {
                Ok(receipt) => accepted.push(receipt),
                Err(error) => refusals.push((index, error)),
            }
        }
        if refusals.is_empty() {
            let Document { content_type, body } = adapter.answer(path, &accepted);
            return Response::builder()
                .status(StatusCode::OK)
                .header(CONTENT_TYPE, content_type)
                .body(Body::from(body))
                .unwrap_or_default();
        }
        // Items before and after a refused one stand (each is its own message, and
        // request ids make re-posting the whole document safe); the answer names every refusal.
        let status = refusals.first().map(|(_, e)| status_of(e)).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
        let violations: Vec<_> = refusals
            .into_iter()
            .flat_map(|(index, error)| self.violations(adapter, path, batch.then_some(index), error))
            .collect();
        native(adapter, resource, status, &violations)
    }

    /// `resource`: the request's path; `path`: the adapter's path or route it matched.
    fn refused(
        &self,
        adapter: &dyn Adapter,
        resource: &str,
        path: &str,
        index: Option<usize>,
        error: ApiError,
    ) -> Response {
        let status = status_of(&error);
        native(adapter, resource, status, &self.violations(adapter, path, index, error))
    }

    /// An error of the core path, as native violations naming the sender's elements.
    fn violations(
        &self,
        adapter: &dyn Adapter,
        path: &str,
        index: Option<usize>,
        error: ApiError,
    ) -> Vec<NativeViolation> {
        let item = |element: String| match index {
            Some(i) => adapter.item_element(path, i, &element),
            None => element,
        };
        match error {
            ApiError::InvalidArgument(fields) => fields
                .into_iter()
                .map(|FieldViolation { field, description }| {
                    violation(&item(adapter.native_element(path, &field)), description)
                })
                .collect(),
            ApiError::ConsentRefused(reasons) => {
                reasons.into_iter().map(|r| violation(&item("consent".into()), refusal_text(r))).collect()
            }
            ApiError::FailedPrecondition { kind, description, .. } => vec![violation(&item(kind.into()), description)],
            ApiError::Store(_) => {
                vec![violation(&item("request".into()), "the hub's database is unavailable; retry later")]
            }
            other => vec![violation(&item("request".into()), other.to_string())],
        }
    }
}

/// A refusal made before any handler ran (the token, at the middleware), for
/// `path`: in the sector's error format when an adapter serves it.
pub(crate) fn refusal_response(adapters: &Adapters, path: &str, error: ApiError) -> Response {
    let status = status_of(&error);
    // Under /fhir/r4 the face's OperationOutcome (with the hub's code in `details`)
    // answers every path alike, the adapter's own POST routes included.
    if crate::fhir_rest::serves(path) {
        return crate::fhir_rest::outcome::Refusal::of_call(error).response();
    }
    match adapters.for_path(path) {
        Some(adapter) => native(adapter, path, status, &[violation("request", error.to_string())]),
        None => Response::builder().status(status).body(Body::from(error.to_string())).unwrap_or_default(),
    }
}

fn status_of(error: &ApiError) -> StatusCode {
    match error {
        ApiError::InvalidArgument(_) | ApiError::ConsentRefused(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ApiError::FailedPrecondition { .. } | ApiError::Aborted => StatusCode::CONFLICT,
        ApiError::NotFound(_) => StatusCode::NOT_FOUND,
        ApiError::PermissionDenied(_) | ApiError::NotTheOperator(_) => StatusCode::FORBIDDEN,
        ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        ApiError::ResourceExhausted { .. } => StatusCode::TOO_MANY_REQUESTS,
        ApiError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

fn violation(element: &str, description: impl Into<String>) -> NativeViolation {
    NativeViolation { element: element.to_owned(), description: description.into() }
}

fn native(adapter: &dyn Adapter, resource: &str, status: StatusCode, violations: &[NativeViolation]) -> Response {
    let Document { content_type, body } = adapter.refusal(resource, status.as_u16(), violations);
    Response::builder().status(status).header(CONTENT_TYPE, content_type).body(Body::from(body)).unwrap_or_default()
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    Response::builder().status(status).body(Body::from(text)).unwrap_or_default()
}
