//! Writes: a referral as a transaction Bundle (`POST /fhir/r4`) or a message
//! Bundle (`POST /fhir/r4/$process-message`), and a Task update (`PUT`, with
//! `If-Match`). Each goes through the HEALTH adapter into
//! `MessageApi::submit` / `follow_up`, the gRPC handlers' own functions.

use axum::{
    body::Body,
    http::{StatusCode, header::IF_MATCH, request::Parts},
    response::Response,
};
use serde_json::Value;

use referral_hub_adapters::Inbound;
use referral_hub_domain::roles::Role;

use super::{
    Face, Id, PARTIES, Shared, Whole, answer, bundles, internal, media,
    outcome::{Issue, Refusal, fhir_response},
    read::task_response,
    read_body,
    task_view::{self, Update},
    unprocessable,
};
use crate::{auth::Caller, error::ApiError, message_service::Route};

/// The adapter paths whose reading the face reuses.
const BUNDLE_PATH: &str = "/fhir/r4/Bundle";
const TASK_PATH: &str = "/fhir/r4/Task";

/// `POST /fhir/r4` with a transaction Bundle: one referral, answered with a
/// `transaction-response`.
pub(super) async fn transaction(face: Shared, request: Whole) -> Response {
    answer(
        async {
            let (parts, body) = request.into_parts();
            let (bundle, caller, bytes) = face.referral(parts, body, "transaction", "POST /fhir/r4").await?;
            let done = face.submit(&caller, &bytes).await?;
            let response = bundles::transaction_response(&bundle, done.submitted());
            Ok(fhir_response(StatusCode::OK, &response))
        }
        .await,
    )
}

/// `POST /fhir/r4/$process-message` with a message Bundle (what
/// `POST /fhir/r4/Bundle` takes), answered with a response message.
pub(super) async fn process_message(face: Shared, request: Whole) -> Response {
    answer(
        async {
            let (parts, body) = request.into_parts();
            let base = face.base(&parts);
            let (bundle, caller, bytes) =
                face.referral(parts, body, "message", "POST /fhir/r4/$process-message").await?;
            let done = face.submit(&caller, &bytes).await?;
            let now = time::OffsetDateTime::from(face.hub.clock.now())
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            Ok(fhir_response(StatusCode::OK, &bundles::message_response(&bundle, done.submitted(), &base, &now)))
        }
        .await,
    )
}

/// `PUT /fhir/r4/Task/[id]`: the change from the Task now, as a follow-up.
/// A stale `If-Match` is 412; a move the life cycle refuses 409.
pub(super) async fn update_task(face: Shared, id: Id, request: Whole) -> Response {
    answer(
        async {
            let (parts, body) = request.into_parts();
            let caller = face.caller(&parts, &PARTIES, "PUT /fhir/r4/Task/{id}").await?;
            let bytes = read_body(body, "Task").await?;
            let incoming = media::resource(&parts.headers, &bytes, "Task")?;
            if incoming.get("id").and_then(Value::as_str) != Some(id.as_str()) {
                let issue = Issue::at("invalid", "ID_MISMATCH", "Task.id", "must be the id in the URL");
                return Err(Refusal::one(StatusCode::BAD_REQUEST, issue));
            }
            let state = face.task_by_id(&caller, &id).await?;
            if let Some(tag) = parts.headers.get(IF_MATCH) {
                if tag.to_str().ok().and_then(task_view::if_match_version) != Some(state.version) {
                    return Err(stale());
                }
            }
            let Update::FollowUp(task) = task_view::update(&id, &state.task, &incoming, state.version) else {
                return Ok(task_response(&state));
            };
            face.follow_up(&caller, &task).await?;
            Ok(task_response(&face.task_by_id(&caller, &id).await?))
        }
        .await,
    )
}

/// 412: the client's version is not the Task's now.
fn stale() -> Refusal {
    let text = "the Task changed since the version the update was made on; read it again";
    Refusal::one(
        StatusCode::PRECONDITION_FAILED,
        Issue::at("conflict", "VERSION_CONFLICT", "Task.meta.versionId", text),
    )
}

/// A submitted referral: its id and whether it was a retry.
struct Done {
    id: String,
    replayed: bool,
    task_version: u64,
}

impl Done {
    fn submitted(&self) -> bundles::Submitted<'_> {
        bundles::Submitted { id: &self.id, replayed: self.replayed, task_version: self.task_version }
    }
}

impl Face {
    /// A referral Bundle of type `kind`, with its caller (role `referrer`) and bytes.
    async fn referral(
        &self,
        parts: Parts,
        body: Body,
        kind: &str,
        rpc: &str,
    ) -> Result<(Value, Caller, Vec<u8>), Refusal> {
        let caller = self.caller(&parts, &[Role::Referrer], rpc).await?;
        let bytes = read_body(body, "Bundle").await?;
        let bundle = media::resource(&parts.headers, &bytes, "Bundle")?;
        let found = bundle.get("type").and_then(Value::as_str).unwrap_or("");
        if found != kind {
            let text = match kind {
                "transaction" => "must be transaction here; a message Bundle goes to $process-message",
                _ => "must be message here; a transaction Bundle goes to the base URL",
            };
            return Err(Refusal::one(
                StatusCode::UNPROCESSABLE_ENTITY,
                Issue::at("invalid", "WRONG_BUNDLE_TYPE", "Bundle.type", text),
            ));
        }
        Ok((bundle, caller, bytes.to_vec()))
    }

    /// The referral `bytes` hold, submitted through the core path.
    async fn submit(&self, caller: &Caller, bytes: &[u8]) -> Result<Done, Refusal> {
        let adapter = self.health()?;
        let request = match adapter.inbound(BUNDLE_PATH, bytes).map_err(unprocessable)?.pop() {
            Some(Inbound::Submit(request)) => request,
            _ => return Err(internal("the adapter read no referral")),
        };
        let answer = self
            .messages
            .submit(caller, request, &Route::Directory)
            .await
            .map_err(|e| Refusal::of(e, "Bundle", |f| adapter.native_element(BUNDLE_PATH, f)))?;
        let id = answer.message.map(|m| m.id).unwrap_or_default();
        let task_version = match answer.replayed {
            false => 1,
            true => self.task_by_id(caller, &id).await?.version,
        };
        Ok(Done { id, replayed: answer.replayed, task_version })
    }

    /// Posts `task` (what a PUT changes) as a follow-up, as
    /// `POST /fhir/r4/Task` would. Another update made on the same version
    /// first (the same idempotency key, another body) makes this one stale.
    async fn follow_up(&self, caller: &Caller, task: &Value) -> Result<(), Refusal> {
        let adapter = self.health()?;
        let bytes = serde_json::to_vec(task).map_err(|_| internal("the Task is not JSON"))?;
        let request = match adapter.inbound(TASK_PATH, &bytes).map_err(unprocessable)?.pop() {
            Some(Inbound::FollowUp(request)) => request,
            _ => return Err(internal("the adapter read no update")),
        };
        match self.messages.follow_up(caller, request).await {
            Ok(_) => Ok(()),
            Err(ApiError::FailedPrecondition { kind: "REQUEST_ID_REUSED", .. }) => Err(stale()),
            Err(e) => Err(Refusal::of(e, "Task", |f| adapter.native_element(TASK_PATH, f))),
        }
    }
}
