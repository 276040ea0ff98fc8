//! Separated-child alerts <-> Primero cases with tracing fields, both ways.
//!
//! The hub routes every alert to a social welfare lead agency, so a Primero
//! instance receives it as a case (the shape of [`super::case_out`]) with
//! `hub_alert: true`, a `protection_status` and a family tracing service
//! entry. A Primero instance raises an alert by posting such a case to
//! `/primero/v2/cases` without `hub_message_id`: the alert names no
//! recipient, the hub routes it. Primero's `consent_for_services` and
//! `disclosure_other_orgs` are not checked here, unlike referrals: an
//! unaccompanied child's alert may rest on a best-interests decision, which
//! the hub judges on its consent records.
//!
//! | alert field | Primero element |
//! |---|---|
//! | (marker) | `hub_alert: true` |
//! | `request_id` | `hub_alert_id` (the sender's idempotency key for the alert; required) |
//! | `separation_status` (table `protection_status`) | `protection_status` |
//! | `child` | as in referrals (`name_first`, `name_last`, `name`, `sex`, `age` + `estimated`, `date_of_birth`, `language`, …) |
//! | `nicknames` | `name_nickname` (the first, for Primero's own field) and `hub_name_nicknames` (all; read first) |
//! | `identifying_features` | `hub_identifying_features` |
//! | `found_at.area_code`, `.description` | `hub_found_location`, `hub_found_address` (both present when given) |
//! | `found_on`, `found_by` | `hub_found_on`, `hub_found_by` |
//! | `current_carer` | `name_caregiver`, `relationship_caregiver`, `telephone_caregiver`, `address_caregiver` (all present when given) |
//! | `siblings_with_child[]` | `family_details_section[]` with `relation_child_lives_with: true` (a separated child lives with no other relative): `relation_name`, `relation_age` (`relation` is `sibling`) |
//! | `family_members[]` | the other `family_details_section[]` entries: `relation`, `relation_name`, `relation_address_current` (last known), `relation_telephone` |
//! | `separation.date`, `.place`, `.reason` | `separation_date`, `separation_place`, `separation_cause` (all present when given) |
//! | `urgent_medical_needs` | `hub_urgent_medical_needs` |
//! | `risk_level`, `child_wishes` | `risk_level`, `hub_child_wishes` |
//! | `tracing_consent` (table `consent_for_tracing`) | `consent_for_tracing` (`"true"`, `"false"`, `"not_yet_asked"`) |
//!
//! Outbound only: `services_section[0]`, a `family_tracing` entry for the
//! receiver with the `1_hour` time frame (an alert is acknowledged within the
//! hour, like a high-risk referral); inbound ignores it.

use referral_hub_domain::wire::{
    Carer, FamilyMember, Location, Message, Priority, SeparatedChildAlert, Separation, SeparationStatus, Sibling,
    SubmitMessageRequest, TracingConsent, submit_message_request::Payload,
};
use serde_json::{Map, Value, json};

use super::case_in::{child_details, child_ref, risk_level};
use super::case_out::{self, put};
use super::native_json::{Reader, native_enum};
use crate::{CodeMap, Inbound, Unmapped};

/// The members of a current carer, in `Carer` field order.
const CARER: [&str; 4] = ["name_caregiver", "relationship_caregiver", "telephone_caregiver", "address_caregiver"];
/// The members of a separation, in `Separation` field order.
const SEPARATION: [&str; 3] = ["separation_date", "separation_place", "separation_cause"];

/// Writes `alert` into `case` (which holds the hub's envelope members).
pub(super) fn alert_out(
    codes: &CodeMap,
    case: &mut Map<String, Value>,
    message: &Message,
    alert: &SeparatedChildAlert,
) -> Result<(), Unmapped> {
    case.insert("hub_alert".into(), true.into());
    case.insert("hub_alert_id".into(), case_out::echo_id(&message.id, "alert").into());
    let status = SeparationStatus::try_from(alert.separation_status).ok().map(|s| s.as_str_name());
    case.insert("protection_status".into(), native_enum(codes, "protection_status", status)?.into());
    if let Some(child) = &alert.child {
        case_out::child_details(codes, case, child)?;
    }
    if let Some(first) = alert.nicknames.first() {
        case.insert("name_nickname".into(), first.clone().into());
        case.insert("hub_name_nicknames".into(), alert.nicknames.clone().into());
    }
    put(case, "hub_identifying_features", &alert.identifying_features);
    if let Some(found) = &alert.found_at {
        // Both members, even empty: their presence says a place was given.
        case.insert("hub_found_location".into(), found.area_code.clone().into());
        case.insert("hub_found_address".into(), found.description.clone().into());
    }
    put(case, "hub_found_on", &alert.found_on);
    put(case, "hub_found_by", &alert.found_by);
    if let Some(c) = &alert.current_carer {
        for (member, text) in CARER.iter().zip([&c.name, &c.relationship, &c.phone, &c.address]) {
            case.insert((*member).into(), text.clone().into());
        }
    }
    if let Some(s) = &alert.separation {
        for (member, text) in SEPARATION.iter().zip([&s.date, &s.place, &s.reason]) {
            case.insert((*member).into(), text.clone().into());
        }
    }
    let family = family_out(alert);
    if !family.is_empty() {
        case.insert("family_details_section".into(), family.into());
    }
    put(case, "hub_urgent_medical_needs", &alert.urgent_medical_needs);
    case_out::risk_level(codes, case, alert.risk_level)?;
    put(case, "hub_child_wishes", &alert.child_wishes);
    let consent = TracingConsent::try_from(alert.tracing_consent).ok().map(|c| c.as_str_name());
    case.insert("consent_for_tracing".into(), native_enum(codes, "consent_for_tracing", consent)?.into());
    let urgency = Some(Priority::Emergency.as_str_name());
    let tracing = case_out::service_entry(codes, message, 0, "family_tracing", urgency)?;
    case.insert("services_section".into(), json!([tracing]));
    Ok(())
}

/// Siblings first, then the family members to trace.
fn family_out(alert: &SeparatedChildAlert) -> Vec<Value> {
    let siblings = alert.siblings_with_child.iter().map(|s| {
        let mut entry = Map::new();
        entry.insert("relation".into(), "sibling".into());
        entry.insert("relation_child_lives_with".into(), true.into());
        put(&mut entry, "relation_name", &s.name);
        if let Some(age) = s.age_years {
            entry.insert("relation_age".into(), age.into());
        }
        Value::Object(entry)
    });
    let members = alert.family_members.iter().map(|m| {
        let mut entry = Map::new();
        put(&mut entry, "relation", &m.relationship);
        put(&mut entry, "relation_name", &m.name);
        put(&mut entry, "relation_address_current", &m.last_known_location);
        put(&mut entry, "relation_telephone", &m.phone);
        Value::Object(entry)
    });
    siblings.chain(members).collect()
}

/// A case flagged `hub_alert` -> an alert with no recipient.
pub(super) fn alert_in(r: &mut Reader<'_>, case: &Map<String, Value>) -> Inbound {
    let child = child_ref(r, case);
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
    let separation = SEPARATION.iter().any(|m| case.contains_key(*m)).then(|| {
        let [date, place, reason] = SEPARATION.map(|m| r.string(case, m, "", false));
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
    ("separated_child_alert.separation.date", "separation_date"),
    ("separated_child_alert.separation.place", "separation_place"),
    ("separated_child_alert.separation.reason", "separation_cause"),
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
