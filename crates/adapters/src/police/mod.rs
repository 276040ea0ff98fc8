//! POLICE adapter: police units join the hub with an incident notification,
//! the mandatory report of a child at risk or a child victim (docs/connect/police.md),
//! in NIEM 5.2 JSON (`nc:Incident`, `j:IncidentReportingOfficial`,
//! `nc:Person`, …, the hub's `rh:` extension where NIEM has no element; the
//! prefixes declared in an `@context`, [`crate::niem`]), and receive
//! referrals and mandatory reports the same way.
//!
//! # Inbound
//!
//! `POST /police/incidents`: one incident notification -> one `SERVICE_REFERRAL`.
//!
//! ```json
//! {"@context": {"nc": "http://release.niem.gov/niem/niem-core/5.0/#", "j": "…", "hs": "…", "rh": "…"},
//!  "nc:DocumentIdentification": {"nc:IdentificationID": "HLG-2026-118"},
//!  "hs:CaseReferredAgency": {"nc:OrganizationIdentification": {"nc:IdentificationID": "dsw-hlaing"}},
//!  "rh:ConsentID": "optional",
//!  "rh:LegalBasis": {"rh:LegalBasisCode": "MANDATORY_REPORT", "rh:LegalBasisJustificationText": "..."},
//!  "nc:Incident": {"nc:ActivityDate": {"nc:Date": "2026-11-01"},
//!    "nc:ActivityLocation": {"rh:LocationAreaCode": "MM/YGN/Hlaing", "nc:LocationDescriptionText": "..."},
//!    "j:OffenseCategoryText": "ASSAULT",
//!    "j:IncidentReportingOfficial": {"nc:RoleOfPerson": {"nc:PersonName": {"nc:PersonFullName": "..."}},
//!      "j:EnforcementOfficialBadgeIdentification": {"nc:IdentificationID": "..."},
//!      "j:EnforcementOfficialUnit": {"j:EnforcementUnitName": "..."}},
//!    "rh:ProtectiveActionText": "..."},
//!  "nc:Person": {"nc:PersonOtherIdentification": {"nc:IdentificationID": "..."},
//!    "nc:PersonName": {"nc:PersonGivenName": "...", "nc:PersonSurName": "..."}, "j:PersonSexCode": "F",
//!    "nc:PersonBirthDate": {"nc:Date": "2017-03-14"}, "nc:PersonAgeMeasure": {"nc:MeasureIntegerValue": 9},
//!    "rh:PersonLanguageCode": ["my"], "rh:DisplacementStatusCode": "IDP",
//!    "nc:PersonCitizenship": {"nc:PersonCitizenshipCountry": {"nc:CountryCode": "MM"}}},
//!  "nc:Location": {"rh:LocationAreaCode": "...", "nc:LocationDescriptionText": "..."},
//!  "rh:Caregiver": {"nc:PersonName": {"nc:PersonFullName": "..."}, "rh:PersonRelationshipText": "...",
//!    "nc:PersonContactInformation": {"nc:ContactTelephoneNumber": {"nc:FullTelephoneNumber":
//!      {"nc:TelephoneNumberFullID": "..."}}, "nc:ContactMailingAddress": {"nc:AddressFullText": "..."}},
//!    "rh:CaregiverExclusionCode": "NONE"},
//!  "rh:ProtectionConcernCode": ["PHYSICAL_ABUSE"], "rh:RiskLevelCode": "HIGH", "rh:PriorityCode": "EMERGENCY",
//!  "rh:RequestedServiceCode": ["CASE_MANAGEMENT"], "hs:ReferralReasonText": "...",
//!  "rh:SafetyConcernText": "...", "rh:ChildInformedIndicator": true, "rh:ChildViewsText": "...",
//!  "nc:Comment": {"nc:CommentText": "..."},
//!  "nc:Document": [{"nc:DocumentBinary": {"nc:BinaryURI": "https://...", "nc:BinarySizeValue": 1},
//!    "nc:DocumentFormatText": "application/pdf", "nc:DocumentDescriptionText": "..."}]}
//! ```
//!
//! The NIEM document is read through one table (module `niem_shape`) into
//! the adapter's working shape, the same elements under short names, which
//! `report`, `incident` and the status-update module ([`crate::json_document::status_update`]) read; the table also
//! names every refusal by its NIEM pointer. Mapping: the reason is
//! `hs:ReferralReasonText`, the child the message's child reference and
//! details (`nc:PersonAgeMeasure` -> `estimated_age_years`),
//! `rh:LegalBasis` the legal-basis claim (when the police send without
//! consent). Codes go through `codes.toml` (`sex` (NCIC, as
//! `j:PersonSexCode` has them), `concerns`, `services`, `displacement`,
//! `risk`, `priority`, `caregiver_exclusion`, `legal_basis`,
//! `offence_categories`). The canonical referral has no field for the
//! incident: its elements become a block at the start of `notes` (module
//! `incident`), followed by a blank line and the document's own comment.
//! `notes` is PROTECTION_CONCERN, so the incident's place reaches receivers
//! that see concerns even when they do not see LOCATION (JUSTICE, by
//! default).
//!
//! The adapter refuses what it cannot translate (wrong types, elements
//! outside the document, unknown codes, an incident date that is not
//! `YYYY-MM-DD`, a missing document id, receiving agency, `nc:Person`, its
//! `nc:PersonOtherIdentification` or `rh:LegalBasisCode`); the canonical
//! rules (a reason, a risk level, a justification of 20 characters or more)
//! are the hub's validation, named after these elements by
//! [`Adapter::native_element`]. No inline consent is ever built: consent
//! comes from stored records, `rh:ConsentID`, or the claim.
//!
//! `POST /police/status`: a status update, an `nc:Activity` (its
//! `nc:ActivityIdentification`, the message's `nc:Case`/`nc:CaseTrackingID`,
//! the status as `nc:ActivityCategoryText`, reason, description,
//! `nc:ActivityDisposition`, `nc:ActivityScheduledDate`,
//! `j:CaseReviewDueDate`, `rh:ShareWithSenderIndicator`) -> a follow-up.
//!
//! # Outbound
//!
//! A referral or mandatory report addressed to police: the same document
//! with what POLICE may see after disclosure (no caregiver relationship, no
//! disability: FAMILY and HEALTH), the `nc:Incident` rebuilt from the notes
//! block when there is one, and a read-only `rh:HubMetadata` (message id,
//! sender, status, deadlines, consent id or legal basis, withheld
//! categories). Follow-ups go out as status updates with `rh:HubMetadata`,
//! withheld messages as a notice with the id and reasons.
//!
//! Case transfers and separated-child alerts have the same shape, with
//! `rh:DocumentCategoryCode` = `case_transfer` or `separated_child_alert`. A
//! transfer adds the case summary (`nc:Case`/`nc:ActivityDescriptionText`)
//! and `rh:ChildHandling`: the child-friendly handling block (LEGAL, which
//! POLICE sees) exactly as the JUSTICE adapter writes it, its
//! `rh:ChildRoleCode` through table `case_type`. An alert has `nc:Person`
//! (plus `rh:PersonNicknameText`, `nc:PersonPhysicalFeature`),
//! `rh:ChildFound` (place, date and `rh:FoundByText`), the current carer's
//! contact as `rh:Caregiver`, the risk and the child's wishes as
//! `rh:ChildViewsText`. Police submit only incident notifications: no
//! inbound path reads these two shapes.
//!
//! # Errors
//!
//! A JSON problem document (RFC 9457) naming JSON pointers into the NIEM
//! document.

mod incident;
mod niem_shape;
mod outbound;
mod report;

#[cfg(test)]
mod tests;

use referral_hub_domain::wire::Sector;
use serde_json::Value;

use crate::codes::{CodeMap, CodeTableError};
use crate::json_document::fields::{DOCUMENT, Object, Problems, parse};
use crate::json_document::{element::native_pointer, envelope, status_update};
use crate::problem::problem_document;
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
        let working =
            parsed.as_ref().filter(|v| v.is_object()).map(|v| niem_shape::from_niem(v, table, &mut niem_problems));
        let inbound = working.as_ref().or(parsed.as_ref()).and_then(|value| {
            let root = Object::root(value, &mut problems)?;
            match path {
                INCIDENTS => report::inbound(&root, &self.codes, &mut problems).map(Inbound::Submit),
                _ => status_update::inbound(&root, &self.codes, &mut problems),
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
            Outbound::FollowUp(follow_up) => (status_update::outbound(follow_up, &self.codes)?, niem_shape::STATUS),
            Outbound::Withheld(notice) => (envelope::withheld(notice)?, niem_shape::STATUS),
        };
        // The hub's JSON document modules write plain JSON objects: reading them back cannot fail.
        let working: Value = serde_json::from_slice(&working.body).unwrap_or_default();
        Ok(envelope::document(&niem_shape::to_niem(&working, table)))
    }

    fn errors(&self, violations: &[NativeViolation]) -> Document {
        problem_document(violations)
    }

    fn native_element(&self, path: &str, canonical_field: &str) -> String {
        let (table, niem) = if path == STATUS {
            (status_update::ELEMENT_TABLE, niem_shape::STATUS)
        } else {
            (report::ELEMENT_TABLE, niem_shape::INCIDENT)
        };
        native_pointer(table, canonical_field)
            .map_or_else(|| canonical_field.to_owned(), |working| niem_shape::niem_pointer(&working, niem))
    }
}
