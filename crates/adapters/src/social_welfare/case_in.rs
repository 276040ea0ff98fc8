//! A Primero case posted to the hub -> one referral per receiving agency.
//!
//! Primero keeps referrals as `services_section` entries of the case; an
//! entry with a `service_implementing_agency` (a hub organisation id) asks
//! that agency for a service. Entries for the same agency become one referral
//! asking for all their services, since the hub's referral carries a list of
//! services; entries without an agency are the case's own services, not
//! referrals, and are ignored. Case-level fields (child, concerns, risk) are
//! shared by every referral of the case, and read the same way for transfers
//! ([`super::transfer`]). A case flagged `hub_alert` is an alert instead
//! ([`super::tracing`]); the loop rule is at [`groups`].

use referral_hub_domain::wire::{
    Attachment, Caregiver, CaregiverExclusion, ChildDetails, ChildRef, Location, Priority, RiskLevel, ServiceReferral,
    SubmitMessageRequest, submit_message_request::Payload,
};
use serde_json::{Map, Value};

use super::native_json::{Naming, Reader, parse};
use crate::{CodeMap, Inbound, NativeViolation};

/// The services asked of one agency.
struct Group {
    agency: String,
    request_id: String,
    services: Vec<String>,
    reasons: Vec<String>,
    notes: Vec<String>,
    priority: i32,
}

/// The requests of a case document: one alert when the case is flagged
/// `hub_alert` (and is not the hub's own delivery), else the referrals, in
/// the order their agencies first appear.
pub(super) fn requests(codes: &CodeMap, document: &[u8]) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
    let value = parse(document, "body")?;
    let mut r = Reader::new(Naming::Dotted, codes);
    let Some(case) = r.object(&value, "body").and_then(|root| r.member_object(root, "data", "")) else {
        return r.finish(Vec::new());
    };
    let echo = r.string(case, "hub_message_id", "", false);
    // A delivered alert posted back is the hub's own alert, not a new one:
    // honouring its flag would send it round the lead agencies for ever.
    if echo.is_empty() && r.boolean(case, "hub_alert", "") == Some(true) {
        let alert = super::tracing::alert_in(&mut r, case);
        return r.finish(vec![alert]);
    }
    refuse_withheld_consent(&mut r, case);
    let child = child_ref(&mut r, case);
    let shared = shared(&mut r, case);
    let groups = groups(&mut r, case, &echo);
    let requests = groups
        .into_iter()
        .map(|g| {
            Inbound::Submit(SubmitMessageRequest {
                request_id: g.request_id,
                recipient_org_id: g.agency,
                child: Some(child.clone()),
                // The Primero flags are not a consent record (no consenters, age,
                // expiry, method): the hub decides on the records it holds.
                consent: None,
                payload: Some(Payload::Referral(ServiceReferral {
                    requested_services: g.services,
                    reason: g.reasons.join("\n\n"),
                    priority: g.priority,
                    notes: g.notes.join("\n\n"),
                    ..shared.clone()
                })),
                ..SubmitMessageRequest::default()
            })
        })
        .collect();
    r.finish(requests)
}

/// The child reference of a case.
pub(super) fn child_ref(r: &mut Reader<'_>, case: &Map<String, Value>) -> ChildRef {
    ChildRef {
        local_id: r.string(case, "case_id", "", true),
        link_key: r.string(case, "hub_link_key", "", false),
        national_id: r.string(case, "national_id_no", "", false),
    }
}

/// The case-level members a referral and a transfer share, as a referral
/// without its service fields.
pub(super) fn shared(r: &mut Reader<'_>, case: &Map<String, Value>) -> ServiceReferral {
    ServiceReferral {
        protection_concerns: r.codes("protection_concerns", case, "protection_concerns", ""),
        risk_level: risk_level(r, case),
        child: Some(child_details(r, case)),
        caregiver: caregiver(r, case),
        current_location: location(r, case),
        safety_concerns: r.string(case, "safety_concerns", "", false),
        child_informed: r.boolean(case, "child_informed_of_referral", "").unwrap_or(false),
        child_views: r.string(case, "child_views", "", false),
        attachments: attachments(r, case),
        ..ServiceReferral::default()
    }
}

/// The required `risk_level` of a case.
pub(super) fn risk_level(r: &mut Reader<'_>, case: &Map<String, Value>) -> i32 {
    r.enum_member("risk_level", case, "risk_level", "", true, |n| RiskLevel::from_str_name(n).map(|v| v as i32))
}

/// The sender's own consent flags saying no stop the referral here.
pub(super) fn refuse_withheld_consent(r: &mut Reader<'_>, case: &Map<String, Value>) {
    if r.boolean(case, "consent_for_services", "") == Some(false) {
        r.fail("consent_for_services", "the case records no consent to services: it cannot be referred");
    }
    if r.boolean(case, "disclosure_other_orgs", "") == Some(false) {
        r.fail("disclosure_other_orgs", "the case records no consent to disclosure to other organisations");
    }
}

/// The child's details from Primero's case members.
pub(super) fn child_details(r: &mut Reader<'_>, case: &Map<String, Value>) -> ChildDetails {
    let mut given_name = r.string(case, "name_first", "", false);
    let family_name = r.string(case, "name_last", "", false);
    let full_name = r.string(case, "name", "", false);
    if given_name.is_empty() && family_name.is_empty() {
        // A case with only Primero's combined name still names the child.
        given_name = full_name;
    }
    let age = r.unsigned32(case, "age", "");
    // Primero computes `age` from the date of birth; it is an estimate only when flagged so.
    let estimated = r.boolean(case, "estimated", "") == Some(true);
    let nationalities = r.strings(case, "nationality", "");
    if nationalities.len() > 1 {
        r.fail("nationality", "at most one nationality");
    }
    ChildDetails {
        given_name,
        family_name,
        sex: r.code_member("sex", case, "sex", "", true),
        date_of_birth: r.string(case, "date_of_birth", "", false),
        estimated_age_years: age.filter(|_| estimated),
        languages: r.strings(case, "language", ""),
        disability: r.string(case, "disability_details", "", false),
        displacement_status: r.code_member("displacement_status", case, "displacement_status", "", false),
        nationality: nationalities.into_iter().next().unwrap_or_default(),
    }
}

/// The family member flagged as the caregiver, if any.
fn caregiver(r: &mut Reader<'_>, case: &Map<String, Value>) -> Option<Caregiver> {
    let mut found = None;
    for (at, entry) in r.array(case, "family_details_section", "") {
        let Some(entry) = r.object(entry, &at) else { continue };
        if r.boolean(entry, "relation_is_caregiver", &at) != Some(true) {
            continue;
        }
        if found.is_some() {
            r.fail(&at, "only one family member may be the caregiver");
            continue;
        }
        found = Some(Caregiver {
            relationship: r.string(entry, "relation", &at, false),
            name: r.string(entry, "relation_name", &at, false),
            phone: r.string(entry, "relation_telephone", &at, false),
            address: r.string(entry, "relation_address_current", &at, false),
            exclusion: r.enum_member("caregiver_exclusion", entry, "relation_caregiver_exclusion", &at, false, |n| {
                CaregiverExclusion::from_str_name(n).map(|v| v as i32)
            }),
        });
    }
    found
}

fn location(r: &mut Reader<'_>, case: &Map<String, Value>) -> Option<Location> {
    (case.contains_key("location_current") || case.contains_key("address_current")).then(|| Location {
        area_code: r.string(case, "location_current", "", false),
        description: r.string(case, "address_current", "", false),
    })
}

fn attachments(r: &mut Reader<'_>, case: &Map<String, Value>) -> Vec<Attachment> {
    let mut out = Vec::new();
    for (at, link) in r.array(case, "document_links", "") {
        let Some(link) = r.object(link, &at) else { continue };
        out.push(Attachment {
            uri: r.string(link, "url", &at, false),
            media_type: r.string(link, "content_type", &at, false),
            size_bytes: r.unsigned(link, "file_size", &at).unwrap_or(0),
            description: r.string(link, "description", &at, false),
        });
    }
    out
}

/// The services_section entries addressed to agencies, grouped by agency.
///
/// Loop rule: in a case carrying `hub_message_id` (the hub delivered it and
/// the receiver posts it back, e.g. to refer onward), the entries whose
/// `unique_id` the hub wrote (`<hub_message_id>:<n>`) are addressed to the
/// poster itself and were already delivered: they are skipped, never turned
/// into new referrals. Entries the agency added still are referrals.
fn groups(r: &mut Reader<'_>, case: &Map<String, Value>, hub_message_id: &str) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let echo_prefix = format!("{hub_message_id}:");
    let mut echoes = 0;
    let entries = r.array(case, "services_section", "");
    for (at, entry) in &entries {
        let Some(entry) = r.object(entry, at) else { continue };
        let agency = r.string(entry, "service_implementing_agency", at, false);
        if agency.is_empty() {
            continue;
        }
        let request_id = r.string(entry, "unique_id", at, true);
        if !hub_message_id.is_empty() && request_id.starts_with(&echo_prefix) {
            echoes += 1;
            continue;
        }
        let service = r.code_member("service_type", entry, "service_type", at, true);
        let priority =
            r.enum_member("service_response_timeframe", entry, "service_response_timeframe", at, false, |n| {
                Priority::from_str_name(n).map(|v| v as i32)
            });
        let reason = r.string(entry, "service_referral_notes", at, false);
        let notes = r.string(entry, "service_notes", at, false);
        let index = match groups.iter().position(|g| g.agency == agency) {
            Some(i) => i,
            None => {
                let fresh = Group { agency, request_id, services: vec![], reasons: vec![], notes: vec![], priority };
                groups.push(fresh);
                groups.len() - 1
            }
        };
        let group = &mut groups[index];
        group.services.push(service);
        group.reasons.extend(Some(reason).filter(|s| !s.is_empty()));
        group.notes.extend(Some(notes).filter(|s| !s.is_empty()));
        // Entries to one agency with different time frames: the most urgent wins (EMERGENCY > URGENT > ROUTINE).
        group.priority = group.priority.max(priority);
    }
    if groups.is_empty() && echoes == 0 && entries.iter().all(|(_, e)| e.is_object()) {
        r.fail("services_section", "no entry names a service_implementing_agency to refer to");
    }
    groups
}
