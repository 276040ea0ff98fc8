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
    read::{TaskState, task_response},
    read_body,
    task_view::{self, Update},
    unprocessable,
};
use crate::{auth::Caller, error::ApiError, message_service::Route};

/// The adapter paths whose reading the face reuses.
const BUNDLE_PATH: &str = "/fhir/r4/Bundle";
const TASK_PATH: &str = "/fhir/r4/Task";

/// `POST /fhir/r4`: a transaction Bundle is one referral, answered with a
/// `transaction-response`; a batch Bundle holds Task updates, each answered
/// on its own in a `batch-response`.
pub(super) async fn transaction(face: Shared, request: Whole) -> Response {
    answer(
        async {
            let (parts, body) = request.into_parts();
            let caller = face.caller(&parts, &PARTIES, "POST /fhir/r4").await?;
            let bytes = read_body(body, "Bundle").await?;
            let bundle = media::resource(&parts.headers, &bytes, "Bundle")?;
            match bundle.get("type").and_then(Value::as_str) {
                Some("transaction") => {
                    face.hub.require(&caller, &[Role::Referrer]).await.map_err(Refusal::of_call)?;
                    let done = face.submit(&caller, &bytes).await?;
                    Ok(fhir_response(StatusCode::OK, &bundles::transaction_response(&bundle, done.submitted())))
                }
                Some("batch") => Ok(fhir_response(StatusCode::OK, &face.batch(&caller, &bundle).await?)),
                _ => Err(wrong_type("must be transaction or batch here; a message Bundle goes to $process-message")),
            }
        }
        .await,
    )
}

/// 422 naming `Bundle.type`.
fn wrong_type(text: &str) -> Refusal {
    Refusal::one(StatusCode::UNPROCESSABLE_ENTITY, Issue::at("invalid", "WRONG_BUNDLE_TYPE", "Bundle.type", text))
}

/// `POST /fhir/r4/$process-message` with a message Bundle (what
/// `POST /fhir/r4/Bundle` takes), answered with a response message.
pub(super) async fn process_message(face: Shared, request: Whole) -> Response {
    answer(
        async {
            let (parts, body) = request.into_parts();
            let base = face.base(&parts);
            let (bundle, caller, bytes) = face.message(parts, body).await?;
            let done = face.submit(&caller, &bytes).await?;
            let now = face.hub.clock.now().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
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
            let if_match = parts.headers.get(IF_MATCH).map(|tag| tag.to_str().unwrap_or(""));
            Ok(task_response(&face.update(&caller, &id, &incoming, if_match).await?))
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
    /// Updates Task `id` to `incoming` (its id already checked against the
    /// URL) if `if_match`, when given, names its version now; the Task after.
    pub(super) async fn update(
        &self,
        caller: &Caller,
        id: &str,
        incoming: &Value,
        if_match: Option<&str>,
    ) -> Result<TaskState, Refusal> {
        let state = self.task_by_id(caller, id).await?;
        if if_match.is_some_and(|tag| task_view::if_match_version(tag) != Some(state.version)) {
            return Err(stale());
        }
        let Update::FollowUp(task) = task_view::update(id, &state.task, incoming, state.version) else {
            return Ok(state);
        };
        self.follow_up(caller, &task).await?;
        self.task_by_id(caller, id).await
    }

    /// A message Bundle, with its caller (role `referrer`) and bytes.
    async fn message(&self, parts: Parts, body: Body) -> Result<(Value, Caller, Vec<u8>), Refusal> {
        let caller = self.caller(&parts, &[Role::Referrer], "POST /fhir/r4/$process-message").await?;
        let bytes = read_body(body, "Bundle").await?;
        let bundle = media::resource(&parts.headers, &bytes, "Bundle")?;
        if bundle.get("type").and_then(Value::as_str) != Some("message") {
            return Err(wrong_type("must be message here; a transaction Bundle goes to the base URL"));
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
