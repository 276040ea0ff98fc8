//! Naming the hub's validation errors after the sender's elements: a
//! canonical field path such as `referral.attachments[1].uri` becomes the
//! JSON pointer `/attachments/1/uri` through a per-adapter table of prefixes.

/// The JSON pointer of `canonical` through `table` (canonical prefix ->
/// pointer; the longest matching prefix wins, the rest of the path follows
/// with `.x` as `/x` and `[i]` as `/i`), or `None` when no prefix matches.
pub(crate) fn native_pointer(table: &[(&str, &str)], canonical: &str) -> Option<String> {
    let (prefix, pointer) = table
        .iter()
        .filter(|(prefix, _)| {
            canonical.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
        })
        .max_by_key(|(prefix, _)| prefix.len())?;
    let rest = &canonical[prefix.len()..];
    Some(format!("{pointer}{}", rest.replace(']', "").replace(['.', '['], "/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins_and_indices_become_segments() {
        let table = [("referral.child", "/pupil"), ("referral.child.estimated_age_years", "/pupil/age")];
        assert_eq!(native_pointer(&table, "referral.child.sex").as_deref(), Some("/pupil/sex"));
        assert_eq!(native_pointer(&table, "referral.child.estimated_age_years").as_deref(), Some("/pupil/age"));
        assert_eq!(native_pointer(&table, "referral.child.languages[2]").as_deref(), Some("/pupil/languages/2"));
        assert_eq!(native_pointer(&table, "referral.children"), None);
    }
}
