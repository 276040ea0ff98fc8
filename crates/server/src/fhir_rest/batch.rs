//! A `batch` Bundle posted to `POST /fhir/r4` (http.html "batch"): Task
//! updates (`PUT Task/<id>`, `entry.request.ifMatch` as `If-Match`), each
//! made on its own exactly as a `PUT` is, and answered in a `batch-response`
//! entry by entry, in order, a refusal with its OperationOutcome.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{
    Face,
    outcome::{Issue, Refusal},
    task_view::etag,
};
use crate::auth::Caller;

impl Face {
    /// The `batch-response` to `bundle`. The batch is charged per entry (the
    /// call paid for one) and refused whole if the budget cannot pay.
    pub(super) async fn batch(&self, caller: &Caller, bundle: &Value) -> Result<Value, Refusal> {
        let entries = bundle.get("entry").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let items = u32::try_from(entries.len()).unwrap_or(u32::MAX);
        self.hub.spend_budget(&caller.org, items.saturating_sub(1)).map_err(Refusal::of_call)?;
        let mut responses = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let response = match self.batch_entry(caller, entry, index).await {
                Ok((id, version)) => json!({
                    "status": "200 OK",
                    "location": format!("Task/{id}/_history/{version}"),
                    "etag": etag(version),
                }),
                Err(refusal) => json!({
                    "status": format!("{} {}", refusal.status.as_u16(), refusal.status.canonical_reason().unwrap_or("")),
                    "outcome": refusal.outcome(),
                }),
            };
            responses.push(json!({"response": response}));
        }
        let mut answer = json!({"resourceType": "Bundle", "type": "batch-response"});
        if !responses.is_empty() {
            answer["entry"] = Value::Array(responses);
        }
        Ok(answer)
    }

    /// One entry: a Task update, or a refusal naming what this server takes.
    async fn batch_entry(&self, caller: &Caller, entry: &Value, index: usize) -> Result<(String, u64), Refusal> {
        let method = entry.pointer("/request/method").and_then(Value::as_str);
        let url = entry.pointer("/request/url").and_then(Value::as_str).unwrap_or("");
        let id = url.strip_prefix("Task/").filter(|id| !id.is_empty() && !id.contains(['/', '?']));
        let (Some("PUT"), Some(id)) = (method, id) else {
            let text = "a batch here holds Task updates: request.method PUT, request.url Task/<id>";
            let at = format!("Bundle.entry[{index}].request");
            return Err(Refusal::one(
                StatusCode::BAD_REQUEST,
                Issue::at("not-supported", "UNSUPPORTED_ENTRY", at, text),
            ));
        };
        let resource = entry.get("resource").cloned().unwrap_or(Value::Null);
        if resource.get("resourceType").and_then(Value::as_str) != Some("Task")
            || resource.get("id").and_then(Value::as_str) != Some(id)
        {
            let at = format!("Bundle.entry[{index}].resource");
            let issue = Issue::at("invalid", "ID_MISMATCH", at, "must be the Task whose id the request.url names");
            return Err(Refusal::one(StatusCode::BAD_REQUEST, issue));
        }
        let if_match = entry.pointer("/request/ifMatch").and_then(Value::as_str);
        let state = self.update(caller, id, &resource, if_match).await?;
        Ok((id.to_owned(), state.version))
    }
}
