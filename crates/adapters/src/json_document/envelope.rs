//! Building outbound documents: the `hub` element (what the hub set on a
//! message), timestamps, enum codes and the withheld notice.

use prost_types::Timestamp;
use referral_hub_domain::wire::{
    ConsentRefusal, DataCategory, Message, MessageKind, MessageStatus, MessageWithheld, message::Payload,
};
use serde_json::{Map, Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{CodeMap, Document, Unmapped};

/// Media type of every JSON document these adapters write.
pub(crate) const JSON: &str = "application/json";

/// A JSON value as a document.
pub(crate) fn document(value: &Value) -> Document {
    Document { content_type: JSON, body: serde_json::to_vec_pretty(value).unwrap_or_default() }
}

/// Sets `name` to `value` unless it is empty: an absent element and an empty
/// one mean the same, and absent keeps documents short.
pub(crate) fn put(object: &mut Map<String, Value>, name: &str, value: &str) {
    if !value.is_empty() {
        object.insert(name.into(), Value::String(value.into()));
    }
}

/// The native code of a proto enum value `raw` (whose hub name is `hub`, if
/// it is a known value) through `table`.
pub(crate) fn enum_to_native<'a>(
    codes: &'a CodeMap,
    table: &str,
    hub: Option<&str>,
    raw: i32,
) -> Result<&'a str, Unmapped> {
    match hub {
        Some(hub) => codes.to_native(table, hub),
        None => Err(Unmapped { table: table.into(), code: raw.to_string() }),
    }
}

/// The refusal of a message without a payload: there is nothing to write,
/// and the hub dead-letters it rather than push an empty document.
pub(crate) fn no_payload(message: &Message) -> Unmapped {
    let kind = MessageKind::try_from(message.kind).map(|k| k.as_str_name()).unwrap_or("MESSAGE_KIND_UNSPECIFIED");
    Unmapped { table: "message_kind".into(), code: kind.into() }
}

/// Sets `name` to the native codes of hub codes `hub` through `table`, unless there are none.
pub(crate) fn put_codes(
    object: &mut Map<String, Value>,
    name: &str,
    codes: &CodeMap,
    table: &str,
    hub: &[String],
) -> Result<(), Unmapped> {
    let natives = hub.iter().map(|code| codes.to_native(table, code)).collect::<Result<Vec<_>, _>>()?;
    if !natives.is_empty() {
        object.insert(name.into(), json!(natives));
    }
    Ok(())
}

/// A timestamp as RFC 3339 (UTC).
pub(crate) fn format_time(at: &Timestamp) -> Result<String, Unmapped> {
    let nanos = i128::from(at.seconds) * 1_000_000_000 + i128::from(at.nanos);
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .ok_or_else(|| Unmapped { table: "timestamp".into(), code: at.seconds.to_string() })
}

/// An RFC 3339 timestamp, if `text` is one.
pub(crate) fn parse_time(text: &str) -> Option<Timestamp> {
    let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    Some(Timestamp { seconds: at.unix_timestamp(), nanos: at.nanosecond() as i32 })
}

/// `hub`: what the hub set on `message`, for the receiver's bookkeeping.
/// The status and legal basis go through the sector's tables like any code;
/// withheld categories are the hub's `DataCategory` names.
pub(crate) fn hub_element(message: &Message, codes: &CodeMap) -> Result<Value, Unmapped> {
    let mut hub = Map::new();
    // Which document this is, so a receiver tells the kinds apart before reading the rest.
    let kind = match &message.payload {
        Some(Payload::CaseTransfer(_)) => "case_transfer",
        Some(Payload::SeparatedChildAlert(_)) => "separated_child_alert",
        Some(Payload::Referral(_)) | None => "referral",
    };
    hub.insert("document".into(), json!(kind));
    put(&mut hub, "message_id", &message.id);
    put(&mut hub, "sender_org_id", &message.sender_org_id);
    put(&mut hub, "sender_subject", &message.sender_subject);
    put(&mut hub, "owner_org_id", &message.owner_org_id);
    let status = MessageStatus::try_from(message.status).ok().map(|s| s.as_str_name());
    put(&mut hub, "status", enum_to_native(codes, "message_status", status, message.status)?);
    for (name, at) in [
        ("created_at", &message.created_at),
        ("updated_at", &message.updated_at),
        ("acknowledge_by", &message.acknowledge_by),
        ("respond_by", &message.respond_by),
    ] {
        if let Some(at) = at {
            hub.insert(name.into(), json!(format_time(at)?));
        }
    }
    put(&mut hub, "consent_id", &message.consent_id);
    if !message.legal_basis.is_empty() {
        put(&mut hub, "legal_basis", codes.to_native("legal_basis", &message.legal_basis)?);
    }
    put(&mut hub, "hold_reason", &message.hold_reason);
    if !message.withheld_categories.is_empty() {
        let names = message
            .withheld_categories
            .iter()
            .map(|c| {
                DataCategory::try_from(*c)
                    .map(|c| c.as_str_name())
                    .map_err(|_| Unmapped { table: "data_category".into(), code: c.to_string() })
            })
            .collect::<Result<Vec<_>, _>>()?;
        hub.insert("withheld_categories".into(), json!(names));
    }
    put(&mut hub, "rerouted_from_id", &message.rerouted_from_id);
    put(&mut hub, "re_referral_of_id", &message.re_referral_of_id);
    Ok(Value::Object(hub))
}

/// The notice for a message consent no longer lets the hub deliver: its id
/// and the reasons (the hub's `ConsentRefusal` names), nothing about the child.
pub(crate) fn withheld(notice: &MessageWithheld) -> Result<Document, Unmapped> {
    let reasons = notice
        .reasons
        .iter()
        .map(|r| {
            ConsentRefusal::try_from(*r)
                .map(|r| r.as_str_name())
                .map_err(|_| Unmapped { table: "consent_refusal".into(), code: r.to_string() })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(document(&json!({ "hub": { "document": "withheld", "message_id": notice.message_id, "reasons": reasons } })))
}
