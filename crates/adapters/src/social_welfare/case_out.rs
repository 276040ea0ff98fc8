//! A referral delivered to a Primero instance, as the same case shape the
//! instance posts ([`super::case_in`] reads it back), so that a Primero
//! instance or an OpenFn job in front of one ingests it like any case with a
//! service referral. Empty fields are left out; `hub_*` members carry what
//! Primero has no field for (the hub message id above all, which the
//! instance quotes in its transitions).

use referral_hub_domain::wire::{
    CaregiverExclusion, ChildDetails, Message, Priority, RiskLevel, ServiceReferral, message::Payload,
};
use serde_json::{Map, Value, json};

use super::native_json::{native, native_enum, rfc3339};
use crate::{CodeMap, Unmapped};

/// The case document of `message`; only referrals have this shape.
pub(super) fn case(codes: &CodeMap, message: &Message) -> Result<Value, Unmapped> {
    let Some(Payload::Referral(referral)) = &message.payload else {
        return Err(Unmapped { table: "message_kind".into(), code: message.kind().as_str_name().into() });
    };
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
    if let Some(child) = &referral.child {
        child_details(codes, &mut case, child)?;
    }
    referral_fields(codes, &mut case, referral)?;
    case.insert("services_section".into(), services(codes, message, referral)?.into());
    Ok(json!({ "data": case }))
}

fn put(case: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        case.insert(key.into(), value.into());
    }
}

fn child_details(codes: &CodeMap, case: &mut Map<String, Value>, child: &ChildDetails) -> Result<(), Unmapped> {
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

fn referral_fields(codes: &CodeMap, case: &mut Map<String, Value>, referral: &ServiceReferral) -> Result<(), Unmapped> {
    let risk = RiskLevel::try_from(referral.risk_level).ok().map(|r| r.as_str_name());
    case.insert("risk_level".into(), native_enum(codes, "risk_level", risk)?.into());
    let concerns = referral
        .protection_concerns
        .iter()
        .map(|c| native(codes, "protection_concerns", c))
        .collect::<Result<Vec<_>, _>>()?;
    if !concerns.is_empty() {
        case.insert("protection_concerns".into(), concerns.into());
    }
    put(case, "safety_concerns", &referral.safety_concerns);
    case.insert("child_informed_of_referral".into(), referral.child_informed.into());
    put(case, "child_views", &referral.child_views);
    if let Some(location) = &referral.current_location {
        // Both members, even empty: their presence says a location was given.
        case.insert("location_current".into(), location.area_code.clone().into());
        case.insert("address_current".into(), location.description.clone().into());
    }
    if let Some(caregiver) = &referral.caregiver {
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
    let timeframe = native_enum(codes, "service_response_timeframe", priority)?;
    let mut entries = Vec::new();
    for (i, service) in referral.requested_services.iter().enumerate() {
        let mut entry = Map::new();
        entry.insert("unique_id".into(), format!("{}:{i}", message.id).into());
        entry.insert("service_type".into(), native(codes, "service_type", service)?.into());
        put(&mut entry, "service_implementing_agency", &message.recipient_org_id);
        entry.insert("service_response_timeframe".into(), timeframe.clone().into());
        if i == 0 {
            put(&mut entry, "service_referral_notes", &referral.reason);
            put(&mut entry, "service_notes", &referral.notes);
        }
        entries.push(Value::Object(entry));
    }
    Ok(entries)
}
