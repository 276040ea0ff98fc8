//! Which inbox acknowledgements the group committer writes in a round.
//!
//! Acknowledgements are the committer's slow jobs and receivers tend to send
//! them together, so the committer holds them back behind the other jobs and
//! writes one per round: a submission then waits behind one acknowledgement,
//! not behind all of them. Those held [`ACK_PATIENCE`] go in the same round,
//! so that under a full queue they do not fall behind. The policy takes the
//! time as an argument, so its tests need no clock.

use std::{
    collections::VecDeque,
    time::{Duration, Instant},
};

/// How long an acknowledgement may be held back behind other jobs, one
/// written per round, before every one that waited this long is written in
/// the same round.
pub(crate) const ACK_PATIENCE: Duration = Duration::from_millis(10);

/// Acknowledgements taken from the committer's queue and not yet written, in
/// the order they were held.
pub(crate) struct HeldAcks<T> {
    held: VecDeque<(Instant, T)>,
}

impl<T> HeldAcks<T> {
    /// None held.
    pub(crate) fn new() -> HeldAcks<T> {
        HeldAcks { held: VecDeque::new() }
    }

    /// Whether none are held.
    pub(crate) fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Holds `acks` from `now` on, behind those held already.
    pub(crate) fn hold(&mut self, now: Instant, acks: impl IntoIterator<Item = T>) {
        self.held.extend(acks.into_iter().map(|ack| (now, ack)));
    }

    /// Moves this round's acknowledgements into `due`: the first held, and
    /// every one held [`ACK_PATIENCE`] by `now`.
    pub(crate) fn take_due(&mut self, now: Instant, due: &mut Vec<T>) {
        let waited = self.held.iter().take_while(|(since, _)| now - *since >= ACK_PATIENCE).count();
        let count = waited.max(1).min(self.held.len());
        due.extend(self.held.drain(..count).map(|(_, ack)| ack));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(acks: &mut HeldAcks<u32>, now: Instant) -> Vec<u32> {
        let mut due = Vec::new();
        acks.take_due(now, &mut due);
        due
    }

    #[test]
    fn one_is_due_per_round_until_they_have_waited() {
        let start = Instant::now();
        let mut acks = HeldAcks::new();
        assert_eq!(due(&mut acks, start), Vec::<u32>::new());
        acks.hold(start, [1, 2, 3]);
        assert_eq!(due(&mut acks, start), [1]);
        assert_eq!(due(&mut acks, start + ACK_PATIENCE / 2), [2]);
        assert!(!acks.is_empty());
        assert_eq!(due(&mut acks, start + ACK_PATIENCE / 2), [3]);
        assert!(acks.is_empty());
    }

    #[test]
    fn those_held_long_enough_go_together_and_newer_ones_wait() {
        let start = Instant::now();
        let mut acks = HeldAcks::new();
        acks.hold(start, [1, 2, 3]);
        acks.hold(start + ACK_PATIENCE, [4, 5]);
        assert_eq!(due(&mut acks, start + ACK_PATIENCE), [1, 2, 3]);
        assert_eq!(due(&mut acks, start + ACK_PATIENCE), [4]);
        // One held again (an acknowledgement not finished) goes behind the rest.
        acks.hold(start + ACK_PATIENCE, [6]);
        assert_eq!(due(&mut acks, start + 2 * ACK_PATIENCE), [5, 6]);
        assert!(acks.is_empty());
    }
}
