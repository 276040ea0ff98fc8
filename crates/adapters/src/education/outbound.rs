//! A referral addressed to a school -> the school's document: the concern
//! report's shape with what EDUCATION may see (module doc of `education`).
//! The payload arrives cut by disclosure; the document has no element for
//! concerns, risk, narrative, location, health or family details at all, so
//! even an uncut payload could not put them in front of a school.

use referral_hub_domain::wire::{Message, Priority};
use serde_json::{Map, Value};

use super::shared::envelope::{document, enum_to_native, hub_element, put, put_codes, referral_of};
use super::shared::person::{write_caregiver, write_child};
use crate::{CodeMap, Document, Unmapped};

/// A referral -> the school's referral document.
pub(super) fn referral(message: &Message, codes: &CodeMap) -> Result<Document, Unmapped> {
    let referral = referral_of(message)?;
    let mut doc = Map::new();
    doc.insert("hub".into(), hub_element(message, codes)?);
    put(&mut doc, "request_id", &message.request_id);
    put(&mut doc, "recipient_org_id", &message.recipient_org_id);
    if message.child.is_some() || referral.child.is_some() {
        let details = referral.child.clone().unwrap_or_default();
        doc.insert("pupil".into(), Value::Object(write_child(message.child.as_ref(), &details, codes)?));
    }
    if let Some(caregiver) = &referral.caregiver {
        let mut contact = caregiver.clone();
        // Relationship is FAMILY and exclusion PROTECTION_CONCERN: never a school's.
        contact.relationship.clear();
        contact.exclusion = 0;
        doc.insert("caregiver".into(), Value::Object(write_caregiver(&contact, codes)?));
    }
    put_codes(&mut doc, "requested_services", codes, "services", &referral.requested_services)?;
    if referral.priority != 0 {
        let hub = Priority::try_from(referral.priority).ok().map(|p| p.as_str_name());
        put(&mut doc, "priority", enum_to_native(codes, "priority", hub, referral.priority)?);
    }
    Ok(document(&Value::Object(doc)))
}
