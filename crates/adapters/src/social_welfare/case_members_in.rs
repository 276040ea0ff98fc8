//! The case-level members every kind posted as a Primero case shares (the
//! child, concerns, risk, caregiver, location, documents, the sender's own
//! consent flags), read once for referrals ([`super::case_in`]), transfers
//! ([`super::transfer`]) and alerts ([`super::family_tracing`]).

use referral_hub_domain::wire::{
    Attachment, Caregiver, CaregiverExclusion, ChildDetails, ChildRef, Location, RiskLevel, ServiceReferral,
};
use serde_json::{Map, Value};

use super::primero_out::LINK_KEY_ID_TYPE;
use crate::native_json::Reader;

/// The child reference of a case: `case_id` is the child's local id (on
/// Primero's routes, the case id of the path when the case has none); the
/// link key is `hub_link_key` or Primero's other-id pair as the hub writes it.
pub(super) fn child_ref(r: &mut Reader<'_>, case: &Map<String, Value>, route_case_id: Option<&str>) -> ChildRef {
    let mut local_id = r.string(case, "case_id", "", route_case_id.is_none());
    if local_id.is_empty() {
        local_id = route_case_id.unwrap_or_default().to_owned();
    }
    let mut link_key = r.string(case, "hub_link_key", "", false);
    if link_key.is_empty() && r.string(case, "other_id_type", "", false) == LINK_KEY_ID_TYPE {
        link_key = r.string(case, "other_id_no", "", false);
    }
    ChildRef { local_id, link_key, national_id: r.string(case, "national_id_no", "", false) }
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
    // Primero's lookup ids (lookup-country, lookup-language) where the tables
    // know them; anything else is read as sent and judged by the hub.
    let nationality = nationalities.into_iter().next().map(|n| r.known_code("country", n)).unwrap_or_default();
    let languages = r.strings(case, "language", "").into_iter().map(|l| r.known_code("language", l)).collect();
    ChildDetails {
        given_name,
        family_name,
        sex: r.code_member("sex", case, "sex", "", true),
        date_of_birth: r.string(case, "date_of_birth", "", false),
        estimated_age_years: age.filter(|_| estimated),
        languages,
        disability: r.string(case, "disability_details", "", false),
        displacement_status: r.code_member("displacement_status", case, "displacement_status", "", false),
        nationality,
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
            // Primero has no exclusion field: the member it flags as caregiver
            // is not excluded unless an integration says otherwise.
            exclusion: match r.enum_member(
                "caregiver_exclusion",
                entry,
                "relation_caregiver_exclusion",
                &at,
                false,
                |n| CaregiverExclusion::from_str_name(n).map(|v| v as i32),
            ) {
                0 => CaregiverExclusion::NotExcluded as i32,
                given => given,
            },
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
