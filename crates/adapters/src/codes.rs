//! Code-mapping tables: each adapter maps its sector's codes to the hub's
//! through named tables loaded from configuration (TOML), never through
//! defaults in code. A code with no mapping is an error naming it.
//!
//! File shape: one TOML table per mapping, hub code = native code:
//!
//! ```toml
//! [priority]            # hub risk level -> FHIR ServiceRequest.priority
//! RISK_LEVEL_HIGH = "urgent"
//! RISK_LEVEL_MEDIUM = "routine"
//! ```
//!
//! A mapping must be one-to-one in the outbound direction; inbound, several
//! native codes may map to one hub code with `[<table>.inbound]`
//! (e.g. FHIR `stat` and `asap` both -> HIGH).

use std::collections::BTreeMap;

use serde::Deserialize;

/// A canonical or native code that has no mapping in a table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("code `{code}` has no mapping in table `{table}`")]
pub struct Unmapped {
    /// The table, e.g. `priority`.
    pub table: String,
    /// The code that did not map (shown cut to 64 characters).
    pub code: String,
}

/// A code table file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CodeTableError {
    /// Not TOML of the expected shape.
    #[error("code tables are malformed: {0}")]
    Malformed(#[from] toml::de::Error),
    /// A table the adapter needs is missing.
    #[error("code table `{0}` is missing")]
    Missing(String),
}

#[derive(Debug, Default, Deserialize)]
struct TableFile {
    #[serde(default)]
    inbound: BTreeMap<String, String>,
    #[serde(flatten)]
    outbound: BTreeMap<String, String>,
}

/// One adapter's code tables, both directions.
#[derive(Debug, Clone, Default)]
pub struct CodeMap {
    /// table -> hub code -> native code.
    outbound: BTreeMap<String, BTreeMap<String, String>>,
    /// table -> native code -> hub code (the reverse of outbound, plus extra inbound aliases).
    inbound: BTreeMap<String, BTreeMap<String, String>>,
}

impl CodeMap {
    /// Parses a code table file and checks that every table in `required` is there.
    pub fn from_toml(text: &str, required: &[&str]) -> Result<Self, CodeTableError> {
        let files: BTreeMap<String, TableFile> = toml::from_str(text)?;
        let mut map = CodeMap::default();
        for (name, file) in files {
            let mut inbound: BTreeMap<String, String> =
                file.outbound.iter().map(|(hub, native)| (native.clone(), hub.clone())).collect();
            inbound.extend(file.inbound);
            map.inbound.insert(name.clone(), inbound);
            map.outbound.insert(name, file.outbound);
        }
        if let Some(missing) = required.iter().find(|t| !map.outbound.contains_key(**t)) {
            return Err(CodeTableError::Missing((*missing).to_owned()));
        }
        Ok(map)
    }

    /// The native code for hub code `code` in `table`.
    pub fn to_native(&self, table: &str, code: &str) -> Result<&str, Unmapped> {
        lookup(&self.outbound, table, code)
    }

    /// The hub code for native code `code` in `table`.
    pub fn to_hub(&self, table: &str, code: &str) -> Result<&str, Unmapped> {
        lookup(&self.inbound, table, code)
    }

    /// The native codes of `table`, for error messages that list the allowed ones.
    pub fn native_codes(&self, table: &str) -> Vec<&str> {
        self.inbound.get(table).map(|t| t.keys().map(String::as_str).collect()).unwrap_or_default()
    }
}

fn lookup<'a>(
    tables: &'a BTreeMap<String, BTreeMap<String, String>>,
    table: &str,
    code: &str,
) -> Result<&'a str, Unmapped> {
    tables
        .get(table)
        .and_then(|t| t.get(code))
        .map(String::as_str)
        .ok_or_else(|| Unmapped { table: table.to_owned(), code: code.chars().take(64).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
        [priority]
        RISK_LEVEL_HIGH = "urgent"
        RISK_LEVEL_LOW = "routine"
        [priority.inbound]
        stat = "RISK_LEVEL_HIGH"
    "#;

    #[test]
    fn codes_map_both_ways_and_unknown_codes_are_named() {
        let map = CodeMap::from_toml(FILE, &["priority"]).unwrap();
        assert_eq!(map.to_native("priority", "RISK_LEVEL_HIGH"), Ok("urgent"));
        assert_eq!(map.to_hub("priority", "urgent"), Ok("RISK_LEVEL_HIGH"));
        assert_eq!(map.to_hub("priority", "stat"), Ok("RISK_LEVEL_HIGH"), "an inbound alias");
        let unmapped = map.to_hub("priority", "asap").unwrap_err();
        assert_eq!(unmapped.to_string(), "code `asap` has no mapping in table `priority`");
        assert!(map.to_native("services", "x").is_err());
        assert_eq!(map.native_codes("priority"), vec!["routine", "stat", "urgent"]);
        assert!(
            matches!(CodeMap::from_toml(FILE, &["priority", "status"]), Err(CodeTableError::Missing(t)) if t == "status")
        );
    }
}
