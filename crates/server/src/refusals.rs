//! Refused calls counted, not hoarded (docs/security.md "Audit log"): one audit
//! entry per (source, certificate, actor, action, reason, minute). The first
//! refusal of a window is written in full at once, so an auditor sees who was
//! refused and why without waiting; the others are only counted, and the count
//! is written when the window closes. A flood of garbage tokens then costs a
//! few rows a minute instead of a row per call.
//!
//! The table is bounded: beyond its capacity, new keys fold into one overflow
//! key per (action, reason), so a flood from many distinct sources cannot grow
//! memory either. The policy takes the time as an argument, so its tests need
//! no clock; `refused_calls.rs` wires it to the audit log.

use std::collections::HashMap;

use referral_hub_domain::audit::Action;

/// A window's length: a minute, in µs.
pub const WINDOW_MICROS: i64 = 60_000_000;

/// The source of every key folded into the overflow key.
pub const OVERFLOW_SOURCE: &str = "*";

/// What refusals are counted together within a minute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RefusalKey {
    /// `AUTHENTICATION_FAILED` or `PERMISSION_DENIED`.
    pub action: Action,
    /// The peer's IP address, without the port (a client's every connection
    /// has another port).
    pub source: String,
    /// SHA-256 of the client certificate presented, empty without one.
    pub certificate: String,
    /// The verified caller's organisation; empty when the token was refused.
    pub actor_org: String,
    /// The verified caller's subject; empty when the token was refused.
    pub actor_subject: String,
    /// Why: the token's refusal reason, or the RPC whose role was lacking.
    pub reason: String,
}

/// A closed window holding more than its first refusal: its count entry is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedWindow {
    /// What was refused.
    pub key: RefusalKey,
    /// The window's start, µs.
    pub started_at: i64,
    /// Every refusal of the window, the first (written in full) included.
    pub count: u64,
}

/// What [`RefusalTally::record`] asks its caller to write now.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recorded {
    /// The first refusal of a new window: write it in full. `None`: it was counted.
    pub first: Option<RefusalKey>,
    /// The same key's previous window, which this refusal closed.
    pub closed: Option<ClosedWindow>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started_at: i64,
    count: u64,
}

/// The open windows, at most `capacity` keys besides the overflow keys.
#[derive(Debug)]
pub struct RefusalTally {
    open: HashMap<RefusalKey, Window>,
    capacity: usize,
}

impl RefusalTally {
    /// A tally holding at most `capacity` distinct keys.
    pub fn new(capacity: usize) -> RefusalTally {
        RefusalTally { open: HashMap::new(), capacity }
    }

    /// Counts a refusal under `key` at `now` (µs).
    pub fn record(&mut self, key: RefusalKey, now: i64) -> Recorded {
        let key = if self.open.contains_key(&key) || self.open.len() < self.capacity {
            key
        } else {
            RefusalKey {
                source: OVERFLOW_SOURCE.into(),
                certificate: String::new(),
                actor_org: String::new(),
                actor_subject: String::new(),
                ..key
            }
        };
        let started_at = now.div_euclid(WINDOW_MICROS) * WINDOW_MICROS;
        match self.open.get_mut(&key) {
            Some(window) if window.started_at == started_at => {
                window.count += 1;
                Recorded::default()
            }
            Some(window) => {
                let previous = std::mem::replace(window, Window { started_at, count: 1 });
                let closed = closed(&key, previous);
                Recorded { first: Some(key), closed }
            }
            None => {
                self.open.insert(key.clone(), Window { started_at, count: 1 });
                Recorded { first: Some(key), closed: None }
            }
        }
    }

    /// Closes every window that ended by `now` (µs); returns those with more
    /// than their first refusal, whose count entries are due.
    pub fn close_ended(&mut self, now: i64) -> Vec<ClosedWindow> {
        let current = now.div_euclid(WINDOW_MICROS) * WINDOW_MICROS;
        let ended: Vec<RefusalKey> =
            self.open.iter().filter(|(_, w)| w.started_at < current).map(|(k, _)| k.clone()).collect();
        ended.into_iter().filter_map(|key| self.open.remove(&key).and_then(|w| closed(&key, w))).collect()
    }

    /// Closes every window (at shutdown).
    pub fn close_all(&mut self) -> Vec<ClosedWindow> {
        self.open.drain().filter_map(|(key, window)| closed(&key, window)).collect()
    }

    /// How many windows are open.
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }
}

fn closed(key: &RefusalKey, window: Window) -> Option<ClosedWindow> {
    (window.count > 1).then(|| ClosedWindow { key: key.clone(), started_at: window.started_at, count: window.count })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(source: &str, reason: &str) -> RefusalKey {
        RefusalKey {
            action: Action::AuthenticationFailed,
            source: source.into(),
            certificate: String::new(),
            actor_org: String::new(),
            actor_subject: String::new(),
            reason: reason.into(),
        }
    }

    const MINUTE: i64 = WINDOW_MICROS;

    #[test]
    fn the_first_refusal_of_a_window_is_written_and_the_rest_counted() {
        let mut tally = RefusalTally::new(10);
        assert_eq!(tally.record(key("a", "bad"), 5), Recorded { first: Some(key("a", "bad")), closed: None });
        for _ in 1..3_000 {
            assert_eq!(tally.record(key("a", "bad"), 10), Recorded::default());
        }
        assert_eq!(tally.record(key("a", "other"), 10).first, Some(key("a", "other")), "another reason");
        assert_eq!(tally.record(key("b", "bad"), 10).first, Some(key("b", "bad")), "another source");
        assert_eq!(tally.close_ended(MINUTE - 1), vec![], "the window is still open");
        let closed = tally.close_ended(MINUTE);
        assert_eq!(closed, vec![ClosedWindow { key: key("a", "bad"), started_at: 0, count: 3_000 }]);
        assert!(tally.is_empty(), "windows of a single refusal close without a count entry");
    }

    #[test]
    fn a_refusal_in_a_later_minute_closes_its_key_s_window() {
        let mut tally = RefusalTally::new(10);
        tally.record(key("a", "bad"), 0);
        tally.record(key("a", "bad"), 1);
        let next = tally.record(key("a", "bad"), MINUTE + 7);
        assert_eq!(next.first, Some(key("a", "bad")));
        assert_eq!(next.closed, Some(ClosedWindow { key: key("a", "bad"), started_at: 0, count: 2 }));
        assert_eq!(tally.close_all(), vec![], "the new window holds only its first refusal");
    }

    #[test]
    fn beyond_its_capacity_new_sources_fold_into_one_overflow_key() {
        let mut tally = RefusalTally::new(2);
        tally.record(key("a", "bad"), 0);
        tally.record(key("b", "bad"), 0);
        let overflow = key(OVERFLOW_SOURCE, "bad");
        assert_eq!(tally.record(key("c", "bad"), 0).first, Some(overflow.clone()));
        for source in 0..10_000 {
            assert_eq!(tally.record(key(&source.to_string(), "bad"), 0), Recorded::default());
        }
        assert_eq!(tally.record(key("a", "bad"), 0), Recorded::default(), "known keys are still their own");
        assert_eq!(tally.len(), 3);
        let mut closed = tally.close_all();
        closed.sort_by(|x, y| x.key.source.cmp(&y.key.source));
        let expected = vec![
            ClosedWindow { key: overflow, started_at: 0, count: 10_001 },
            ClosedWindow { key: key("a", "bad"), started_at: 0, count: 2 },
        ];
        assert_eq!(closed, expected);
    }
}
