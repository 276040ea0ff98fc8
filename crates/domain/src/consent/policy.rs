//! The configurable parts of consent: who may consent at which age, what each
//! sector needs to know, and which legal bases may replace consent.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::wire::{DataCategory, Sector};

/// Who must agree for a child of an age band (docs/consent.md "Who may consent").
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeBand {
    /// Youngest age of the band, in years.
    pub from_age: u32,
    /// Oldest age of the band, in years.
    pub to_age: u32,
    /// A caregiver's (or legal guardian's) consent, or a best-interests decision.
    pub caregiver_consent: bool,
    /// The child's assent (or consent).
    pub child_assent: bool,
    /// The child's own consent.
    pub child_consent: bool,
}

/// The jurisdiction's consent policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentPolicy {
    /// Age bands covering 0-17 without gaps.
    pub age_bands: Vec<AgeBand>,
    /// Categories each receiving sector needs (docs/consent.md "Need to know").
    pub need_to_know: BTreeMap<Sector, BTreeSet<DataCategory>>,
    /// Legal bases that may replace consent, e.g. `MANDATORY_REPORT`.
    pub legal_bases: Vec<String>,
}

/// The file form of [`ConsentPolicy`]: sectors and categories by short name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    age_bands: Vec<AgeBand>,
    need_to_know: BTreeMap<String, Vec<String>>,
    legal_bases: Vec<String>,
}

/// A policy file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// Not TOML of the expected shape.
    #[error("consent policy is malformed: {0}")]
    Malformed(#[from] toml::de::Error),
    /// Valid TOML, but the content is wrong.
    #[error("consent policy: {0}")]
    Invalid(String),
}

/// The defaults of docs/consent.md ("Who may consent", "Need to know"): IRC/UNICEF age guidance and the need-to-know table.
/// JUSTICE gets medical examination references only: they sit in the justice
/// handling block (LEGAL), so it gets no HEALTH fields at all.
const DEFAULT_POLICY: &str = r#"
legal_bases = ["MANDATORY_REPORT", "IMMINENT_THREAT_TO_LIFE", "COURT_ORDER"]

age_bands = [
  { from_age = 0, to_age = 5, caregiver_consent = true, child_assent = false, child_consent = false },
  { from_age = 6, to_age = 14, caregiver_consent = true, child_assent = true, child_consent = false },
  { from_age = 15, to_age = 17, caregiver_consent = false, child_assent = false, child_consent = true },
]

[need_to_know]
HEALTH = ["IDENTITY", "CONTACT", "LOCATION", "PROTECTION_CONCERN", "HEALTH", "DEMOGRAPHIC"]
EDUCATION = ["IDENTITY", "CONTACT", "EDUCATION", "DEMOGRAPHIC"]
POLICE = ["IDENTITY", "CONTACT", "LOCATION", "PROTECTION_CONCERN", "LEGAL", "DEMOGRAPHIC"]
JUSTICE = ["IDENTITY", "CONTACT", "PROTECTION_CONCERN", "LEGAL", "DEMOGRAPHIC"]
SOCIAL_WELFARE = ["IDENTITY", "CONTACT", "LOCATION", "PROTECTION_CONCERN", "HEALTH", "LEGAL", "EDUCATION", "FAMILY", "DEMOGRAPHIC"]
OTHER = ["IDENTITY", "CONTACT", "PROTECTION_CONCERN", "DEMOGRAPHIC"]
"#;

impl ConsentPolicy {
    /// Parses and checks a policy file (TOML, same shape as the defaults).
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let file: PolicyFile = toml::from_str(text)?;
        let mut bands = file.age_bands;
        bands.sort_by_key(|b| b.from_age);
        let mut next = 0;
        for band in &bands {
            if band.from_age != next || band.to_age < band.from_age {
                return Err(PolicyError::Invalid(format!(
                    "age bands must cover 0-17 without gaps or overlaps (at age {next})"
                )));
            }
            next = band.to_age + 1;
        }
        if next != 18 {
            return Err(PolicyError::Invalid(format!(
                "age bands must end at 17 (they end at {})",
                next.saturating_sub(1)
            )));
        }
        let mut need_to_know = BTreeMap::new();
        for (sector, categories) in file.need_to_know {
            let parsed = Sector::from_str_name(&format!("SECTOR_{sector}"))
                .filter(|s| *s != Sector::Unspecified)
                .ok_or_else(|| PolicyError::Invalid(format!("need_to_know: unknown sector `{sector}`")))?;
            let categories = categories
                .iter()
                .map(|c| {
                    DataCategory::from_str_name(&format!("DATA_CATEGORY_{c}"))
                        .filter(|c| *c != DataCategory::Unspecified)
                        .ok_or_else(|| PolicyError::Invalid(format!("need_to_know.{sector}: unknown category `{c}`")))
                })
                .collect::<Result<_, _>>()?;
            need_to_know.insert(parsed, categories);
        }
        Ok(ConsentPolicy { age_bands: bands, need_to_know, legal_bases: file.legal_bases })
    }

    /// The band for a child of `age`, if any (none past 17).
    pub fn band(&self, age: u32) -> Option<&AgeBand> {
        self.age_bands.iter().find(|b| (b.from_age..=b.to_age).contains(&age))
    }

    /// What a receiver of `sector` needs (nothing for a sector the table omits).
    pub fn needs(&self, sector: Sector) -> BTreeSet<DataCategory> {
        self.need_to_know.get(&sector).cloned().unwrap_or_default()
    }
}

impl Default for ConsentPolicy {
    fn default() -> Self {
        Self::from_toml(DEFAULT_POLICY).expect("the built-in consent policy is valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_spec() {
        let policy = ConsentPolicy::default();
        assert_eq!(
            policy.band(0).map(|b| (b.caregiver_consent, b.child_assent, b.child_consent)),
            Some((true, false, false))
        );
        assert_eq!(
            policy.band(14).map(|b| (b.caregiver_consent, b.child_assent, b.child_consent)),
            Some((true, true, false))
        );
        assert_eq!(
            policy.band(15).map(|b| (b.caregiver_consent, b.child_assent, b.child_consent)),
            Some((false, false, true))
        );
        assert_eq!(policy.band(18), None);
        assert!(
            !policy.needs(Sector::Education).contains(&DataCategory::ProtectionConcern),
            "no concern narrative for schools"
        );
        assert_eq!(policy.needs(Sector::SocialWelfare).len(), 9);
        assert_eq!(policy.legal_bases.len(), 3);
    }

    #[test]
    fn bad_policies_are_refused_with_the_reason() {
        let gap = DEFAULT_POLICY.replace("from_age = 6", "from_age = 7");
        assert!(ConsentPolicy::from_toml(&gap).unwrap_err().to_string().contains("without gaps"));
        let sector = DEFAULT_POLICY.replace("OTHER =", "ARMY =");
        assert!(ConsentPolicy::from_toml(&sector).unwrap_err().to_string().contains("unknown sector `ARMY`"));
        let category = DEFAULT_POLICY.replace("\"EDUCATION\", \"DEMOGRAPHIC\"]", "\"SCHOOLING\"]");
        assert!(ConsentPolicy::from_toml(&category).unwrap_err().to_string().contains("unknown category `SCHOOLING`"));
    }
}
