//! NIEM 5.2 naming shared by the JUSTICE and POLICE adapters: the JSON-LD
//! `@context` every document carries, the hub's extension vocabulary (`rh:`)
//! for what NIEM has no element for, and the small NIEM structures (an
//! identification, a date) both adapters write and read.
//!
//! The prefixes are NIEM's own (`nc:` NIEM Core, `j:` Justice, `hs:` Human
//! Services, which replaced CYFS in NIEM 4) and map to the namespace URIs of
//! the NIEM 5.2 release's `json-ld/context.json`, so a NIEM JSON consumer
//! expands every name to the release's property. A test checks every name
//! the two adapters write or read against the release's property list.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::social_welfare::native_json::Reader;

/// Namespace URIs, as NIEM 5.2's `json-ld/context.json` has them.
pub(crate) const NIEM_CORE: &str = "http://release.niem.gov/niem/niem-core/5.0/#";
/// NIEM Justice (jxdm 7.2, the version NIEM 5.2 ships).
pub(crate) const JUSTICE: &str = "http://release.niem.gov/niem/domains/jxdm/7.2/#";
/// NIEM Human Services 5.2 (child welfare, juvenile cases).
pub(crate) const HUMAN_SERVICES: &str = "http://release.niem.gov/niem/domains/humanServices/5.2/#";
/// The hub's extension namespace, for what NIEM has no element for.
pub(crate) const HUB_EXTENSION: &str = "https://referral-hub.org/niem/extension/1.0/#";

/// The `@context` of every document: each prefix used, and no other.
pub(crate) fn context() -> Value {
    json!({ "nc": NIEM_CORE, "j": JUSTICE, "hs": HUMAN_SERVICES, "rh": HUB_EXTENSION })
}

/// The hub's extension elements (`rh:`), each with what it carries: the
/// child-friendly justice handling and the hub's own codes, which NIEM has
/// no element for. Published in docs/connect/justice.md; a test fails on an
/// `rh:` name written or read that is not here, and on one here that is
/// never used.
pub(crate) const EXTENSION: &[(&str, &str)] = &[
    ("rh:AcknowledgeByDateTime", "when the receiver must acknowledge the message"),
    ("rh:AgeAtEventsYearsQuantity", "the child's age in years when the events happened"),
    ("rh:AgeVerifiedIndicator", "whether the child's age was verified"),
    ("rh:AnonymityIndicator", "the child's identity must not be disclosed"),
    (
        "rh:BelowMinimumAgeOfCriminalResponsibilityIndicator",
        "the child was below the minimum age of criminal responsibility",
    ),
    ("rh:Caregiver", "the child's current caregiver (a nc:PersonType)"),
    ("rh:CaregiverExclusionCode", "whether and why the caregiver is excluded from contact"),
    ("rh:ChildHandling", "the child-friendly handling block, first in a case transfer"),
    ("rh:ChildInformedIndicator", "the child was told about the referral"),
    ("rh:ChildRoleCode", "the child's role: victim, witness, delinquency, dependency"),
    ("rh:ChildViewsOnProceedingsText", "the child's views on the proceedings"),
    ("rh:ChildViewsText", "the child's views on the referral"),
    ("rh:ConflictOfInterestIndicator", "the parent or guardian has a conflict of interest"),
    ("rh:ConflictOfInterestText", "what the conflict of interest is"),
    ("rh:DisabilityAccommodationText", "accommodations the child needs"),
    ("rh:DisplacementStatusCode", "the child's displacement status, in the hub's taxonomy"),
    ("rh:DiversionRecommendedIndicator", "diversion from judicial proceedings is recommended"),
    ("rh:DoNotReinterviewIndicator", "the child must not be interviewed again"),
    ("rh:EventOrganizationID", "the hub id of the organisation that posted the event"),
    ("rh:InterpreterLanguageCode", "the interpreter's language, ISO 639-1"),
    ("rh:InterpreterNeededIndicator", "the child needs an interpreter"),
    ("rh:LegalRepresentativeText", "the child's legal representative"),
    ("rh:LocationAreaCode", "the hub's area code of a location"),
    ("rh:MedicalExaminationReportID", "the reference of the medical examination report"),
    ("rh:NoContactWithAllegedOffenderIndicator", "no contact with the alleged offender"),
    ("rh:ParentGuardian", "a parent or guardian of the child (a nc:PersonType)"),
    ("rh:PersonDisabilityText", "the child's disability"),
    ("rh:PersonLanguageCode", "a language the child speaks, ISO 639-1"),
    ("rh:PersonLinkKeyID", "the hub's link key of the child"),
    ("rh:PersonNicknameText", "a name the child is known by"),
    ("rh:PersonRelationshipText", "the person's relationship to the child"),
    ("rh:PriorityCode", "the referral's urgency"),
    ("rh:ProtectionConcernCode", "a protection concern, in the hub's taxonomy"),
    ("rh:ProtectiveActionText", "what the police did to protect the child"),
    ("rh:RecordedInterviewID", "the reference of a recorded interview"),
    ("rh:RecordedInterviewQuantity", "how many times the child was interviewed on record"),
    ("rh:RequestedServiceCode", "a requested service, in the hub's taxonomy"),
    ("rh:RightsInformedByText", "who informed the child of their rights"),
    ("rh:RightsInformedDate", "when the child was informed of their rights"),
    ("rh:RiskLevelCode", "the risk level: high, medium, low"),
    ("rh:SafetyConcernText", "safety concerns for the child"),
    ("rh:SafetyMeasures", "protective measures for the child in proceedings"),
    ("rh:SeparateWaitingAreaIndicator", "the child needs a separate waiting area"),
    ("rh:ShareWithSenderIndicator", "the event may be shared with the message's sender"),
    ("rh:SupportPersonText", "the child's support person"),
    ("rh:WithheldNotice", "a message the hub may no longer deliver"),
    ("rh:WithheldReasonCode", "why the hub withheld a message"),
];

/// `nc:IdentificationType` with only its id.
#[derive(Serialize)]
pub(crate) struct Identification<'a> {
    #[serde(rename = "nc:IdentificationID")]
    pub(crate) id: &'a str,
}

/// An `nc:DateType` holding a date in the precision the text has: a year
/// (`nc:YearDate`), a month (`nc:YearMonthDate`) or a full date (`nc:Date`).
pub(crate) fn date(text: &str) -> Value {
    let representation = match text.len() {
        4 => "nc:YearDate",
        7 => "nc:YearMonthDate",
        _ => "nc:Date",
    };
    json!({ representation: text })
}

/// An `nc:DateType` holding a date-time.
pub(crate) fn date_time(text: String) -> Value {
    json!({ "nc:DateTime": text })
}

/// The JSON pointer of `key` inside `parent`'s member `wrapper`, e.g. the
/// `nc:IdentificationID` of an `nc:ActivityIdentification`.
pub(crate) fn inner(reader: &Reader<'_>, parent: &str, wrapper: &str, key: &str) -> String {
    reader.at(&reader.at(parent, wrapper), key)
}

/// Member `wrapper` of `object` when present (else an empty object), and its
/// pointer; a wrapper that is not an object is a violation.
pub(crate) fn optional_object<'v>(
    reader: &mut Reader<'_>,
    object: &'v Map<String, Value>,
    wrapper: &str,
    parent: &str,
) -> (Option<&'v Map<String, Value>>, String) {
    let at = reader.at(parent, wrapper);
    match object.get(wrapper) {
        None | Some(Value::Null) => (None, at),
        Some(value) => (reader.object(value, &at), at),
    }
}
