//! SOCIAL_WELFARE adapter: Primero API v2 style case JSON (adapters.md), so a
//! Primero instance, or an OpenFn job in front of one, joins the hub as is.
//!
//! Paths (POST):
//! - `/primero/v2/cases`: `{"data": <case>}`; each agency named by a
//!   `services_section[].service_implementing_agency` gets one
//!   `SERVICE_REFERRAL` ([`case_in`]).
//!   A case flagged `"hub_alert": true` is instead one `SEPARATED_CHILD_ALERT`
//!   with no recipient, the hub routing it ([`tracing`]).
//! - `/primero/v2/transfers`: a case with a `transfer` transition -> one
//!   `CASE_TRANSFER` ([`transfer`]).
//! - `/primero/v2/referrals`: `{"data": {"id": <hub message id>, "status", …}}`,
//!   a transition status update -> a follow-up ([`transition`]).
//!
//! Loop rule: every case the hub delivers carries `hub_message_id`, and every
//! element the hub writes into it that could read as a request has an id
//! `<hub_message_id>:<suffix>`. When the receiver posts the case back (to
//! refer onward, or a sync job posting every case), those elements are the
//! hub's own delivery, addressed to the poster itself: they are skipped,
//! never new referrals, transfers or alerts (`hub_alert` is honoured only on
//! a case without `hub_message_id`). What the agency added is read as usual.
//!
//! Case -> referral mapping (element: canonical field):
//!
//! | Primero element | canonical |
//! |---|---|
//! | `case_id` / `hub_link_key` / `national_id_no` | `child.local_id` / `link_key` / `national_id` |
//! | `services_section[].unique_id` (first entry for the agency) | `request_id` |
//! | `services_section[].service_implementing_agency` | `recipient_org_id` |
//! | `services_section[].service_type` (table `service_type`) | `referral.requested_services[]` |
//! | `services_section[].service_response_timeframe` (most urgent) | `referral.priority` |
//! | `services_section[].service_referral_notes` / `service_notes` (joined) | `referral.reason` / `notes` |
//! | `risk_level`, `protection_concerns[]` | `referral.risk_level`, `protection_concerns[]` |
//! | `name_first`, `name_last` (else `name`), `sex`, `date_of_birth` | `referral.child.*` |
//! | `age` when `estimated` is true | `referral.child.estimated_age_years` |
//! | `language[]`, `disability_details`, `displacement_status`, `nationality[0]` | `referral.child.*` |
//! | `family_details_section[]` entry with `relation_is_caregiver: true`: `relation`, `relation_name`, `relation_telephone`, `relation_address_current`, `relation_caregiver_exclusion` | `referral.caregiver.*` |
//! | `location_current`, `address_current` | `referral.current_location.area_code`, `description` |
//! | `safety_concerns`, `child_informed_of_referral`, `child_views` | `referral.*` |
//! | `document_links[]`: `url`, `content_type`, `file_size`, `description` | `referral.attachments[]` |
//!
//! Consent: Primero's flags are not a consent record (they give no
//! consenters, age at decision, recipients, purposes, categories, expiry or
//! method), so no inline consent is carried: the hub decides on the records
//! stored through the ConsentService and refuses with reasons. A flag saying
//! no (`consent_for_services` or `disclosure_other_orgs` false) is refused
//! here, naming the flag.
//!
//! Outbound: a referral -> the same case shape; a transfer -> the case with
//! its `transfer` transition; an alert -> a case with tracing fields; a
//! follow-up -> a transition; a withheld message -> `{"data": {"id",
//! "status": "withheld", "reasons"}}`.

mod case_in;
mod case_out;
mod justice_block;
pub(crate) mod native_json;
mod tracing;
mod transfer;
mod transition;

#[cfg(test)]
pub(crate) mod tests;

use referral_hub_domain::wire::Sector;
use serde_json::{Value, json};

use crate::{Adapter, CodeMap, Document, Inbound, NativeViolation, Outbound, Unmapped, codes::CodeTableError};
use native_json::Naming;

const CODES: &str = include_str!("codes.toml");

const TABLES: &[&str] = &[
    "risk_level",
    "sex",
    "protection_concerns",
    "service_type",
    "service_response_timeframe",
    "transition_status",
    "displacement_status",
    "caregiver_exclusion",
    "protection_status",
    "consent_for_tracing",
    "justice_case_type",
];

const CASES: &str = "/primero/v2/cases";
const REFERRALS: &str = "/primero/v2/referrals";
const TRANSFERS: &str = "/primero/v2/transfers";

/// Where each referral field the hub may refuse comes from in a case.
const CASE_ELEMENTS: &[(&str, &str)] = &[
    ("request_id", "services_section[].unique_id"),
    ("recipient_org_id", "services_section[].service_implementing_agency"),
    ("child.local_id", "case_id"),
    ("child.link_key", "hub_link_key"),
    ("child.national_id", "national_id_no"),
    ("referral.protection_concerns", "protection_concerns"),
    ("referral.risk_level", "risk_level"),
    ("referral.requested_services", "services_section[].service_type"),
    ("referral.reason", "services_section[].service_referral_notes"),
    ("referral.priority", "services_section[].service_response_timeframe"),
    ("referral.notes", "services_section[].service_notes"),
    ("referral.child.given_name", "name_first"),
    ("referral.child.family_name", "name_last"),
    ("referral.child.sex", "sex"),
    ("referral.child.date_of_birth", "date_of_birth"),
    ("referral.child.estimated_age_years", "age"),
    ("referral.child.languages", "language"),
    ("referral.child.disability", "disability_details"),
    ("referral.child.displacement_status", "displacement_status"),
    ("referral.child.nationality", "nationality"),
    ("referral.caregiver.relationship", "family_details_section[].relation"),
    ("referral.caregiver.name", "family_details_section[].relation_name"),
    ("referral.caregiver.phone", "family_details_section[].relation_telephone"),
    ("referral.caregiver.address", "family_details_section[].relation_address_current"),
    ("referral.caregiver.exclusion", "family_details_section[].relation_caregiver_exclusion"),
    ("referral.current_location.area_code", "location_current"),
    ("referral.current_location.description", "address_current"),
    ("referral.safety_concerns", "safety_concerns"),
    ("referral.child_informed", "child_informed_of_referral"),
    ("referral.child_views", "child_views"),
    ("referral.attachments", "document_links"),
    ("referral.attachments.uri", "document_links[].url"),
    ("referral.attachments.media_type", "document_links[].content_type"),
    ("referral.attachments.size_bytes", "document_links[].file_size"),
    ("referral.attachments.description", "document_links[].description"),
];

/// Translates between Primero v2 case JSON and the hub's canonical messages,
/// so social welfare agencies running Primero join without a new system.
#[derive(Debug, Clone)]
pub struct SocialWelfareAdapter {
    codes: CodeMap,
}

impl SocialWelfareAdapter {
    /// The adapter with the built-in Primero code tables.
    pub fn new() -> Result<Self, CodeTableError> {
        Self::with_codes(CODES)
    }

    /// The adapter with a deployment's own code tables (its Primero lookups),
    /// which must define every table the built-in file does.
    pub fn with_codes(text: &str) -> Result<Self, CodeTableError> {
        Ok(Self { codes: CodeMap::from_toml(text, TABLES)? })
    }
}

impl Adapter for SocialWelfareAdapter {
    fn sector(&self) -> Sector {
        Sector::SocialWelfare
    }

    fn paths(&self) -> &'static [&'static str] {
        &[CASES, REFERRALS, TRANSFERS]
    }

    fn answer_path(&self) -> &'static str {
        REFERRALS
    }

    fn inbound(&self, path: &str, document: &[u8]) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
        match path {
            CASES => case_in::requests(&self.codes, document),
            TRANSFERS => transfer::transfer_in(&self.codes, document),
            REFERRALS => transition::follow_up(&self.codes, document),
            _ => Err(vec![NativeViolation {
                element: "body".into(),
                description: "no Primero resource at this path".into(),
            }]),
        }
    }

    fn outbound(&self, delivery: Outbound<'_>) -> Result<Document, Unmapped> {
        let body = match delivery {
            Outbound::Message(message) => case_out::case(&self.codes, message)?,
            Outbound::FollowUp(follow_up) => transition::transition(&self.codes, follow_up)?,
            Outbound::Withheld(withheld) => transition::withheld(withheld),
        };
        Ok(native_json::document("application/json", &body))
    }

    fn errors(&self, violations: &[NativeViolation]) -> Document {
        let errors: Vec<Value> = violations
            .iter()
            .map(|v| json!({ "code": 422, "message": v.description, "resource": "/primero/v2", "detail": v.element }))
            .collect();
        native_json::document("application/json", &json!({ "errors": errors }))
    }

    fn native_element(&self, path: &str, canonical_field: &str) -> String {
        let element = |table, field: &str| native_json::native_element(table, Naming::Dotted, field);
        if path == REFERRALS {
            return element(transition::ELEMENTS, canonical_field);
        }
        // A transfer's and an alert's case members are a referral's, under their own payload name.
        let (payload, rest) = canonical_field.split_once('.').unwrap_or(("", canonical_field));
        let own = match payload {
            "case_transfer" if rest.starts_with("justice.") => {
                return format!("transfer.hub_justice_handling.{}", &rest["justice.".len()..]);
            }
            "case_transfer" => transfer::ELEMENTS,
            "separated_child_alert" => tracing::ELEMENTS,
            _ if path == TRANSFERS && transfer::ELEMENTS.iter().any(|(c, _)| *c == canonical_field) => {
                return element(transfer::ELEMENTS, canonical_field);
            }
            _ => return element(CASE_ELEMENTS, canonical_field),
        };
        let found = element(own, canonical_field);
        if found != canonical_field {
            return found;
        }
        let as_referral = format!("referral.{rest}");
        let found = element(CASE_ELEMENTS, &as_referral);
        if found == as_referral { canonical_field.to_owned() } else { found }
    }
}
