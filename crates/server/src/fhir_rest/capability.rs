//! `GET /fhir/r4/metadata`: the CapabilityStatement (http.html "capabilities"),
//! listing exactly what this face does, no more: a client library reads it
//! to decide what it may ask.

use serde_json::{Value, json};

/// The date of this statement: changed whenever what it lists changes.
const STATEMENT_DATE: &str = "2026-12-07";

/// The statement, `base` being this server's FHIR base URL.
pub fn statement(base: &str) -> Value {
    let search = |name: &str, kind: &str, definition: &str, documentation: &str| {
        json!({"name": name, "definition": format!("http://hl7.org/fhir/SearchParameter/{definition}"),
               "type": kind, "documentation": documentation})
    };
    let task_search = json!([
        search("_lastUpdated", "date", "Resource-lastUpdated", "prefixes eq, ge, gt, le, lt"),
        search("owner", "reference", "Task-owner", "Organization/<id>: the receiver"),
        search("requester", "reference", "Task-requester", "Organization/<id>: the sender"),
        search("status", "token", "Task-status", "Task.status codes, comma-separated"),
    ]);
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": STATEMENT_DATE,
        "publisher": "referral-hub",
        "kind": "instance",
        "software": {"name": "referral-hub", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": "referral-hub: child-protection referrals between agencies", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "documentation": "Every request carries the organisation's bearer token (Authorization: Bearer). \
                A referral is a transaction Bundle (or a message Bundle to $process-message); the receiver \
                works on the Task whose id is the referral's, which both parties read, update and search. \
                A batch Bundle holds Task updates (PUT Task/<id>).",
            "security": {"description": "Bearer tokens issued to an organisation with its roles (referrer, receiver)."},
            "resource": [
                resource("Task", &["read", "update", "search-type"], "versioned-update", Some(task_search)),
                resource("ServiceRequest", &["read"], "versioned", None),
            ],
            "interaction": [{"code": "transaction"}, {"code": "batch"}],
            "operation": [{
                "name": "process-message",
                "definition": "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message",
            }],
        }],
    })
}

/// What the face does with one resource type: `interactions`, nothing conditional, no history.
fn resource(kind: &str, interactions: &[&str], versioning: &str, search: Option<Value>) -> Value {
    let mut resource = json!({
        "type": kind,
        "interaction": interactions.iter().map(|code| json!({"code": code})).collect::<Vec<_>>(),
        "versioning": versioning,
        "readHistory": false,
        "updateCreate": false,
        "conditionalCreate": false,
        "conditionalRead": "not-supported",
        "conditionalUpdate": false,
        "conditionalDelete": "not-supported",
    });
    if let Some(search) = search {
        resource["searchParam"] = search;
    }
    resource
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_exactly_what_the_face_serves() {
        let statement = statement("http://hub.example/fhir/r4");
        assert_eq!(
            (&statement["status"], &statement["kind"], &statement["fhirVersion"]),
            (&json!("active"), &json!("instance"), &json!("4.0.1"))
        );
        let rest = &statement["rest"][0];
        let types: Vec<_> = rest["resource"].as_array().unwrap().iter().map(|r| r["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["Task", "ServiceRequest"]);
        assert_eq!(rest["interaction"], json!([{"code": "transaction"}, {"code": "batch"}]));
        let params: Vec<_> = rest["resource"][0]["searchParam"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(params, ["_lastUpdated", "owner", "requester", "status"]);
    }
}
