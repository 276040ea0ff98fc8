//! Statistics periods (docs/security.md "Statistics"): one whole UTC day, ISO week or
//! calendar month per answer, aligned, and already ended. Windows of any
//! length and position let two answers differ by one message (the attack of
//! issue 26 compared `[t0, T)` with `[t0, T+1µs)`); whole periods of one unit
//! never overlap, so no two answers can be subtracted.

use time::{Date, Duration, Month, OffsetDateTime, Time};

use crate::validation::FieldViolation;

/// The unit of a statistics period. A hub publishes exactly one (see
/// [`whole_period`]): a month and the days inside it could be differenced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodUnit {
    /// 00:00:00 UTC to the next 00:00:00.
    Day,
    /// Monday 00:00:00 UTC to the next Monday.
    Week,
    /// The 1st at 00:00:00 UTC to the next 1st.
    Month,
}

impl PeriodUnit {
    /// The start of the period of this unit that contains `at`.
    pub fn start_of(self, at: OffsetDateTime) -> OffsetDateTime {
        let day = at.date();
        let start = match self {
            PeriodUnit::Day => day,
            PeriodUnit::Week => day - Duration::days(i64::from(day.weekday().number_days_from_monday())),
            PeriodUnit::Month => day.replace_day(1).expect("every month has a 1st"),
        };
        start.with_time(Time::MIDNIGHT).assume_utc()
    }

    /// The start of the period after the one that starts at `start`.
    pub fn next(self, start: OffsetDateTime) -> OffsetDateTime {
        match self {
            PeriodUnit::Day => start + Duration::days(1),
            PeriodUnit::Week => start + Duration::weeks(1),
            PeriodUnit::Month => {
                let date = start.date();
                let (year, month) = match date.month() {
                    Month::December => (date.year() + 1, Month::January),
                    month => (date.year(), month.next()),
                };
                let first = Date::from_calendar_date(year, month, 1).expect("the 1st of a month");
                first.with_time(Time::MIDNIGHT).assume_utc()
            }
        }
    }

    /// What a period's start must be, for a field violation.
    pub fn alignment(self) -> &'static str {
        match self {
            PeriodUnit::Day => "the start of a UTC day (00:00:00Z)",
            PeriodUnit::Week => "the start of an ISO week (a Monday, 00:00:00Z)",
            PeriodUnit::Month => "the start of a calendar month (the 1st, 00:00:00Z)",
        }
    }

    /// Its name on the wire, for messages.
    pub fn wire_name(self) -> &'static str {
        match self {
            PeriodUnit::Day => "PERIOD_DAY",
            PeriodUnit::Week => "PERIOD_WEEK",
            PeriodUnit::Month => "PERIOD_MONTH",
        }
    }
}

/// A period that may be counted: `[start, end)` in µs since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First instant counted.
    pub start: i64,
    /// First instant not counted.
    pub end: i64,
}

/// What a request for statistics asked for, in µs since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodRequest {
    /// The unit asked for; `None` when unset or unknown.
    pub unit: Option<PeriodUnit>,
    /// `from`; `None` when unset.
    pub from: Option<i64>,
    /// `to`; `None` when unset (then the end of the period).
    pub to: Option<i64>,
}

/// The one whole period `request` names, if the hub (which publishes by
/// `published`) may count it at `now`: `from` aligned to the unit, `to` (if
/// given) exactly the start of the next period, and that no later than the
/// start of the current period. Otherwise every violation, naming the field
/// and the alignment needed.
pub fn whole_period(request: PeriodRequest, published: PeriodUnit, now: i64) -> Result<Period, Vec<FieldViolation>> {
    let violation = |field: &str, description: String| FieldViolation { field: field.into(), description };
    let mut violations = Vec::new();
    match request.unit {
        Some(unit) if unit == published => {}
        Some(_) | None => violations.push(violation(
            "period",
            format!("this hub publishes statistics by one unit only: {}", published.wire_name()),
        )),
    }
    let Some(from) = request.from.and_then(instant) else {
        violations.push(violation("from", format!("required: {}", published.alignment())));
        return Err(violations);
    };
    if published.start_of(from) != from {
        violations.push(violation("from", format!("must be {}", published.alignment())));
        return Err(violations);
    }
    let end = published.next(from);
    if request.to.is_some_and(|to| instant(to) != Some(end)) {
        violations.push(violation("to", "must be the start of the period after `from` (one whole period)".into()));
    }
    let current = instant(now).map(|now| published.start_of(now));
    if current.is_none_or(|current| end > current) {
        violations.push(violation("to", "the period has not ended: the current period is never counted".into()));
    }
    if !violations.is_empty() {
        return Err(violations);
    }
    Ok(Period { start: micros(from), end: micros(end) })
}

fn instant(micros: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).ok()
}

fn micros(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1000).expect("a calendar date fits in i64 µs")
}

#[cfg(test)]
mod tests {
    use time::{Weekday, macros::datetime};

    use super::*;

    fn us(at: OffsetDateTime) -> i64 {
        micros(at)
    }

    fn ask(unit: PeriodUnit, from: OffsetDateTime, to: Option<OffsetDateTime>) -> PeriodRequest {
        PeriodRequest { unit: Some(unit), from: Some(us(from)), to: to.map(us) }
    }

    fn fields(result: Result<Period, Vec<FieldViolation>>) -> Vec<String> {
        result.unwrap_err().into_iter().map(|v| v.field).collect()
    }

    const NOW: OffsetDateTime = datetime!(2026-03-18 10:30 UTC);

    #[test]
    fn starts_and_ends_of_each_unit() {
        let at = datetime!(2026-12-31 23:59:59.999999 UTC);
        assert_eq!(PeriodUnit::Day.start_of(at), datetime!(2026-12-31 0:00 UTC));
        assert_eq!(PeriodUnit::Week.start_of(at), datetime!(2026-12-28 0:00 UTC));
        assert_eq!(PeriodUnit::Week.start_of(at).weekday(), Weekday::Monday);
        assert_eq!(PeriodUnit::Month.start_of(at), datetime!(2026-12-01 0:00 UTC));
        assert_eq!(PeriodUnit::Month.next(datetime!(2026-12-01 0:00 UTC)), datetime!(2027-01-01 0:00 UTC));
        assert_eq!(PeriodUnit::Month.next(datetime!(2028-02-01 0:00 UTC)), datetime!(2028-03-01 0:00 UTC));
        assert_eq!(PeriodUnit::Week.next(datetime!(2026-12-28 0:00 UTC)), datetime!(2027-01-04 0:00 UTC));
        assert_eq!(PeriodUnit::Day.next(datetime!(2028-02-28 0:00 UTC)), datetime!(2028-02-29 0:00 UTC));
    }

    #[test]
    fn a_whole_ended_period_is_counted_with_or_without_its_end() {
        let feb = datetime!(2026-02-01 0:00 UTC);
        let expected = Period { start: us(feb), end: us(datetime!(2026-03-01 0:00 UTC)) };
        let now = us(NOW);
        assert_eq!(whole_period(ask(PeriodUnit::Month, feb, None), PeriodUnit::Month, now), Ok(expected));
        let with_end = ask(PeriodUnit::Month, feb, Some(datetime!(2026-03-01 0:00 UTC)));
        assert_eq!(whole_period(with_end, PeriodUnit::Month, now), Ok(expected));
        let monday = datetime!(2026-03-09 0:00 UTC);
        assert!(whole_period(ask(PeriodUnit::Week, monday, None), PeriodUnit::Week, now).is_ok());
        let yesterday = datetime!(2026-03-17 0:00 UTC);
        assert!(whole_period(ask(PeriodUnit::Day, yesterday, None), PeriodUnit::Day, now).is_ok());
    }

    #[test]
    fn the_current_period_is_never_counted() {
        let now = us(NOW);
        let march = ask(PeriodUnit::Month, datetime!(2026-03-01 0:00 UTC), None);
        assert_eq!(fields(whole_period(march, PeriodUnit::Month, now)), ["to"]);
        let this_week = ask(PeriodUnit::Week, datetime!(2026-03-16 0:00 UTC), None);
        assert_eq!(fields(whole_period(this_week, PeriodUnit::Week, now)), ["to"]);
        let today = ask(PeriodUnit::Day, datetime!(2026-03-18 0:00 UTC), None);
        assert_eq!(fields(whole_period(today, PeriodUnit::Day, now)), ["to"]);
        let future = ask(PeriodUnit::Day, datetime!(2027-03-18 0:00 UTC), None);
        assert_eq!(fields(whole_period(future, PeriodUnit::Day, now)), ["to"]);
        // The first instant of the next period: the one that just ended counts.
        let midnight = us(datetime!(2026-03-18 0:00 UTC));
        assert!(
            whole_period(ask(PeriodUnit::Day, datetime!(2026-03-17 0:00 UTC), None), PeriodUnit::Day, midnight).is_ok()
        );
        assert!(
            whole_period(ask(PeriodUnit::Day, datetime!(2026-03-17 0:00 UTC), None), PeriodUnit::Day, midnight - 1)
                .is_err()
        );
    }

    #[test]
    fn misaligned_bounds_name_the_alignment_needed() {
        let now = us(NOW);
        // The windows of the attack: a µs past the start, a µs past the end.
        let off = ask(PeriodUnit::Month, datetime!(2026-02-01 0:00:00.000001 UTC), None);
        let refused = whole_period(off, PeriodUnit::Month, now).unwrap_err();
        assert_eq!(refused[0].field, "from");
        assert!(refused[0].description.contains("the 1st, 00:00:00Z"), "{}", refused[0].description);
        let long = ask(PeriodUnit::Month, datetime!(2026-01-01 0:00 UTC), Some(datetime!(2026-03-01 0:00 UTC)));
        assert_eq!(fields(whole_period(long, PeriodUnit::Month, now)), ["to"], "two months are two answers");
        let short =
            ask(PeriodUnit::Month, datetime!(2026-02-01 0:00 UTC), Some(datetime!(2026-02-28 0:00:00.000001 UTC)));
        assert_eq!(fields(whole_period(short, PeriodUnit::Month, now)), ["to"]);
        let tuesday = ask(PeriodUnit::Week, datetime!(2026-03-03 0:00 UTC), None);
        let refused = whole_period(tuesday, PeriodUnit::Week, now).unwrap_err();
        assert!(refused[0].description.contains("Monday"));
        let noon = ask(PeriodUnit::Day, datetime!(2026-03-03 12:00 UTC), None);
        assert_eq!(fields(whole_period(noon, PeriodUnit::Day, now)), ["from"]);
    }

    #[test]
    fn only_the_published_unit_is_answered() {
        let now = us(NOW);
        // A day inside a published month would difference against it.
        let day = ask(PeriodUnit::Day, datetime!(2026-02-01 0:00 UTC), None);
        let refused = whole_period(day, PeriodUnit::Month, now).unwrap_err();
        assert_eq!(refused[0].field, "period");
        assert!(refused[0].description.contains("PERIOD_MONTH"));
        let unset = PeriodRequest { unit: None, from: None, to: None };
        assert_eq!(fields(whole_period(unset, PeriodUnit::Month, now)), ["period", "from"]);
    }
}
