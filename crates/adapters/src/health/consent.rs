//! An inbound FHIR `Consent` as the hub's consent terms. Only what the
//! resource says is carried: a Bundle without an `active` Consent brings no
//! inline consent, and the hub decides over its stored records.

use referral_hub_domain::wire::{
    AgreementKind, CaregiverNotAsked, ChildRef, ConsentDecision, ConsentMethod, ConsentTerms, Consenter, ConsenterRole,
    DataCategory, Purpose, Sector,
};

use super::bundle::{Bundle, reference_id};
use super::fhir_date::FhirDate;
use super::json::{El, Issues};
use super::{extension_url, naming, system};
use crate::CodeMap;

/// The consent terms of an active Consent, `None` for any other status.
pub(super) fn read(
    consent: &El,
    bundle: &Bundle,
    child: &ChildRef,
    birth: Option<&FhirDate>,
    codes: &CodeMap,
    issues: &mut Issues,
) -> Option<ConsentTerms> {
    if consent.req_str("status", issues) != "active" {
        return None;
    }
    let mut terms = ConsentTerms { child: Some(child.clone()), ..ConsentTerms::default() };
    terms.consenters = consenters(consent, bundle, codes, issues);
    if let Some(age) = age_at_decision(consent, birth, issues) {
        terms.child_age_years = age;
    }
    how_given(consent, codes, &mut terms, issues);
    let Some(provision) = consent.req_object("provision", issues) else { return Some(terms) };
    terms.decision = hub_code(codes, issues, "consent_decision", &provision, "type")
        .and_then(ConsentDecision::from_str_name)
        .map_or(0, |d| d as i32);
    period(&provision, &mut terms, issues);
    recipients(&provision, codes, &mut terms, issues);
    purposes(&provision, codes, &mut terms, issues);
    categories(&provision, codes, &mut terms, issues);
    Some(terms)
}

/// The hub code in `table` of the required code `name` of `el`.
fn hub_code<'c>(codes: &'c CodeMap, issues: &mut Issues, table: &str, el: &El, name: &str) -> Option<&'c str> {
    let code = el.req_str(name, issues);
    if code.is_empty() { None } else { issues.hub(codes, table, code, &format!("{}.{name}", el.path)) }
}

/// `performer`: who consented, in what role and with what kind of
/// agreement; at least one is required.
fn consenters(consent: &El, bundle: &Bundle, codes: &CodeMap, issues: &mut Issues) -> Vec<Consenter> {
    let mut consenters = Vec::new();
    for performer in consent.array("performer", issues) {
        let role = consenter_role(&performer, bundle, codes, issues);
        let kind = match performer.extension(&extension_url("agreement-kind"), issues) {
            Some(kind) => {
                hub_code(codes, issues, "agreement_kind", &kind, "valueCode").and_then(AgreementKind::from_str_name)
            }
            None => Some(AgreementKind::Consent),
        };
        if let (Some(role), Some(kind)) = (role, kind) {
            consenters.push(Consenter { role: role as i32, kind: kind as i32 });
        }
    }
    if consenters.is_empty() {
        issues.add(format!("{}.performer", consent.path), "required: who consented");
    }
    consenters
}

/// A performer's role: its consenter-role extension, else what it references
/// (the Patient is the child, a RelatedPerson the caregiver).
fn consenter_role(performer: &El, bundle: &Bundle, codes: &CodeMap, issues: &mut Issues) -> Option<ConsenterRole> {
    let target = bundle.resolve(performer, issues);
    match performer.extension(&extension_url("consenter-role"), issues) {
        Some(role) => {
            hub_code(codes, issues, "consenter_role", &role, "valueCode").and_then(ConsenterRole::from_str_name)
        }
        None => {
            match target.as_ref().and_then(|t| t.value["resourceType"].as_str()) {
                Some("Patient") => Some(ConsenterRole::Child),
                Some("RelatedPerson") => Some(ConsenterRole::Caregiver),
                _ => {
                    issues.add(performer.path.clone(), "needs the consenter-role extension, or to reference the Patient or RelatedPerson of the Bundle");
                    None
                }
            }
        }
    }
}

/// The child's age at the decision (`dateTime`, required): the youngest it
/// can be (the earliest day a partial dateTime names, the latest a partial
/// birthDate does).
fn age_at_decision(consent: &El, birth: Option<&FhirDate>, issues: &mut Issues) -> Option<u32> {
    let decided_at = format!("{}.dateTime", consent.path);
    if consent.get("dateTime").is_none() {
        issues.add(decided_at.clone(), "required");
    }
    match (birth, consent.date_time("dateTime", issues)) {
        (Some(born), Some(decided)) => {
            let age = born.age_on(decided.first_day());
            if age.is_none() {
                issues.add(decided_at, "is before the Patient's birthDate");
            }
            age
        }
        (None, Some(_)) => {
            issues.add(decided_at, "needs the Patient's birthDate to give the child's age at the decision");
            None
        }
        (_, None) => None,
    }
}

/// How the consent was given: the caregiver-not-asked and consent-method
/// extensions, and the signed form (`sourceAttachment`, written unless a
/// method says otherwise).
fn how_given(consent: &El, codes: &CodeMap, terms: &mut ConsentTerms, issues: &mut Issues) {
    if let Some(not_asked) = consent.extension(&extension_url("caregiver-not-asked"), issues) {
        terms.caregiver_not_asked = hub_code(codes, issues, "caregiver_not_asked", &not_asked, "valueCode")
            .and_then(CaregiverNotAsked::from_str_name)
            .map_or(0, |c| c as i32);
    }
    if let Some(method) = consent.extension(&extension_url("consent-method"), issues) {
        terms.method = hub_code(codes, issues, "consent_method", &method, "valueCode")
            .and_then(ConsentMethod::from_str_name)
            .map_or(0, |m| m as i32);
    }
    if let Some(source) = consent.object("sourceAttachment", issues) {
        terms.form_reference = source.req_str("title", issues).into();
        if terms.method == 0 {
            terms.method = ConsentMethod::Written as i32;
        }
    }
}

/// `provision.period`: from when, and until when (required).
fn period(provision: &El, terms: &mut ConsentTerms, issues: &mut Issues) {
    if let Some(period) = provision.object("period", issues) {
        terms.valid_from = period.date_time("start", issues).map(|d| d.start());
        terms.expires_at = period.date_time("end", issues).map(|d| d.end());
    }
    if terms.expires_at.is_none() {
        issues.add(format!("{}.period.end", provision.path), "required: when the consent expires");
    }
}

/// `provision.actor`: the organisations or sectors the consent lets receive.
fn recipients(provision: &El, codes: &CodeMap, terms: &mut ConsentTerms, issues: &mut Issues) {
    for actor in provision.array("actor", issues) {
        let Some(reference) = actor.req_object("reference", issues) else { continue };
        if let Some(org) = reference_id(reference.str("reference", issues), "Organization") {
            terms.recipient_org_ids.push(org.into());
        } else if let Some(sector) =
            reference.object("identifier", issues).filter(|i| i.value["system"] == naming("sector").as_str())
        {
            let code = hub_code(codes, issues, "sector", &sector, "value").and_then(Sector::from_str_name);
            terms.recipient_sectors.extend(code.map(|s| s as i32));
        } else {
            issues
                .add(reference.path, format!("must reference an Organization or name a sector ({})", naming("sector")));
        }
    }
}

/// `provision.purpose`: what the consent is for, in the hub's code system.
fn purposes(provision: &El, codes: &CodeMap, terms: &mut ConsentTerms, issues: &mut Issues) {
    for purpose in provision.array("purpose", issues) {
        if purpose.str("system", issues) == system("purpose") {
            let code = hub_code(codes, issues, "purpose", &purpose, "code").and_then(Purpose::from_str_name);
            terms.purposes.extend(code.map(|p| p as i32));
        } else {
            issues.add(format!("{}.system", purpose.path), format!("must be {}", system("purpose")));
        }
    }
}

/// `provision.class`: the data categories the consent covers.
fn categories(provision: &El, codes: &CodeMap, terms: &mut ConsentTerms, issues: &mut Issues) {
    for class in provision.array("class", issues) {
        if class.str("system", issues) == system("data-category") {
            let code = hub_code(codes, issues, "data_category", &class, "code").and_then(DataCategory::from_str_name);
            terms.categories.extend(code.map(|c| c as i32));
        } else {
            issues.add(format!("{}.system", class.path), format!("must be {}", system("data-category")));
        }
    }
}
