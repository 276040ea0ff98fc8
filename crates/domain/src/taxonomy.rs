//! Configurable code lists (protection concerns, services, sex, displacement).
//! Messages carry codes; display names exist per language for clients.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The default lists (docs/domain.md "Taxonomies"), with English and French names.
const DEFAULT_TAXONOMIES: &str = include_str!("taxonomies.toml");

/// Every code list the hub validates against.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taxonomies {
    /// Protection concern codes.
    pub protection_concerns: Vec<Code>,
    /// Service codes (requested services, services an organisation offers).
    pub services: Vec<Code>,
    /// Sex codes.
    pub sex: Vec<Code>,
    /// Displacement and migration status codes.
    pub displacement: Vec<Code>,
}

/// One code with its display names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Code {
    /// The stable code messages carry, e.g. `physical_violence`.
    pub code: String,
    /// Display name by language tag, e.g. `en` -> `Physical violence`.
    pub names: BTreeMap<String, String>,
}

/// A taxonomy file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    /// The file is not valid TOML of the expected shape.
    #[error("taxonomy file is malformed: {0}")]
    Malformed(#[from] toml::de::Error),
    /// A list repeats a code or has none.
    #[error("taxonomy `{list}`: {problem}")]
    Invalid {
        /// Which list.
        list: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

impl Taxonomies {
    /// Parses and checks a taxonomy file (TOML, same shape as the defaults).
    pub fn from_toml(text: &str) -> Result<Self, TaxonomyError> {
        let taxonomies: Self = toml::from_str(text)?;
        for (list, codes) in taxonomies.lists() {
            if codes.is_empty() {
                return Err(TaxonomyError::Invalid { list, problem: "no codes".into() });
            }
            let mut seen = std::collections::BTreeSet::new();
            for code in codes {
                if !seen.insert(code.code.as_str()) {
                    let problem = format!("code `{}` appears twice", code.code);
                    return Err(TaxonomyError::Invalid { list, problem });
                }
            }
        }
        Ok(taxonomies)
    }

    /// Each list with its configuration name.
    pub fn lists(&self) -> [(&'static str, &[Code]); 4] {
        [
            ("protection_concerns", &self.protection_concerns),
            ("services", &self.services),
            ("sex", &self.sex),
            ("displacement", &self.displacement),
        ]
    }
}

impl Default for Taxonomies {
    fn default() -> Self {
        Self::from_toml(DEFAULT_TAXONOMIES).expect("the built-in taxonomies are valid")
    }
}

/// Whether `code` is in `codes`.
pub fn contains(codes: &[Code], code: &str) -> bool {
    codes.iter().any(|c| c.code == code)
}

/// The allowed codes, comma-separated, for error messages.
pub fn allowed(codes: &[Code]) -> String {
    codes.iter().map(|c| c.code.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_hold_every_list_of_the_spec_with_names() {
        let t = Taxonomies::default();
        // The default seeds (docs/domain.md "Taxonomies"), plus the codes of Primero's default lookups the
        // seeds lacked (issue 27), so a stock Primero case maps without loss.
        assert_eq!(t.protection_concerns.len(), 21 + 4);
        assert_eq!(t.services.len(), 13 + 5);
        assert_eq!(t.sex.len(), 4);
        assert_eq!(t.displacement.len(), 8 + 1);
        for primero in ["statelessness", "serious_health_issue", "child_mother", "living_with_vulnerable_person"] {
            assert!(contains(&t.protection_concerns, primero), "{primero}");
        }
        for primero in ["child_protection", "family_mediation", "nfi", "water_sanitation", "food"] {
            assert!(contains(&t.services, primero), "{primero}");
        }
        assert!(contains(&t.displacement, "foreign_national"));
        for (_, codes) in t.lists() {
            for code in codes {
                assert!(code.names.contains_key("en") && code.names.contains_key("fr"), "{}", code.code);
            }
        }
    }

    #[test]
    fn a_repeated_code_is_refused() {
        let text = DEFAULT_TAXONOMIES.to_owned() + "\n[[sex]]\ncode = \"male\"\nnames = { en = \"x\" }\n";
        let err = Taxonomies::from_toml(&text).unwrap_err();
        assert!(err.to_string().contains("`male` appears twice"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let err = Taxonomies::from_toml("colours = []").unwrap_err();
        assert!(matches!(err, TaxonomyError::Malformed(_)));
    }
}
