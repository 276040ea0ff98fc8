//! A message delivered to a Primero instance, as the same case shape the
//! instance posts ([`super::case_in`] reads it back), so that a Primero
//! instance or an OpenFn job in front of one ingests it like any case with a
//! service referral (transfers and alerts add their members to the same
//! shape: [`super::transfer`], [`super::tracing`]). Empty fields are left out; `hub_*` members carry what
//! Primero has no field for (the hub message id above all, which the
//! instance quotes in its transitions).

use referral_hub_domain::wire::{
    Attachment, Caregiver, CaregiverExclusion, ChildDetails, Location, Message, Priority, RiskLevel, ServiceReferral,
    message::Payload,
};
use serde_json::{Map, Value, json};

use super::native_json::{native, native_enum, rfc3339};
use crate::{CodeMap, Unmapped};

/// The case document of `message`: a referral as a case with service
/// entries, a transfer or an alert in their own modules' shapes.
pub(super) fn case(codes: &CodeMap, message: &Message) -> Result<Value, Unmapped> {
    let mut case = envelope(message)?;
    match &message.payload {
        Some(Payload::Referral(referral)) => {
            if let Some(child) = &referral.child {
                child_details(codes, &mut case, child)?;
            }
            shared(codes, &mut case, &Shared::of_referral(referral))?;
            case.insert("services_section".into(), services(codes, message, referral)?.into());
        }
        Some(Payload::CaseTransfer(transfer)) => super::transfer::transfer_out(codes, &mut case, message, transfer)?,
        Some(Payload::SeparatedChildAlert(alert)) => super::tracing::alert_out(codes, &mut case, message, alert)?,
        None => return Err(Unmapped { table: "message_kind".into(), code: message.kind().as_str_name().into() }),
    }
    Ok(json!({ "data": case }))
}

/// The hub's own members of every delivered case: the message id (which the
/// instance quotes in its transitions and which marks a case posted back as
/// the hub's own, see [`super::case_in`]), sender, deadline, child reference.
fn envelope(message: &Message) -> Result<Map<String, Value>, Unmapped> {
    let mut case = Map::new();
    put(&mut case, "hub_message_id", &message.id);
    put(&mut case, "hub_sender_org_id", &message.sender_org_id);
    if let Some(at) = &message.respond_by {
        case.insert("hub_respond_by".into(), rfc3339(at)?.into());
    }
    if let Some(child) = &message.child {
        put(&mut case, "case_id", &child.local_id);
        put(&mut case, "hub_link_key", &child.link_key);
    }
    Ok(case)
}

/// Sets `key` to `value` unless it is empty (Primero leaves blank fields out).
pub(super) fn put(case: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        case.insert(key.into(), value.into());
    }
}

/// The child's details as Primero's case members.
pub(super) fn child_details(
    codes: &CodeMap,
    case: &mut Map<String, Value>,
    child: &ChildDetails,
) -> Result<(), Unmapped> {
    put(case, "name_first", &child.given_name);
    put(case, "name_last", &child.family_name);
    let full: Vec<&str> =
        [child.given_name.as_str(), child.family_name.as_str()].into_iter().filter(|s| !s.is_empty()).collect();
    put(case, "name", &full.join(" "));
    if !child.sex.is_empty() {
        put(case, "sex", &native(codes, "sex", &child.sex)?);
    }
    put(case, "date_of_birth", &child.date_of_birth);
    if let Some(age) = child.estimated_age_years {
        case.insert("age".into(), age.into());
        case.insert("estimated".into(), true.into());
    }
    if !child.languages.is_empty() {
        case.insert("language".into(), child.languages.clone().into());
    }
    put(case, "disability_details", &child.disability);
    if !child.displacement_status.is_empty() {
        put(case, "displacement_status", &native(codes, "displacement_status", &child.displacement_status)?);
    }
    if !child.nationality.is_empty() {
        case.insert("nationality".into(), json!([child.nationality]));
    }
    Ok(())
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

/// The members of [`Shared`] as Primero case members.
pub(super) fn shared(codes: &CodeMap, case: &mut Map<String, Value>, referral: &Shared<'_>) -> Result<(), Unmapped> {
    risk_level(codes, case, referral.risk_level)?;
    let concerns = referral
        .protection_concerns
        .iter()
        .map(|c| native(codes, "protection_concerns", c))
        .collect::<Result<Vec<_>, _>>()?;
    if !concerns.is_empty() {
        case.insert("protection_concerns".into(), concerns.into());
    }
    put(case, "safety_concerns", referral.safety_concerns);
    case.insert("child_informed_of_referral".into(), referral.child_informed.into());
    put(case, "child_views", referral.child_views);
    if let Some(location) = referral.current_location {
        // Both members, even empty: their presence says a location was given.
        case.insert("location_current".into(), location.area_code.clone().into());
        case.insert("address_current".into(), location.description.clone().into());
    }
    if let Some(caregiver) = referral.caregiver {
        let mut entry = Map::new();
        entry.insert("relation_is_caregiver".into(), true.into());
        put(&mut entry, "relation", &caregiver.relationship);
        put(&mut entry, "relation_name", &caregiver.name);
        put(&mut entry, "relation_telephone", &caregiver.phone);
        put(&mut entry, "relation_address_current", &caregiver.address);
        if caregiver.exclusion != 0 {
            let exclusion = CaregiverExclusion::try_from(caregiver.exclusion).ok().map(|e| e.as_str_name());
            entry.insert(
                "relation_caregiver_exclusion".into(),
                native_enum(codes, "caregiver_exclusion", exclusion)?.into(),
            );
        }
        case.insert("family_details_section".into(), json!([entry]));
    }
    if !referral.attachments.is_empty() {
        let links: Vec<Value> = referral
            .attachments
            .iter()
            .map(|a| {
                let mut link = Map::new();
                put(&mut link, "url", &a.uri);
                put(&mut link, "content_type", &a.media_type);
                link.insert("file_size".into(), a.size_bytes.into());
                put(&mut link, "description", &a.description);
                Value::Object(link)
            })
            .collect();
        case.insert("document_links".into(), links.into());
    }
    Ok(())
}

/// One services_section entry per requested service, all addressed to the
/// receiver; the reason and notes go on the first entry only, so that
/// reading the case back joins them into the same text.
fn services(codes: &CodeMap, message: &Message, referral: &ServiceReferral) -> Result<Vec<Value>, Unmapped> {
    let priority = Priority::try_from(referral.priority).ok().map(|p| p.as_str_name());
    let mut entries = Vec::new();
    for (i, service) in referral.requested_services.iter().enumerate() {
        let mut entry = service_entry(codes, message, i, service, priority)?;
        if i == 0 {
            put(&mut entry, "service_referral_notes", &referral.reason);
            put(&mut entry, "service_notes", &referral.notes);
        }
        entries.push(Value::Object(entry));
    }
    Ok(entries)
}

/// Service entry `i` of a delivered message, addressed to its receiver. Its
/// `unique_id` (`<hub message id>:<i>`) is what marks it as the hub's own
/// when the case is posted back ([`super::case_in`]).
pub(super) fn service_entry(
    codes: &CodeMap,
    message: &Message,
    i: usize,
    service: &str,
    priority: Option<&str>,
) -> Result<Map<String, Value>, Unmapped> {
    let mut entry = Map::new();
    entry.insert("unique_id".into(), echo_id(&message.id, &i.to_string()).into());
    entry.insert("service_type".into(), native(codes, "service_type", service)?.into());
    put(&mut entry, "service_implementing_agency", &message.recipient_org_id);
    entry.insert(
        "service_response_timeframe".into(),
        native_enum(codes, "service_response_timeframe", priority)?.into(),
    );
    Ok(entry)
}

/// The id the hub gives an element it writes into a delivered case
/// (`<hub message id>:<suffix>`).
pub(super) fn echo_id(message_id: &str, suffix: &str) -> String {
    format!("{message_id}:{suffix}")
}
