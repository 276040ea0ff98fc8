//! A transfer's child-friendly justice handling block <-> the hub-specific
//! `hub_justice_handling` object of a Primero transfer (Primero has no justice
//! form). Members are the canonical field names in snake case; `case_type`
//! maps through table `justice_case_type`; booleans and
//! `interviews_recorded` are always written, so absent reads as false / 0;
//! `safety_measures` is present exactly when given.

use referral_hub_domain::wire::{Guardian, JusticeCaseType, JusticeHandling, SafetyMeasures};
use serde_json::{Map, Value};

use super::primero_out::put;
use crate::native_json::{Reader, native_enum};
use crate::{CodeMap, Unmapped};

/// The members of safety measures, in `SafetyMeasures` field order.
const MEASURES: [&str; 3] = ["no_contact_with_alleged_offender", "anonymity", "separate_waiting_area"];

/// The block as a JSON object.
pub(super) fn out(codes: &CodeMap, j: &JusticeHandling) -> Result<Value, Unmapped> {
    let mut o = Map::new();
    let case_type = JusticeCaseType::try_from(j.case_type).ok().map(|c| c.as_str_name());
    o.insert("case_type".into(), native_enum(codes, "justice_case_type", case_type)?.into());
    if let Some(age) = j.age_at_events_years {
        o.insert("age_at_events_years".into(), age.into());
    }
    for (member, flag) in [
        ("age_verified", j.age_verified),
        ("below_minimum_age_of_criminal_responsibility", j.below_minimum_age_of_criminal_responsibility),
        ("diversion_recommended", j.diversion_recommended),
        ("interpreter_needed", j.interpreter_needed),
        ("do_not_reinterview", j.do_not_reinterview),
    ] {
        o.insert(member.into(), flag.into());
    }
    for (member, text) in [
        ("custody_or_placement", &j.custody_or_placement),
        ("legal_representative", &j.legal_representative),
        ("support_person", &j.support_person),
        ("interpreter_language", &j.interpreter_language),
        ("disability_accommodations", &j.disability_accommodations),
        ("medical_examination_reference", &j.medical_examination_reference),
        ("rights_informed_on", &j.rights_informed_on),
        ("rights_informed_by", &j.rights_informed_by),
        ("child_views", &j.child_views),
    ] {
        put(&mut o, member, text);
    }
    let guardians: Vec<Value> = j
        .guardians
        .iter()
        .map(|g| {
            let mut entry = Map::new();
            put(&mut entry, "name", &g.name);
            put(&mut entry, "relationship", &g.relationship);
            entry.insert("conflict_of_interest".into(), g.conflict_of_interest.into());
            put(&mut entry, "conflict_note", &g.conflict_note);
            Value::Object(entry)
        })
        .collect();
    if !guardians.is_empty() {
        o.insert("guardians".into(), guardians.into());
    }
    if !j.interview_references.is_empty() {
        o.insert("interview_references".into(), j.interview_references.clone().into());
    }
    o.insert("interviews_recorded".into(), j.interviews_recorded.into());
    if let Some(s) = &j.safety_measures {
        let flags = [s.no_contact_with_alleged_offender, s.anonymity, s.separate_waiting_area];
        let measures: Map<String, Value> = MEASURES.iter().zip(flags).map(|(m, f)| ((*m).into(), f.into())).collect();
        o.insert("safety_measures".into(), measures.into());
    }
    Ok(Value::Object(o))
}

/// The block from the object at `at`.
pub(super) fn read(r: &mut Reader<'_>, o: &Map<String, Value>, at: &str) -> JusticeHandling {
    let flag = |r: &mut Reader<'_>, key: &str| r.boolean(o, key, at).unwrap_or(false);
    let mut guardians = Vec::new();
    for (item, g) in r.array(o, "guardians", at) {
        let Some(g) = r.object(g, &item) else { continue };
        guardians.push(Guardian {
            name: r.string(g, "name", &item, false),
            relationship: r.string(g, "relationship", &item, false),
            conflict_of_interest: r.boolean(g, "conflict_of_interest", &item).unwrap_or(false),
            conflict_note: r.string(g, "conflict_note", &item, false),
        });
    }
    let measures_at = r.at(at, "safety_measures");
    let safety_measures = match o.get("safety_measures") {
        None | Some(Value::Null) => None,
        Some(value) => r.object(value, &measures_at).map(|m| {
            let [no_contact_with_alleged_offender, anonymity, separate_waiting_area] =
                MEASURES.map(|key| r.boolean(m, key, &measures_at).unwrap_or(false));
            SafetyMeasures { no_contact_with_alleged_offender, anonymity, separate_waiting_area }
        }),
    };
    JusticeHandling {
        case_type: r.enum_member("justice_case_type", o, "case_type", at, true, |n| {
            JusticeCaseType::from_str_name(n).map(|v| v as i32)
        }),
        age_at_events_years: r.unsigned32(o, "age_at_events_years", at),
        age_verified: flag(r, "age_verified"),
        below_minimum_age_of_criminal_responsibility: flag(r, "below_minimum_age_of_criminal_responsibility"),
        diversion_recommended: flag(r, "diversion_recommended"),
        custody_or_placement: r.string(o, "custody_or_placement", at, false),
        guardians,
        legal_representative: r.string(o, "legal_representative", at, false),
        support_person: r.string(o, "support_person", at, false),
        interpreter_needed: flag(r, "interpreter_needed"),
        interpreter_language: r.string(o, "interpreter_language", at, false),
        disability_accommodations: r.string(o, "disability_accommodations", at, false),
        interview_references: r.strings(o, "interview_references", at),
        interviews_recorded: r.unsigned32(o, "interviews_recorded", at).unwrap_or(0),
        do_not_reinterview: flag(r, "do_not_reinterview"),
        medical_examination_reference: r.string(o, "medical_examination_reference", at, false),
        safety_measures,
        rights_informed_on: r.string(o, "rights_informed_on", at, false),
        rights_informed_by: r.string(o, "rights_informed_by", at, false),
        child_views: r.string(o, "child_views", at, false),
    }
}
