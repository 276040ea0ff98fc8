//! The HEALTH adapter: HL7 FHIR R4 JSON (R4B-compatible), so that a
//! hospital's or clinic's system exchanges referrals in the format it already
//! speaks (docs/adapters.md "The adapters", docs/connect/health.md).
//!
//! # Paths
//!
//! - `POST /fhir/r4/Bundle`: a referral (a `transaction` Bundle, or a `message`
//!   Bundle whose MessageHeader.eventCoding is BSeR's v2-0003 `I12` or the
//!   hub's `service-referral`) or a
//!   separated-child alert (a `message` Bundle with event
//!   `separated-child-alert`), both of `https://referral-hub.org/fhir/CodeSystem/message-event`.
//! - `POST /fhir/r4/Task`: a status update on a message the agency received or sent.
//!
//! Hub-defined names: CodeSystems `https://referral-hub.org/fhir/CodeSystem/<name>`,
//! extensions `https://referral-hub.org/fhir/StructureDefinition/<name>`,
//! identifier systems `https://referral-hub.org/fhir/sid/<name>`. Codes go through
//! the tables of `health/codes.toml`; a code without a mapping is a violation naming it.
//! Concerns and services may also come as codings of other systems (SNOMED CT …),
//! read through a FHIR ConceptMap ([`ConceptMap`], default `health/snomed-ct.conceptmap.json`).
//!
//! Dates: every `date`/`dateTime` at the precision R4 allows (a year, a month,
//! a day, a time with zone); how a period becomes the hub's instants and days
//! is in `health/fhir_date.rs` (lower bounds take its start, upper bounds its
//! end; a partial `birthDate` gives the youngest age the child can be on the
//! day the Bundle speaks of).
//!
//! # Referral Bundle -> SubmitMessageRequest
//!
//! | canonical | FHIR |
//! |---|---|
//! | request_id | the first of `Bundle.identifier.value`, the ServiceRequest's `identifier` (the v2-0203 `PLAC` one first), its `id`, its entry's `fullUrl`: POST entries need no id |
//! | recipient_org_id | the one `ServiceRequest.performer`: `Organization/<id>`, an Organization entry (by fullUrl) or a logical reference with identifier system `sid/organisation` |
//! | child (ChildRef) | `Patient.identifier`: system `sid/link-key` -> link_key, `sid/national-id` -> national_id, the first other -> local_id |
//! | protection_concerns | `ServiceRequest.reasonCode[]`, CodeSystem `protection-concern` (else through the ConceptMap), table `concerns` |
//! | risk_level | extension `risk-level` (valueCode, table `risk_level`), else read from `ServiceRequest.priority` through table `priority` (asap/stat HIGH, urgent MEDIUM, routine LOW) |
//! | priority | `ServiceRequest.priority` through table `request_priority` (missing: routine, as R4 says) |
//! | requested_services | `ServiceRequest.code.coding[]` in CodeSystem `service` (one coding per service: the hub's services are not alternatives; else through the ConceptMap), table `services` |
//! | reason, safety_concerns, child_views | `ServiceRequest.note[]` tagged with extension `note-kind` = `reason`, `safety-concerns`, `child-views` |
//! | notes | untagged `ServiceRequest.note[]` (several joined by a blank line) |
//! | child_informed | extension `child-informed` (valueBoolean) |
//! | attachments | `ServiceRequest.supportingInfo` -> `DocumentReference` (url, contentType, size, description) |
//! | child | `Patient`: official name (given joined by spaces, family), `gender` (table `gender`), `birthDate` (a year or month: `estimated_age_years`, the youngest age on `ServiceRequest.authoredOn`, else `Bundle.timestamp`), extension `estimated-age` (valueAge in years), `communication.language` (BCP 47), extension `disability`, extension `displacement-status` (valueCode, the hub's taxonomy code), standard `patient-nationality` (ISO 3166) |
//! | current_location | `Patient.address` with `use` = `temp`: `text` and extension `area-code` |
//! | caregiver | the `RelatedPerson`: `relationship.text`, `name.text`, phone `telecom`, `address.text`, extension `caregiver-exclusion` (table) |
//! | consent | the `Consent`, only when `status` = `active` (else no inline consent): `performer` (Patient -> child, RelatedPerson -> caregiver, or extension `consenter-role`; extension `agreement-kind`, default consent), child's age from `Patient.birthDate` and `Consent.dateTime`, `provision.type` (permit/deny), `provision.period`, `provision.actor.reference` = `Organization/<id>` or a logical reference with identifier system `sid/sector`, `provision.purpose` and `provision.class` (CodeSystems `purpose`, `data-category`), extension `consent-method`, `sourceAttachment.title` = form reference (implies written) |
//!
//! `ServiceRequest.category` and `requester` are written for the receiver but
//! not read: the sender is the caller's organisation. References between
//! entries resolve by `fullUrl` (e.g. `urn:uuid:`) or `Type/id`.
//!
//! # Alert message Bundle -> SeparatedChildAlert
//!
//! The Patient as above (plus `name` with `use` = `nickname` -> nicknames) and
//! one Observation per fact, `code` in CodeSystem `alert-observation`:
//! `separation-status`, `risk-level`, `tracing-consent` (valueCodeableConcept in
//! CodeSystems of the same names, tables of the same names), `identifying-features`,
//! `urgent-medical-needs`, `child-wishes` (valueString), `found` (valueString =
//! place description, extension `area-code`, effectiveDateTime = found_on,
//! performer.display = found_by), `separation` (effectiveDateTime = date,
//! components `place`, `reason`), `current-carer` (components `name`,
//! `relationship`, `phone`, `address`), one `sibling-with-child` per sibling
//! (components `name`, `age` valueInteger) and one `family-member` per member
//! (components `name`, `relationship`, `last-known-location`, `phone`).
//! Observations in other CodeSystems are left alone. request_id is
//! `Bundle.identifier.value`, else `MessageHeader.id`, else its entry's `fullUrl`; recipient_org_id stays
//! empty (the hub routes alerts). Case transfers are not accepted from HEALTH.
//!
//! # Task -> PostFollowUpRequest
//!
//! request_id = `Task/<id>/_history/<meta.versionId>` (unique per update);
//! message_id = `Task.focus` = `ServiceRequest/<hub message id>`; action = the
//! `businessStatus` coding in CodeSystem `follow-up-action` (table
//! `business_status`), else its coding in the BSeR CodeSystem
//! `http://hl7.org/fhir/us/bser/CodeSystem/TaskBusinessStatusCS` (table
//! `bser_business_status`: 3.0 accept, 4.0 decline, 5.1.1 schedule
//! appointment, 5.1.2 did not attend, 5.2 withdraw, 7.0 complete; 2.0, 5.1.3,
//! 5.1.4 and 6.0 have no hub action and are refused as unmapped), else
//! `Task.status` through table `task_status`
//! (received, accepted, rejected, in-progress, completed, cancelled; draft,
//! requested, ready, on-hold, failed and entered-in-error are refused as
//! unmapped); reason = `statusReason.text`, else `businessStatus.text`; note =
//! `note[].text`; outcome = `output` of type `outcome` (CodeSystem `task-output`),
//! else, for a completion, the notes; appointment_at = `executionPeriod.start`;
//! next_review_date = `output` of type `next-review-date`; share_with_sender =
//! extension `share-with-sender`.
//!
//! # Outbound
//!
//! A message is a `message` Bundle (chosen over `collection` so that the same
//! Bundle comes back in through the inbound side), as HL7 BSeR has it:
//! MessageHeader (eventCoding v2-0003 `I12` for a referral, the hub's event
//! for the others; one `focus`, the Task), the Task (`code` `fulfill`, `focus`
//! -> ServiceRequest, `requester` = sender, `owner` = receiver,
//! `restriction.period.end` = respond_by, extension `acknowledge-by`, status
//! from the message status through table `message_status`, i.e. `requested`
//! for a new message), the ServiceRequest (`identifier` typed `PLAC` = the
//! sender's request id, `priority` = how soon, extension `risk-level`,
//! `reasonCode.text`), the Patient, the payload's other resources and an
//! Organization per party; an alert gets a ServiceRequest for `family_tracing`
//! too. Every entry has a `urn:uuid:` `fullUrl` and references between entries
//! use it (`health/full_url.rs`). Every resource has the message id as its id
//! (DocumentReferences and Observations `<id>-<n>`, Organizations their hub
//! id), so follow-ups update `Task/<message id>`. Fields disclosure cut are
//! absent. A follow-up is that Task updated (businessStatus = the action:
//! first its BSeR coding when table `bser_business_status` has one, for BSeR
//! systems, then always the hub's `follow-up-action` coding, which every
//! action has and which the inbound side prefers; status = the message's
//! status after it, `meta.versionId` = follow-up id, extension `updated-by` =
//! the organisation that posted it; `requester` and `owner` stay the
//! message's sender and receiver, written by `outbound_follow_up` for a
//! caller that knows them, and left out by `outbound` otherwise).
//! A withheld message is its Task `on-hold` with the refusals as
//! `statusReason` codings (CodeSystem `consent-refusal`) and nothing else.
//! A case transfer (a clinic may be told that responsibility for a patient's
//! case moves) is the referral's Bundle with event `case-transfer`: the
//! ServiceRequest has the transfer's concerns, risk (`priority`), reason,
//! safety concerns, child's views and attachments, the case summary as its
//! untagged note, and no `code` (nothing is requested of the clinic). Its
//! justice block is LEGAL, which HEALTH does not see, so it has no FHIR
//! element. The inbound side refuses this event: transfers are not accepted
//! from HEALTH, so these Bundles do not come back in.

mod alert;
mod bundle;
mod concept_map;
mod consent;
mod delivery;
mod fhir_date;
mod full_url;
mod json;
mod outcome;
mod patient;
mod referral;
mod submit;
mod task;
mod vocabulary;

use referral_hub_domain::wire::{FollowUp, MessageStatus, Sector};

pub use concept_map::{ConceptMap, ConceptMapError};
pub use full_url::unbundled;

use crate::codes::CodeTableError;
use crate::{
    Adapter, CodeMap, Document, Inbound, MAX_DOCUMENT_BYTES, MessageParties, NativeViolation, Outbound, Unmapped,
};
use json::{El, Issues};

const BUNDLE_PATH: &str = "/fhir/r4/Bundle";
const TASK_PATH: &str = "/fhir/r4/Task";
const PATHS: &[&str] = &[BUNDLE_PATH, TASK_PATH];
const CONTENT_TYPE: &str = "application/fhir+json";
const BASE: &str = "https://referral-hub.org/fhir";
const REFERRAL_EVENT: &str = "service-referral";
const ALERT_EVENT: &str = "separated-child-alert";
/// Outbound only: HEALTH does not send case transfers.
const TRANSFER_EVENT: &str = "case-transfer";
/// The BSeR IG's Task business status CodeSystem (HL7 FHIR US, Bidirectional
/// Services eReferrals), read and written through table `bser_business_status`.
const BSER_BUSINESS_STATUS: &str = "http://hl7.org/fhir/us/bser/CodeSystem/TaskBusinessStatusCS";
/// HL7 v2 table 0003 (event type), whose `I12` (REF/RRI, patient referral)
/// BSeR fixes as a referral message's `MessageHeader.eventCoding`.
const V2_0003: &str = "http://terminology.hl7.org/CodeSystem/v2-0003";
const BSER_REFERRAL_EVENT: &str = "I12";
/// HL7 v2 table 0203 (identifier type): `PLAC`, the placer's (referral
/// initiator's) identifier of a ServiceRequest in BSeR.
const V2_0203: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
/// FHIR's Task codes, whose `fulfill` BSeR fixes as `Task.code`.
const TASK_CODE: &str = "http://hl7.org/fhir/CodeSystem/task-code";
const DEFAULT_CODES: &str = include_str!("codes.toml");
/// The default ConceptMap: SNOMED CT concerns and services to the hub's.
pub const DEFAULT_CONCEPT_MAP: &str = include_str!("snomed-ct.conceptmap.json");
const TABLES: &[&str] = &[
    "priority",
    "request_priority",
    "gender",
    "concerns",
    "services",
    "task_status",
    "business_status",
    "bser_business_status",
    "message_status",
    "consent_refusal",
    "caregiver_exclusion",
    "separation_status",
    "risk_level",
    "tracing_consent",
    "consent_decision",
    "consenter_role",
    "agreement_kind",
    "caregiver_not_asked",
    "consent_method",
    "purpose",
    "data_category",
    "sector",
];

/// A hub-defined CodeSystem URI.
fn system(name: &str) -> String {
    format!("{BASE}/CodeSystem/{name}")
}

/// A hub-defined extension URL.
fn extension_url(name: &str) -> String {
    format!("{BASE}/StructureDefinition/{name}")
}

/// A hub-defined identifier system.
fn naming(name: &str) -> String {
    format!("{BASE}/sid/{name}")
}

/// Speaks FHIR R4 for the HEALTH sector, so that health information systems
/// join the hub without changing their format.
pub struct HealthAdapter {
    codes: CodeMap,
    concept_map: ConceptMap,
    names: referral::Names,
}

impl HealthAdapter {
    /// The adapter with the default code tables (`health/codes.toml`) and ConceptMap.
    pub fn new() -> Result<Self, CodeTableError> {
        Self::with_codes(DEFAULT_CODES)
    }

    /// The adapter with a deployment's own code tables (every table of the
    /// defaults must be there) and the default ConceptMap, as far as its
    /// targets are in those tables.
    pub fn with_codes(text: &str) -> Result<Self, CodeTableError> {
        let codes = CodeMap::from_toml(text, TABLES)?;
        let concept_map = ConceptMap::from_json(DEFAULT_CONCEPT_MAP, &codes).unwrap_or_default();
        Ok(Self { codes, concept_map, names: referral::Names::builtin() })
    }

    /// The adapter with a deployment's own ConceptMap (FHIR R4 JSON) in place of the default.
    pub fn with_concept_map(self, text: &str) -> Result<Self, ConceptMapError> {
        Ok(Self { concept_map: ConceptMap::from_json(text, &self.codes)?, ..self })
    }

    fn vocabulary(&self) -> vocabulary::Vocabulary<'_> {
        vocabulary::Vocabulary { codes: &self.codes, concept_map: &self.concept_map }
    }
}

impl Adapter for HealthAdapter {
    fn sector(&self) -> Sector {
        Sector::Health
    }

    fn paths(&self) -> &'static [&'static str] {
        PATHS
    }

    fn answer_path(&self) -> &'static str {
        TASK_PATH
    }

    fn inbound(&self, path: &str, document: &[u8]) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
        let root = if path == TASK_PATH { "Task" } else { "Bundle" };
        let refuse = |description: String| Err(vec![NativeViolation { element: root.into(), description }]);
        if !PATHS.contains(&path) {
            return refuse(format!("this adapter accepts {}", PATHS.join(" and ")));
        }
        if document.len() > MAX_DOCUMENT_BYTES {
            return refuse(format!("document is over {MAX_DOCUMENT_BYTES} bytes"));
        }
        let value: serde_json::Value = match serde_json::from_slice(document) {
            Ok(value @ serde_json::Value::Object(_)) => value,
            Ok(_) => return refuse("must be a JSON object".into()),
            Err(e) => return refuse(format!("not JSON (line {}, column {})", e.line(), e.column())),
        };
        let mut issues = Issues::default();
        let inbound = if path == TASK_PATH {
            let task = El::root(&value, "Task");
            if task.req_str("resourceType", &mut issues) != "Task" && task.get("resourceType").is_some() {
                issues.add("Task.resourceType", "must be Task");
            }
            Inbound::FollowUp(task::read(&task, &self.codes, &mut issues))
        } else {
            let bundle = bundle::Bundle::parse(&value, &mut issues);
            Inbound::Submit(submit::read(&bundle, &self.vocabulary(), &mut issues))
        };
        if issues.0.is_empty() { Ok(vec![inbound]) } else { Err(issues.0) }
    }

    fn outbound(&self, delivery: Outbound<'_>) -> Result<Document, Unmapped> {
        let value = match delivery {
            Outbound::Message(message) => delivery::write(message, &self.codes, &self.names)?,
            Outbound::FollowUp(follow_up) => json::prune(task::for_follow_up(follow_up, None, &self.codes)?),
            Outbound::Withheld(withheld) => json::prune(task::for_withheld(withheld, &self.codes)?),
        };
        Ok(document(&value))
    }

    fn outbound_follow_up(&self, follow_up: &FollowUp, parties: MessageParties<'_>) -> Result<Document, Unmapped> {
        Ok(document(&json::prune(task::for_follow_up(follow_up, Some(parties), &self.codes)?)))
    }

    fn errors(&self, violations: &[NativeViolation]) -> Document {
        document(&outcome::operation_outcome(violations))
    }

    fn native_element(&self, path: &str, canonical_field: &str) -> String {
        outcome::native_element(path, canonical_field)
    }

    fn statuses_for(&self, native: &str) -> Vec<MessageStatus> {
        // Every status the table maps to `native` (Task.status): e.g. `requested` is SUBMITTED and DELIVERED.
        (1..=i32::MAX)
            .map_while(|n| MessageStatus::try_from(n).ok())
            .filter(|status| self.codes.to_native("message_status", status.as_str_name()).is_ok_and(|n| n == native))
            .collect()
    }
}

fn document(value: &serde_json::Value) -> Document {
    // Serialising a Value built from strings and numbers cannot fail.
    Document { content_type: CONTENT_TYPE, body: serde_json::to_vec_pretty(value).unwrap_or_default() }
}
