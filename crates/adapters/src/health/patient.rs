//! The child as a FHIR `Patient` and the caregiver as a `RelatedPerson`, both ways.

use serde_json::{Value, json};
use time::Date;

use referral_hub_domain::wire::{Caregiver, CaregiverExclusion, ChildDetails, ChildRef, Location};

use super::fhir_date::{FhirDate, Precision, day};
use super::json::{El, Issues, non_empty};
use super::{extension_url, naming};
use crate::{CodeMap, Unmapped};

const NATIONALITY: &str = "http://hl7.org/fhir/StructureDefinition/patient-nationality";
const ISO_3166: &str = "urn:iso:std:iso:3166";
const BCP_47: &str = "urn:ietf:bcp:47";
const UCUM: &str = "http://unitsofmeasure.org";

/// What a Patient says about the child.
#[derive(Debug, Default)]
pub(super) struct Child {
    pub reference: ChildRef,
    pub details: ChildDetails,
    /// `address` with `use` = `temp`: where the child is now.
    pub location: Option<Location>,
    /// `name` entries with `use` = `nickname`.
    pub nicknames: Vec<String>,
    /// `birthDate` at whatever precision it was given (the consent's age is derived from it).
    pub birth_date: Option<FhirDate>,
}

/// Reads the child from a Patient; `as_of` is the day the document speaks of
/// (see [`super::submit`]), from which a partial `birthDate` gives an age.
pub(super) fn read(patient: &El, codes: &CodeMap, as_of: Option<Date>, issues: &mut Issues) -> Child {
    let mut child = Child { reference: identifiers(patient, issues), ..Child::default() };
    names(patient, &mut child, issues);
    let gender = patient.req_str("gender", issues);
    if !gender.is_empty() {
        child.details.sex =
            issues.hub(codes, "gender", gender, &format!("{}.gender", patient.path)).unwrap_or("").into();
    }
    if let Some(age) = patient.extension(&extension_url("estimated-age"), issues)
        && let Some(value) = age.req_object("valueAge", issues)
    {
        child.details.estimated_age_years = value.uint("value", u64::from(u32::MAX), issues).map(|n| n as u32);
    }
    birth_date(patient, as_of, &mut child, issues);
    for language in patient.array("communication", issues) {
        if let Some(concept) = language.req_object("language", issues)
            && let Some((code, _)) = concept.code(BCP_47, issues)
        {
            child.details.languages.push(code.into());
        }
    }
    circumstances(patient, &mut child.details, issues);
    child.location = location(patient, issues);
    child
}

/// The child's reference from `identifier`: the link key and national id by
/// their systems, the first other one as the sender's own id (required).
fn identifiers(patient: &El, issues: &mut Issues) -> ChildRef {
    let mut reference = ChildRef::default();
    for identifier in patient.array("identifier", issues) {
        let (system, value) = (identifier.str("system", issues), identifier.req_str("value", issues));
        if system == naming("link-key") {
            reference.link_key = value.into();
        } else if system == naming("national-id") {
            reference.national_id = value.into();
        } else if reference.local_id.is_empty() {
            reference.local_id = value.into();
        }
    }
    if reference.local_id.is_empty() {
        issues.add(format!("{}.identifier", patient.path), "required: the sending system's own id for the child");
    }
    reference
}

/// `name`: nicknames (`use` = `nickname`), and the first other name as the
/// child's given and family names.
fn names(patient: &El, child: &mut Child, issues: &mut Issues) {
    let details = &mut child.details;
    for name in patient.array("name", issues) {
        if name.str("use", issues) == "nickname" {
            let given = name.array("given", issues).iter().map(|g| g.value.as_str().unwrap_or("")).collect::<Vec<_>>();
            let text = name.str("text", issues);
            child.nicknames.push(if text.is_empty() { given.join(" ") } else { text.into() });
        } else if details.given_name.is_empty() && details.family_name.is_empty() {
            let given: Vec<&str> = name.array("given", issues).iter().filter_map(|g| g.value.as_str()).collect();
            details.given_name = given.join(" ");
            details.family_name = name.str("family", issues).into();
        }
    }
}

/// `birthDate`: a whole day is the date of birth; a year or a month gives
/// the child's age on `as_of` instead (the canonical form keeps whole days
/// only), unless an explicit estimated age was given, which wins.
fn birth_date(patient: &El, as_of: Option<Date>, child: &mut Child, issues: &mut Issues) {
    child.birth_date = patient.date("birthDate", issues);
    let details = &mut child.details;
    match child.birth_date {
        Some(born) if born.precision == Precision::Day => details.date_of_birth = day(born.first_day()),
        Some(_) if details.estimated_age_years.is_some() => {}
        Some(born) => match as_of.map(|on| born.age_on(on)) {
            Some(Some(age)) => details.estimated_age_years = Some(age),
            Some(None) => {
                issues.add(format!("{}.birthDate", patient.path), "must not be after the date the Bundle speaks of")
            }
            None => issues.add(
                format!("{}.birthDate", patient.path),
                "a year or year-month birthDate needs the date the Bundle speaks of (ServiceRequest.authoredOn or \
                 Bundle.timestamp) to give the child's age, or the estimated-age extension",
            ),
        },
        None => {}
    }
}

/// The disability, displacement status and nationality extensions.
fn circumstances(patient: &El, details: &mut ChildDetails, issues: &mut Issues) {
    if let Some(disability) = patient.extension(&extension_url("disability"), issues) {
        details.disability = disability.str("valueString", issues).into();
    }
    if let Some(displacement) = patient.extension(&extension_url("displacement-status"), issues) {
        details.displacement_status = displacement.req_str("valueCode", issues).into();
    }
    if let Some(nationality) = patient.extension(NATIONALITY, issues)
        && let Some(code) = nationality.extension("code", issues)
        && let Some(concept) = code.req_object("valueCodeableConcept", issues)
        && let Some((country, _)) = concept.code(ISO_3166, issues)
    {
        details.nationality = country.into();
    }
}

/// Where the child is now: the `address` with `use` = `temp`.
fn location(patient: &El, issues: &mut Issues) -> Option<Location> {
    let address = patient.array("address", issues).into_iter().find(|a| a.value.get("use") == Some(&"temp".into()))?;
    let area = address.extension(&extension_url("area-code"), issues);
    Some(Location {
        area_code: area.map(|a| a.str("valueString", issues).to_owned()).unwrap_or_default(),
        description: address.str("text", issues).into(),
    })
}

/// A Patient for the child.
pub(super) fn write(id: &str, child: &Child, codes: &CodeMap) -> Result<Value, Unmapped> {
    let (reference, details) = (&child.reference, &child.details);
    let identifier = [("local-id", &reference.local_id), ("link-key", &reference.link_key)]
        .into_iter()
        .filter_map(|(kind, value)| non_empty(value).map(|v| json!({"system": naming(kind), "value": v})))
        .collect::<Vec<_>>();
    let mut names = vec![json!({"use": "official", "family": details.family_name, "given": [details.given_name]})];
    names.extend(child.nicknames.iter().map(|n| json!({"use": "nickname", "text": n})));
    let gender = non_empty(&details.sex).map(|s| codes.to_native("gender", s)).transpose()?;
    let mut extension = vec![];
    if let Some(age) = details.estimated_age_years {
        extension.push(json!({"url": extension_url("estimated-age"),
            "valueAge": {"value": age, "unit": "years", "system": UCUM, "code": "a"}}));
    }
    if let Some(disability) = non_empty(&details.disability) {
        extension.push(json!({"url": extension_url("disability"), "valueString": disability}));
    }
    if let Some(status) = non_empty(&details.displacement_status) {
        extension.push(json!({"url": extension_url("displacement-status"), "valueCode": status}));
    }
    if let Some(country) = non_empty(&details.nationality) {
        extension.push(json!({"url": NATIONALITY, "extension": [{"url": "code",
            "valueCodeableConcept": {"coding": [{"system": ISO_3166, "code": country}]}}]}));
    }
    let address = child.location.as_ref().map(|l| {
        json!([{"use": "temp", "text": l.description,
            "extension": non_empty(&l.area_code).map(|a| json!([{"url": extension_url("area-code"), "valueString": a}]))}])
    });
    Ok(json!({
        "resourceType": "Patient",
        "id": id,
        "extension": extension,
        "identifier": identifier,
        "name": names,
        "gender": gender,
        "birthDate": details.date_of_birth,
        "address": address,
        "communication": details.languages.iter()
            .map(|l| json!({"language": {"coding": [{"system": BCP_47, "code": l}]}})).collect::<Vec<_>>(),
    }))
}

/// Reads the caregiver from a RelatedPerson.
pub(super) fn read_caregiver(person: &El, codes: &CodeMap, issues: &mut Issues) -> Caregiver {
    let mut caregiver = Caregiver {
        relationship: person.array("relationship", issues).first().map(|r| r.str("text", issues)).unwrap_or("").into(),
        name: person.array("name", issues).first().map(|n| n.str("text", issues)).unwrap_or("").into(),
        address: person.array("address", issues).first().map(|a| a.str("text", issues)).unwrap_or("").into(),
        ..Caregiver::default()
    };
    if let Some(phone) =
        person.array("telecom", issues).into_iter().find(|t| t.value.get("system") == Some(&"phone".into()))
    {
        caregiver.phone = phone.str("value", issues).into();
    }
    if let Some(exclusion) = person.extension(&extension_url("caregiver-exclusion"), issues) {
        let code = exclusion.req_str("valueCode", issues);
        let hub = issues.hub(codes, "caregiver_exclusion", code, &format!("{}.valueCode", exclusion.path));
        caregiver.exclusion = hub.and_then(CaregiverExclusion::from_str_name).map_or(0, |e| e as i32);
    }
    caregiver
}

/// A RelatedPerson for the caregiver of the child `patient` (a Reference).
pub(super) fn write_caregiver(
    id: &str,
    patient: &Value,
    caregiver: &Caregiver,
    codes: &CodeMap,
) -> Result<Value, Unmapped> {
    let exclusion = match CaregiverExclusion::try_from(caregiver.exclusion) {
        Ok(CaregiverExclusion::Unspecified) | Err(_) => None,
        Ok(e) => Some(json!([{"url": extension_url("caregiver-exclusion"),
            "valueCode": codes.to_native("caregiver_exclusion", e.as_str_name())?}])),
    };
    Ok(json!({
        "resourceType": "RelatedPerson",
        "id": id,
        "extension": exclusion,
        "patient": patient,
        "relationship": [{"text": caregiver.relationship}],
        "name": [{"text": caregiver.name}],
        "telecom": [{"system": "phone", "value": caregiver.phone}],
        "address": [{"text": caregiver.address}],
    }))
}
