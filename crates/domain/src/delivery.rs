//! When to retry a failed push, and when to give up (docs/adapters.md "Push delivery"):
//! the schedule hosted webhook services use, with jitter so that receivers
//! coming back from an outage are not hit by every hub at the same second,
//! and a maximum age after which an entry becomes a dead letter.

use time::Duration;

/// Waits after the 1st, 2nd, … failed attempt; after the last, the entry is dead.
pub const RETRY_SCHEDULE: [Duration; 7] = [
    Duration::seconds(5),
    Duration::minutes(5),
    Duration::minutes(30),
    Duration::hours(2),
    Duration::hours(5),
    Duration::hours(10),
    Duration::hours(10),
];

/// How long after its first failure an entry is given up on, whatever the count.
pub const DEFAULT_MAX_AGE: Duration = Duration::hours(36);

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again after this long.
    RetryIn(Duration),
    /// Give up: make it a dead letter.
    DeadLetter,
}

/// The decision after the `attempts`-th failed attempt (counting this one),
/// `age` after the first failure. `jitter` in [-1, 1] spreads the wait by up
/// to ±10 %.
pub fn after_failure(attempts: u32, age: Duration, max_age: Duration, jitter: f64) -> AfterFailure {
    let Some(wait) = attempts.checked_sub(1).and_then(|i| RETRY_SCHEDULE.get(i as usize)) else {
        return AfterFailure::DeadLetter;
    };
    if age >= max_age {
        return AfterFailure::DeadLetter;
    }
    AfterFailure::RetryIn(*wait + *wait * (jitter.clamp(-1.0, 1.0) * 0.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_schedule_then_give_up() {
        let young = Duration::ZERO;
        let waits: Vec<_> = (1..=7).map(|n| after_failure(n, young, DEFAULT_MAX_AGE, 0.0)).collect();
        assert_eq!(waits, RETRY_SCHEDULE.map(AfterFailure::RetryIn).to_vec());
        assert_eq!(after_failure(8, young, DEFAULT_MAX_AGE, 0.0), AfterFailure::DeadLetter);
        assert_eq!(after_failure(0, young, DEFAULT_MAX_AGE, 0.0), AfterFailure::DeadLetter, "no attempt, no schedule");
    }

    #[test]
    fn jitter_stays_within_ten_percent_and_age_ends_retries() {
        assert_eq!(
            after_failure(1, Duration::ZERO, DEFAULT_MAX_AGE, 1.0),
            AfterFailure::RetryIn(Duration::milliseconds(5500))
        );
        assert_eq!(
            after_failure(1, Duration::ZERO, DEFAULT_MAX_AGE, -7.0),
            AfterFailure::RetryIn(Duration::milliseconds(4500))
        );
        assert_eq!(after_failure(2, DEFAULT_MAX_AGE, DEFAULT_MAX_AGE, 0.0), AfterFailure::DeadLetter);
    }
}
