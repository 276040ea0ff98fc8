//! The one time type the hub computes and stores with, [`UnixMicros`], and
//! its conversions to and from protobuf timestamps and `time`'s date-times.

use prost_types::Timestamp;
use time::OffsetDateTime;

/// An instant, in microseconds since the Unix epoch (UTC): what every
/// timestamp column holds, so the unit is in the type, not in a comment.
/// Serialized as the bare number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct UnixMicros(i64);

impl UnixMicros {
    /// The instant `micros` microseconds after the epoch.
    pub const fn new(micros: i64) -> UnixMicros {
        UnixMicros(micros)
    }

    /// Microseconds since the epoch, as the database stores them.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// The instant of a date-time, to the microsecond.
    pub fn of(at: OffsetDateTime) -> UnixMicros {
        UnixMicros(i64::try_from(at.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX))
    }

    /// The instant of a protobuf timestamp.
    pub fn of_timestamp(at: &Timestamp) -> UnixMicros {
        UnixMicros(micros_of(at))
    }

    /// As a protobuf timestamp.
    pub fn timestamp(self) -> Timestamp {
        timestamp(self.0)
    }

    /// `duration` later (earlier when negative), saturating.
    pub fn plus(self, duration: time::Duration) -> UnixMicros {
        let micros = i64::try_from(duration.whole_microseconds()).unwrap_or(i64::MAX);
        UnixMicros(self.0.saturating_add(micros))
    }
}

impl From<i64> for UnixMicros {
    fn from(micros: i64) -> UnixMicros {
        UnixMicros(micros)
    }
}

impl From<UnixMicros> for i64 {
    fn from(at: UnixMicros) -> i64 {
        at.0
    }
}

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
            assert_eq!(UnixMicros::of_timestamp(&UnixMicros::new(micros).timestamp()).get(), micros);
        }
    }

    #[test]
    fn a_date_time_is_its_microseconds_and_moves_by_durations() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_800_000_000_123_456_789).unwrap();
        assert_eq!(UnixMicros::of(at).get(), 1_800_000_000_123_456);
        assert_eq!(UnixMicros::of(at).plus(time::Duration::seconds(-1)).get(), 1_799_999_999_123_456);
    }
}
