//! A message delivered to a Primero instance, as a Primero case that
//! Primero's own record validation accepts: only fields of Primero's case
//! forms, only values of its lookups, subform `unique_id`s bare UUIDs (the
//! schema, built from the forms and lookups, is
//! `tests/fixtures/primero/case_schema.json`). Transfers and alerts add their
//! members to the same shape ([`super::transfer`], [`super::family_tracing`]);
//! what every kind shares is written by [`super::case_members_out`].
//!
//! The case's `id` is the hub message id (the id the instance quotes on the
//! referral routes, and what marks a case posted back as the hub's own, see
//! [`super::case_in`]); `case_id` is the sender's case id. What Primero has no
//! field or lookup value for goes into `notes_section` ([`Notes`]): the hub's
//! deadline, safety concerns, the child's views, documents, a caregiver's
//! exclusion, and every hub code without a Primero value (the field then
//! carries Primero's `other`, or is left out). Empty fields are left out.

use referral_hub_domain::wire::{Message, Priority, ServiceReferral, message::Payload};
use serde_json::{Map, Value, json};

use super::case_members_out::{Shared, child_details, service_entry, shared};
use super::primero_out::{LINK_KEY_ID_TYPE, Notes, is_uuid, put};
use super::{family_tracing, transfer};
use crate::native_json::rfc3339;
use crate::{CodeMap, Unmapped};

/// The case document of `message`: a referral as a case with service
/// entries, a transfer or an alert in their own modules' shapes.
pub(super) fn case(codes: &CodeMap, message: &Message) -> Result<Value, Unmapped> {
    let mut case = envelope(message);
    let mut notes = Notes::default();
    if let Some(at) = &message.respond_by {
        notes.add("Referral hub: respond by", &rfc3339(at)?);
    }
    match &message.payload {
        Some(Payload::Referral(referral)) => {
            if let Some(child) = &referral.child {
                child_details(codes, &mut case, &mut notes, child);
            }
            shared(codes, &mut case, &mut notes, message, &Shared::of_referral(referral))?;
            notes.add("Referral notes", &referral.notes);
            let services = services(codes, &mut notes, message, referral)?;
            case.insert("services_section".into(), services.into());
        }
        Some(Payload::CaseTransfer(transfer)) => {
            transfer::transfer_out(codes, &mut case, &mut notes, message, transfer)?
        }
        Some(Payload::SeparatedChildAlert(alert)) => {
            family_tracing::alert_out(codes, &mut case, &mut notes, message, alert)?
        }
        None => return Err(Unmapped { table: "message_kind".into(), code: message.kind().as_str_name().into() }),
    }
    let at = message.created_at.as_ref().map(rfc3339).transpose()?;
    notes.write(&mut case, &message.id, at.as_deref());
    Ok(json!({ "data": case }))
}

/// The members of every delivered case: its id (the message's), the
/// sender's case id and agency, the link key in Primero's other-id pair.
fn envelope(message: &Message) -> Map<String, Value> {
    let mut case = Map::new();
    if is_uuid(&message.id) {
        case.insert("id".into(), message.id.clone().into());
    }
    put(&mut case, "other_agency_name", &message.sender_org_id);
    if let Some(child) = &message.child {
        put(&mut case, "case_id", &child.local_id);
        if !child.link_key.is_empty() {
            case.insert("other_id_type".into(), LINK_KEY_ID_TYPE.into());
            case.insert("other_id_no".into(), child.link_key.clone().into());
        }
    }
    case
}

/// One services_section entry per requested service, all addressed to the
/// receiver; the reason goes on the first entry only.
fn services(
    codes: &CodeMap,
    notes: &mut Notes,
    message: &Message,
    referral: &ServiceReferral,
) -> Result<Vec<Value>, Unmapped> {
    let priority = Priority::try_from(referral.priority).ok().map(|p| p.as_str_name());
    let mut entries = Vec::new();
    for (i, service) in referral.requested_services.iter().enumerate() {
        let mut entry = service_entry(codes, notes, message, i, service, priority)?;
        if i == 0 {
            put(&mut entry, "service_referral_notes", &referral.reason);
        }
        entries.push(Value::Object(entry));
    }
    Ok(entries)
}
