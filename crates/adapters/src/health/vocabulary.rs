//! A CodeableConcept as hub codes: its codings in the hub's own CodeSystem,
//! or, when it has none, its codings of other systems through the
//! ConceptMap ([`super::concept_map`]).

use super::concept_map::ConceptMap;
use super::json::{El, Issues};
use super::system;
use crate::CodeMap;

/// What inbound codes are read with: the code tables and the ConceptMap.
pub(super) struct Vocabulary<'a> {
    pub codes: &'a CodeMap,
    pub concept_map: &'a ConceptMap,
}

impl Vocabulary<'_> {
    /// The hub codes (table `table`) of `concept`: its codings in the hub
    /// CodeSystem `hub_system`; when there are none (codings are alternatives
    /// of one concept, so a hub coding makes the others translations), those
    /// of other systems the ConceptMap maps, each unmapped one named if none
    /// maps. Without a coding at all, the concept is named.
    pub fn hub_codes(&self, concept: &El, hub_system: &str, table: &str, issues: &mut Issues) -> Vec<String> {
        let hub_uri = system(hub_system);
        let mut found: Vec<String> = vec![];
        let push = |found: &mut Vec<String>, code: Option<&str>| {
            if let Some(code) = code.filter(|c| !found.iter().any(|f| f == c)) {
                found.push(code.to_owned());
            }
        };
        let codings = concept.array("coding", issues);
        let own = concept.codes(&hub_uri, issues);
        for (code, at) in &own {
            push(&mut found, issues.hub(self.codes, table, code, at));
        }
        if !own.is_empty() {
            return found;
        }
        let mut unmapped = vec![];
        for coding in &codings {
            let (source, code) = (coding.str("system", issues), coding.str("code", issues));
            match self.concept_map.to_hub(&hub_uri, source, code) {
                Some(mapped) => {
                    push(&mut found, issues.hub(self.codes, table, mapped, &format!("{}.code", coding.path)))
                }
                None => unmapped.push((format!("{}.code", coding.path), source, code)),
            }
        }
        if codings.is_empty() {
            let sources = self.concept_map.sources(&hub_uri).join(", ");
            issues.add(
                format!("{}.coding", concept.path),
                format!("needs a coding from {hub_uri} (or mapped from: {sources})"),
            );
        } else if found.is_empty() {
            for (at, source, code) in unmapped {
                issues.add(
                    at,
                    format!(
                        "code `{code}` of `{source}` has no mapping to {hub_uri} in the ConceptMap {}",
                        self.concept_map.url()
                    ),
                );
            }
        }
        found
    }
}
