//! Reads: the CapabilityStatement, a Task, a ServiceRequest, and the Task
//! search. Every stored message shown goes through `Hub::release` (consent
//! decided again, payload cut, read audited) and is rendered by the HEALTH
//! adapter exactly as it is delivered.

use axum::{
    http::{HeaderValue, StatusCode, header::ETAG},
    response::Response,
};
use serde_json::Value;

use referral_hub_adapters::{Adapter, Outbound, health};
use referral_hub_domain::{
    audit::Action,
    ids::{MessageId, OrgId},
    roles::Role,
    timestamps::UnixMicros,
    wire::{Message, MessageStatus},
};
use referral_hub_store::{Mailbox, MessageFilter, MessageRecord};

use super::{
    Face, Id, PARTIES, Shared, Whole, answer, bundles, capability, internal,
    outcome::{Issue, Refusal, fhir_response, not_found_issue},
    search::{self, TaskSearch},
    task_view,
};
use crate::{auth::Caller, convert};

/// A Task as one reader sees it now.
pub(super) struct TaskState {
    /// The Task resource, with `meta`.
    pub task: Value,
    /// Its version (1 + the follow-ups the reader may see).
    pub version: u64,
}

/// `GET /fhir/r4/metadata`: for anyone, before a token (authenticate.rs):
/// FHIR clients read it first to learn what the server does.
pub(super) async fn metadata(face: Shared, request: Whole) -> Response {
    let (parts, _) = request.into_parts();
    fhir_response(StatusCode::OK, &capability::statement(&face.base(&parts)))
}

/// `GET /fhir/r4/Task/[id]`.
pub(super) async fn read_task(face: Shared, id: Id, request: Whole) -> Response {
    let (parts, _) = request.into_parts();
    answer(
        async {
            let caller = face.caller(&parts, &PARTIES, "GET /fhir/r4/Task/{id}").await?;
            let state = face.task_by_id(&caller, &id).await?;
            Ok(task_response(&state))
        }
        .await,
    )
}

/// `GET /fhir/r4/ServiceRequest/[id]`: as the reader may see it; a receiver
/// consent no longer allows gets 403 (it knows the referral exists) with why.
pub(super) async fn read_service_request(face: Shared, id: Id, request: Whole) -> Response {
    let (parts, _) = request.into_parts();
    answer(
        async {
            let caller = face.caller(&parts, &PARTIES, "GET /fhir/r4/ServiceRequest/{id}").await?;
            let record = face.visible(&caller, &id).await?;
            let released = face.hub.release(&caller, &[record], Action::MessageRead).await.map_err(Refusal::of_call)?;
            let Some(released) = released.into_iter().next() else { return Err(internal("nothing released")) };
            if released.withheld.is_some() {
                let text = "consent no longer allows this organisation the referral: see the Task's statusReason";
                return Err(Refusal::one(StatusCode::FORBIDDEN, Issue::whole("suppressed", "CONSENT_WITHHELD", text)));
            }
            let bundle = rendered(face.health()?, Outbound::Message(&released.message))?;
            let mut request = resource_of(&bundle, "ServiceRequest").ok_or_else(|| internal("no ServiceRequest"))?;
            request["meta"] = serde_json::json!({"versionId": "1"});
            let mut response = fhir_response(StatusCode::OK, &request);
            response.headers_mut().insert(ETAG, HeaderValue::from_static("W/\"1\""));
            Ok(response)
        }
        .await,
    )
}

/// `GET /fhir/r4/Task?…`: the caller's Tasks, newest first, a page at a time.
pub(super) async fn search_tasks(face: Shared, request: Whole) -> Response {
    let (parts, _) = request.into_parts();
    answer(
        async {
            let caller = face.caller(&parts, &PARTIES, "GET /fhir/r4/Task").await?;
            let pairs: Vec<(String, String)> =
                form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()).into_owned().collect();
            let search = search::parse(&pairs).map_err(|bad| Refusal {
                status: StatusCode::BAD_REQUEST,
                issues: bad
                    .into_iter()
                    .map(|b| Issue::whole("value", "INVALID_SEARCH", format!("{}: {}", b.name, b.text)))
                    .collect(),
            })?;
            let (records, next) = face.find(&caller, &search).await?;
            let tasks = face.tasks(&caller, &records).await?.into_iter().map(|s| s.task).collect();
            let base = face.base(&parts);
            let self_url = format!("{base}/Task{}", parts.uri.query().map(|q| format!("?{q}")).unwrap_or_default());
            let next_url = next.map(|cursor| {
                let mut query = form_urlencoded::Serializer::new(String::new());
                for (name, value) in pairs.iter().filter(|(name, _)| name != "_cursor") {
                    query.append_pair(name, value);
                }
                format!("{base}/Task?{}", query.append_pair("_cursor", &cursor).finish())
            });
            Ok(fhir_response(StatusCode::OK, &bundles::searchset(&base, tasks, &self_url, next_url)))
        }
        .await,
    )
}

/// A Task as the answer, with its ETag.
pub(super) fn task_response(state: &TaskState) -> Response {
    let mut response = fhir_response(StatusCode::OK, &state.task);
    if let Ok(tag) = HeaderValue::from_str(&task_view::etag(state.version)) {
        response.headers_mut().insert(ETAG, tag);
    }
    response
}

/// What the adapter writes for `delivery`, as JSON.
fn rendered(adapter: &dyn Adapter, delivery: Outbound<'_>) -> Result<Value, Refusal> {
    let document = adapter.outbound(delivery).map_err(|unmapped| internal(unmapped.to_string()))?;
    serde_json::from_slice(&document.body).map_err(|_| internal("the adapter wrote no JSON"))
}

/// The first resource of `kind` in `bundle`, or `bundle` itself if it is one;
/// a resource taken out of the Bundle references the others by `Type/id`.
fn resource_of(bundle: &Value, kind: &str) -> Option<Value> {
    if bundle.get("resourceType").and_then(Value::as_str) == Some(kind) {
        return Some(bundle.clone());
    }
    bundle.get("entry")?.as_array()?.iter().find_map(|entry| {
        let resource = entry.get("resource")?;
        (resource.get("resourceType")?.as_str()? == kind).then(|| health::unbundled(resource, bundle))
    })
}

impl Face {
    /// The message `id` if the caller sent or received it; 404 otherwise, the same for both.
    pub(super) async fn visible(&self, caller: &Caller, id: &str) -> Result<MessageRecord, Refusal> {
        self.messages
            .visible_message(caller, id)
            .await
            .map_err(|_| Refusal::one(StatusCode::NOT_FOUND, not_found_issue()))
    }

    /// The Task `id` as `caller` sees it now.
    pub(super) async fn task_by_id(&self, caller: &Caller, id: &str) -> Result<TaskState, Refusal> {
        let record = self.visible(caller, id).await?;
        self.tasks(caller, std::slice::from_ref(&record)).await?.pop().ok_or_else(|| internal("no Task"))
    }

    /// The Tasks of `records` as `caller` sees them: released together (one
    /// audit write), each with the follow-ups the caller may see.
    async fn tasks(&self, caller: &Caller, records: &[MessageRecord]) -> Result<Vec<TaskState>, Refusal> {
        let adapter = self.health()?;
        let released = self.hub.release(caller, records, Action::MessageRead).await.map_err(Refusal::of_call)?;
        let mut tasks = Vec::with_capacity(records.len());
        for (record, released) in records.iter().zip(released) {
            let mut follow_ups = self.hub.store.follow_ups(&record.id).await.map_err(|e| Refusal::of_call(e.into()))?;
            if record.sender_org == caller.org {
                follow_ups.retain(|f| !f.hidden_from_sender);
            }
            let version = follow_ups.len() as u64 + 1;
            let last_updated = last_updated(&released.message);
            let task = match &released.withheld {
                Some(withheld) => {
                    task_view::current(rendered(adapter, Outbound::Withheld(withheld))?, &[], version, last_updated)
                }
                None => {
                    let bundle = rendered(adapter, Outbound::Message(&released.message))?;
                    let base = resource_of(&bundle, "Task").ok_or_else(|| internal("no Task"))?;
                    let mut updates = Vec::with_capacity(follow_ups.len());
                    for record in &follow_ups {
                        let follow_up = convert::follow_up(record).map_err(Refusal::of_call)?;
                        updates.push(rendered(adapter, Outbound::FollowUp(&follow_up))?);
                    }
                    task_view::current(base, &updates, version, last_updated)
                }
            };
            tasks.push(TaskState { task, version });
        }
        Ok(tasks)
    }

    /// The page of messages `search` asks for among the caller's, and the
    /// cursor of the next page when this one is full.
    async fn find(
        &self,
        caller: &Caller,
        search: &TaskSearch,
    ) -> Result<(Vec<MessageRecord>, Option<String>), Refusal> {
        let mut statuses: Vec<MessageStatus> = vec![];
        for code in &search.statuses {
            statuses.extend(self.health()?.statuses_for(code));
        }
        if !search.statuses.is_empty() && statuses.is_empty() {
            return Ok((vec![], None));
        }
        let mut found = vec![];
        for (mailbox, counterpart) in mailboxes(caller, search) {
            let role = if mailbox == Mailbox::Sent { Role::Referrer } else { Role::Receiver };
            self.hub.require(caller, &[role]).await.map_err(Refusal::of_call)?;
            let filter = MessageFilter {
                org: caller.org.clone(),
                mailbox,
                statuses: statuses.clone(),
                kinds: vec![],
                before_id: search.cursor.as_deref().map(MessageId::from),
                counterpart: counterpart.map(OrgId::from),
                updated_from: search.updated_from.map(UnixMicros::new),
                updated_before: search.updated_before.map(UnixMicros::new),
                limit: search.count,
            };
            found.extend(self.hub.store.list_messages(&filter).await.map_err(|e| Refusal::of_call(e.into()))?);
        }
        found.sort_by(|a, b| b.id.cmp(&a.id));
        found.truncate(search.count as usize);
        let next = (found.len() == search.count as usize).then(|| found.last().map(|m| m.id.to_string())).flatten();
        Ok((found, next))
    }
}

/// Which mailboxes a search reads, each with the other party it must have:
/// `owner` is the receiver, `requester` the sender; without either, every
/// mailbox the caller's roles open.
fn mailboxes(caller: &Caller, search: &TaskSearch) -> Vec<(Mailbox, Option<String>)> {
    let me = caller.org.as_str();
    match (search.owner.as_deref(), search.requester.as_deref()) {
        (Some(owner), requester) if owner == me => vec![(Mailbox::Received, requester.map(str::to_owned))],
        // Neither party is the caller: none of its Tasks.
        (Some(_), Some(requester)) if requester != me => vec![],
        (Some(owner), _) => vec![(Mailbox::Sent, Some(owner.to_owned()))],
        (None, Some(requester)) if requester == me => vec![(Mailbox::Sent, None)],
        (None, Some(requester)) => vec![(Mailbox::Received, Some(requester.to_owned()))],
        (None, None) => [(Role::Referrer, Mailbox::Sent), (Role::Receiver, Mailbox::Received)]
            .into_iter()
            .filter(|(role, _)| caller.has(*role))
            .map(|(_, mailbox)| (mailbox, None))
            .collect(),
    }
}

/// When the message last changed, as a FHIR instant.
fn last_updated(message: &Message) -> Option<String> {
    let at = message.updated_at.as_ref()?;
    let nanos = i128::from(at.seconds) * 1_000_000_000 + i128::from(at.nanos);
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
    at.format(&time::format_description::well_known::Rfc3339).ok()
}
