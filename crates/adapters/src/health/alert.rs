//! A separated-child alert's own fields as FHIR `Observation`s coded in the
//! hub's `alert-observation` CodeSystem, both ways. The child, nicknames and
//! languages live in the Patient ([`super::patient`]).

use serde_json::{Value, json};

use referral_hub_domain::wire::{
    Carer, FamilyMember, Location, RiskLevel, SeparatedChildAlert, Separation, SeparationStatus, Sibling,
    TracingConsent,
};

use super::fhir_date::day;
use super::json::{El, Issues, non_empty};
use super::{extension_url, system};
use crate::{CodeMap, Unmapped};

/// The alert fields of the Observations about the child; other Observations are left alone.
pub(super) fn read(observations: &[El], codes: &CodeMap, issues: &mut Issues) -> SeparatedChildAlert {
    let mut alert = SeparatedChildAlert::default();
    let cs = system("alert-observation");
    for observation in observations {
        let Some(concept) = observation.req_object("code", issues) else { continue };
        let Some((code, code_at)) = concept.codes(&cs, issues).into_iter().next() else { continue };
        let text = |issues: &mut Issues| observation.str("valueString", issues).to_owned();
        match code {
            "separation-status" => {
                alert.separation_status = coded(observation, "separation_status", codes, issues)
                    .and_then(SeparationStatus::from_str_name)
                    .map_or(0, |s| s as i32)
            }
            "risk-level" => {
                alert.risk_level = coded(observation, "risk_level", codes, issues)
                    .and_then(RiskLevel::from_str_name)
                    .map_or(0, |r| r as i32)
            }
            "tracing-consent" => {
                alert.tracing_consent = coded(observation, "tracing_consent", codes, issues)
                    .and_then(TracingConsent::from_str_name)
                    .map_or(0, |t| t as i32)
            }
            "identifying-features" => alert.identifying_features = text(issues),
            "urgent-medical-needs" => alert.urgent_medical_needs = text(issues),
            "child-wishes" => alert.child_wishes = text(issues),
            "found" => found(observation, &mut alert, issues),
            "separation" => alert.separation = Some(separation(observation, &cs, issues)),
            "current-carer" => alert.current_carer = Some(carer(observation, &cs, issues)),
            "sibling-with-child" => alert.siblings_with_child.push(sibling(observation, &cs, issues)),
            "family-member" => alert.family_members.push(family_member(observation, &cs, issues)),
            other => issues.add(code_at, format!("`{other}` is not an alert observation code of {cs}")),
        }
    }
    alert
}

/// The `found` Observation: where (its area-code extension and text), when
/// and by whom the child was found.
fn found(observation: &El, alert: &mut SeparatedChildAlert, issues: &mut Issues) {
    let area = observation.extension(&extension_url("area-code"), issues);
    alert.found_at = Some(Location {
        area_code: area.map(|a| a.str("valueString", issues).to_owned()).unwrap_or_default(),
        description: observation.str("valueString", issues).to_owned(),
    });
    alert.found_on = effective_day(observation, issues);
    alert.found_by =
        observation.array("performer", issues).first().map(|p| p.str("display", issues)).unwrap_or("").into();
}

/// The `separation` Observation: its day and its components.
fn separation(observation: &El, cs: &str, issues: &mut Issues) -> Separation {
    Separation {
        date: effective_day(observation, issues),
        place: component(observation, cs, "place", issues),
        reason: component(observation, cs, "reason", issues),
    }
}

/// The `current-carer` Observation's components.
fn carer(observation: &El, cs: &str, issues: &mut Issues) -> Carer {
    Carer {
        name: component(observation, cs, "name", issues),
        relationship: component(observation, cs, "relationship", issues),
        phone: component(observation, cs, "phone", issues),
        address: component(observation, cs, "address", issues),
    }
}

/// A `sibling-with-child` Observation's components.
fn sibling(observation: &El, cs: &str, issues: &mut Issues) -> Sibling {
    Sibling {
        name: component(observation, cs, "name", issues),
        age_years: component_value(observation, cs, "age", issues)
            .and_then(|c| c.uint("valueInteger", u64::from(u32::MAX), issues))
            .map(|n| n as u32),
    }
}

/// A `family-member` Observation's components.
fn family_member(observation: &El, cs: &str, issues: &mut Issues) -> FamilyMember {
    FamilyMember {
        name: component(observation, cs, "name", issues),
        relationship: component(observation, cs, "relationship", issues),
        last_known_location: component(observation, cs, "last-known-location", issues),
        phone: component(observation, cs, "phone", issues),
    }
}

/// The day an Observation's `effectiveDateTime` names (the first day of a year or month).
fn effective_day(observation: &El, issues: &mut Issues) -> String {
    observation.date_time("effectiveDateTime", issues).map(|d| day(d.first_day())).unwrap_or_default()
}

/// The hub code of an Observation's `valueCodeableConcept` through `table`.
fn coded<'c>(observation: &El, table: &str, codes: &'c CodeMap, issues: &mut Issues) -> Option<&'c str> {
    let concept = observation.req_object("valueCodeableConcept", issues)?;
    let (code, at) = concept.code(&system(&table.replace('_', "-")), issues)?;
    issues.hub(codes, table, code, &at)
}

fn component_value<'a>(observation: &El<'a>, cs: &str, name: &str, issues: &mut Issues) -> Option<El<'a>> {
    observation.array("component", issues).into_iter().find(|c| {
        c.value["code"]["coding"]
            .as_array()
            .is_some_and(|codings| codings.iter().any(|coding| coding["system"] == cs && coding["code"] == name))
    })
}

fn component(observation: &El, cs: &str, name: &str, issues: &mut Issues) -> String {
    component_value(observation, cs, name, issues).map(|c| c.str("valueString", issues).to_owned()).unwrap_or_default()
}

/// The Observations of an alert about `patient` (a Reference), ids `<id>-<n>`.
pub(super) fn write(
    id: &str,
    patient: &Value,
    alert: &SeparatedChildAlert,
    codes: &CodeMap,
) -> Result<Vec<Value>, Unmapped> {
    let cs = system("alert-observation");
    let mut observations = coded_values(alert, codes)?;
    for (code, text) in [
        ("identifying-features", &alert.identifying_features),
        ("urgent-medical-needs", &alert.urgent_medical_needs),
        ("child-wishes", &alert.child_wishes),
    ] {
        if let Some(text) = non_empty(text) {
            observations.push((code, json!({"valueString": text})));
        }
    }
    if let Some(found) = &alert.found_at {
        observations.push(("found", json!({
            "extension": non_empty(&found.area_code).map(|a| json!([{"url": extension_url("area-code"), "valueString": a}])),
            "effectiveDateTime": alert.found_on,
            "performer": [{"display": alert.found_by}],
            "valueString": found.description,
        })));
    }
    observations.extend(with_components(alert, &cs));
    Ok(observations
        .into_iter()
        .enumerate()
        .map(|(n, (code, body))| observation(id, n, patient, &cs, code, body))
        .collect())
}

/// The values of the coded Observations (separation status, risk, tracing
/// consent), each when set.
fn coded_values(alert: &SeparatedChildAlert, codes: &CodeMap) -> Result<Vec<(&'static str, Value)>, Unmapped> {
    let coded = |table: &str, value: Result<&'static str, ()>| -> Result<Option<Value>, Unmapped> {
        match value {
            Ok(hub) if !hub.ends_with("_UNSPECIFIED") => Ok(Some(json!({"valueCodeableConcept": {"coding": [{
                "system": system(&table.replace('_', "-")), "code": codes.to_native(table, hub)?}]}}))),
            _ => Ok(None),
        }
    };
    let names = [
        (
            "separation-status",
            coded(
                "separation_status",
                SeparationStatus::try_from(alert.separation_status).map(|s| s.as_str_name()).map_err(drop),
            )?,
        ),
        (
            "risk-level",
            coded("risk_level", RiskLevel::try_from(alert.risk_level).map(|s| s.as_str_name()).map_err(drop))?,
        ),
        (
            "tracing-consent",
            coded(
                "tracing_consent",
                TracingConsent::try_from(alert.tracing_consent).map(|s| s.as_str_name()).map_err(drop),
            )?,
        ),
    ];
    Ok(names.into_iter().filter_map(|(code, value)| value.map(|v| (code, v))).collect())
}

/// The Observations whose values are components: the separation, the
/// current carer, each sibling with the child and each family member.
fn with_components(alert: &SeparatedChildAlert, cs: &str) -> Vec<(&'static str, Value)> {
    let mut observations = vec![];
    let parts = |pairs: &[(&str, &String)]| -> Value {
        pairs
            .iter()
            .map(|(name, value)| json!({"code": {"coding": [{"system": cs, "code": name}]}, "valueString": value}))
            .collect()
    };
    if let Some(s) = &alert.separation {
        observations.push((
            "separation",
            json!({"effectiveDateTime": s.date,
            "component": parts(&[("place", &s.place), ("reason", &s.reason)])}),
        ));
    }
    if let Some(c) = &alert.current_carer {
        let component = parts(&[
            ("name", &c.name),
            ("relationship", &c.relationship),
            ("phone", &c.phone),
            ("address", &c.address),
        ]);
        observations.push(("current-carer", json!({"component": component})));
    }
    for sibling in &alert.siblings_with_child {
        let mut component = parts(&[("name", &sibling.name)]);
        if let (Some(age), Value::Array(list)) = (sibling.age_years, &mut component) {
            list.push(json!({"code": {"coding": [{"system": cs, "code": "age"}]}, "valueInteger": age}));
        }
        observations.push(("sibling-with-child", json!({"component": component})));
    }
    for member in &alert.family_members {
        let component = parts(&[
            ("name", &member.name),
            ("relationship", &member.relationship),
            ("last-known-location", &member.last_known_location),
            ("phone", &member.phone),
        ]);
        observations.push(("family-member", json!({"component": component})));
    }
    observations
}

/// Observation `n` (from 0) of the alert: `body` with its id, status, code
/// and subject.
fn observation(id: &str, n: usize, patient: &Value, cs: &str, code: &str, mut body: Value) -> Value {
    let fields = [
        ("resourceType", json!("Observation")),
        ("id", json!(format!("{id}-{}", n + 1))),
        ("status", json!("final")),
        ("code", json!({"coding": [{"system": cs, "code": code}]})),
        ("subject", patient.clone()),
    ];
    if let Value::Object(map) = &mut body {
        map.extend(fields.into_iter().map(|(k, v)| (k.to_owned(), v)));
    }
    body
}
