//! Signed tree heads as data, and when the hub signs the next one. The
//! signing itself needs the hub's key and happens at the edge
//! (`crates/server/src/tree_heads.rs`); what is signed, and when, is decided
//! here, with the time as an argument.

use std::time::Duration;

use super::merkle::Hash;

/// The audit log's tree at one size, as signed (docs/transparency.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeHead {
    /// Entries 1 to `size` are its leaves.
    pub size: u64,
    /// The root hash.
    pub root: Hash,
    /// When signed, µs since the Unix epoch.
    pub at: i64,
    /// The signing key's id.
    pub kid: String,
    /// Ed25519 signature of [`TreeHead::message`].
    pub signature: Vec<u8>,
}

impl TreeHead {
    /// The bytes the signature covers.
    pub fn message(&self) -> Vec<u8> {
        message(self.size, &self.root, self.at, &self.kid)
    }
}

impl From<&TreeHead> for crate::wire::SignedTreeHead {
    fn from(head: &TreeHead) -> Self {
        crate::wire::SignedTreeHead {
            tree_size: head.size,
            root_hash: head.root.to_vec(),
            signed_at_micros: head.at,
            key_id: head.kid.clone(),
            signature: head.signature.clone(),
        }
    }
}

/// The bytes a tree head's signature covers: UTF-8 lines, the root in hex.
pub fn message(size: u64, root: &Hash, at: i64, kid: &str) -> Vec<u8> {
    format!("referral-hub audit tree head v1\nsize={size}\nroot={}\nat={at}\nkid={kid}\n", super::hex(root))
        .into_bytes()
}

/// When the next tree head is due: after `entries` new entries, or `interval`
/// after the last head if the log grew at all. The tree head task's own
/// audit entry (`TREE_HEAD_SIGNED`) does not count as growth, or an idle hub
/// would sign a head every interval about nothing but the previous head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeHeadSchedule {
    /// New entries that make a head due at once.
    pub entries: u64,
    /// Time after which any growth makes a head due.
    pub interval: Duration,
}

/// Where the log stood at the last tree head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastHead {
    /// The last head's size (0: none yet).
    pub size: u64,
    /// When it was signed, µs since the epoch.
    pub at: i64,
    /// The log's size once the head's own audit entry was written.
    pub settled: u64,
}

impl TreeHeadSchedule {
    /// Whether a head is due now, with the log at `size` entries.
    pub fn due(&self, last: LastHead, size: u64, now: i64) -> bool {
        let grown = size.saturating_sub(last.settled.max(last.size));
        let waited = u64::try_from(now.saturating_sub(last.at)).unwrap_or(0);
        let interval = u64::try_from(self.interval.as_micros()).unwrap_or(u64::MAX);
        grown > 0 && (size.saturating_sub(last.size) >= self.entries || waited >= interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEDULE: TreeHeadSchedule = TreeHeadSchedule { entries: 100, interval: Duration::from_secs(60) };
    const SECOND: i64 = 1_000_000;

    #[test]
    fn a_head_is_due_after_enough_entries_or_enough_time_with_growth() {
        let last = LastHead { size: 500, at: 0, settled: 501 };
        assert!(!SCHEDULE.due(last, 501, 10 * SECOND), "only the head's own entry");
        assert!(!SCHEDULE.due(last, 501, 3600 * SECOND), "idle: no head about the last head");
        assert!(!SCHEDULE.due(last, 550, 10 * SECOND), "grown, but neither bound reached");
        assert!(SCHEDULE.due(last, 600, 10 * SECOND), "a hundred entries since the head");
        assert!(SCHEDULE.due(last, 502, 60 * SECOND), "a minute, and one real entry");
        assert!(!SCHEDULE.due(last, 502, 60 * SECOND - 1));
    }

    #[test]
    fn the_first_head_waits_for_the_first_entry() {
        let none = LastHead { size: 0, at: 0, settled: 0 };
        assert!(!SCHEDULE.due(none, 0, 3600 * SECOND));
        assert!(SCHEDULE.due(none, 1, 3600 * SECOND));
    }

    #[test]
    fn the_signed_message_is_the_documented_text() {
        let text = String::from_utf8(message(3, &[0xab; 32], 42, "k1")).expect("utf-8");
        assert_eq!(text, format!("referral-hub audit tree head v1\nsize=3\nroot={}\nat=42\nkid=k1\n", "ab".repeat(32)));
    }
}
