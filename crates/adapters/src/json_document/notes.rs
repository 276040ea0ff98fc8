//! The notes block: native fields the canonical payload has no place for
//! (a school's grade, a police incident's place and officer) travel at the
//! start of the referral's free-text `notes`, one per line, so that any
//! receiver can read them and the adapter that wrote them can take them apart
//! again. Shape, with each value a JSON string so that any text survives:
//!
//! ```text
//! <title line>
//! key: "value"
//! key: "value"
//!
//! <free notes, if any>
//! ```
//!
//! Only non-empty values get a line, in the order the adapter lists its keys;
//! with no values there is no block, the notes are just the free text.

/// `title` and `values` (key, value) as a block in front of `free`.
pub(crate) fn compose(title: &str, values: &[(&str, String)], free: &str) -> String {
    let lines: Vec<String> = values
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{key}: {}", serde_json::Value::String(value.clone())))
        .collect();
    if lines.is_empty() {
        return free.to_owned();
    }
    let mut notes = format!("{title}\n{}", lines.join("\n"));
    if !free.is_empty() {
        notes.push_str("\n\n");
        notes.push_str(free);
    }
    notes
}

/// The values of `keys` (empty when absent) and the free text of `notes`, if
/// `notes` starts with a `title` block; `None` when it does not, in which case
/// the whole of `notes` is free text. Recomposing the result gives `notes`
/// back exactly, so a referral crosses an adapter and back unchanged.
pub(crate) fn parse(title: &str, keys: &[&str], notes: &str) -> Option<(Vec<String>, String)> {
    let rest = notes.strip_prefix(title)?.strip_prefix('\n')?;
    let (block, free) = rest.split_once("\n\n").unwrap_or((rest, ""));
    let mut values = vec![String::new(); keys.len()];
    for line in block.lines() {
        let (key, value) = line.split_once(": ")?;
        let slot = keys.iter().position(|k| *k == key)?;
        values[slot] = serde_json::from_str::<String>(value).ok()?;
    }
    let pairs: Vec<(&str, String)> = keys.iter().copied().zip(values.iter().cloned()).collect();
    (compose(title, &pairs, free) == notes).then(|| (values, free.to_owned()))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const KEYS: [&str; 2] = ["grade", "attendance"];

    proptest! {
        #[test]
        fn any_notes_survive_parse_then_compose(notes in ".*", a in ".*", b in ".*", free in ".*") {
            if let Some((values, free)) = parse("T", &KEYS, &notes) {
                let pairs: Vec<(&str, String)> = KEYS.iter().copied().zip(values).collect();
                prop_assert_eq!(compose("T", &pairs, &free), notes);
            }
            let composed = compose("T", &[("grade", a.clone()), ("attendance", b.clone())], &free);
            match parse("T", &KEYS, &composed) {
                Some((values, rest)) => {
                    let pairs: Vec<(&str, String)> = KEYS.iter().copied().zip(values).collect();
                    prop_assert_eq!(compose("T", &pairs, &rest), composed);
                }
                None => prop_assert!(a.is_empty() && b.is_empty(), "a block with values is always recognised"),
            }
        }
    }

    #[test]
    fn a_block_reads_back_into_its_values() {
        let notes = compose("T", &[("grade", "5".into()), ("attendance", "Absent \"Mondays\"\nmostly".into())], "x");
        assert_eq!(notes, "T\ngrade: \"5\"\nattendance: \"Absent \\\"Mondays\\\"\\nmostly\"\n\nx");
        assert_eq!(
            parse("T", &KEYS, &notes),
            Some((vec!["5".into(), "Absent \"Mondays\"\nmostly".into()], "x".into()))
        );
        assert_eq!(parse("T", &KEYS, "just text"), None);
    }
}
