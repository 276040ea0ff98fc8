//! EDUCATION adapter: schools join the hub with a JSON concern report, or a
//! CSV batch when all they have is a spreadsheet (docs/connect/education.md).
//!
//! # Inbound
//!
//! `POST /education/concerns`: one concern report -> one `SERVICE_REFERRAL`.
//!
//! ```json
//! {"request_id": "BEHS4-2026-031", "recipient_org_id": "dsw-hlaing", "consent_id": "optional",
//!  "school_id": "MOE-YGN-BEHS-4",
//!  "pupil": {"local_id": "P-1182", "link_key": "", "national_id": "", "given_name": "...", "family_name": "...",
//!            "sex": "F", "date_of_birth": "2015-06-02", "age": 11, "grade": "5",
//!            "languages": ["my"], "nationality": "MM", "displacement_status": "internally_displaced"},
//!  "attendance": "Absent 9 of the last 20 days", "observed_signs": "...",
//!  "concern_codes": ["neglect"], "risk": "medium", "priority": "urgent",
//!  "requested_services": ["counselling"],
//!  "caregiver": {"relationship": "...", "name": "...", "phone": "...", "address": "...", "exclusion": "none"},
//!  "notes": "..."}
//! ```
//!
//! Mapping: `observed_signs` -> `reason`, `concern_codes` -> `protection_concerns`,
//! `pupil` -> the child reference (`local_id`, `link_key`, `national_id`) and
//! `child` details (`age` -> `estimated_age_years`). Codes go through the
//! tables in `codes.toml` (`sex`, `concerns`, `services`, `displacement`,
//! `risk`, `priority`, `caregiver_exclusion`). The canonical referral has no
//! field for `school_id`, `pupil.grade` or `attendance`: they go, in that
//! order, into a block at the start of `notes` (see
//! [`crate::json_document::notes`]) titled `School concern report`, followed by a blank line and the
//! report's own `notes`. `notes` is a PROTECTION_CONCERN field, so these
//! values reach receivers that may see the concern narrative (not other
//! schools). Nothing else is carried: an element not listed here is refused.
//!
//! The adapter refuses what it cannot translate (wrong types, unknown
//! elements and codes, a missing `request_id`, `recipient_org_id`, `pupil` or
//! `pupil.local_id`); what the canonical message requires beyond that (a
//! reason, a risk level, sex) is the hub's validation, whose errors
//! [`Adapter::native_element`] names after these elements.
//!
//! Consent: a concern report never carries inline consent (it lacks most of
//! what a consent record needs, see `ConsentTerms`), so the hub decides over
//! the records stored through the ConsentService, or the one `consent_id`
//! names. No legal-basis claim is accepted from a school.
//!
//! `POST /education/concerns.csv`: a batch, one concern per row, header row
//! required (see `csv_batch`). `POST /education/status`: a status update ->
//! a follow-up (see [`crate::json_document::status_update`]).
//!
//! # Outbound
//!
//! A referral addressed to a school (school support, re-enrolment) is the
//! concern report's shape with only what EDUCATION may see after disclosure:
//! `request_id`, `recipient_org_id`, `pupil` (identity and demographic
//! elements, no grade), `caregiver` contact, `requested_services`,
//! `priority`, plus a read-only `hub` element (message id, sender, status,
//! deadlines, consent id or legal basis, withheld categories). Follow-ups go
//! out as status updates, withheld messages as a notice with the id and
//! reasons.
//!
//! Case transfers and separated-child alerts (a school may be a party to the
//! child's case, or asked whether it knows a found child) have the same
//! shape with `hub.document` = `case_transfer` or `separated_child_alert`:
//! `pupil` and the `caregiver` contact of a transfer; for an alert, `pupil`
//! plus `pupil.nicknames` and `pupil.identifying_features`, and the current
//! carer's contact as `caregiver`. Everything else these kinds carry is
//! outside what EDUCATION may see. Schools only send referrals: no inbound
//! path reads these two shapes.
//!
//! # Errors
//!
//! A JSON problem document (RFC 9457) naming JSON pointers, or for the CSV
//! path `row N, column C` cells with `row` and `column` members
//! ([`crate::problem`]).

mod csv_batch;
mod csv_text;
mod outbound;
mod report;

#[cfg(test)]
mod tests;

use referral_hub_domain::wire::Sector;

use crate::codes::{CodeMap, CodeTableError};
use crate::json_document::fields::{DOCUMENT, Object, Problems, parse};
use crate::json_document::{element::native_pointer, envelope, status_update};
use crate::problem::problem_document;
use crate::{Adapter, Document, Inbound, NativeViolation, Outbound, Unmapped};

/// The default code tables, replaced per deployment through [`EducationAdapter::with_codes`].
const DEFAULT_CODES: &str = include_str!("codes.toml");

/// Tables the adapter cannot work without.
const TABLES: [&str; 10] = [
    "sex",
    "concerns",
    "services",
    "displacement",
    "risk",
    "priority",
    "caregiver_exclusion",
    "legal_basis",
    "status",
    "message_status",
];

/// The JSON concern report's path.
const CONCERNS: &str = "/education/concerns";
/// The CSV batch's path.
const CONCERNS_CSV: &str = "/education/concerns.csv";
/// The status update's path.
const STATUS: &str = "/education/status";

/// The EDUCATION sector's translation pair: how a school's concern report
/// becomes a referral and how referrals reach a school.
pub struct EducationAdapter {
    codes: CodeMap,
}

impl EducationAdapter {
    /// The adapter with the built-in code tables.
    pub fn new() -> Result<Self, CodeTableError> {
        Self::with_codes(DEFAULT_CODES)
    }

    /// The adapter with a deployment's own code tables (same shape as the built-in ones).
    pub fn with_codes(text: &str) -> Result<Self, CodeTableError> {
        Ok(Self { codes: CodeMap::from_toml(text, &TABLES)? })
    }
}

impl Adapter for EducationAdapter {
    fn sector(&self) -> Sector {
        Sector::Education
    }

    fn paths(&self) -> &'static [&'static str] {
        &[CONCERNS, CONCERNS_CSV, STATUS]
    }

    fn answer_path(&self) -> &'static str {
        STATUS
    }

    fn inbound(&self, path: &str, document: &[u8]) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
        let mut problems = Problems::default();
        let parsed = match path {
            CONCERNS_CSV => return csv_batch::inbound(document, &self.codes),
            CONCERNS | STATUS => parse(document, &mut problems),
            _ => {
                problems.add(DOCUMENT, "not a path of the EDUCATION adapter");
                None
            }
        };
        let inbound = parsed.as_ref().and_then(|value| {
            let root = Object::root(value, &mut problems)?;
            match path {
                CONCERNS => report::inbound(&root, &self.codes, &mut problems).map(Inbound::Submit),
                _ => status_update::inbound(&root, &self.codes, &mut problems),
            }
        });
        match inbound {
            Some(inbound) if problems.is_empty() => Ok(vec![inbound]),
            _ => Err(problems.0),
        }
    }

    fn outbound(&self, delivery: Outbound<'_>) -> Result<Document, Unmapped> {
        match delivery {
            Outbound::Message(message) => outbound::message(message, &self.codes),
            Outbound::FollowUp(follow_up) => status_update::outbound(follow_up, &self.codes),
            Outbound::Withheld(notice) => envelope::withheld(notice),
        }
    }

    fn errors(&self, violations: &[NativeViolation]) -> Document {
        problem_document(violations)
    }

    fn native_element(&self, path: &str, canonical_field: &str) -> String {
        let table = if path == STATUS { status_update::ELEMENT_TABLE } else { report::ELEMENT_TABLE };
        match native_pointer(table, canonical_field) {
            Some(pointer) if path == CONCERNS_CSV => csv_batch::column_of(&pointer)
                .map(|column| format!("column {column}"))
                .unwrap_or_else(|| canonical_field.to_owned()),
            Some(pointer) => pointer,
            None => canonical_field.to_owned(),
        }
    }

    /// In a CSV batch, the spreadsheet row (the header is row 1), so the
    /// error report has the row and column members a school can act on.
    fn item_element(&self, path: &str, index: usize, element: &str) -> String {
        if path == CONCERNS_CSV {
            format!("row {}, {element}", index + 2)
        } else {
            format!("item {}: {element}", index + 1)
        }
    }
}
