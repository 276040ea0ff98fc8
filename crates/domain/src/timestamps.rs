//! Protobuf timestamps to and from the microseconds the hub computes with.

use prost_types::Timestamp;

/// Microseconds since the Unix epoch of a protobuf timestamp.
pub fn micros_of(at: &Timestamp) -> i64 {
    at.seconds.saturating_mul(1_000_000).saturating_add(i64::from(at.nanos / 1000))
}

/// A protobuf timestamp of microseconds since the Unix epoch.
pub fn timestamp(micros: i64) -> Timestamp {
    Timestamp { seconds: micros.div_euclid(1_000_000), nanos: (micros.rem_euclid(1_000_000) * 1000) as i32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_including_before_the_epoch() {
        for micros in [0, 1, 1_800_000_000_123_456, -1, -1_500_000] {
            assert_eq!(micros_of(&timestamp(micros)), micros);
        }
    }
}
