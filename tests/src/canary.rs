//! Canary values planted in every free-text and identifying field of a
//! message, so a test can prove that none of them leaks into logs, spans,
//! metrics or other organisations' answers (docs/security.md "Nothing identifying in logs, traces or metrics").

use std::collections::HashMap;

use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};
use referral_hub_domain::validation::{Rules, validate_submit};
use referral_hub_proto::v1::SubmitMessageRequest;
use serde_json::Value;

/// Every canary starts with this; search for it case-insensitively.
pub const CANARY: &str = "Qzxcanary";

/// Fields that route or identify requests rather than describe a child
/// (area codes route alerts and feed statistics by design).
const ROUTING: [&str; 5] = ["requestId", "recipientOrgId", "consentId", "reReferralOf", "areaCode"];

/// Plants a distinct canary in every string field of `request` that still
/// validates with one (free text, names, identifiers, references; codes,
/// dates and phone numbers refuse them and keep their values). The same
/// original value gets the same canary everywhere, so the child's reference in
/// the message and in its consent still agree. Returns the canaries planted.
pub fn plant(request: &mut SubmitMessageRequest, today: time::Date) -> Vec<String> {
    let pool = DescriptorPool::decode(referral_hub_proto::FILE_DESCRIPTOR_SET).expect("descriptors");
    let descriptor = pool.get_message_by_name("referralhub.v1.SubmitMessageRequest").expect("in the descriptors");
    let dynamic = DynamicMessage::decode(descriptor.clone(), request.encode_to_vec().as_slice()).expect("decodes");
    let mut json = dynamic.serialize_with_options(serde_json::value::Serializer, &SerializeOptions::new()).unwrap();
    let decode = |json: &Value| -> Option<SubmitMessageRequest> {
        let dynamic = DynamicMessage::deserialize(descriptor.clone(), json.clone()).ok()?;
        SubmitMessageRequest::decode(dynamic.encode_to_vec().as_slice()).ok()
    };
    let valid = |json: &Value| decode(json).filter(|r| validate_submit(r, &Rules::default(), today).is_empty());
    assert!(valid(&json).is_some(), "plant canaries in a valid request");

    let mut canaries: HashMap<String, String> = HashMap::new();
    for pointer in string_leaves(&json, String::new()) {
        if ROUTING.iter().any(|field| pointer.ends_with(&format!("/{field}"))) {
            continue;
        }
        let original = json.pointer(&pointer).and_then(Value::as_str).unwrap_or_default().to_owned();
        let canary = canaries.get(&original).cloned().unwrap_or_else(|| format!("{CANARY}{}", letters(canaries.len())));
        for candidate in [canary.clone(), format!("{original} {canary}"), format!("{original}{canary}")] {
            *json.pointer_mut(&pointer).expect("a leaf") = Value::String(candidate);
            if valid(&json).is_some() {
                canaries.insert(original.clone(), canary.clone());
                break;
            }
            *json.pointer_mut(&pointer).expect("a leaf") = Value::String(original.clone());
        }
    }
    *request = valid(&json).expect("still valid");
    canaries.into_values().collect()
}

/// JSON pointers of every string leaf under `value`.
fn string_leaves(value: &Value, at: String) -> Vec<String> {
    match value {
        Value::String(_) => vec![at],
        Value::Array(items) => {
            items.iter().enumerate().flat_map(|(i, item)| string_leaves(item, format!("{at}/{i}"))).collect()
        }
        Value::Object(fields) => fields.iter().flat_map(|(k, v)| string_leaves(v, format!("{at}/{k}"))).collect(),
        _ => vec![],
    }
}

/// `n` in letters (a, b, …, z, ba, bb, …): names refuse digits.
fn letters(mut n: usize) -> String {
    let mut out = vec![b'a' + (n % 26) as u8];
    while n >= 26 {
        n /= 26;
        out.push(b'a' + (n % 26) as u8);
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Whether `text` contains any canary, in any letter case.
pub fn leaks(text: &str) -> bool {
    text.to_ascii_lowercase().contains(&CANARY.to_ascii_lowercase())
}
