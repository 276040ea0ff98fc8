//! Reading FHIR JSON element by element, so that every bad element is named by
//! its FHIRPath and reading goes on past it (a sender fixes all at once), and
//! writing FHIR JSON without the empty elements FHIR forbids.

use prost_types::Timestamp;
use serde_json::Value;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::fhir_date::FhirDate;

use crate::{CodeMap, NativeViolation};

/// The bad elements found so far.
#[derive(Debug, Default)]
pub(super) struct Issues(pub Vec<NativeViolation>);

impl Issues {
    pub fn add(&mut self, element: impl Into<String>, description: impl Into<String>) {
        self.0.push(NativeViolation { element: element.into(), description: description.into() });
    }

    /// The hub code for a FHIR `code` of `table`, or a violation naming it and the allowed codes.
    pub fn hub<'c>(&mut self, codes: &'c CodeMap, table: &str, code: &str, at: &str) -> Option<&'c str> {
        match codes.to_hub(table, code) {
            Ok(hub) => Some(hub),
            Err(unmapped) => {
                self.add(at, format!("{unmapped}; allowed: {}", codes.native_codes(table).join(", ")));
                None
            }
        }
    }
}

/// One element of a document and its FHIRPath.
#[derive(Debug, Clone)]
pub(super) struct El<'a> {
    pub value: &'a Value,
    pub path: String,
}

impl<'a> El<'a> {
    pub fn root(value: &'a Value, path: &str) -> Self {
        Self { value, path: path.to_owned() }
    }

    fn at(&self, name: &str) -> String {
        format!("{}.{name}", self.path)
    }

    /// A child element; absent and `null` are the same.
    pub fn get(&self, name: &str) -> Option<El<'a>> {
        self.value.get(name).filter(|v| !v.is_null()).map(|value| El { value, path: self.at(name) })
    }

    /// A child that must be an object (FHIR complex type or resource).
    pub fn object(&self, name: &str, issues: &mut Issues) -> Option<El<'a>> {
        let child = self.get(name)?;
        if child.value.is_object() {
            Some(child)
        } else {
            issues.add(child.path, "must be a JSON object");
            None
        }
    }

    /// A required object.
    pub fn req_object(&self, name: &str, issues: &mut Issues) -> Option<El<'a>> {
        if self.get(name).is_none() {
            issues.add(self.at(name), "required");
        }
        self.object(name, issues)
    }

    /// A string child; empty when absent or of the wrong type (then named).
    pub fn str(&self, name: &str, issues: &mut Issues) -> &'a str {
        match self.get(name) {
            None => "",
            Some(El { value: Value::String(s), .. }) => s,
            Some(child) => {
                issues.add(child.path, "must be a JSON string");
                ""
            }
        }
    }

    /// A required, non-empty string child.
    pub fn req_str(&self, name: &str, issues: &mut Issues) -> &'a str {
        if self.get(name).is_none() {
            issues.add(self.at(name), "required");
        }
        self.str(name, issues)
    }

    /// A boolean child; false when absent.
    pub fn bool(&self, name: &str, issues: &mut Issues) -> bool {
        match self.get(name) {
            None => false,
            Some(El { value: Value::Bool(b), .. }) => *b,
            Some(child) => {
                issues.add(child.path, "must be true or false");
                false
            }
        }
    }

    /// A whole number child of at most `max`.
    pub fn uint(&self, name: &str, max: u64, issues: &mut Issues) -> Option<u64> {
        let child = self.get(name)?;
        match child.value.as_u64().filter(|n| *n <= max) {
            Some(n) => Some(n),
            None => {
                issues.add(child.path, format!("must be a whole number from 0 to {max}"));
                None
            }
        }
    }

    /// The items of an array child, each with its index; empty when absent.
    pub fn array(&self, name: &str, issues: &mut Issues) -> Vec<El<'a>> {
        match self.get(name) {
            None => vec![],
            Some(El { value: Value::Array(items), path }) => {
                items.iter().enumerate().map(|(i, value)| El { value, path: format!("{path}[{i}]") }).collect()
            }
            Some(child) => {
                issues.add(child.path, "must be a JSON array");
                vec![]
            }
        }
    }

    /// The extension with `url` on this element, named `extension('url')` as FHIRPath does.
    pub fn extension(&self, url: &str, issues: &mut Issues) -> Option<El<'a>> {
        let found = self.array("extension", issues).into_iter().find(|e| e.value.get("url") == Some(&url.into()))?;
        Some(El { value: found.value, path: format!("{}.extension('{url}')", self.path) })
    }

    /// The codes of this CodeableConcept's codings in `system`, each with its path.
    pub fn codes(&self, system: &str, issues: &mut Issues) -> Vec<(&'a str, String)> {
        let mut found = vec![];
        for coding in self.array("coding", issues) {
            if coding.str("system", issues) == system {
                found.push((coding.req_str("code", issues), format!("{}.code", coding.path)));
            }
        }
        found
    }

    /// The one code in `system` of this CodeableConcept, required.
    pub fn code(&self, system: &str, issues: &mut Issues) -> Option<(&'a str, String)> {
        let codes = self.codes(system, issues);
        if codes.len() != 1 {
            issues.add(format!("{}.coding", self.path), format!("needs exactly one coding from {system}"));
        }
        codes.into_iter().next()
    }

    /// A `dateTime` child at any precision R4 allows; a bad one is named.
    pub fn date_time(&self, name: &str, issues: &mut Issues) -> Option<FhirDate> {
        self.dated(name, FhirDate::parse_date_time, DATE_TIME_FORMS, issues)
    }

    /// A `date` child (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`); a bad one is named.
    pub fn date(&self, name: &str, issues: &mut Issues) -> Option<FhirDate> {
        self.dated(name, FhirDate::parse_date, DATE_FORMS, issues)
    }

    fn dated(
        &self,
        name: &str,
        parse: fn(&str) -> Option<FhirDate>,
        forms: &str,
        issues: &mut Issues,
    ) -> Option<FhirDate> {
        let text = self.str(name, issues);
        if text.is_empty() {
            return None;
        }
        let parsed = parse(text);
        if parsed.is_none() {
            issues.add(self.at(name), format!("must be {forms}"));
        }
        parsed
    }
}

const DATE_FORMS: &str = "a FHIR date: YYYY, YYYY-MM or YYYY-MM-DD";
const DATE_TIME_FORMS: &str =
    "a FHIR dateTime: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a zone, e.g. 2026-11-21T09:30:00+06:30";

/// A timestamp as a FHIR instant (UTC), or nothing when out of range.
pub(super) fn instant(at: &Timestamp) -> Option<String> {
    let nanos = i128::from(at.seconds) * 1_000_000_000 + i128::from(at.nanos);
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?.format(&Rfc3339).ok()
}

/// Removes what FHIR forbids and `json!` produces for absent fields: nulls,
/// empty strings, empty arrays and objects left empty by that.
pub(super) fn prune(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, prune(v))).filter(|(_, v)| !is_empty(v)).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(prune).filter(|v| !is_empty(v)).collect()),
        other => other,
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// `Some(text)` unless it is empty, for elements built only when there is a value.
pub(super) fn non_empty(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}
