//! The child-friendly handling block of a case transfer in NIEM JSON
//! (`rh:ChildHandling`, the hub's extension: NIEM has no element for it).
//! JUSTICE writes it first in its case document and POLICE in its incident
//! document, in the same names, so a police system forwarding a transfer to
//! a court passes it on unchanged.

use referral_hub_domain::wire::{Guardian, JusticeCaseType, JusticeHandling, SafetyMeasures};
use serde::Serialize;
use serde_json::Value;

use super::{empty, full_name, none};
use crate::native_json::native_enum;
use crate::{CodeMap, Unmapped};

/// The child-friendly handling block of a case transfer. Inside it, the
/// needs that change how the court first meets the child (role, age,
/// interviews, interpreter, protective measures) come before the rest.
#[derive(Serialize)]
pub(crate) struct Handling<'a> {
    #[serde(rename = "rh:ChildRoleCode")]
    role: String,
    #[serde(rename = "rh:AgeAtEventsYearsQuantity", skip_serializing_if = "Option::is_none")]
    age_at_events: Option<u32>,
    #[serde(rename = "rh:AgeVerifiedIndicator")]
    age_verified: bool,
    #[serde(rename = "rh:BelowMinimumAgeOfCriminalResponsibilityIndicator")]
    below_minimum_age: bool,
    #[serde(rename = "rh:DiversionRecommendedIndicator")]
    diversion_recommended: bool,
    #[serde(rename = "rh:DoNotReinterviewIndicator")]
    do_not_reinterview: bool,
    #[serde(rename = "rh:InterpreterNeededIndicator")]
    interpreter_needed: bool,
    #[serde(rename = "rh:InterpreterLanguageCode", skip_serializing_if = "empty")]
    interpreter_language: &'a str,
    #[serde(rename = "rh:SafetyMeasures", skip_serializing_if = "Option::is_none")]
    safety_measures: Option<Measures>,
    #[serde(rename = "rh:DisabilityAccommodationText", skip_serializing_if = "empty")]
    disability_accommodations: &'a str,
    #[serde(rename = "rh:SupportPersonText", skip_serializing_if = "empty")]
    support_person: &'a str,
    #[serde(rename = "rh:LegalRepresentativeText", skip_serializing_if = "empty")]
    legal_representative: &'a str,
    #[serde(rename = "rh:ParentGuardian", skip_serializing_if = "Vec::is_empty")]
    guardians: Vec<GuardianElement<'a>>,
    #[serde(rename = "hs:PlacementText", skip_serializing_if = "empty")]
    custody_or_placement: &'a str,
    #[serde(rename = "rh:RecordedInterviewQuantity")]
    interviews_recorded: u32,
    #[serde(rename = "rh:RecordedInterviewID", skip_serializing_if = "none")]
    interview_references: &'a [String],
    #[serde(rename = "rh:MedicalExaminationReportID", skip_serializing_if = "empty")]
    medical_examination_reference: &'a str,
    #[serde(rename = "rh:RightsInformedDate", skip_serializing_if = "empty")]
    rights_informed_on: &'a str,
    #[serde(rename = "rh:RightsInformedByText", skip_serializing_if = "empty")]
    rights_informed_by: &'a str,
    #[serde(rename = "rh:ChildViewsOnProceedingsText", skip_serializing_if = "empty")]
    child_views: &'a str,
}

#[derive(Serialize)]
struct Measures {
    #[serde(rename = "rh:NoContactWithAllegedOffenderIndicator")]
    no_contact: bool,
    #[serde(rename = "rh:AnonymityIndicator")]
    anonymity: bool,
    #[serde(rename = "rh:SeparateWaitingAreaIndicator")]
    separate_waiting_area: bool,
}

#[derive(Serialize)]
struct GuardianElement<'a> {
    #[serde(rename = "nc:PersonName", skip_serializing_if = "Option::is_none")]
    name: Option<Value>,
    #[serde(rename = "rh:PersonRelationshipText", skip_serializing_if = "empty")]
    relationship: &'a str,
    #[serde(rename = "rh:ConflictOfInterestIndicator")]
    conflict: bool,
    #[serde(rename = "rh:ConflictOfInterestText", skip_serializing_if = "empty")]
    conflict_note: &'a str,
}

/// The handling block through `codes`' table `case_type`.
pub(crate) fn handling<'a>(codes: &CodeMap, h: &'a JusticeHandling) -> Result<Handling<'a>, Unmapped> {
    let role = native_enum(codes, "case_type", JusticeCaseType::try_from(h.case_type).ok().map(|t| t.as_str_name()))?;
    Ok(Handling {
        role,
        age_at_events: h.age_at_events_years,
        age_verified: h.age_verified,
        below_minimum_age: h.below_minimum_age_of_criminal_responsibility,
        diversion_recommended: h.diversion_recommended,
        do_not_reinterview: h.do_not_reinterview,
        interpreter_needed: h.interpreter_needed,
        interpreter_language: &h.interpreter_language,
        safety_measures: h.safety_measures.as_ref().map(measures),
        disability_accommodations: &h.disability_accommodations,
        support_person: &h.support_person,
        legal_representative: &h.legal_representative,
        guardians: h.guardians.iter().map(guardian).collect(),
        custody_or_placement: &h.custody_or_placement,
        interviews_recorded: h.interviews_recorded,
        interview_references: &h.interview_references,
        medical_examination_reference: &h.medical_examination_reference,
        rights_informed_on: &h.rights_informed_on,
        rights_informed_by: &h.rights_informed_by,
        child_views: &h.child_views,
    })
}

fn measures(m: &SafetyMeasures) -> Measures {
    Measures {
        no_contact: m.no_contact_with_alleged_offender,
        anonymity: m.anonymity,
        separate_waiting_area: m.separate_waiting_area,
    }
}

fn guardian(g: &Guardian) -> GuardianElement<'_> {
    GuardianElement {
        name: full_name(&g.name),
        relationship: &g.relationship,
        conflict: g.conflict_of_interest,
        conflict_note: &g.conflict_note,
    }
}
