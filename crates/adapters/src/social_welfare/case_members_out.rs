//! The case-level members every kind delivered as a Primero case shares
//! (the child, concerns, risk, caregiver, location, documents, a service
//! entry), written once for referrals ([`super::case_out`]), transfers
//! ([`super::transfer`]) and alerts ([`super::family_tracing`]).

use referral_hub_domain::wire::{
    Attachment, Caregiver, CaregiverExclusion, ChildDetails, Location, Message, RiskLevel, ServiceReferral,
};
use serde_json::{Map, Value, json};

use super::primero_out::{Notes, Subform, entry_id, put};
use crate::native_json::native_enum;
use crate::{CodeMap, Unmapped};

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
    /// The members of a referral.
    pub(super) fn of_referral(r: &'a ServiceReferral) -> Self {
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
