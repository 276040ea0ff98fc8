//! NIEM 5.2 naming shared by the JUSTICE and POLICE adapters: the JSON-LD
//! `@context` every document carries, the hub's extension vocabulary (`rh:`)
//! for what NIEM has no element for, and the small NIEM structures (an
//! identification, a date) both adapters write and read.
//!
//! The hub's extension names are declared, each with its definition, in
//! tests/fixtures/niem/rh-extension.csv (published in docs/connect/justice.md).
//! The handling block both adapters write is [`handling`]; the test that
//! checks every name against the release is [`tests`].
//!
//! The prefixes are NIEM's own (`nc:` NIEM Core, `j:` Justice, `hs:` Human
//! Services, which replaced CYFS in NIEM 4) and map to the namespace URIs of
//! the NIEM 5.2 release's `json-ld/context.json`, so a NIEM JSON consumer
//! expands every name to the release's property. A test checks every name
//! the two adapters write or read against the release's property list.

pub(crate) mod handling;
#[cfg(test)]
mod tests;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::native_json::Reader;

/// Namespace URIs, as NIEM 5.2's `json-ld/context.json` has them.
pub(crate) const NIEM_CORE: &str = "http://release.niem.gov/niem/niem-core/5.0/#";
/// NIEM Justice (jxdm 7.2, the version NIEM 5.2 ships).
pub(crate) const JUSTICE: &str = "http://release.niem.gov/niem/domains/jxdm/7.2/#";
/// NIEM Human Services 5.2 (child welfare, juvenile cases).
pub(crate) const HUMAN_SERVICES: &str = "http://release.niem.gov/niem/domains/humanServices/5.2/#";
/// The hub's extension namespace, for what NIEM has no element for.
pub(crate) const HUB_EXTENSION: &str = "https://referral-hub.org/niem/extension/1.0/#";

/// The `@context` of every document: each prefix used, and no other.
pub(crate) fn context() -> Value {
    json!({ "nc": NIEM_CORE, "j": JUSTICE, "hs": HUMAN_SERVICES, "rh": HUB_EXTENSION })
}

/// `nc:IdentificationType` with only its id.
#[derive(Serialize)]
pub(crate) struct Identification<'a> {
    #[serde(rename = "nc:IdentificationID")]
    pub(crate) id: &'a str,
}

/// An `nc:DateType` holding a date in the precision the text has: a year
/// (`nc:YearDate`), a month (`nc:YearMonthDate`) or a full date (`nc:Date`).
pub(crate) fn date(text: &str) -> Value {
    let representation = match text.len() {
        4 => "nc:YearDate",
        7 => "nc:YearMonthDate",
        _ => "nc:Date",
    };
    json!({ representation: text })
}

/// An `nc:DateType` holding a date-time.
pub(crate) fn date_time(text: String) -> Value {
    json!({ "nc:DateTime": text })
}

/// The JSON pointer of `key` inside `parent`'s member `wrapper`, e.g. the
/// `nc:IdentificationID` of an `nc:ActivityIdentification`.
pub(crate) fn inner(reader: &Reader<'_>, parent: &str, wrapper: &str, key: &str) -> String {
    reader.at(&reader.at(parent, wrapper), key)
}

/// Member `wrapper` of `object` when present (else an empty object), and its
/// pointer; a wrapper that is not an object is a violation.
pub(crate) fn optional_object<'v>(
    reader: &mut Reader<'_>,
    object: &'v Map<String, Value>,
    wrapper: &str,
    parent: &str,
) -> (Option<&'v Map<String, Value>>, String) {
    let at = reader.at(parent, wrapper);
    match object.get(wrapper) {
        None | Some(Value::Null) => (None, at),
        Some(value) => (reader.object(value, &at), at),
    }
}

/// Whether a text member is empty: serde leaves such members out, as NIEM
/// has no empty elements.
pub(crate) fn empty(s: &&str) -> bool {
    s.is_empty()
}

/// Whether a list member is empty: serde leaves such members out.
pub(crate) fn none(items: &&[String]) -> bool {
    items.is_empty()
}

/// An `nc:PersonName` with only the full name (a guardian, a caregiver);
/// none when the name is empty.
pub(crate) fn full_name(name: &str) -> Option<Value> {
    (!name.is_empty()).then(|| json!({ "nc:PersonFullName": name }))
}
