//! The `fullUrl` of each entry of an outbound Bundle, and the references to it.
//!
//! R4 requires a `fullUrl` on every entry, and resolves a reference inside a
//! Bundle by matching it to one. The hub does not know the address agencies
//! reach it at, so entries are named by `urn:uuid:` (R4's choice for resources
//! without a RESTful location) and every reference between entries uses that
//! urn. The uuid is derived from the resource's type and id (a UUIDv8 of
//! SHA-256 of `Type/id`, RFC 9562), so the same resource has the same
//! `fullUrl` in every Bundle and every retry; each resource keeps its `id`
//! (the message id), by which follow-ups address `Task/<message id>`.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The `urn:uuid:` of the resource `kind`/`id`.
pub(super) fn full_url(kind: &str, id: &str) -> String {
    let digest = Sha256::digest(format!("{kind}/{id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8: custom
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant: RFC 9562
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("urn:uuid:{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// A Reference to the entry of `kind`/`id` in the same Bundle.
pub(super) fn to(kind: &str, id: &str) -> Value {
    json!({"reference": full_url(kind, id)})
}

/// The entry holding `resource`, its `fullUrl` derived from its type and `id`.
pub(super) fn entry(resource: Value) -> Value {
    let kind = resource["resourceType"].as_str().unwrap_or_default();
    let id = resource["id"].as_str().unwrap_or_default();
    json!({"fullUrl": full_url(kind, id), "resource": resource})
}

/// `resource` taken out of the message Bundle it was written in (a FHIR
/// server's read of one resource): each reference to an entry by its
/// `urn:uuid:` becomes that entry's `Type/id`, which a reader resolves
/// against the server it read from. References to entries without an id
/// are left as they are.
pub fn unbundled(resource: &Value, bundle: &Value) -> Value {
    let local: Vec<(&str, String)> = bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| {
                    let (kind, id) = (e["resource"]["resourceType"].as_str()?, e["resource"]["id"].as_str()?);
                    Some((e["fullUrl"].as_str()?, format!("{kind}/{id}")))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut copy = resource.clone();
    relink(&mut copy, &local);
    copy
}

fn relink(value: &mut Value, local: &[(&str, String)]) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("reference")
                && let Some((_, to)) = local.iter().find(|(url, _)| url == reference)
            {
                *reference = to.clone();
            }
            map.values_mut().for_each(|v| relink(v, local));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| relink(v, local)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_urls_are_stable_uuids_one_per_resource() {
        let task = full_url("Task", "01936f4e-6f1a-7c2b-9d3e-4f5a6b7c8d9e");
        assert_eq!(task, full_url("Task", "01936f4e-6f1a-7c2b-9d3e-4f5a6b7c8d9e"));
        assert_ne!(task, full_url("ServiceRequest", "01936f4e-6f1a-7c2b-9d3e-4f5a6b7c8d9e"));
        let uuid = task.strip_prefix("urn:uuid:").unwrap();
        let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert!(uuid.chars().all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(&uuid[14..15], "8", "version 8");
        assert!(matches!(&uuid[19..20], "8" | "9" | "a" | "b"), "RFC 9562 variant");
    }

    #[test]
    fn a_resource_read_alone_references_by_type_and_id() {
        let task = json!({"resourceType": "Task", "id": "m1", "focus": to("ServiceRequest", "m1"),
            "owner": to("Organization", "org_b"), "note": [{"text": "x"}]});
        let bundle = json!({"entry": [
            entry(task.clone()),
            entry(json!({"resourceType": "ServiceRequest", "id": "m1"})),
            {"fullUrl": full_url("Organization", "org_b"), "resource": {"resourceType": "Organization"}},
        ]});
        let alone = unbundled(&task, &bundle);
        assert_eq!(alone["focus"]["reference"], "ServiceRequest/m1");
        assert_eq!(alone["owner"], to("Organization", "org_b"), "no id: left as it was");
        assert_eq!(alone["note"], task["note"]);
    }
}
