//! The FHIR R4 RESTful face at `/fhir/r4` (FHIR R4 http.html), so that an
//! unmodified FHIR client library joins the hub: the CapabilityStatement,
//! transactions and `$process-message` for referrals, Task read, update (with
//! `If-Match`) and search for follow-ups and polling, and ServiceRequest read.
//!
//! Nothing here is a second way in or out. Documents go through the HEALTH
//! adapter and `MessageApi::submit` / `follow_up` (token, role, validation,
//! consent, audit), exactly as on `POST /fhir/r4/Bundle` and `/fhir/r4/Task`,
//! which stay for existing systems; every stored message read goes through
//! `Hub::release` and is rendered by the adapter as on delivery. Every answer,
//! refusals included, is `application/fhir+json`; a refusal is an
//! OperationOutcome (`outcome.rs`). Another organisation's Task or
//! ServiceRequest is 404, like one that does not exist.

mod batch;
mod bundles;
mod capability;
mod media;
pub(crate) mod outcome;
mod read;
mod search;
mod task_view;
mod write;

use std::sync::Arc;

use axum::{
    body::{Body, Bytes},
    extract::{Path, Request, State},
    http::{StatusCode, header::HOST, request::Parts},
    response::Response,
    routing::{MethodRouter, any, get, post},
};

use referral_hub_adapters::{Adapter, Adapters, MAX_DOCUMENT_BYTES, NativeViolation};
use referral_hub_domain::{roles::Role, wire::Sector};

use crate::{auth::Caller, hub::Hub, message_service::MessageApi};
use outcome::{Issue, Refusal};

/// Where the face is served.
pub(crate) const BASE_PATH: &str = "/fhir/r4";

/// The roles of the parties to a referral: either may read, update and search its Tasks.
const PARTIES: [Role; 2] = [Role::Referrer, Role::Receiver];

/// What every handler shares.
pub(crate) struct Face {
    hub: Arc<Hub>,
    messages: MessageApi,
    adapters: Arc<Adapters>,
    /// `https` when the listener has TLS: for the absolute URLs FHIR links carry.
    scheme: &'static str,
}

/// Whether `path` is the FHIR face's, so a refusal before any handler (the
/// token) is answered the FHIR way.
pub(crate) fn serves(path: &str) -> bool {
    path == BASE_PATH || path.starts_with("/fhir/r4/")
}

/// The face's routes (merged with the adapters' own `POST /fhir/r4/Bundle`
/// and `/fhir/r4/Task`).
pub(crate) fn routes(hub: Arc<Hub>, adapters: Arc<Adapters>, tls: bool) -> axum::Router {
    let face = Arc::new(Face {
        messages: MessageApi::new(hub.clone()),
        hub,
        adapters,
        scheme: if tls { "https" } else { "http" },
    });
    let not_allowed = |route: MethodRouter<Arc<Face>>| route.fallback(method_not_allowed);
    axum::Router::new()
        .route("/fhir/r4/metadata", not_allowed(get(read::metadata)))
        .route("/fhir/r4", not_allowed(post(write::transaction)))
        .route("/fhir/r4/", not_allowed(post(write::transaction)))
        .route("/fhir/r4/$process-message", not_allowed(post(write::process_message)))
        .route("/fhir/r4/Task", not_allowed(get(read::search_tasks)))
        // The adapters' own POST route; any other method is answered the FHIR way.
        .route("/fhir/r4/Bundle", not_allowed(MethodRouter::new()))
        .route("/fhir/r4/Task/{id}", not_allowed(get(read::read_task).put(write::update_task)))
        .route("/fhir/r4/ServiceRequest/{id}", not_allowed(get(read::read_service_request)))
        .route("/fhir/r4/{*rest}", any(unknown))
        .with_state(face)
}

async fn method_not_allowed() -> Response {
    let issue =
        Issue::whole("not-supported", "METHOD_NOT_ALLOWED", "this interaction is not supported here: see /metadata");
    Refusal::one(StatusCode::METHOD_NOT_ALLOWED, issue).response()
}

async fn unknown() -> Response {
    let issue = Issue::whole("not-supported", "NOT_FOUND", "no such resource type or operation here: see /metadata");
    Refusal::one(StatusCode::NOT_FOUND, issue).response()
}

/// A handler's result: the answer, or a refusal rendered as an OperationOutcome.
type Answer = Result<Response, Refusal>;

fn answer(result: Answer) -> Response {
    result.unwrap_or_else(|refusal| refusal.response())
}

impl Face {
    /// The caller (token verified by the middleware; organisation, budget and
    /// one of `roles` checked by `Hub::caller`, refusals audited), its
    /// audit entries naming `rpc`.
    async fn caller(&self, parts: &Parts, roles: &[Role], rpc: &str) -> Result<Caller, Refusal> {
        let call = tonic::Request::from_http(axum::http::Request::from_parts(parts.clone(), ()));
        let mut caller = self.hub.caller(&call, roles).await.map_err(Refusal::of_call)?;
        caller.facts.rpc = rpc.to_owned();
        Ok(caller)
    }

    /// The HEALTH adapter, which speaks FHIR.
    fn health(&self) -> Result<&dyn Adapter, Refusal> {
        self.adapters.for_sector(Sector::Health).ok_or_else(|| internal("no FHIR adapter"))
    }

    /// This server's FHIR base URL as the client addressed it.
    fn base(&self, parts: &Parts) -> String {
        let host = parts
            .uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .or_else(|| parts.headers.get(HOST).and_then(|h| h.to_str().ok()).map(str::to_owned))
            .unwrap_or_else(|| "localhost".into());
        format!("{}://{host}{BASE_PATH}", self.scheme)
    }
}

/// The body, up to the document limit.
async fn read_body(body: Body, root: &str) -> Result<Bytes, Refusal> {
    axum::body::to_bytes(body, MAX_DOCUMENT_BYTES).await.map_err(|error| {
        if crate::read_deadline::is_too_slow(&error) {
            let issue = Issue::at("timeout", "BODY_TOO_SLOW", root, "did not arrive within the body read timeout");
            Refusal::one(StatusCode::REQUEST_TIMEOUT, issue)
        } else {
            let issue = Issue::at("too-long", "TOO_LARGE", root, format!("larger than {MAX_DOCUMENT_BYTES} bytes"));
            Refusal::one(StatusCode::PAYLOAD_TOO_LARGE, issue)
        }
    })
}

/// The adapter's violations (FHIRPaths already) as a 422.
fn unprocessable(violations: Vec<NativeViolation>) -> Refusal {
    let issues = violations
        .into_iter()
        .map(|v| {
            let kind = if v.description.starts_with("required") || v.description.starts_with("needs") {
                "required"
            } else if v.description.contains("no mapping") {
                "code-invalid"
            } else {
                "invalid"
            };
            Issue::at(kind, "INVALID_ARGUMENT", v.element, v.description)
        })
        .collect();
    Refusal { status: StatusCode::UNPROCESSABLE_ENTITY, issues }
}

/// A failure of the hub itself (500): nothing about the request.
fn internal(text: impl Into<String>) -> Refusal {
    Refusal::one(StatusCode::INTERNAL_SERVER_ERROR, Issue::whole("exception", "INTERNAL", text))
}

/// The id in the path.
type Id = Path<String>;

/// The state every handler takes.
type Shared = State<Arc<Face>>;

/// A request, whole.
type Whole = Request;
