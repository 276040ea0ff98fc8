//! Reading a JSON document element by element, so that a refusal names every
//! bad element (by JSON pointer) rather than stopping at the first one.

use referral_hub_domain::wire::{Priority, RiskLevel};
use serde_json::{Map, Value};

use crate::{CodeMap, NativeViolation};

/// Bad elements found so far, in document order.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub(crate) Vec<NativeViolation>);

impl Problems {
    /// Records one bad element.
    pub(crate) fn add(&mut self, element: impl Into<String>, description: impl Into<String>) {
        self.0.push(NativeViolation { element: element.into(), description: description.into() });
    }

    /// Whether nothing is wrong so far.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The whole document as an element name, for problems that are not about one element.
pub(crate) const DOCUMENT: &str = "document";

/// Parses `bytes` as JSON, refusing oversize documents before reading them.
/// The description never quotes the document (it may hold child data).
pub(crate) fn parse(bytes: &[u8], problems: &mut Problems) -> Option<Value> {
    if bytes.len() > crate::MAX_DOCUMENT_BYTES {
        problems.add(DOCUMENT, format!("larger than {} bytes", crate::MAX_DOCUMENT_BYTES));
        return None;
    }
    match serde_json::from_slice(bytes) {
        Ok(value) => Some(value),
        Err(e) => {
            problems.add(
                DOCUMENT,
                format!("not JSON ({:?} error at line {}, column {})", e.classify(), e.line(), e.column()),
            );
            None
        }
    }
}

/// One JSON object being read, and where it sits in the document.
pub(crate) struct Object<'a> {
    map: &'a Map<String, Value>,
    at: String,
}

impl<'a> Object<'a> {
    /// The document's root, which must be an object.
    pub(crate) fn root(value: &'a Value, problems: &mut Problems) -> Option<Self> {
        Self::at(value, String::new(), problems)
    }

    fn at(value: &'a Value, at: String, problems: &mut Problems) -> Option<Self> {
        match value {
            Value::Object(map) => Some(Self { map, at }),
            _ => {
                problems.add(if at.is_empty() { DOCUMENT.to_owned() } else { at }, "expected an object");
                None
            }
        }
    }

    /// The JSON pointer of element `name` of this object.
    pub(crate) fn pointer(&self, name: &str) -> String {
        format!("{}/{}", self.at, name.replace('~', "~0").replace('/', "~1"))
    }

    /// Refuses elements not in `known`: a misspelt element would otherwise be lost silently.
    pub(crate) fn only(&self, known: &[&str], problems: &mut Problems) {
        for name in self.map.keys().filter(|k| !known.contains(&k.as_str())) {
            if self.at.is_empty() && name == "hub" {
                problems.add("/hub", "read-only: the hub sets it in the documents it sends");
                continue;
            }
            let name: String = name.chars().take(64).collect();
            problems.add(self.pointer(&name), format!("unknown element; expected one of {}", known.join(", ")));
        }
    }

    /// Absent and `null` are the same: not given.
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// Whether element `name` is given.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A string element; empty when absent.
    pub(crate) fn text(&self, name: &str, problems: &mut Problems) -> String {
        match self.get(name) {
            None => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                problems.add(self.pointer(name), "expected a string");
                String::new()
            }
        }
    }

    /// A string element the adapter cannot do without.
    pub(crate) fn required(&self, name: &str, problems: &mut Problems) -> String {
        if !self.has(name) {
            problems.add(self.pointer(name), "required");
        }
        self.text(name, problems)
    }

    /// A boolean element; false when absent.
    pub(crate) fn flag(&self, name: &str, problems: &mut Problems) -> bool {
        match self.get(name) {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                problems.add(self.pointer(name), "expected true or false");
                false
            }
        }
    }

    /// A whole, non-negative number of at most `max`.
    pub(crate) fn number(&self, name: &str, max: u64, problems: &mut Problems) -> Option<u64> {
        let value = self.get(name)?;
        match value.as_u64().filter(|n| *n <= max) {
            Some(n) => Some(n),
            None => {
                problems.add(self.pointer(name), format!("expected a whole number from 0 to {max}"));
                None
            }
        }
    }

    /// A list of strings; empty when absent.
    pub(crate) fn texts(&self, name: &str, problems: &mut Problems) -> Vec<String> {
        match self.get(name) {
            None => vec![],
            Some(Value::Array(items)) => {
                let mut texts = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => texts.push(s.clone()),
                        _ => problems.add(format!("{}/{i}", self.pointer(name)), "expected a string"),
                    }
                }
                texts
            }
            Some(_) => {
                problems.add(self.pointer(name), "expected a list of strings");
                vec![]
            }
        }
    }

    /// A nested object, if given.
    pub(crate) fn object(&self, name: &str, problems: &mut Problems) -> Option<Object<'a>> {
        Object::at(self.get(name)?, self.pointer(name), problems)
    }

    /// A list of objects; empty when absent.
    pub(crate) fn objects(&self, name: &str, problems: &mut Problems) -> Vec<Object<'a>> {
        match self.get(name) {
            None => vec![],
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| Object::at(item, format!("{}/{i}", self.pointer(name)), problems))
                .collect(),
            Some(_) => {
                problems.add(self.pointer(name), "expected a list of objects");
                vec![]
            }
        }
    }

    /// A coded element mapped to the hub's code through `table`; empty when absent.
    pub(crate) fn code(&self, name: &str, codes: &CodeMap, table: &str, problems: &mut Problems) -> String {
        let native = self.text(name, problems);
        if native.is_empty() {
            return native;
        }
        to_hub(&native, self.pointer(name), codes, table, problems)
    }

    /// A list of coded elements, each mapped through `table`.
    pub(crate) fn codes(&self, name: &str, codes: &CodeMap, table: &str, problems: &mut Problems) -> Vec<String> {
        let natives = self.texts(name, problems);
        natives
            .iter()
            .enumerate()
            .map(|(i, native)| to_hub(native, format!("{}/{i}", self.pointer(name)), codes, table, problems))
            .collect()
    }

    /// The `risk` element, through the `risk` table.
    pub(crate) fn risk(&self, codes: &CodeMap, problems: &mut Problems) -> i32 {
        self.enumerated("risk", codes, "risk", |h| RiskLevel::from_str_name(h).map(|r| r as i32), problems)
    }

    /// The `priority` element, through the `priority` table.
    pub(crate) fn priority(&self, codes: &CodeMap, problems: &mut Problems) -> i32 {
        self.enumerated("priority", codes, "priority", |h| Priority::from_str_name(h).map(|p| p as i32), problems)
    }

    /// A coded element whose hub code is a proto enum value (risk, priority,
    /// follow-up action), as the enum's number; 0 (unspecified) when absent.
    pub(crate) fn enumerated(
        &self,
        name: &str,
        codes: &CodeMap,
        table: &str,
        from_hub: fn(&str) -> Option<i32>,
        problems: &mut Problems,
    ) -> i32 {
        let hub = self.code(name, codes, table, problems);
        if hub.is_empty() {
            return 0;
        }
        from_hub(&hub).unwrap_or_else(|| {
            problems.add(self.pointer(name), format!("code table `{table}` maps this code to `{hub}`, not a hub code"));
            0
        })
    }
}

fn to_hub(native: &str, element: String, codes: &CodeMap, table: &str, problems: &mut Problems) -> String {
    match codes.to_hub(table, native) {
        Ok(hub) => hub.to_owned(),
        Err(unmapped) => {
            problems.add(element, format!("{unmapped}; allowed: {}", codes.native_codes(table).join(", ")));
            String::new()
        }
    }
}
