//! The Bundles the face answers with: a `transaction-response` (one
//! `entry.response` per entry of the request, in order), the response message
//! of `$process-message`, and a `searchset` page.

use serde_json::{Value, json};

use super::task_view::etag;

/// What the hub did with a submitted referral.
#[derive(Debug, Clone, Copy)]
pub struct Submitted<'a> {
    /// The message (and Task, and ServiceRequest) id.
    pub id: &'a str,
    /// A retry answered from the stored message: `200 OK`, not `201 Created`.
    pub replayed: bool,
    /// The Task's version now.
    pub task_version: u64,
}

/// The `transaction-response` for `request` (a transaction Bundle the hub
/// took as one referral): each entry's status; the ServiceRequest and Task
/// entries (the resources a client can read back) with location and ETag.
pub fn transaction_response(request: &Value, done: Submitted) -> Value {
    let status = if done.replayed { "200 OK" } else { "201 Created" };
    let entries: Vec<Value> = request
        .get("entry")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|entry| {
            let response = match entry.pointer("/resource/resourceType").and_then(Value::as_str) {
                Some("ServiceRequest") => {
                    json!({"status": status, "location": format!("ServiceRequest/{}/_history/1", done.id), "etag": etag(1)})
                }
                Some("Task") => json!({
                    "status": status,
                    "location": format!("Task/{}/_history/{}", done.id, done.task_version),
                    "etag": etag(done.task_version),
                }),
                _ => json!({"status": status}),
            };
            json!({"response": response})
        })
        .collect();
    json!({"resourceType": "Bundle", "type": "transaction-response", "entry": entries})
}

/// The answer to `$process-message` (MessageHeader.response, code `ok`,
/// naming the request's MessageHeader), its focus the Task to follow.
pub fn message_response(request: &Value, done: Submitted, base: &str, now: &str) -> Value {
    let header = request
        .get("entry")
        .and_then(Value::as_array)
        .and_then(|entries| {
            entries.iter().find(|e| e.pointer("/resource/resourceType") == Some(&json!("MessageHeader")))
        })
        .and_then(|e| e.get("resource"));
    let event = header.and_then(|h| h.get("eventCoding")).cloned().unwrap_or(Value::Null);
    let answered = header.and_then(|h| h.get("id")).and_then(Value::as_str).unwrap_or(done.id);
    let response_id = uuid::Uuid::now_v7().to_string();
    json!({
        "resourceType": "Bundle",
        "id": response_id,
        "type": "message",
        "timestamp": now,
        "entry": [{
            "fullUrl": format!("urn:uuid:{response_id}"),
            "resource": {
                "resourceType": "MessageHeader",
                "id": response_id,
                "eventCoding": event,
                "source": {"name": "referral-hub", "endpoint": base},
                "response": {"identifier": answered, "code": "ok"},
                "focus": [{"reference": format!("Task/{}", done.id)}],
            },
        }],
    })
}

/// A `searchset` page of Tasks, with its `self` link and the `next` one when there is more.
pub fn searchset(base: &str, tasks: Vec<Value>, self_url: &str, next_url: Option<String>) -> Value {
    let mut links = vec![json!({"relation": "self", "url": self_url})];
    links.extend(next_url.map(|url| json!({"relation": "next", "url": url})));
    let entries: Vec<Value> = tasks
        .into_iter()
        .map(|task| {
            let id = task.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
            json!({"fullUrl": format!("{base}/Task/{id}"), "resource": task, "search": {"mode": "match"}})
        })
        .collect();
    let mut bundle = json!({"resourceType": "Bundle", "type": "searchset", "link": links});
    // FHIR JSON has no empty arrays: an empty page has no `entry` at all.
    if !entries.is_empty() {
        bundle["entry"] = Value::Array(entries);
    }
    bundle
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_response_per_entry_in_order() {
        let request = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
            {"resource": {"resourceType": "Patient"}},
            {"resource": {"resourceType": "ServiceRequest"}},
            {"resource": {"resourceType": "Task"}},
        ]});
        let done = Submitted { id: "m1", replayed: false, task_version: 1 };
        let answer = transaction_response(&request, done);
        let entries = answer["entry"].as_array().unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0]["response"], json!({"status": "201 Created"}));
        assert_eq!(entries[1]["response"]["location"], "ServiceRequest/m1/_history/1");
        assert_eq!(entries[2]["response"]["etag"], "W/\"1\"");
        let again = transaction_response(&request, Submitted { replayed: true, ..done });
        assert_eq!(again["entry"][0]["response"]["status"], "200 OK");
    }
}
