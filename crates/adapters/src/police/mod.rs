//! POLICE adapter: police units join the hub with a JSON incident
//! notification, the mandatory report of a child at risk or a child victim
//! (adapters.md), and receive referrals and mandatory reports the same way.
//!
//! # Inbound
//!
//! `POST /police/incidents`: one incident notification -> one `SERVICE_REFERRAL`.
//!
//! ```json
//! {"request_id": "HLG-2026-118", "recipient_org_id": "dsw-hlaing", "consent_id": "optional",
//!  "legal_basis": {"basis": "MANDATORY_REPORT", "justification": "..."},
//!  "incident": {"date": "2026-11-01", "place": {"area_code": "MM/YGN/Hlaing", "description": "..."},
//!               "offence_category": "ASSAULT",
//!               "officer": {"name": "...", "badge_number": "...", "unit": "..."},
//!               "protective_action": "..."},
//!  "child": {"local_id": "...", "link_key": "", "national_id": "", "given_name": "...", "family_name": "...",
//!            "sex": "FEMALE", "date_of_birth": "2017-03-14", "age": 9, "languages": ["my"],
//!            "nationality": "MM", "displacement_status": "IDP"},
//!  "current_location": {"area_code": "...", "description": "..."},
//!  "caregiver": {"relationship": "...", "name": "...", "phone": "...", "address": "...", "exclusion": "NONE"},
//!  "concern_codes": ["PHYSICAL_ABUSE"], "risk": "HIGH", "priority": "EMERGENCY",
//!  "requested_services": ["CASE_MANAGEMENT"], "narrative": "...", "safety_concerns": "...",
//!  "child_informed": true, "child_views": "...", "notes": "...",
//!  "attachments": [{"uri": "https://...", "media_type": "application/pdf", "size_bytes": 1, "description": "..."}]}
//! ```
//!
//! Mapping: `narrative` -> `reason`, `concern_codes` -> `protection_concerns`,
//! `child` -> the child reference and details (`age` -> `estimated_age_years`),
//! `legal_basis` -> the legal-basis claim (when the police send without
//! consent), the rest by name. Codes go through `codes.toml` (`sex`,
//! `concerns`, `services`, `displacement`, `risk`, `priority`,
//! `caregiver_exclusion`, `legal_basis`, `offence_categories`). The
//! canonical referral has no field for the incident: its elements become a
//! block at the start of `notes` (module `incident`), followed by a blank
//! line and the document's own `notes`. `notes` is PROTECTION_CONCERN, so
//! the incident's place reaches receivers that see concerns even when they
//! do not see LOCATION (JUSTICE, by default).
//!
//! The adapter refuses what it cannot translate (wrong types, unknown
//! elements and codes, an incident date that is not `YYYY-MM-DD`, a missing
//! `request_id`, `recipient_org_id`, `child`, `child.local_id` or
//! `legal_basis.basis`); the canonical rules (a reason, a risk level, a
//! justification of 20 characters or more) are the hub's validation, named
//! after these elements by [`Adapter::native_element`]. No inline consent is
//! ever built: consent comes from stored records, `consent_id`, or the claim.
//!
//! `POST /police/status`: a status update -> a follow-up (shared
//! `follow_up` module).
//!
//! # Outbound
//!
//! A referral or mandatory report addressed to police: the same shape with
//! what POLICE may see after disclosure (no caregiver relationship, no
//! disability: FAMILY and HEALTH), the `incident` element rebuilt from the
//! notes block when there is one, and a read-only `hub` element (message id,
//! sender, status, deadlines, consent id or legal basis, withheld
//! categories). Follow-ups go out as status updates, withheld messages as a
//! notice with the id and reasons.
//!
//! Case transfers and separated-child alerts have the same shape, with
//! `hub.document` = `case_transfer` or `separated_child_alert`. A transfer
//! adds `case_summary` and `justice`: the child-friendly handling block
//! (LEGAL, which POLICE sees) in the JUSTICE adapter's NIEM naming, its
//! `cyfs:ChildRoleCode` through table `case_type`. An alert has `child`
//! (plus `nicknames`, `identifying_features`), `found` (`area_code`,
//! `description`, `date`, `by`: where, when and by whom the child was
//! found), the current carer's contact as `caregiver`, `risk` and the
//! child's wishes as `child_views`. Police submit only incident
//! notifications: no inbound path reads these two shapes.
//!
//! # Errors
//!
//! A JSON problem document (RFC 9457) naming JSON pointers.

mod incident;
mod niem_shape;
mod outbound;
mod report;

#[cfg(test)]
mod tests;

use referral_hub_domain::wire::Sector;
use serde_json::Value;

use crate::codes::{CodeMap, CodeTableError};
use crate::education::shared::{self, fields::DOCUMENT, fields::Object, fields::Problems, fields::parse};
use crate::{Adapter, Document, Inbound, NativeViolation, Outbound, Unmapped};

/// The default code tables, replaced per deployment through [`PoliceAdapter::with_codes`].
const DEFAULT_CODES: &str = include_str!("codes.toml");

/// Tables the adapter cannot work without.
const TABLES: [&str; 12] = [
    "sex",
    "concerns",
    "services",
    "displacement",
    "risk",
    "priority",
    "caregiver_exclusion",
    "legal_basis",
    "offence_categories",
    "status",
    "message_status",
    "case_type",
];

/// The incident notification's path.
const INCIDENTS: &str = "/police/incidents";
/// The status update's path.
const STATUS: &str = "/police/status";

/// The POLICE sector's translation pair: how an incident notification
/// becomes a referral and how referrals and mandatory reports reach police.
pub struct PoliceAdapter {
    codes: CodeMap,
}

impl PoliceAdapter {
    /// The adapter with the built-in code tables.
    pub fn new() -> Result<Self, CodeTableError> {
        Self::with_codes(DEFAULT_CODES)
    }

    /// The adapter with a deployment's own code tables (same shape as the built-in ones).
    pub fn with_codes(text: &str) -> Result<Self, CodeTableError> {
        Ok(Self { codes: CodeMap::from_toml(text, &TABLES)? })
    }
}

impl Adapter for PoliceAdapter {
    fn sector(&self) -> Sector {
        Sector::Police
    }

    fn paths(&self) -> &'static [&'static str] {
        &[INCIDENTS, STATUS]
    }

    fn answer_path(&self) -> &'static str {
        STATUS
    }

    fn inbound(&self, path: &str, document: &[u8]) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
        let table = if path == STATUS { niem_shape::STATUS } else { niem_shape::INCIDENT };
        let mut niem_problems = Problems::default();
        let mut problems = Problems::default();
        let parsed = match path {
            INCIDENTS | STATUS => parse(document, &mut niem_problems),
            _ => {
                niem_problems.add(DOCUMENT, "not a path of the POLICE adapter");
                None
            }
        };
        let working = parsed.as_ref().filter(|v| v.is_object()).map(|v| niem_shape::from_niem(v, table, &mut niem_problems));
        let inbound = working.as_ref().or(parsed.as_ref()).and_then(|value| {
            let root = Object::root(value, &mut problems)?;
            match path {
                INCIDENTS => report::inbound(&root, &self.codes, &mut problems).map(Inbound::Submit),
                _ => shared::follow_up::inbound(&root, &self.codes, &mut problems),
            }
        });
        niem_problems.0.extend(problems.0.into_iter().map(|mut v| {
            v.element = niem_shape::niem_pointer(&v.element, table);
            v
        }));
        match inbound {
            Some(inbound) if niem_problems.is_empty() => Ok(vec![inbound]),
            _ => Err(niem_problems.0),
        }
    }

    fn outbound(&self, delivery: Outbound<'_>) -> Result<Document, Unmapped> {
        let (working, table) = match delivery {
            Outbound::Message(message) => (outbound::message(message, &self.codes)?, niem_shape::INCIDENT),
            Outbound::FollowUp(follow_up) => {
                (shared::follow_up::outbound(follow_up, &self.codes)?, niem_shape::STATUS)
            }
            Outbound::Withheld(notice) => (shared::envelope::withheld(notice)?, niem_shape::STATUS),
        };
        // The shared modules write plain JSON objects: reading them back cannot fail.
        let working: Value = serde_json::from_slice(&working.body).unwrap_or_default();
        Ok(shared::envelope::document(&niem_shape::to_niem(&working, table)))
    }

    fn errors(&self, violations: &[NativeViolation]) -> Document {
        shared::problem::problem_document(violations)
    }

    fn native_element(&self, path: &str, canonical_field: &str) -> String {
        let (table, niem) = if path == STATUS {
            (shared::follow_up::ELEMENT_TABLE, niem_shape::STATUS)
        } else {
            (report::ELEMENT_TABLE, niem_shape::INCIDENT)
        };
        shared::element::native_pointer(table, canonical_field)
            .map_or_else(|| canonical_field.to_owned(), |working| niem_shape::niem_pointer(&working, niem))
    }
}
