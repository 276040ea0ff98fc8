//! A message addressed to police -> the incident notification's shape with
//! what POLICE may see after disclosure (no health or family details: the
//! document has no elements for them). Referrals and mandatory reports,
//! case transfers (plus the case summary and the justice handling block) and
//! separated-child alerts (plus where, when and by whom the child was found).

use referral_hub_domain::wire::{
    Attachment, Caregiver, CaseTransfer, Location, Message, Priority, RiskLevel, SeparatedChildAlert, ServiceReferral,
    message::Payload,
};
use serde_json::{Map, Value, json};

use super::incident;
use crate::json_document::envelope::{document, enum_to_native, hub_element, no_payload, put, put_codes};
use crate::json_document::person::{carer_contact, put_alert_identity, put_child, write_caregiver};
use crate::niem::handling::handling;
use crate::{CodeMap, Document, Unmapped};

/// A message of any kind -> the police document.
pub(super) fn message(message: &Message, codes: &CodeMap) -> Result<Document, Unmapped> {
    let mut doc = Map::new();
    doc.insert("hub".into(), hub_element(message, codes)?);
    put(&mut doc, "request_id", &message.request_id);
    put(&mut doc, "recipient_org_id", &message.recipient_org_id);
    match &message.payload {
        Some(Payload::Referral(referral)) => write_referral(&mut doc, message, referral, codes)?,
        Some(Payload::CaseTransfer(transfer)) => write_transfer(&mut doc, message, transfer, codes)?,
        Some(Payload::SeparatedChildAlert(alert)) => write_alert(&mut doc, message, alert, codes)?,
        None => return Err(no_payload(message)),
    }
    Ok(document(&Value::Object(doc)))
}

fn write_referral(
    doc: &mut Map<String, Value>,
    message: &Message,
    referral: &ServiceReferral,
    codes: &CodeMap,
) -> Result<(), Unmapped> {
    let (incident, notes) = incident::from_notes(&referral.notes, codes)?;
    if let Some(incident) = incident {
        doc.insert("incident".into(), incident);
    }
    put_child(doc, "child", message, referral.child.as_ref(), codes)?;
    location(doc, "current_location", referral.current_location.as_ref());
    caregiver(doc, referral.caregiver.as_ref(), codes)?;
    put_codes(doc, "concern_codes", codes, "concerns", &referral.protection_concerns)?;
    risk(doc, referral.risk_level, codes)?;
    if referral.priority != 0 {
        let hub = Priority::try_from(referral.priority).ok().map(|p| p.as_str_name());
        put(doc, "priority", enum_to_native(codes, "priority", hub, referral.priority)?);
    }
    put_codes(doc, "requested_services", codes, "services", &referral.requested_services)?;
    put(doc, "narrative", &referral.reason);
    put(doc, "safety_concerns", &referral.safety_concerns);
    informed(doc, referral.child_informed);
    put(doc, "child_views", &referral.child_views);
    put(doc, "notes", &notes);
    attachments(doc, &referral.attachments);
    Ok(())
}

/// A transfer: the referral's elements it shares, `case_summary`, and
/// `justice`, the handling block in the JUSTICE adapter's NIEM naming (one
/// shape for the block wherever it goes; its role code through this
/// adapter's `case_type` table).
fn write_transfer(
    doc: &mut Map<String, Value>,
    message: &Message,
    transfer: &CaseTransfer,
    codes: &CodeMap,
) -> Result<(), Unmapped> {
    if let Some(justice) = &transfer.justice {
        // Serialising a struct of strings, numbers and booleans cannot fail.
        doc.insert("justice".into(), serde_json::to_value(handling(codes, justice)?).unwrap_or_default());
    }
    put_child(doc, "child", message, transfer.child.as_ref(), codes)?;
    location(doc, "current_location", transfer.current_location.as_ref());
    caregiver(doc, transfer.caregiver.as_ref(), codes)?;
    put_codes(doc, "concern_codes", codes, "concerns", &transfer.protection_concerns)?;
    risk(doc, transfer.risk_level, codes)?;
    put(doc, "narrative", &transfer.reason);
    put(doc, "case_summary", &transfer.case_summary);
    put(doc, "safety_concerns", &transfer.safety_concerns);
    informed(doc, transfer.child_informed);
    put(doc, "child_views", &transfer.child_views);
    attachments(doc, &transfer.attachments);
    Ok(())
}

/// An alert: the child (with nicknames and identifying features), `found`
/// (place, date, finder), the current carer's contact as `caregiver`, the
/// risk and the child's wishes as `child_views`.
fn write_alert(
    doc: &mut Map<String, Value>,
    message: &Message,
    alert: &SeparatedChildAlert,
    codes: &CodeMap,
) -> Result<(), Unmapped> {
    put_child(doc, "child", message, alert.child.as_ref(), codes)?;
    if let Some(Value::Object(child)) = doc.get_mut("child") {
        put_alert_identity(child, alert);
    }
    let mut found = Map::new();
    if let Some(Value::Object(place)) = alert.found_at.as_ref().map(location_element) {
        found.extend(place);
    }
    put(&mut found, "date", &alert.found_on);
    put(&mut found, "by", &alert.found_by);
    if !found.is_empty() {
        doc.insert("found".into(), Value::Object(found));
    }
    if let Some(carer) = carer_contact(alert) {
        doc.insert("caregiver".into(), Value::Object(write_caregiver(&carer, codes)?));
    }
    risk(doc, alert.risk_level, codes)?;
    put(doc, "child_views", &alert.child_wishes);
    Ok(())
}

fn caregiver(doc: &mut Map<String, Value>, caregiver: Option<&Caregiver>, codes: &CodeMap) -> Result<(), Unmapped> {
    if let Some(caregiver) = caregiver {
        let mut caregiver = caregiver.clone();
        // Relationship is FAMILY: not a police receiver's (docs/consent.md "Need to know").
        caregiver.relationship.clear();
        doc.insert("caregiver".into(), Value::Object(write_caregiver(&caregiver, codes)?));
    }
    Ok(())
}

fn risk(doc: &mut Map<String, Value>, risk_level: i32, codes: &CodeMap) -> Result<(), Unmapped> {
    if risk_level != 0 {
        let hub = RiskLevel::try_from(risk_level).ok().map(|r| r.as_str_name());
        put(doc, "risk", enum_to_native(codes, "risk", hub, risk_level)?);
    }
    Ok(())
}

fn informed(doc: &mut Map<String, Value>, child_informed: bool) {
    if child_informed {
        doc.insert("child_informed".into(), json!(true));
    }
}

fn location(doc: &mut Map<String, Value>, name: &str, location: Option<&Location>) {
    if let Some(location) = location {
        doc.insert(name.into(), location_element(location));
    }
}

fn location_element(location: &Location) -> Value {
    let mut object = Map::new();
    put(&mut object, "area_code", &location.area_code);
    put(&mut object, "description", &location.description);
    Value::Object(object)
}

fn attachments(doc: &mut Map<String, Value>, attachments: &[Attachment]) {
    if !attachments.is_empty() {
        doc.insert("attachments".into(), attachments.iter().map(attachment_element).collect());
    }
}

fn attachment_element(attachment: &Attachment) -> Value {
    let mut object = Map::new();
    put(&mut object, "uri", &attachment.uri);
    put(&mut object, "media_type", &attachment.media_type);
    object.insert("size_bytes".into(), json!(attachment.size_bytes));
    put(&mut object, "description", &attachment.description);
    Value::Object(object)
}
