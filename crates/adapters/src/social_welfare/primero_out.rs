//! The parts of a delivered case that keep it inside Primero's own record
//! validation (`RecordJsonValidatorService`: `additionalProperties: false`,
//! lookups as enums, subform `unique_id` a bare UUID):
//!
//! - [`entry_id`]: the bare UUID of each subform entry the hub writes,
//!   derived from the message id, so the same delivery always carries the
//!   same ids and a case posted back is recognised as the hub's own;
//! - [`Notes`]: what the hub knows and Primero has no field or lookup value
//!   for (a hub-only code, the child's views, a deadline …), written as
//!   entries of Primero's `notes_section` instead of members Primero refuses.

use serde_json::{Map, Value, json};

use crate::CodeMap;

/// The subform an entry id belongs to (part of what the id is derived from,
/// so entry 0 of two subforms never share an id).
#[derive(Debug, Clone, Copy)]
pub(super) enum Subform {
    /// `services_section`.
    Services = 1,
    /// `notes_section`.
    Notes = 2,
    /// `family_details_section`.
    Family = 3,
    /// `care_arrangements_section`.
    Care = 4,
    /// `transitions`.
    Transitions = 5,
}

/// The bare UUID (RFC 9562 version 8, "custom") of entry `n` of `subform`
/// that the hub writes for message (or follow-up) `id`: two FNV-1a hashes of
/// the three, with the version and variant bits set. Not a secret, only
/// stable and distinct; a Primero instance's own entries are random UUIDs.
pub(super) fn entry_id(id: &str, subform: Subform, n: usize) -> String {
    let mut input = id.as_bytes().to_vec();
    input.push(subform as u8);
    input.extend_from_slice(&(n as u64).to_le_bytes());
    let hash = |offset: u64| input.iter().fold(offset, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3));
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hash(0xcbf2_9ce4_8422_2325).to_be_bytes());
    bytes[8..].copy_from_slice(&hash(0x6c62_272e_07bb_0142).to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// Whether `text` is a bare lower-case UUID, as Primero's record ids are.
pub(super) fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// `other_id_type` of the hub's link key, carried in Primero's other-id pair.
pub(super) const LINK_KEY_ID_TYPE: &str = "referral_hub_link_key";

/// Sets `key` to `value` unless it is empty (Primero leaves blank fields out).
pub(super) fn put(case: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        case.insert(key.into(), value.into());
    }
}

/// The subject of the note that names every hub code with no Primero value.
pub(super) const UNMAPPED_SUBJECT: &str = "Referral hub: values without a Primero code";

/// Notes for what Primero has no field or lookup value for, in the order
/// they were added.
#[derive(Debug, Default)]
pub(super) struct Notes {
    notes: Vec<(String, String)>,
    unmapped: Vec<String>,
}

impl Notes {
    /// A note `subject`: `text`, unless the text is empty.
    pub(super) fn add(&mut self, subject: &str, text: &str) {
        if !text.is_empty() {
            self.notes.push((subject.to_owned(), text.to_owned()));
        }
    }

    /// The native code of hub code `hub` in `table`, or, when the table has
    /// none, `None` and a line naming `field` and the hub code in the note
    /// [`UNMAPPED_SUBJECT`].
    pub(super) fn code(&mut self, codes: &CodeMap, table: &str, field: &str, hub: &str) -> Option<String> {
        match codes.to_native(table, hub) {
            Ok(native) => Some(native.to_owned()),
            Err(_) => {
                self.unmapped.push(format!("{field}: {hub}"));
                None
            }
        }
    }

    /// Writes the notes as `notes_section` entries of `case`, with ids
    /// derived from `id` and `note_date` set to `at` (RFC 3339) when known.
    pub(super) fn write(mut self, case: &mut Map<String, Value>, id: &str, at: Option<&str>) {
        if !self.unmapped.is_empty() {
            let lines = std::mem::take(&mut self.unmapped).join("\n");
            self.notes.push((UNMAPPED_SUBJECT.into(), lines));
        }
        if self.notes.is_empty() {
            return;
        }
        let entries: Vec<Value> = self
            .notes
            .into_iter()
            .enumerate()
            .map(|(n, (subject, text))| {
                let mut entry = Map::new();
                entry.insert("unique_id".into(), entry_id(id, Subform::Notes, n).into());
                entry.insert("note_subject".into(), subject.into());
                entry.insert("note_text".into(), text.into());
                if let Some(at) = at {
                    entry.insert("note_date".into(), at.into());
                }
                Value::Object(entry)
            })
            .collect();
        case.insert("notes_section".into(), json!(entries));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_are_bare_stable_distinct_uuids() {
        let id = "0192f1a0-7c3e-7d10-8b2a-5e6f7a8b9c0d";
        let first = entry_id(id, Subform::Services, 0);
        assert!(is_uuid(&first), "{first}");
        assert_eq!(&first[14..15], "8", "version 8");
        assert!(matches!(&first[19..20], "8" | "9" | "a" | "b"), "RFC 9562 variant");
        assert_eq!(first, entry_id(id, Subform::Services, 0), "stable");
        assert_ne!(first, entry_id(id, Subform::Services, 1));
        assert_ne!(first, entry_id(id, Subform::Notes, 0));
        assert_ne!(first, entry_id("0192f1a0-7c3e-7d10-8b2a-5e6f7a8b9c0e", Subform::Services, 0));
        assert!(!is_uuid("0192f1a0-7c3e-7d10-8b2a-5e6f7a8b9c0d:0"));
        assert!(!is_uuid("0192F1A0-7C3E-7D10-8B2A-5E6F7A8B9C0D"));
    }
}
