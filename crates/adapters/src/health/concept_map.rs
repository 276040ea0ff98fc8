//! Codings of other code systems (SNOMED CT concerns or services, a
//! country's own codes) read as the hub's, through a FHIR R4 `ConceptMap`, so
//! that a clinical system sends the codes it already records. The default
//! map (`snomed-ct.conceptmap.json` beside this file) takes SNOMED CT to the
//! hub's protection concerns and services; a deployment may replace it with
//! its own ConceptMap JSON. A coding the map does not take to a hub code is
//! still refused, by name.
//!
//! What is read of the ConceptMap: `group[]` with `source` (the other
//! system's URI) and `target` (the hub CodeSystem `protection-concern` or
//! `service`), `element[].code` and `element[].target[]` with `code` and
//! `equivalence`. A target of equivalence `unmatched` or `disjoint` says
//! there is no mapping and is skipped; any other equivalence maps (a hub
//! concern is often `wider` than a clinical code). A source code mapped to two
//! different hub codes, or a target code the code tables do not have, makes
//! the file unusable, named when it is loaded.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::system;
use crate::CodeMap;

/// The hub CodeSystems (by name) a ConceptMap may target, with their code table.
const TARGETS: [(&str, &str); 2] = [("protection-concern", "concerns"), ("service", "services")];

/// R4 ConceptMap.group.element.target.equivalence (required binding).
const EQUIVALENCES: [&str; 10] = [
    "relatedto",
    "equivalent",
    "equal",
    "wider",
    "subsumes",
    "narrower",
    "specializes",
    "inexact",
    "unmatched",
    "disjoint",
];

/// A ConceptMap file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConceptMapError {
    /// Not JSON.
    #[error("the ConceptMap is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON, but not a ConceptMap the adapter can use.
    #[error("the ConceptMap is unusable at {at}: {problem}")]
    Invalid {
        /// The element, as FHIRPath.
        at: String,
        /// What is wrong.
        problem: String,
    },
}

/// Source codings to hub codes, per target hub CodeSystem.
#[derive(Debug, Clone, Default)]
pub struct ConceptMap {
    /// The map's `url`, named in refusals so a sender knows which map to read.
    url: String,
    /// (target hub CodeSystem URI, source system, source code) -> hub CodeSystem code.
    codes: BTreeMap<(String, String, String), String>,
}

#[derive(Deserialize)]
struct File {
    #[serde(rename = "resourceType")]
    resource_type: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    group: Vec<Group>,
}

#[derive(Deserialize)]
struct Group {
    #[serde(default)]
    source: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    element: Vec<Element>,
}

#[derive(Deserialize)]
struct Element {
    #[serde(default)]
    code: String,
    #[serde(default)]
    target: Vec<Target>,
}

#[derive(Deserialize)]
struct Target {
    #[serde(default)]
    code: String,
    #[serde(default)]
    equivalence: String,
}

impl ConceptMap {
    /// Reads a FHIR R4 ConceptMap (JSON), checking its targets against `codes`.
    pub fn from_json(text: &str, codes: &CodeMap) -> Result<Self, ConceptMapError> {
        let file: File = serde_json::from_str(text)?;
        let invalid = |at: String, problem: &str| ConceptMapError::Invalid { at, problem: problem.to_owned() };
        if file.resource_type != "ConceptMap" {
            return Err(invalid("ConceptMap.resourceType".into(), "must be ConceptMap"));
        }
        let mut map = ConceptMap { url: file.url, codes: BTreeMap::new() };
        for (g, group) in file.group.iter().enumerate() {
            let at = format!("ConceptMap.group[{g}]");
            let Some((_, table)) = TARGETS.iter().find(|(name, _)| system(name) == group.target) else {
                let allowed = TARGETS.map(|(name, _)| system(name)).join(" or ");
                return Err(invalid(format!("{at}.target"), &format!("must be {allowed}")));
            };
            if group.source.is_empty() || group.source == group.target {
                return Err(invalid(format!("{at}.source"), "required: the URI of the system mapped from"));
            }
            for (e, element) in group.element.iter().enumerate() {
                let at = format!("{at}.element[{e}]");
                if element.code.is_empty() {
                    return Err(invalid(format!("{at}.code"), "required"));
                }
                for (t, target) in element.target.iter().enumerate() {
                    let at = format!("{at}.target[{t}]");
                    if !EQUIVALENCES.contains(&target.equivalence.as_str()) {
                        let allowed = EQUIVALENCES.join(", ");
                        return Err(invalid(format!("{at}.equivalence"), &format!("must be one of {allowed}")));
                    }
                    if ["unmatched", "disjoint"].contains(&target.equivalence.as_str()) {
                        continue;
                    }
                    if codes.to_hub(table, &target.code).is_err() {
                        return Err(invalid(format!("{at}.code"), &format!("not a code of table `{table}`")));
                    }
                    let key = (group.target.clone(), group.source.clone(), element.code.clone());
                    match map.codes.insert(key, target.code.clone()) {
                        Some(earlier) if earlier != target.code => {
                            return Err(invalid(at, "a second hub code for the same source code"));
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(map)
    }

    /// The hub CodeSystem code `target` has for `code` of `source`, if mapped.
    pub fn to_hub(&self, target: &str, source: &str, code: &str) -> Option<&str> {
        self.codes.get(&(target.to_owned(), source.to_owned(), code.to_owned())).map(String::as_str)
    }

    /// The systems mapped to `target`, for refusals.
    pub fn sources(&self, target: &str) -> Vec<&str> {
        let mut sources: Vec<&str> =
            self.codes.keys().filter(|(t, _, _)| t == target).map(|(_, source, _)| source.as_str()).collect();
        sources.dedup();
        sources
    }

    /// The map's `url`.
    pub fn url(&self) -> &str {
        &self.url
    }
}
