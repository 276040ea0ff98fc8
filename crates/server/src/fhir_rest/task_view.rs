//! The Task as a FHIR server shows it (the state now, versioned) and what a
//! client's `PUT` of it asks for.
//!
//! The Task is rendered by the HEALTH adapter exactly as it is delivered: the
//! message's Task, and each follow-up as that Task updated. The state now is
//! the message's Task with the latest update's business status, reason,
//! appointment and outputs, and every update's notes. Its version is 1 plus
//! the follow-ups the reader may see, so it moves with every update.
//!
//! A `PUT` replaces the resource (http.html "update"): what differs from the
//! state now is the change asked for. A changed `businessStatus` is the
//! action; else a changed `status` (through the adapter's Task.status table);
//! else a changed appointment is `schedule-appointment` and new notes a
//! `note`. The result is the Task the adapter reads on `POST /fhir/r4/Task`,
//! so a PUT takes exactly the path a posted Task takes.

use serde_json::{Map, Value, json};

/// The hub CodeSystem of follow-up actions (the adapter's `business_status` table).
const FOLLOW_UP_ACTION: &str = "https://referral-hub.org/fhir/CodeSystem/follow-up-action";

/// Elements of the latest update that make up the state now.
const FROM_LATEST: [&str; 5] = ["businessStatus", "statusReason", "executionPeriod", "output", "lastModified"];

/// The Task now: `base` (the message's Task as delivered) with `updates`
/// (each follow-up's Task, oldest first) applied, and its `meta`.
pub fn current(mut base: Value, updates: &[Value], version: u64, last_updated: Option<String>) -> Value {
    let Some(task) = base.as_object_mut() else { return base };
    if let Some(latest) = updates.last() {
        for key in FROM_LATEST {
            match latest.get(key) {
                Some(value) => task.insert(key.into(), value.clone()),
                None => task.remove(key),
            };
        }
    }
    let notes: Vec<Value> =
        updates.iter().filter_map(|u| u.get("note").and_then(Value::as_array)).flatten().cloned().collect();
    if !notes.is_empty() {
        task.insert("note".into(), Value::Array(notes));
    }
    let mut meta = Map::new();
    meta.insert("versionId".into(), version.to_string().into());
    if let Some(at) = last_updated {
        meta.insert("lastUpdated".into(), at.into());
    }
    task.insert("meta".into(), Value::Object(meta));
    base
}

/// What a PUT asks of the hub.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// Nothing differs from the state now: the answer is the Task as it is.
    Unchanged,
    /// A follow-up, as the Task the adapter reads (`POST /fhir/r4/Task`).
    FollowUp(Value),
}

/// The change `incoming` (the client's Task `id`) makes to `current`, the
/// Task at `version`. The follow-up's idempotency key is the version it was
/// made on, so a second, different PUT on the same version is a conflict.
pub fn update(id: &str, current: &Value, incoming: &Value, version: u64) -> Update {
    let mut task = incoming.as_object().cloned().unwrap_or_default();
    let differs = |key: &str| incoming.get(key) != current.get(key);
    for key in ["businessStatus", "statusReason", "executionPeriod", "output"] {
        if !differs(key) {
            task.remove(key);
        }
    }
    let known: Vec<&Value> =
        current.get("note").and_then(Value::as_array).map(|n| n.iter().collect()).unwrap_or_default();
    let new_notes: Vec<Value> = incoming
        .get("note")
        .and_then(Value::as_array)
        .map(|notes| notes.iter().filter(|n| !known.contains(n)).cloned().collect())
        .unwrap_or_default();
    task.remove("note");
    if !new_notes.is_empty() {
        task.insert("note".into(), Value::Array(new_notes.clone()));
    }
    if !task.contains_key("businessStatus") && !differs("status") {
        let implied = if task.contains_key("executionPeriod") {
            "schedule-appointment"
        } else if !new_notes.is_empty() {
            "note"
        } else {
            return Update::Unchanged;
        };
        task.insert("businessStatus".into(), json!({"coding": [{"system": FOLLOW_UP_ACTION, "code": implied}]}));
    }
    task.insert("meta".into(), json!({"versionId": format!("put-{version}")}));
    // The Task's id is the message's: its focus is that message's ServiceRequest.
    task.insert("focus".into(), json!({"reference": format!("ServiceRequest/{id}")}));
    Update::FollowUp(Value::Object(task))
}

/// The weak ETag of a version: `W/"3"`.
pub fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// The version an `If-Match` value names (`W/"3"` or `"3"`); `None` if it names none.
pub fn if_match_version(value: &str) -> Option<u64> {
    let tag = value.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivered() -> Value {
        json!({"resourceType": "Task", "id": "m1", "status": "requested", "intent": "order",
               "focus": {"reference": "ServiceRequest/m1"}})
    }

    fn acknowledged() -> Value {
        json!({"resourceType": "Task", "id": "m1", "status": "received",
               "businessStatus": {"coding": [{"system": FOLLOW_UP_ACTION, "code": "acknowledge"}]},
               "note": [{"text": "seen"}]})
    }

    #[test]
    fn the_state_now_is_the_latest_update_with_every_note_and_a_version() {
        let now = current(delivered(), &[acknowledged(), json!({"note": [{"text": "called"}]})], 3, None);
        assert_eq!(now["meta"]["versionId"], "3");
        assert_eq!(now["status"], "requested", "the status is the message's, not an update's");
        assert!(now.get("businessStatus").is_none(), "the latest update had none");
        assert_eq!(now["note"], json!([{"text": "seen"}, {"text": "called"}]));
    }

    #[test]
    fn a_changed_status_is_the_action_and_the_old_business_status_is_dropped() {
        let now = current(delivered(), &[acknowledged()], 2, None);
        let mut incoming = now.clone();
        incoming["status"] = "accepted".into();
        let Update::FollowUp(task) = update("m1", &now, &incoming, 2) else { panic!("a change") };
        assert!(task.get("businessStatus").is_none(), "Task.status decides: {task}");
        assert_eq!(task["meta"]["versionId"], "put-2");
        assert!(task.get("note").is_none(), "old notes are not posted again");
    }

    #[test]
    fn a_new_note_alone_is_a_note_and_nothing_new_is_unchanged() {
        let now = current(delivered(), &[acknowledged()], 2, None);
        assert_eq!(update("m1", &now, &now, 2), Update::Unchanged);
        let mut incoming = now.clone();
        incoming["note"].as_array_mut().unwrap().push(json!({"text": "family visited"}));
        let Update::FollowUp(task) = update("m1", &now, &incoming, 2) else { panic!("a change") };
        assert_eq!(task["businessStatus"]["coding"][0]["code"], "note");
        assert_eq!(task["note"], json!([{"text": "family visited"}]));
    }

    #[test]
    fn if_match_takes_weak_and_strong_tags() {
        assert_eq!(if_match_version("W/\"3\""), Some(3));
        assert_eq!(if_match_version("\"12\""), Some(12));
        assert_eq!(if_match_version("3"), None);
        assert_eq!(etag(4), "W/\"4\"");
    }
}
