//! Separated-child alerts <-> Primero cases with tracing fields, both ways.
//!
//! In: a Primero instance (or an integration in front of one) raises an
//! alert by posting a case flagged `"hub_alert": true` (a hub addition:
//! Primero has no alert form) to the cases path, without `hub_message_id`:
//! the alert names no recipient, the hub routes it. Primero's
//! `consent_for_services` and `disclosure_other_orgs` are not checked here,
//! unlike referrals: an unaccompanied child's alert may rest on a
//! best-interests decision, which the hub judges on its consent records.
//!
//! | alert field | Primero element read (in) | Primero element written (out) |
//! |---|---|---|
//! | (marker) | `hub_alert: true` | (none: the note "Separated child alert") |
//! | `request_id` | `hub_alert_id` (required) | (none) |
//! | `separation_status` | `protection_status` | `protection_status` (`unknown`: a note) |
//! | `child` | as in referrals | as in referrals |
//! | `nicknames` | `hub_name_nicknames`, else `name_nickname` | `name_nickname` (the first), a note (all) |
//! | `identifying_features` | `hub_identifying_features` | a note |
//! | `found_at`, `found_on`, `found_by` | `hub_found_location`, `hub_found_address`, `hub_found_on`, `hub_found_by` | notes |
//! | `current_carer` | `name_caregiver`, `relationship_caregiver`, `telephone_caregiver`, `address_caregiver` | `care_arrangements_section[0]`: `name_caregiver`, `relationship_caregiver` (lookup-family-relationship); phone and address: notes |
//! | `siblings_with_child[]` | `family_details_section[]` with `relation_child_lives_with: true`: `relation_name`, `relation_age` | `family_details_section[]`: `relation_name`, `relation_age`, `relation_other_family: "sibling with the child"` |
//! | `family_members[]` | the other `family_details_section[]` entries | `family_details_section[]`: `relation` (lookup), `relation_name`, `relation_address_current`, `relation_telephone` |
//! | `separation.date`, `.place`, `.reason` | `date_of_separation` (or `separation_date`), `location_separation` (or `separation_place`), `separation_cause_other` (or `separation_cause`) | `date_of_separation`, `location_separation`, `separation_cause_other` (the reason is text; Primero's `separation_cause` is a lookup) |
//! | `urgent_medical_needs`, `child_wishes` | `hub_urgent_medical_needs`, `hub_child_wishes` | notes |
//! | `risk_level` | `risk_level` | `risk_level` |
//! | `tracing_consent` | `consent_for_tracing` (`"true"`, `"false"`, `"not_yet_asked"`) | `consent_for_tracing` (`not_yet_asked`: a note) |
//!
//! Out only: `services_section[0]`, a `family_tracing` entry for the
//! receiver with the `1_hour` time frame (an alert is acknowledged within
//! the hour, like a high-risk referral).

use referral_hub_domain::wire::{
    Carer, FamilyMember, Location, Message, Priority, SeparatedChildAlert, Separation, SeparationStatus, Sibling,
    SubmitMessageRequest, TracingConsent, submit_message_request::Payload,
};
use serde_json::{Map, Value, json};

use super::case_members_in::{child_details, child_ref, risk_level};
use super::case_members_out;
use super::primero_out::{Notes, Subform, entry_id, put};
use crate::native_json::Reader;
use crate::{CodeMap, Inbound, Unmapped};

/// The members of a current carer read, in `Carer` field order.
const CARER: [&str; 4] = ["name_caregiver", "relationship_caregiver", "telephone_caregiver", "address_caregiver"];
/// The members of a separation read, Primero's name first, in `Separation` field order.
const SEPARATION: [[&str; 2]; 3] = [
    ["date_of_separation", "separation_date"],
    ["location_separation", "separation_place"],
    ["separation_cause_other", "separation_cause"],
];

/// Writes `alert` into `case` (which holds the envelope members).
pub(super) fn alert_out(
    codes: &CodeMap,
    case: &mut Map<String, Value>,
    notes: &mut Notes,
    message: &Message,
    alert: &SeparatedChildAlert,
) -> Result<(), Unmapped> {
    notes.add("Separated child alert", "The hub routed this alert to you for family tracing.");
    let status = SeparationStatus::try_from(alert.separation_status).unwrap_or_default().as_str_name();
    if let Some(native) = notes.code(codes, "protection_status", "protection_status", status) {
        case.insert("protection_status".into(), native.into());
    }
    if let Some(child) = &alert.child {
        case_members_out::child_details(codes, case, notes, child);
    }
    if let Some(first) = alert.nicknames.first() {
        case.insert("name_nickname".into(), first.clone().into());
        notes.add("Nicknames", &alert.nicknames.join(", "));
    }
    notes.add("Identifying features", &alert.identifying_features);
    if let Some(found) = &alert.found_at {
        notes.add("Found at", format!("{} {}", found.area_code, found.description).trim());
    }
    notes.add("Found on", &alert.found_on);
    notes.add("Found by", &alert.found_by);
    if let Some(c) = &alert.current_carer {
        let mut entry = Map::new();
        entry.insert("unique_id".into(), entry_id(&message.id, Subform::Care, 0).into());
        put(&mut entry, "name_caregiver", &c.name);
        if !c.relationship.is_empty() {
            let field = "care_arrangements_section[0].relationship_caregiver";
            if let Some(native) = notes.code(codes, "relation", field, &c.relationship) {
                entry.insert("relationship_caregiver".into(), native.into());
            }
        }
        case.insert("care_arrangements_section".into(), json!([entry]));
        notes.add("Current carer's phone", &c.phone);
        notes.add("Current carer's address", &c.address);
    }
    if let Some(s) = &alert.separation {
        put(case, "date_of_separation", &s.date);
        put(case, "location_separation", &s.place);
        put(case, "separation_cause_other", &s.reason);
    }
    let family = family_out(codes, notes, message, alert);
    if !family.is_empty() {
        case.insert("family_details_section".into(), family.into());
    }
    notes.add("Urgent medical needs", &alert.urgent_medical_needs);
    case_members_out::risk_level(codes, case, alert.risk_level)?;
    notes.add("Child's wishes", &alert.child_wishes);
    let consent = TracingConsent::try_from(alert.tracing_consent).unwrap_or_default().as_str_name();
    if let Some(native) = notes.code(codes, "consent_for_tracing", "consent_for_tracing", consent) {
        case.insert("consent_for_tracing".into(), native.into());
    }
    let urgency = Some(Priority::Emergency.as_str_name());
    let tracing = case_members_out::service_entry(codes, notes, message, 0, "family_tracing", urgency)?;
    case.insert("services_section".into(), json!([tracing]));
    Ok(())
}

/// Siblings first, then the family members to trace.
fn family_out(codes: &CodeMap, notes: &mut Notes, message: &Message, alert: &SeparatedChildAlert) -> Vec<Value> {
    let mut entries = Vec::new();
    for s in &alert.siblings_with_child {
        let mut entry = Map::new();
        entry.insert("unique_id".into(), entry_id(&message.id, Subform::Family, entries.len()).into());
        entry.insert("relation_other_family".into(), "sibling with the child".into());
        put(&mut entry, "relation_name", &s.name);
        if let Some(age) = s.age_years {
            entry.insert("relation_age".into(), age.into());
        }
        entries.push(Value::Object(entry));
    }
    for m in &alert.family_members {
        let n = entries.len();
        let mut entry = Map::new();
        entry.insert("unique_id".into(), entry_id(&message.id, Subform::Family, n).into());
        if !m.relationship.is_empty() {
            let field = format!("family_details_section[{n}].relation");
            if let Some(native) = notes.code(codes, "relation", &field, &m.relationship) {
                entry.insert("relation".into(), native.into());
            }
        }
        put(&mut entry, "relation_name", &m.name);
        put(&mut entry, "relation_address_current", &m.last_known_location);
        put(&mut entry, "relation_telephone", &m.phone);
        entries.push(Value::Object(entry));
    }
    entries
}

/// A case flagged `hub_alert` -> an alert with no recipient.
pub(super) fn alert_in(r: &mut Reader<'_>, case: &Map<String, Value>) -> Inbound {
    let child = child_ref(r, case, None);
    let mut nicknames = r.strings(case, "hub_name_nicknames", "");
    if nicknames.is_empty() {
        // A Primero instance only has its single nickname field.
        nicknames.extend(Some(r.string(case, "name_nickname", "", false)).filter(|n| !n.is_empty()));
    }
    let found_at =
        (case.contains_key("hub_found_location") || case.contains_key("hub_found_address")).then(|| Location {
            area_code: r.string(case, "hub_found_location", "", false),
            description: r.string(case, "hub_found_address", "", false),
        });
    let current_carer = CARER.iter().any(|m| case.contains_key(*m)).then(|| {
        let [name, relationship, phone, address] = CARER.map(|m| r.string(case, m, "", false));
        Carer { name, relationship, phone, address }
    });
    let separation = SEPARATION.iter().flatten().any(|m| case.contains_key(*m)).then(|| {
        let [date, place, reason] = SEPARATION.map(|[primero, hub]| {
            let member = if case.contains_key(primero) { primero } else { hub };
            r.string(case, member, "", false)
        });
        Separation { date, place, reason }
    });
    let (siblings_with_child, family_members) = family_in(r, case);
    let alert = SeparatedChildAlert {
        separation_status: r.enum_member("protection_status", case, "protection_status", "", true, |n| {
            SeparationStatus::from_str_name(n).map(|v| v as i32)
        }),
        child: Some(child_details(r, case)),
        nicknames,
        identifying_features: r.string(case, "hub_identifying_features", "", false),
        found_at,
        found_on: r.string(case, "hub_found_on", "", false),
        found_by: r.string(case, "hub_found_by", "", false),
        current_carer,
        siblings_with_child,
        separation,
        family_members,
        urgent_medical_needs: r.string(case, "hub_urgent_medical_needs", "", false),
        risk_level: risk_level(r, case),
        child_wishes: r.string(case, "hub_child_wishes", "", false),
        tracing_consent: r.enum_member("consent_for_tracing", case, "consent_for_tracing", "", true, |n| {
            TracingConsent::from_str_name(n).map(|v| v as i32)
        }),
    };
    Inbound::Submit(SubmitMessageRequest {
        request_id: r.string(case, "hub_alert_id", "", true),
        // No recipient: the hub routes the alert to the area's lead agency.
        recipient_org_id: String::new(),
        child: Some(child),
        payload: Some(Payload::SeparatedChildAlert(alert)),
        ..SubmitMessageRequest::default()
    })
}

/// Siblings with the child (`relation_child_lives_with: true`) and family
/// members to trace (every other entry).
fn family_in(r: &mut Reader<'_>, case: &Map<String, Value>) -> (Vec<Sibling>, Vec<FamilyMember>) {
    let (mut siblings, mut members) = (Vec::new(), Vec::new());
    for (at, entry) in r.array(case, "family_details_section", "") {
        let Some(entry) = r.object(entry, &at) else { continue };
        if r.boolean(entry, "relation_child_lives_with", &at) == Some(true) {
            siblings.push(Sibling {
                name: r.string(entry, "relation_name", &at, false),
                age_years: r.unsigned32(entry, "relation_age", &at),
            });
        } else {
            members.push(FamilyMember {
                name: r.string(entry, "relation_name", &at, false),
                relationship: r.string(entry, "relation", &at, false),
                last_known_location: r.string(entry, "relation_address_current", &at, false),
                phone: r.string(entry, "relation_telephone", &at, false),
            });
        }
    }
    (siblings, members)
}

/// Where each alert field the hub may refuse comes from in a case (the
/// child's details are a referral's: [`super::CASE_ELEMENTS`]). The alert's
/// `request_id` (`hub_alert_id`) is left out: on the cases path the hub's
/// envelope field names a referral's entry id.
pub(super) const ELEMENTS: &[(&str, &str)] = &[
    ("separated_child_alert.separation_status", "protection_status"),
    ("separated_child_alert.nicknames", "hub_name_nicknames"),
    ("separated_child_alert.identifying_features", "hub_identifying_features"),
    ("separated_child_alert.found_at.area_code", "hub_found_location"),
    ("separated_child_alert.found_at.description", "hub_found_address"),
    ("separated_child_alert.found_on", "hub_found_on"),
    ("separated_child_alert.found_by", "hub_found_by"),
    ("separated_child_alert.current_carer.name", "name_caregiver"),
    ("separated_child_alert.current_carer.relationship", "relationship_caregiver"),
    ("separated_child_alert.current_carer.phone", "telephone_caregiver"),
    ("separated_child_alert.current_carer.address", "address_caregiver"),
    ("separated_child_alert.siblings_with_child", "family_details_section"),
    ("separated_child_alert.siblings_with_child.name", "family_details_section[].relation_name"),
    ("separated_child_alert.siblings_with_child.age_years", "family_details_section[].relation_age"),
    ("separated_child_alert.separation.date", "date_of_separation"),
    ("separated_child_alert.separation.place", "location_separation"),
    ("separated_child_alert.separation.reason", "separation_cause_other"),
    ("separated_child_alert.family_members", "family_details_section"),
    ("separated_child_alert.family_members.name", "family_details_section[].relation_name"),
    ("separated_child_alert.family_members.relationship", "family_details_section[].relation"),
    ("separated_child_alert.family_members.last_known_location", "family_details_section[].relation_address_current"),
    ("separated_child_alert.family_members.phone", "family_details_section[].relation_telephone"),
    ("separated_child_alert.urgent_medical_needs", "hub_urgent_medical_needs"),
    ("separated_child_alert.risk_level", "risk_level"),
    ("separated_child_alert.child_wishes", "hub_child_wishes"),
    ("separated_child_alert.tracing_consent", "consent_for_tracing"),
];
