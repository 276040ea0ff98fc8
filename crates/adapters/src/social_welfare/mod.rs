//! SOCIAL_WELFARE adapter: Primero v2 (docs/connect/social-welfare.md), so a Primero instance,
//! or an OpenFn job in front of one, joins the hub as is. Every fact about
//! Primero it relies on (routes, body shapes, form fields, lookups) is kept
//! in `tests/fixtures/primero/` with the Primero file and commit it came from.
//!
//! Primero's routes (the case is in the body, as `data.record`, because the
//! hub keeps messages, not cases):
//! - `POST /api/v2/cases/{id}/referrals`: one SERVICE_REFERRAL
//!   ([`case_in::referral_route`]);
//! - `PATCH /api/v2/cases/{id}/referrals/{rid}` `{"data": {"status", …}}`:
//!   a follow-up on message `{rid}`; `DELETE` of it revokes
//!   ([`transition`]); `PATCH /api/v2/cases/{id}/transfers/{rid}` likewise;
//! - `POST /api/v2/cases/{id}/transfers`: one CASE_TRANSFER ([`transfer`]);
//! - `POST /api/v2/cases` `{"data": <case>}`: as `/primero/v2/cases` below.
//!
//! Their answers are Primero's transition shape: `{"data": {"id": <message
//! id>, "status": <one of Primero's five>}}`.
//!
//! The hub's earlier paths (POST), still served:
//! - `/primero/v2/cases`: `{"data": <case>}`; each agency named by a
//!   `services_section[].service_implementing_agency` gets one
//!   `SERVICE_REFERRAL` ([`case_in`]). A case flagged `"hub_alert": true` is
//!   instead one `SEPARATED_CHILD_ALERT` with no recipient ([`family_tracing`]).
//! - `/primero/v2/transfers`: a case with a `transfer` transition.
//! - `/primero/v2/referrals`: `{"data": {"id": <message id>, "status", …}}`.
//!
//! Loop rule: a delivered case's `id` is the hub message id and the entries
//! the hub writes have ids derived from it ([`primero_out::entry_id`]). When
//! the receiver posts the case back (to refer onward, or a sync job posting
//! every case), those entries are the hub's own delivery, addressed to the
//! poster itself: skipped, never new referrals. What the agency added is
//! read as usual.
//!
//! Case -> referral mapping (element: canonical field; "hub addition" marks
//! members Primero has not, read when an integration sends them, never sent):
//!
//! | Primero element | canonical |
//! |---|---|
//! | `case_id` (else the route's `{id}`) / `national_id_no` | `child.local_id` / `national_id` |
//! | `other_id_no` when `other_id_type` is `referral_hub_link_key`, or `hub_link_key` (hub addition) | `child.link_key` |
//! | `services_section[].unique_id` (first entry for the agency) | `request_id` |
//! | `services_section[].service_implementing_agency` | `recipient_org_id` |
//! | `services_section[].service_type` (lookup-service-type) | `referral.requested_services[]` |
//! | `services_section[].service_response_timeframe` (most urgent; none: from the risk) | `referral.priority` |
//! | `services_section[].service_referral_notes` / `service_notes` (hub addition) | `referral.reason` / `notes` |
//! | `risk_level`, `protection_concerns[]` | `referral.risk_level`, `protection_concerns[]` |
//! | `name_first`, `name_last` (else `name`), `sex`, `date_of_birth` | `referral.child.*` |
//! | `age` when `estimated` is true | `referral.child.estimated_age_years` |
//! | `language[]`, `displacement_status`, `nationality[0]` (lookup-country -> ISO 3166) | `referral.child.*` |
//! | `disability_details` (hub addition) | `referral.child.disability` |
//! | `family_details_section[]` entry with `relation_is_caregiver: true`: `relation`, `relation_name`, `relation_telephone`, `relation_address_current`; `relation_caregiver_exclusion` (hub addition; absent: NOT_EXCLUDED) | `referral.caregiver.*` |
//! | `location_current`, `address_current` | `referral.current_location.area_code`, `description` |
//! | `safety_concerns`, `child_informed_of_referral`, `child_views`, `document_links[]` (hub additions) | `referral.*` |
//!
//! Outbound ([`case_out`]) writes only Primero's fields and lookup values;
//! what Primero has no field or value for is a note in `notes_section`.
//!
//! Consent: Primero's flags are not a consent record (they give no
//! consenters, age at decision, recipients, purposes, categories, expiry or
//! method), so no inline consent is carried: the hub decides on the records
//! stored through the ConsentService and refuses with reasons. A flag saying
//! no (`consent_for_services` or `disclosure_other_orgs` false) is refused
//! here, naming the flag, unless the referral says `consent_overridden`.

mod case_in;
mod case_members_in;
mod case_members_out;
mod case_out;
mod family_tracing;
mod justice_block;
mod primero_in;
mod primero_out;
mod transfer;
mod transition;

#[cfg(test)]
mod tests;

use referral_hub_domain::wire::Sector;
use serde_json::{Value, json};

use crate::native_json::{self, Naming};
use crate::{
    Adapter, CodeMap, Document, Inbound, Method, NativeViolation, Outbound, Receipt, Route, Unmapped,
    codes::CodeTableError,
};

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
    "relation",
    "language",
    "country",
    "note_subject",
    "receipt_status",
];

const CASES: &str = "/primero/v2/cases";
const REFERRALS: &str = "/primero/v2/referrals";
const TRANSFERS: &str = "/primero/v2/transfers";
/// Primero's own case creation: read as [`CASES`].
const API_CASES: &str = "/api/v2/cases";

const REFER: Route = Route { method: Method::Post, path: "/api/v2/cases/{id}/referrals" };
const REFERRAL_STATUS: Route = Route { method: Method::Patch, path: "/api/v2/cases/{id}/referrals/{rid}" };
const REVOKE: Route = Route { method: Method::Delete, path: "/api/v2/cases/{id}/referrals/{rid}" };
const TRANSFER: Route = Route { method: Method::Post, path: "/api/v2/cases/{id}/transfers" };
const TRANSFER_STATUS: Route = Route { method: Method::Patch, path: "/api/v2/cases/{id}/transfers/{rid}" };
const ROUTES: &[Route] = &[REFER, REFERRAL_STATUS, REVOKE, TRANSFER, TRANSFER_STATUS];

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

/// Where a refused field comes from on Primero's referral and transfer
/// routes: the referral members in `data`, the case in `data.record`.
fn route_element(canonical: &str, in_case: impl Fn(&str) -> String) -> String {
    let own = [
        ("recipient_org_id", "data.transitioned_to_agency"),
        ("request_id", "data.service_record_id"),
        ("case_transfer.reason", "data.notes"),
        ("case_transfer.case_summary", "data.hub_case_summary"),
    ];
    if let Some((_, native)) = own.iter().find(|(c, _)| *c == canonical) {
        return (*native).to_owned();
    }
    let found = in_case(canonical);
    if found == canonical { found } else { format!("data.record.{found}") }
}

impl Adapter for SocialWelfareAdapter {
    fn sector(&self) -> Sector {
        Sector::SocialWelfare
    }

    fn paths(&self) -> &'static [&'static str] {
        &[CASES, REFERRALS, TRANSFERS, API_CASES]
    }

    fn routes(&self) -> &'static [Route] {
        ROUTES
    }

    fn inbound_route(
        &self,
        route: &Route,
        params: &[String],
        document: &[u8],
    ) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
        let [case_id, rest @ ..] = params else {
            return Err(vec![NativeViolation { element: "path".into(), description: "no case id".into() }]);
        };
        match (*route, rest.first()) {
            (REFER, _) => case_in::referral_route(&self.codes, case_id, document),
            (TRANSFER, _) => transfer::transfer_route(&self.codes, case_id, document),
            (REFERRAL_STATUS | TRANSFER_STATUS, Some(rid)) => transition::patch(&self.codes, rid, document),
            (REVOKE, Some(rid)) => Ok(transition::revoke(rid)),
            _ => self.inbound(route.path, document),
        }
    }

    fn answer(&self, path: &str, receipts: &[Receipt]) -> Document {
        if !ROUTES.iter().any(|r| r.path == path) {
            return Receipt::hub_answer(receipts);
        }
        let transitions: Vec<Value> = receipts
            .iter()
            .map(|receipt| {
                let (id, status) = match receipt {
                    Receipt::Submitted { message_id, status, .. } => (message_id, status),
                    Receipt::FollowedUp { message_id, status, .. } => (message_id, status),
                };
                let status = self.codes.to_native("receipt_status", status).unwrap_or("in_progress");
                json!({ "id": id, "status": status })
            })
            .collect();
        let data = match <[Value; 1]>::try_from(transitions) {
            Ok([one]) => one,
            Err(many) => Value::Array(many),
        };
        native_json::document("application/json", &json!({ "data": data }))
    }

    fn answer_path(&self) -> &'static str {
        REFERRALS
    }

    fn inbound(&self, path: &str, document: &[u8]) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
        match path {
            CASES | API_CASES => case_in::requests(&self.codes, document),
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
        self.refusal(API_CASES, 422, violations)
    }

    /// Primero's own error shape (its `ErrorService` and
    /// `api/v2/errors/_error.json.jbuilder`): `status`, `resource` (the
    /// request path), and for a bad field its name in `detail` with the
    /// messages as a list, as Primero answers an invalid record.
    fn refusal(&self, resource: &str, status: u16, violations: &[NativeViolation]) -> Document {
        let errors: Vec<Value> = violations
            .iter()
            .map(|v| match v.element.as_str() {
                "request" | "document" => json!({ "status": status, "resource": resource, "message": v.description }),
                field => json!({ "status": status, "resource": resource, "detail": field, "message": [v.description] }),
            })
            .collect();
        native_json::document("application/json", &json!({ "errors": errors }))
    }

    fn native_element(&self, path: &str, canonical_field: &str) -> String {
        let element = |table, field: &str| native_json::native_element(table, Naming::Dotted, field);
        if path == REFERRALS || path == REFERRAL_STATUS.path || path == TRANSFER_STATUS.path {
            return element(transition::ELEMENTS, canonical_field);
        }
        if path == REFER.path || path == TRANSFER.path {
            return route_element(canonical_field, |field| self.native_element(CASES, field));
        }
        // A transfer's and an alert's case members are a referral's, under their own payload name.
        let (payload, rest) = canonical_field.split_once('.').unwrap_or(("", canonical_field));
        let own = match payload {
            "case_transfer" if rest.starts_with("justice.") => {
                return format!("transfer.hub_justice_handling.{}", &rest["justice.".len()..]);
            }
            "case_transfer" => transfer::ELEMENTS,
            "separated_child_alert" => family_tracing::ELEMENTS,
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
