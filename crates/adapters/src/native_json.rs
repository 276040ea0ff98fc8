//! Reading a standard's JSON documents (Primero's, NIEM's) element by
//! element, collecting every bad element instead of stopping at the first,
//! and the small encodings their writers share (RFC 3339 times, native
//! codes, the document itself). Used by the SOCIAL_WELFARE and JUSTICE
//! adapters; each names its elements its own way through [`Naming`].

use prost_types::Timestamp;
use referral_hub_domain::wire::{FollowUpAction, MessageWithheld};
use serde_json::{Map, Value};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{CodeMap, Document, MAX_DOCUMENT_BYTES, NativeViolation, Unmapped};

/// How a sector writes the path of an element.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Naming {
    /// Primero style: `services_section[0].service_type`.
    Dotted,
    /// JSON Pointer (RFC 6901): `/j:CaseEvent/nc:ActivityReasonText`.
    Pointer,
}

impl Naming {
    /// The path of member `key` of the element at `parent`.
    pub(crate) fn member(self, parent: &str, key: &str) -> String {
        match self {
            Naming::Dotted if parent.is_empty() => key.to_owned(),
            Naming::Dotted => format!("{parent}.{key}"),
            Naming::Pointer => format!("{parent}/{}", key.replace('~', "~0").replace('/', "~1")),
        }
    }

    /// The path of item `index` of the array at `parent`.
    pub(crate) fn item(self, parent: &str, index: usize) -> String {
        match self {
            Naming::Dotted => format!("{parent}[{index}]"),
            Naming::Pointer => format!("{parent}/{index}"),
        }
    }
}

/// Parses a document, refusing oversize ones and non-JSON without echoing any
/// of the content (it may be about a child). `root` names the whole document.
pub(crate) fn parse(document: &[u8], root: &str) -> Result<Value, Vec<NativeViolation>> {
    if document.len() > MAX_DOCUMENT_BYTES {
        return Err(vec![violation(
            root,
            format!("document is {} bytes; at most {MAX_DOCUMENT_BYTES} are accepted", document.len()),
        )]);
    }
    serde_json::from_slice(document).map_err(|e| {
        vec![violation(
            root,
            format!("not JSON ({:?} error at line {}, column {})", e.classify(), e.line(), e.column()),
        )]
    })
}

fn violation(element: &str, description: impl Into<String>) -> NativeViolation {
    NativeViolation { element: element.to_owned(), description: description.into() }
}

/// Reads elements out of objects, remembering every bad one.
#[derive(Debug)]
pub(crate) struct Reader<'c> {
    naming: Naming,
    codes: &'c CodeMap,
    violations: Vec<NativeViolation>,
}

impl<'c> Reader<'c> {
    /// A reader naming elements with `naming` and mapping codes through `codes`.
    pub(crate) fn new(naming: Naming, codes: &'c CodeMap) -> Self {
        Self { naming, codes, violations: Vec::new() }
    }

    /// The path of member `key` of `parent`.
    pub(crate) fn at(&self, parent: &str, key: &str) -> String {
        self.naming.member(parent, key)
    }

    /// Records a bad element.
    pub(crate) fn fail(&mut self, element: &str, description: impl Into<String>) {
        self.violations.push(violation(element, description));
    }

    /// `value` when no element was bad, else every bad element.
    pub(crate) fn finish<T>(self, value: T) -> Result<T, Vec<NativeViolation>> {
        if self.violations.is_empty() { Ok(value) } else { Err(self.violations) }
    }

    /// The object at `value`, or a violation at `element`.
    pub(crate) fn object<'v>(&mut self, value: &'v Value, element: &str) -> Option<&'v Map<String, Value>> {
        let object = value.as_object();
        if object.is_none() {
            self.fail(element, "must be an object");
        }
        object
    }

    /// Member `key` of `object` (at `parent`) that must be an object.
    pub(crate) fn member_object<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        key: &str,
        parent: &str,
    ) -> Option<&'v Map<String, Value>> {
        let element = self.at(parent, key);
        match object.get(key) {
            None | Some(Value::Null) => {
                self.fail(&element, "required");
                None
            }
            Some(value) => self.object(value, &element),
        }
    }

    /// A string member; absent or null reads as empty (required: a violation).
    pub(crate) fn string(&mut self, object: &Map<String, Value>, key: &str, parent: &str, required: bool) -> String {
        match object.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.fail(&self.at(parent, key), "required");
                }
                String::new()
            }
            Some(Value::String(s)) => {
                if required && s.is_empty() {
                    self.fail(&self.at(parent, key), "required");
                }
                s.clone()
            }
            Some(_) => {
                self.fail(&self.at(parent, key), "must be a string");
                String::new()
            }
        }
    }

    /// A boolean member, absent when not given.
    pub(crate) fn boolean(&mut self, object: &Map<String, Value>, key: &str, parent: &str) -> Option<bool> {
        match object.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.fail(&self.at(parent, key), "must be true or false");
                None
            }
        }
    }

    /// A whole-number member, absent when not given.
    pub(crate) fn unsigned(&mut self, object: &Map<String, Value>, key: &str, parent: &str) -> Option<u64> {
        match object.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => {
                let n = value.as_u64();
                if n.is_none() {
                    self.fail(&self.at(parent, key), "must be a whole number, 0 or more");
                }
                n
            }
        }
    }

    /// A whole-number member that fits 32 bits (ages, counts), absent when not given.
    pub(crate) fn unsigned32(&mut self, object: &Map<String, Value>, key: &str, parent: &str) -> Option<u32> {
        let n = self.unsigned(object, key, parent)?;
        let small = u32::try_from(n).ok();
        if small.is_none() {
            self.fail(&self.at(parent, key), "too large");
        }
        small
    }

    /// An array member (empty when absent), with the path of each item.
    pub(crate) fn array<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        key: &str,
        parent: &str,
    ) -> Vec<(String, &'v Value)> {
        let element = self.at(parent, key);
        match object.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                items.iter().enumerate().map(|(i, item)| (self.naming.item(&element, i), item)).collect()
            }
            Some(_) => {
                self.fail(&element, "must be an array");
                Vec::new()
            }
        }
    }

    /// An array of native codes of `table` (empty when absent): their hub codes.
    pub(crate) fn codes(&mut self, table: &str, object: &Map<String, Value>, key: &str, parent: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (element, item) in self.array(object, key, parent) {
            match item.as_str() {
                Some(native) => out.push(self.code(table, native, &element)),
                None => self.fail(&element, "must be a string"),
            }
        }
        out
    }

    /// An array of strings (empty when absent).
    pub(crate) fn strings(&mut self, object: &Map<String, Value>, key: &str, parent: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (element, item) in self.array(object, key, parent) {
            match item.as_str() {
                Some(s) => out.push(s.to_owned()),
                None => self.fail(&element, "must be a string"),
            }
        }
        out
    }

    /// The hub code of native code `native` (found at `element`) in `table`.
    pub(crate) fn code(&mut self, table: &str, native: &str, element: &str) -> String {
        match self.codes.to_hub(table, native) {
            Ok(hub) => hub.to_owned(),
            Err(unmapped) => {
                let allowed = self.codes.native_codes(table).join(", ");
                self.fail(element, format!("unknown code `{}`; allowed: {allowed}", unmapped.code));
                String::new()
            }
        }
    }

    /// The hub code of `native` in `table` when the table knows it, else
    /// `native` as sent (for open lists an instance configures, such as its
    /// languages, which the hub then judges by its own rules).
    pub(crate) fn known_code(&self, table: &str, native: String) -> String {
        self.codes.to_hub(table, &native).map(str::to_owned).unwrap_or(native)
    }

    /// A string member holding a native code of `table`: its hub code, or
    /// empty when absent (and not required).
    pub(crate) fn code_member(
        &mut self,
        table: &str,
        object: &Map<String, Value>,
        key: &str,
        parent: &str,
        required: bool,
    ) -> String {
        let native = self.string(object, key, parent, required);
        if native.is_empty() { native } else { self.code(table, &native, &self.at(parent, key)) }
    }

    /// A string member holding a native code of `table` for a protobuf enum:
    /// the enum's number through `from_name`, 0 when absent (and not required).
    pub(crate) fn enum_member(
        &mut self,
        table: &str,
        object: &Map<String, Value>,
        key: &str,
        parent: &str,
        required: bool,
        from_name: fn(&str) -> Option<i32>,
    ) -> i32 {
        let hub = self.code_member(table, object, key, parent, required);
        if hub.is_empty() {
            return 0;
        }
        from_name(&hub).unwrap_or_else(|| {
            // A table naming a value the enum lacks is a configuration mistake; say so at the element.
            self.fail(&self.at(parent, key), format!("code table `{table}` maps to unknown value `{hub}`"));
            0
        })
    }

    /// An RFC 3339 date-time member, absent when not given.
    pub(crate) fn timestamp(&mut self, object: &Map<String, Value>, key: &str, parent: &str) -> Option<Timestamp> {
        let text = self.string(object, key, parent, false);
        if text.is_empty() {
            return None;
        }
        let parsed = OffsetDateTime::parse(&text, &Rfc3339).ok().map(|at| {
            let nanos = at.unix_timestamp_nanos();
            Timestamp { seconds: at.unix_timestamp(), nanos: nanos.rem_euclid(1_000_000_000) as i32 }
        });
        if parsed.is_none() {
            self.fail(&self.at(parent, key), "must be an RFC 3339 date-time, e.g. 2026-12-03T09:30:00Z");
        }
        parsed
    }
}

/// A timestamp as RFC 3339 in UTC; one outside years 0-9999 has no such form.
pub(crate) fn rfc3339(at: &Timestamp) -> Result<String, Unmapped> {
    let nanos = i128::from(at.seconds) * 1_000_000_000 + i128::from(at.nanos);
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .ok_or_else(|| Unmapped { table: "rfc3339".into(), code: at.seconds.to_string() })
}

/// The native code of hub code `hub` in `table` (owned, for documents).
pub(crate) fn native(codes: &CodeMap, table: &str, hub: &str) -> Result<String, Unmapped> {
    codes.to_native(table, hub).map(str::to_owned)
}

/// The native code of a protobuf enum value, through its hub name `name`
/// (unset or unknown values have no native code).
pub(crate) fn native_enum(codes: &CodeMap, table: &str, name: Option<&str>) -> Result<String, Unmapped> {
    native(codes, table, name.unwrap_or("UNSPECIFIED"))
}

/// Actions only the hub posts: a sender's document may not claim them.
pub(crate) fn hub_only(action: FollowUpAction) -> bool {
    matches!(action, FollowUpAction::ConsentWithdrawn | FollowUpAction::Overdue)
}

/// Why a message is withheld, as short lower-case codes (`no_consent`): the
/// notice says why and nothing about the child.
pub(crate) fn refusal_codes(withheld: &MessageWithheld) -> Vec<String> {
    withheld.reasons().map(|r| r.as_str_name().trim_start_matches("CONSENT_REFUSAL_").to_ascii_lowercase()).collect()
}

/// The native element of a canonical field the hub refused, through `table`
/// of (canonical path without indexes, native element with `[]` for the
/// array item). The first index of the canonical path fills the first `[]`
/// (or is appended when the native element has none); an unknown field
/// falls back to its canonical name.
pub(crate) fn native_element(table: &[(&str, &str)], naming: Naming, canonical: &str) -> String {
    let mut index = None;
    let mut plain = String::with_capacity(canonical.len());
    let mut rest = canonical;
    while let Some(open) = rest.find('[') {
        plain.push_str(&rest[..open]);
        let close = rest[open..].find(']').map_or(rest.len(), |c| open + c + 1);
        if index.is_none() {
            index = rest[open + 1..close.saturating_sub(1).max(open + 1)].parse::<usize>().ok();
        }
        rest = &rest[close..];
    }
    plain.push_str(rest);
    let Some((_, element)) = table.iter().find(|(c, _)| *c == plain) else {
        return canonical.to_owned();
    };
    match (index, element.find("[]")) {
        (Some(i), Some(at)) => format!("{}{}{}", &element[..at], naming.item("", i), &element[at + 2..]),
        (Some(i), None) => naming.item(element, i),
        (None, _) => (*element).to_owned(),
    }
}

/// A JSON document of `body` (plain data: serialising cannot fail).
pub(crate) fn document(content_type: &'static str, body: &impl serde::Serialize) -> Document {
    Document { content_type, body: serde_json::to_vec(body).expect("plain data always serialises to JSON") }
}
