//! Per-organisation request budgets (docs/security.md "Overload", docs/operations.md "Connection and request limits": overload must
//! be refused, not absorbed): a token bucket per organisation, refilled
//! continuously. Pure arithmetic on clock readings, so it is tested without
//! waiting.

/// A sustained rate with a burst allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per second an organisation may keep up indefinitely (at least 1).
    pub per_second: u32,
    /// Requests it may make at once after being idle (at least 1).
    pub burst: u32,
}

/// Tokens are counted in millionths, so refills are exact in microseconds.
const MICRO: i64 = 1_000_000;

/// One organisation's bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBucket {
    /// Millionths of a token.
    micro_tokens: i64,
    /// µs since the epoch of the last refill.
    refilled_at: i64,
}

impl TokenBucket {
    /// A full bucket at `now` (µs).
    pub fn full(limit: RateLimit, now: i64) -> TokenBucket {
        TokenBucket { micro_tokens: i64::from(limit.burst.max(1)) * MICRO, refilled_at: now }
    }

    /// Takes a token at `now` (µs): `Ok` when there was one, otherwise how
    /// long until there will be (µs), for the caller's retry hint. A clock
    /// that steps back refills nothing.
    pub fn take(&mut self, limit: RateLimit, now: i64) -> Result<(), i64> {
        self.take_many(limit, now, 1)
    }

    /// Takes `count` tokens at `now` (µs), all or none: a batch document is
    /// charged per item, and refused whole when the bucket cannot pay for
    /// every item. `Err` says how long until it could (µs); a batch larger
    /// than the burst never can, however long the caller waits.
    pub fn take_many(&mut self, limit: RateLimit, now: i64, count: u32) -> Result<(), i64> {
        let rate = i64::from(limit.per_second.max(1));
        let capacity = i64::from(limit.burst.max(1)) * MICRO;
        let elapsed = now.saturating_sub(self.refilled_at).max(0);
        self.micro_tokens = self.micro_tokens.saturating_add(elapsed.saturating_mul(rate)).min(capacity);
        self.refilled_at = self.refilled_at.max(now);
        let wanted = i64::from(count).saturating_mul(MICRO);
        if self.micro_tokens >= wanted {
            self.micro_tokens -= wanted;
            Ok(())
        } else {
            Err((wanted - self.micro_tokens + rate - 1) / rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: RateLimit = RateLimit { per_second: 10, burst: 3 };

    #[test]
    fn a_burst_is_allowed_then_the_sustained_rate() {
        let mut bucket = TokenBucket::full(LIMIT, 0);
        assert_eq!((0..3).map(|_| bucket.take(LIMIT, 0)).collect::<Vec<_>>(), vec![Ok(()); 3]);
        assert_eq!(bucket.take(LIMIT, 0), Err(100_000), "one token every 100 ms");
        assert_eq!(bucket.take(LIMIT, 99_999), Err(1));
        assert_eq!(bucket.take(LIMIT, 100_000), Ok(()));
        assert_eq!(bucket.take(LIMIT, 100_000), Err(100_000));
    }

    #[test]
    fn a_batch_is_paid_whole_or_not_at_all() {
        let mut bucket = TokenBucket::full(LIMIT, 0);
        assert_eq!(bucket.take_many(LIMIT, 0, 4), Err(100_000), "one item short: 100 ms");
        assert_eq!(bucket.take_many(LIMIT, 0, 3), Ok(()), "the refused batch took nothing");
        assert_eq!(bucket.take(LIMIT, 0), Err(100_000));
        assert!(bucket.take_many(LIMIT, 3_600 * MICRO, 4).is_err(), "beyond the burst, never");
    }

    #[test]
    fn idle_time_refills_up_to_the_burst_only() {
        let mut bucket = TokenBucket::full(LIMIT, 0);
        (0..3).for_each(|_| bucket.take(LIMIT, 0).unwrap());
        let an_hour = 3_600 * MICRO;
        assert_eq!((0..4).filter(|_| bucket.take(LIMIT, an_hour).is_ok()).count(), 3);
    }

    #[test]
    fn a_clock_stepping_back_refills_nothing() {
        let mut bucket = TokenBucket::full(LIMIT, MICRO);
        (0..3).for_each(|_| bucket.take(LIMIT, MICRO).unwrap());
        assert!(bucket.take(LIMIT, 0).is_err());
        assert!(bucket.take(LIMIT, MICRO).is_err(), "the step back is not counted as time passing later");
        assert!(bucket.take(LIMIT, MICRO + 100_000).is_ok());
    }

    #[test]
    fn extreme_readings_do_not_overflow() {
        let limit = RateLimit { per_second: u32::MAX, burst: u32::MAX };
        let mut bucket = TokenBucket::full(limit, i64::MIN);
        assert!(bucket.take(limit, i64::MAX).is_ok());
        let zero = RateLimit { per_second: 0, burst: 0 };
        let mut bucket = TokenBucket::full(zero, 0);
        assert!(bucket.take(zero, 0).is_ok(), "a zero limit counts as one");
        assert_eq!(bucket.take(zero, 0), Err(MICRO));
    }
}
