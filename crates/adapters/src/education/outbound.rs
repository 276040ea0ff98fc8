//! A message addressed to a school -> the school's document: the concern
//! report's shape with what EDUCATION may see (module doc of `education`).
//! The payload arrives cut by disclosure; the document has no element for
//! concerns, risk, narrative, location, health or family details at all, so
//! even an uncut payload could not put them in front of a school.

use referral_hub_domain::wire::{Caregiver, Message, Priority, message::Payload};
use serde_json::{Map, Value};

use crate::json_document::envelope::{document, enum_to_native, hub_element, no_payload, put, put_codes};
use crate::json_document::person::{carer_contact, put_alert_identity, put_child, write_caregiver};
use crate::{CodeMap, Document, Unmapped};

/// A referral, case transfer or separated-child alert -> the school's document.
pub(super) fn message(message: &Message, codes: &CodeMap) -> Result<Document, Unmapped> {
    let mut doc = Map::new();
    doc.insert("hub".into(), hub_element(message, codes)?);
    put(&mut doc, "request_id", &message.request_id);
    put(&mut doc, "recipient_org_id", &message.recipient_org_id);
    match &message.payload {
        Some(Payload::Referral(referral)) => {
            put_child(&mut doc, "pupil", message, referral.child.as_ref(), codes)?;
            contact(&mut doc, referral.caregiver.as_ref(), codes)?;
            put_codes(&mut doc, "requested_services", codes, "services", &referral.requested_services)?;
            if referral.priority != 0 {
                let hub = Priority::try_from(referral.priority).ok().map(|p| p.as_str_name());
                put(&mut doc, "priority", enum_to_native(codes, "priority", hub, referral.priority)?);
            }
        }
        Some(Payload::CaseTransfer(transfer)) => {
            put_child(&mut doc, "pupil", message, transfer.child.as_ref(), codes)?;
            contact(&mut doc, transfer.caregiver.as_ref(), codes)?;
        }
        Some(Payload::SeparatedChildAlert(alert)) => {
            put_child(&mut doc, "pupil", message, alert.child.as_ref(), codes)?;
            // Names and features are IDENTITY: they help a school recognise a pupil it already knows.
            if let Some(Value::Object(pupil)) = doc.get_mut("pupil") {
                put_alert_identity(pupil, alert);
            }
            contact(&mut doc, carer_contact(alert).as_ref(), codes)?;
        }
        None => return Err(no_payload(message)),
    }
    Ok(document(&Value::Object(doc)))
}

/// `caregiver`: who to contact about the pupil, and nothing else.
fn contact(doc: &mut Map<String, Value>, caregiver: Option<&Caregiver>, codes: &CodeMap) -> Result<(), Unmapped> {
    if let Some(caregiver) = caregiver {
        let mut contact = caregiver.clone();
        // Relationship is FAMILY and exclusion PROTECTION_CONCERN: never a school's.
        contact.relationship.clear();
        contact.exclusion = 0;
        doc.insert("caregiver".into(), Value::Object(write_caregiver(&contact, codes)?));
    }
    Ok(())
}
