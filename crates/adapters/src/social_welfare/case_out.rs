//! A message delivered to a Primero instance, as a Primero case that
//! Primero's own record validation accepts: only fields of Primero's case
//! forms, only values of its lookups, subform `unique_id`s bare UUIDs (the
//! schema, built from the forms and lookups, is
//! `tests/fixtures/primero/case_schema.json`). Transfers and alerts add their
//! members to the same shape ([`super::transfer`], [`super::tracing`]).
//!
//! The case's `id` is the hub message id (the id the instance quotes on the
//! referral routes, and what marks a case posted back as the hub's own, see
//! [`super::case_in`]); `case_id` is the sender's case id. What Primero has no
//! field or lookup value for goes into `notes_section` ([`Notes`]): the hub's
//! deadline, safety concerns, the child's views, documents, a caregiver's
//! exclusion, and every hub code without a Primero value (the field then
//! carries Primero's `other`, or is left out). Empty fields are left out.

use referral_hub_domain::wire::{
    Attachment, Caregiver, CaregiverExclusion, ChildDetails, Location, Message, Priority, RiskLevel, ServiceReferral,
    message::Payload,
};
use serde_json::{Map, Value, json};

use super::native_json::{native_enum, rfc3339};
use super::primero_out::{Notes, Subform, entry_id, is_uuid};
use crate::{CodeMap, Unmapped};

/// `other_id_type` of the hub's link key, carried in Primero's other-id pair.
pub(super) const LINK_KEY_ID_TYPE: &str = "referral_hub_link_key";

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
            super::transfer::transfer_out(codes, &mut case, &mut notes, message, transfer)?
        }
        Some(Payload::SeparatedChildAlert(alert)) => {
            super::tracing::alert_out(codes, &mut case, &mut notes, message, alert)?
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

/// Sets `key` to `value` unless it is empty (Primero leaves blank fields out).
pub(super) fn put(case: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        case.insert(key.into(), value.into());
    }
}

/// Sets member `key` of `object` to `table`'s native code of `hub`, when
/// `hub` is given and has one (else the note names it as `field`).
fn put_code(codes: &CodeMap, object: &mut Map<String, Value>, notes: &mut Notes, table: &str, field: &str, hub: &str) {
    let key = field.rsplit('.').next().unwrap_or(field);
    if !hub.is_empty()
        && let Some(native) = notes.code(codes, table, field, hub)
    {
        object.insert(key.into(), native.into());
    }
}

/// The child's details as Primero's case members.
pub(super) fn child_details(codes: &CodeMap, case: &mut Map<String, Value>, notes: &mut Notes, child: &ChildDetails) {
    put(case, "name_first", &child.given_name);
    put(case, "name_last", &child.family_name);
    let full: Vec<&str> =
        [child.given_name.as_str(), child.family_name.as_str()].into_iter().filter(|s| !s.is_empty()).collect();
    put(case, "name", &full.join(" "));
    put_code(codes, case, notes, "sex", "sex", &child.sex);
    put(case, "date_of_birth", &child.date_of_birth);
    if let Some(age) = child.estimated_age_years {
        case.insert("age".into(), age.into());
        case.insert("estimated".into(), true.into());
    }
    let languages: Vec<String> =
        child.languages.iter().filter_map(|l| notes.code(codes, "language", "language", l)).collect();
    if !languages.is_empty() {
        case.insert("language".into(), languages.into());
    }
    notes.add("Disability", &child.disability);
    put_code(codes, case, notes, "displacement_status", "displacement_status", &child.displacement_status);
    if !child.nationality.is_empty()
        && let Some(country) = notes.code(codes, "country", "nationality", &child.nationality)
    {
        case.insert("nationality".into(), json!([country]));
    }
}

/// The case members a referral and a transfer share.
pub(super) struct Shared<'a> {
    /// Hub protection concern codes.
    pub(super) protection_concerns: &'a [String],
    /// A `RiskLevel` value.
    pub(super) risk_level: i32,
    /// The caregiver, if any.
    pub(super) caregiver: Option<&'a Caregiver>,
    /// Where the child is now.
    pub(super) current_location: Option<&'a Location>,
    /// Immediate safety concerns.
    pub(super) safety_concerns: &'a str,
    /// Whether the child was told.
    pub(super) child_informed: bool,
    /// The child's own views.
    pub(super) child_views: &'a str,
    /// Documents by reference.
    pub(super) attachments: &'a [Attachment],
}

impl<'a> Shared<'a> {
    fn of_referral(r: &'a ServiceReferral) -> Self {
        Shared {
            protection_concerns: &r.protection_concerns,
            risk_level: r.risk_level,
            caregiver: r.caregiver.as_ref(),
            current_location: r.current_location.as_ref(),
            safety_concerns: &r.safety_concerns,
            child_informed: r.child_informed,
            child_views: &r.child_views,
            attachments: &r.attachments,
        }
    }
}

/// The `risk_level` member of a case.
pub(super) fn risk_level(codes: &CodeMap, case: &mut Map<String, Value>, risk_level: i32) -> Result<(), Unmapped> {
    let risk = RiskLevel::try_from(risk_level).ok().map(|r| r.as_str_name());
    case.insert("risk_level".into(), native_enum(codes, "risk_level", risk)?.into());
    Ok(())
}

/// The members of [`Shared`] as Primero case members and notes.
pub(super) fn shared(
    codes: &CodeMap,
    case: &mut Map<String, Value>,
    notes: &mut Notes,
    message: &Message,
    referral: &Shared<'_>,
) -> Result<(), Unmapped> {
    risk_level(codes, case, referral.risk_level)?;
    protection_concerns(codes, case, referral.protection_concerns);
    notes.add("Safety concerns", referral.safety_concerns);
    if referral.child_informed {
        notes.add("Child informed of the referral", "yes");
    }
    notes.add("Child's views", referral.child_views);
    if let Some(location) = referral.current_location {
        // Both members, even empty: their presence says a location was given.
        case.insert("location_current".into(), location.area_code.clone().into());
        case.insert("address_current".into(), location.description.clone().into());
    }
    if let Some(caregiver) = referral.caregiver {
        let entry = caregiver_entry(codes, notes, message, caregiver);
        case.insert("family_details_section".into(), json!([entry]));
    }
    for a in referral.attachments {
        let text = format!("{} ({}, {} bytes) {}", a.uri, a.media_type, a.size_bytes, a.description);
        notes.add("Document", text.trim_end());
    }
    Ok(())
}

/// `protection_concerns` of Primero's lookup; hub concerns without a
/// Primero value become one `other`, named in `protection_concerns_other`.
fn protection_concerns(codes: &CodeMap, case: &mut Map<String, Value>, concerns: &[String]) {
    let mut native = Vec::new();
    let mut others = Vec::new();
    for concern in concerns {
        match codes.to_native("protection_concerns", concern) {
            Ok(code) => native.push(code.to_owned()),
            Err(_) => others.push(concern.as_str()),
        }
    }
    if !others.is_empty() && !native.iter().any(|c| c == "other") {
        native.push("other".into());
    }
    if !native.is_empty() {
        case.insert("protection_concerns".into(), native.into());
    }
    put(case, "protection_concerns_other", &others.join(", "));
}

/// The caregiver as the family member flagged `relation_is_caregiver`.
fn caregiver_entry(codes: &CodeMap, notes: &mut Notes, message: &Message, caregiver: &Caregiver) -> Value {
    let mut entry = Map::new();
    entry.insert("unique_id".into(), entry_id(&message.id, Subform::Family, 0).into());
    entry.insert("relation_is_caregiver".into(), true.into());
    let field = "family_details_section[0].relation";
    put_code(codes, &mut entry, notes, "relation", field, &caregiver.relationship);
    put(&mut entry, "relation_name", &caregiver.name);
    put(&mut entry, "relation_telephone", &caregiver.phone);
    put(&mut entry, "relation_address_current", &caregiver.address);
    let exclusion = CaregiverExclusion::try_from(caregiver.exclusion).unwrap_or_default();
    if !matches!(exclusion, CaregiverExclusion::Unspecified | CaregiverExclusion::NotExcluded) {
        let reason = codes.to_native("caregiver_exclusion", exclusion.as_str_name()).unwrap_or("excluded");
        notes.add("Caregiver excluded from decisions", reason);
    }
    Value::Object(entry)
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

/// Service entry `i` of a delivered message, addressed to its receiver. Its
/// `unique_id` ([`entry_id`] of the message id) is what marks it as the
/// hub's own when the case is posted back ([`super::case_in`]). A service
/// without a Primero value is `other_service`, named in the note.
pub(super) fn service_entry(
    codes: &CodeMap,
    notes: &mut Notes,
    message: &Message,
    i: usize,
    service: &str,
    priority: Option<&str>,
) -> Result<Map<String, Value>, Unmapped> {
    let mut entry = Map::new();
    entry.insert("unique_id".into(), entry_id(&message.id, Subform::Services, i).into());
    let field = format!("services_section[{i}].service_type");
    let native = notes.code(codes, "service_type", &field, service);
    entry.insert("service_type".into(), native.unwrap_or_else(|| "other_service".into()).into());
    put(&mut entry, "service_implementing_agency", &message.recipient_org_id);
    entry.insert(
        "service_response_timeframe".into(),
        native_enum(codes, "service_response_timeframe", priority)?.into(),
    );
    Ok(entry)
}
