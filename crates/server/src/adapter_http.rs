//! The adapters' HTTP endpoints (docs/adapters.md "Shape"): an agency POSTs a
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
    auth::Caller,
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

/// What the items of one document came to: each is its own message or
/// follow-up, so some may be accepted and others refused.
struct Items {
    accepted: Vec<Receipt>,
    /// Each refused item's index in the document, and why.
    refusals: Vec<(usize, ApiError)>,
}

impl Endpoints {
    /// Reads the document, checks the caller, turns the document into
    /// canonical requests, charges the budget for them, runs each and answers.
    async fn handle(&self, target: Target, request: Request) -> Response {
        let path = target.path();
        let Some(adapter) = self.adapters.for_path(path) else {
            return plain(StatusCode::NOT_FOUND, "no adapter serves this path");
        };
        let resource = request.uri().path().to_owned();
        let resource = resource.as_str();
        let (parts, body) = request.into_parts();
        let bytes = match read_document(body).await {
            Ok(bytes) => bytes,
            Err((status, violation)) => return native(adapter, resource, status, &[violation]),
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
        let items = self.run(&caller, inbound).await;
        self.answer(adapter, resource, path, batch, items)
    }

    /// Runs every item through the gRPC services' own path, in order.
    async fn run(&self, caller: &Caller, inbound: Vec<Inbound>) -> Items {
        let mut items = Items { accepted: Vec::with_capacity(inbound.len()), refusals: Vec::new() };
        for (index, item) in inbound.into_iter().enumerate() {
            match self.run_one(caller, item).await {
                Ok(receipt) => items.accepted.push(receipt),
                Err(error) => items.refusals.push((index, error)),
            }
        }
        items
    }

    /// One item, as the gRPC service would take it, and its receipt.
    async fn run_one(&self, caller: &Caller, item: Inbound) -> Result<Receipt, ApiError> {
        match item {
            Inbound::Submit(request) => {
                self.hub.require(caller, &[Role::Referrer]).await?;
                let r = self.messages.submit(caller, request, &MessageRoute::Directory).await?;
                let m = r.message.unwrap_or_default();
                let status = m.status().as_str_name().to_owned();
                Ok(Receipt::Submitted { message_id: m.id, status, replayed: r.replayed })
            }
            Inbound::FollowUp(request) => {
                let r = self.messages.follow_up(caller, request).await?;
                let f = r.follow_up.unwrap_or_default();
                let status = f.status_after().as_str_name().to_owned();
                Ok(Receipt::FollowedUp { follow_up_id: f.id, message_id: f.message_id, status, replayed: r.replayed })
            }
        }
    }

    /// The adapter's answer when every item was accepted; otherwise every
    /// refusal, in the sector's error format.
    fn answer(&self, adapter: &dyn Adapter, resource: &str, path: &str, batch: bool, items: Items) -> Response {
        if items.refusals.is_empty() {
            let Document { content_type, body } = adapter.answer(path, &items.accepted);
            return Response::builder()
                .status(StatusCode::OK)
                .header(CONTENT_TYPE, content_type)
                .body(Body::from(body))
                .unwrap_or_default();
        }
        // Items before and after a refused one stand (each is its own message, and
        // request ids make re-posting the whole document safe); the answer names every refusal.
        let status = items.refusals.first().map(|(_, e)| status_of(e)).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
        let violations: Vec<_> = items
            .refusals
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

/// The document's bytes, or the status and violation that refuse it: too
/// slow to arrive or too large.
async fn read_document(body: Body) -> Result<axum::body::Bytes, (StatusCode, NativeViolation)> {
    match axum::body::to_bytes(body, MAX_DOCUMENT_BYTES).await {
        Ok(bytes) => Ok(bytes),
        Err(error) if crate::read_deadline::is_too_slow(&error) => {
            let slow = "did not arrive within the body read timeout";
            Err((StatusCode::REQUEST_TIMEOUT, violation("document", slow)))
        }
        Err(_) => {
            let too_large = format!("larger than {MAX_DOCUMENT_BYTES} bytes");
            Err((StatusCode::PAYLOAD_TOO_LARGE, violation("document", too_large)))
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
