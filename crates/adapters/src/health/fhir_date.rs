//! FHIR R4 `date` and `dateTime` values at every precision R4 allows (a
//! year, a year and month, a day, or a time with seconds and zone), so that a
//! birth year alone or a consent dated to the month is read, not refused.
//!
//! A value names a period of time; the hub keeps instants and days, so:
//!
//! - a lower bound (`Period.start`, an appointment's start, a consent's
//!   `dateTime` for the child's age then) takes the first instant of the
//!   period the value names (`2026-11` -> 2026-11-01T00:00:00Z);
//! - an upper bound (`Period.end`) takes the first instant after it
//!   (`2026-11-20` -> 2026-11-21T00:00:00Z: valid through the 20th);
//! - a day the hub keeps as a date (found on, separation, next review) is the
//!   first day of a year or month, the date as written of a dateTime;
//! - a partial birth date gives the youngest age the child can be: born on
//!   the last day of the year or month named (see [`FhirDate::age_on`]).
//!
//! A value without a time has no zone in FHIR; the hub reads it in UTC.

use prost_types::Timestamp;
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, format_description::well_known::Rfc3339};

/// How much of a date a FHIR value gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Precision {
    Year,
    Month,
    Day,
    /// A dateTime with time and zone.
    Instant,
}

/// A parsed FHIR `date`/`dateTime`: the period it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FhirDate {
    pub precision: Precision,
    /// The first instant of the period.
    start: OffsetDateTime,
    /// The first day of the period, as written (a dateTime keeps its own zone's day).
    first_day: Date,
    /// The last day of the period, as written.
    last_day: Date,
}

impl FhirDate {
    /// Parses a FHIR `dateTime`: `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or
    /// `YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm)`.
    pub fn parse_date_time(text: &str) -> Option<Self> {
        if text.len() > 10 {
            // RFC 3339 also allows a space and lower-case `t`/`z`; R4's pattern does not.
            if text.as_bytes()[10] != b'T' || text.ends_with('z') {
                return None;
            }
            let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
            // R4's pattern: seconds are required and the date part is written as a FHIR date.
            let day = Self::parse_date(text.get(..10)?)?;
            return Some(Self { precision: Precision::Instant, start: at, ..day });
        }
        Self::parse_date(text)
    }

    /// Parses a FHIR `date`: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub fn parse_date(text: &str) -> Option<Self> {
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        let mut parts = text.split('-');
        let year = parts.next().filter(|y| digits(y, 4))?.parse::<i32>().ok()?;
        let month = parts.next().map(|m| if digits(m, 2) { m.parse::<u8>().ok() } else { None });
        let day = parts.next().map(|d| if digits(d, 2) { d.parse::<u8>().ok() } else { None });
        if parts.next().is_some() || year == 0 {
            return None;
        }
        let (precision, first_day, last_day) = match (month, day) {
            (None, _) => (Precision::Year, Date::from_calendar_date(year, Month::January, 1).ok()?, {
                Date::from_calendar_date(year, Month::December, 31).ok()?
            }),
            (Some(month), None) => {
                let month = Month::try_from(month?).ok()?;
                let first = Date::from_calendar_date(year, month, 1).ok()?;
                (Precision::Month, first, Date::from_calendar_date(year, month, month.length(year)).ok()?)
            }
            (Some(month), Some(day)) => {
                let date = Date::from_calendar_date(year, Month::try_from(month?).ok()?, day?).ok()?;
                (Precision::Day, date, date)
            }
        };
        let start = PrimitiveDateTime::new(first_day, Time::MIDNIGHT).assume_utc();
        Some(Self { precision, start, first_day, last_day })
    }

    /// The first instant of the period: a lower bound.
    pub fn start(&self) -> Timestamp {
        timestamp(self.start)
    }

    /// The first instant after the period: an upper bound (an instant is its own end).
    pub fn end(&self) -> Timestamp {
        match self.precision {
            Precision::Instant => timestamp(self.start),
            _ => timestamp(PrimitiveDateTime::new(self.last_day, Time::MIDNIGHT).assume_utc() + Duration::DAY),
        }
    }

    /// The first day of the period, as written: the day the hub keeps.
    pub fn first_day(&self) -> Date {
        self.first_day
    }

    /// The age in whole years on `on` of a child born in this period: the
    /// youngest it can be (born on the period's last day; 0 if that day is
    /// still to come). `None` when the period starts after `on`.
    pub fn age_on(&self, on: Date) -> Option<u32> {
        if self.first_day > on {
            return None;
        }
        let born = self.last_day;
        let years =
            on.year() - born.year() - i32::from((on.month() as u8, on.day()) < (born.month() as u8, born.day()));
        Some(u32::try_from(years).unwrap_or(0))
    }
}

fn timestamp(at: OffsetDateTime) -> Timestamp {
    Timestamp { seconds: at.unix_timestamp(), nanos: at.nanosecond() as i32 }
}

/// A day as FHIR writes a `date`.
pub(super) fn day(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month() as u8, date.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> i64 {
        OffsetDateTime::parse(text, &Rfc3339).unwrap().unix_timestamp()
    }

    #[test]
    fn every_r4_precision_names_its_period() {
        let year = FhirDate::parse_date_time("2026").unwrap();
        assert_eq!(
            (year.start().seconds, year.end().seconds),
            (utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"))
        );
        let month = FhirDate::parse_date_time("2024-02").unwrap();
        assert_eq!(month.end().seconds, utc("2024-03-01T00:00:00Z"), "February of a leap year");
        let day = FhirDate::parse_date_time("2026-11-20").unwrap();
        assert_eq!(
            (day.start().seconds, day.end().seconds),
            (utc("2026-11-20T00:00:00Z"), utc("2026-11-21T00:00:00Z"))
        );
        let at = FhirDate::parse_date_time("2026-11-20T09:30:00+06:30").unwrap();
        assert_eq!((at.start().seconds, at.end().seconds), (utc("2026-11-20T03:00:00Z"), utc("2026-11-20T03:00:00Z")));
        assert_eq!(super::day(at.first_day()), "2026-11-20", "the day as written, not in UTC");
    }

    #[test]
    fn what_r4_does_not_allow_is_refused() {
        for bad in [
            "",
            "26",
            "2026-1",
            "2026-13",
            "2026-02-30",
            "2026-11-20T09:30",
            "2026-11-20T09:30:00",
            "0000",
            "2026-11-20 09:30:00Z",
            "2026-11-20t09:30:00Z",
            "2026-11-20T09:30:00z",
            "20261120",
            "2026-11-",
            "+2026",
        ] {
            assert_eq!(FhirDate::parse_date_time(bad), None, "{bad}");
        }
        assert_eq!(FhirDate::parse_date("2026-11-20T09:30:00Z"), None, "a date has no time");
    }

    #[test]
    fn a_partial_birth_date_gives_the_youngest_age() {
        let on = Date::from_calendar_date(2026, Month::December, 7).unwrap();
        let age = |birth: &str| FhirDate::parse_date(birth).unwrap().age_on(on);
        assert_eq!(age("2017"), Some(8), "born by 2017-12-31");
        assert_eq!(age("2017-03"), Some(9));
        assert_eq!(age("2017-12"), Some(8));
        assert_eq!(age("2017-12-07"), Some(9), "a whole date is exact");
        assert_eq!(age("2026"), Some(0), "possibly days old");
        assert_eq!(age("2027"), None, "not born yet");
        assert_eq!(age("2026-12-08"), None);
    }
}
