//! A referral or mandatory report addressed to police -> the incident
//! notification's shape with what POLICE may see after disclosure (no
//! health or family details: the document has no elements for them).

use referral_hub_domain::wire::{Attachment, Location, Message, Priority, RiskLevel};
use serde_json::{Map, Value, json};

use super::incident;
use crate::education::shared::envelope::{document, enum_to_native, hub_element, put, put_codes, referral_of};
use crate::education::shared::person::{write_caregiver, write_child};
use crate::{CodeMap, Document, Unmapped};

/// A referral -> the police document.
pub(super) fn referral(message: &Message, codes: &CodeMap) -> Result<Document, Unmapped> {
    let referral = referral_of(message)?;
    let mut doc = Map::new();
    doc.insert("hub".into(), hub_element(message, codes)?);
    put(&mut doc, "request_id", &message.request_id);
    put(&mut doc, "recipient_org_id", &message.recipient_org_id);
    let (incident, notes) = incident::from_notes(&referral.notes, codes)?;
    if let Some(incident) = incident {
        doc.insert("incident".into(), incident);
    }
    if message.child.is_some() || referral.child.is_some() {
        let details = referral.child.clone().unwrap_or_default();
        doc.insert("child".into(), Value::Object(write_child(message.child.as_ref(), &details, codes)?));
    }
    if let Some(location) = &referral.current_location {
        doc.insert("current_location".into(), location_element(location));
    }
    if let Some(caregiver) = &referral.caregiver {
        let mut caregiver = caregiver.clone();
        // Relationship is FAMILY: not a police receiver's (consent.md need-to-know).
        caregiver.relationship.clear();
        doc.insert("caregiver".into(), Value::Object(write_caregiver(&caregiver, codes)?));
    }
    put_codes(&mut doc, "concern_codes", codes, "concerns", &referral.protection_concerns)?;
    if referral.risk_level != 0 {
        let hub = RiskLevel::try_from(referral.risk_level).ok().map(|r| r.as_str_name());
        put(&mut doc, "risk", enum_to_native(codes, "risk", hub, referral.risk_level)?);
    }
    if referral.priority != 0 {
        let hub = Priority::try_from(referral.priority).ok().map(|p| p.as_str_name());
        put(&mut doc, "priority", enum_to_native(codes, "priority", hub, referral.priority)?);
    }
    put_codes(&mut doc, "requested_services", codes, "services", &referral.requested_services)?;
    put(&mut doc, "narrative", &referral.reason);
    put(&mut doc, "safety_concerns", &referral.safety_concerns);
    if referral.child_informed {
        doc.insert("child_informed".into(), json!(true));
    }
    put(&mut doc, "child_views", &referral.child_views);
    put(&mut doc, "notes", &notes);
    if !referral.attachments.is_empty() {
        doc.insert("attachments".into(), referral.attachments.iter().map(attachment_element).collect());
    }
    Ok(document(&Value::Object(doc)))
}

fn location_element(location: &Location) -> Value {
    let mut object = Map::new();
    put(&mut object, "area_code", &location.area_code);
    put(&mut object, "description", &location.description);
    Value::Object(object)
}

fn attachment_element(attachment: &Attachment) -> Value {
    let mut object = Map::new();
    put(&mut object, "uri", &attachment.uri);
    put(&mut object, "media_type", &attachment.media_type);
    object.insert("size_bytes".into(), json!(attachment.size_bytes));
    put(&mut object, "description", &attachment.description);
    Value::Object(object)
}
