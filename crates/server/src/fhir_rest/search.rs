//! The Task search a system polls with (FHIR search.html): `_lastUpdated`
//! (prefixes eq, ge, gt, le, lt; a date of any precision is the range it
//! covers), `owner` and `requester` (`Organization/<id>` or the bare id),
//! `status` (Task.status codes, comma = or), `_count` and the server's own
//! `_cursor` for the next page. Other parameters are ignored, as FHIR
//! servers do by default; a bad value of one of these is a 400 naming it.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, format_description::well_known::Rfc3339};

/// Largest page; also the default.
pub const MAX_COUNT: u32 = 100;
const DEFAULT_COUNT: u32 = 50;

/// A parsed Task search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskSearch {
    /// The receiving organisation asked for.
    pub owner: Option<String>,
    /// The sending organisation asked for.
    pub requester: Option<String>,
    /// Task.status codes (any of).
    pub statuses: Vec<String>,
    /// Changed at or after, µs since the epoch.
    pub updated_from: Option<i64>,
    /// Changed before, µs since the epoch.
    pub updated_before: Option<i64>,
    /// Page size.
    pub count: u32,
    /// The last id of the previous page.
    pub cursor: Option<String>,
}

/// A search parameter with a value this server cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParameter {
    /// The parameter's name.
    pub name: String,
    /// What is wrong.
    pub text: String,
}

/// The search `pairs` (decoded query parameters) ask for.
pub fn parse(pairs: &[(String, String)]) -> Result<TaskSearch, Vec<BadParameter>> {
    let mut search = TaskSearch { count: DEFAULT_COUNT, ..TaskSearch::default() };
    let mut bad = vec![];
    let mut fail = |name: &str, text: String| bad.push(BadParameter { name: name.into(), text });
    for (name, value) in pairs {
        match name.as_str() {
            "owner" | "requester" => match organisation(value) {
                Some(org) if name == "owner" => search.owner = Some(org),
                Some(org) => search.requester = Some(org),
                None => fail(name, "must be Organization/<id>".into()),
            },
            "status" => search.statuses.extend(value.split(',').map(|s| s.trim().to_owned())),
            "_lastUpdated" => match last_updated(value) {
                Ok((from, before)) => {
                    search.updated_from = search.updated_from.max(from);
                    search.updated_before = match (search.updated_before, before) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                Err(text) => fail(name, text),
            },
            "_count" => match value.parse::<u32>() {
                Ok(n @ 1..) => search.count = n.min(MAX_COUNT),
                _ => fail(name, format!("must be a whole number from 1 to {MAX_COUNT}")),
            },
            "_cursor" => match uuid::Uuid::parse_str(value) {
                Ok(_) => search.cursor = Some(value.clone()),
                Err(_) => fail(name, "not a page of this server".into()),
            },
            _ => {}
        }
    }
    if bad.is_empty() { Ok(search) } else { Err(bad) }
}

/// `Organization/<id>`, a URL ending so, or a bare id -> the id.
fn organisation(value: &str) -> Option<String> {
    let value = value.trim();
    let id = match value.rsplit_once("Organization/") {
        Some((_, id)) => id,
        None if !value.contains('/') => value,
        None => return None,
    };
    (!id.is_empty() && !id.contains('/')).then(|| id.to_owned())
}

/// A `_lastUpdated` value as bounds in µs: (at or after, before).
fn last_updated(value: &str) -> Result<(Option<i64>, Option<i64>), String> {
    let (prefix, date) = match value.get(..2) {
        Some(p) if p.chars().all(|c| c.is_ascii_lowercase()) => (p, &value[2..]),
        _ => ("eq", value),
    };
    let (start, end) = range(date).ok_or_else(|| {
        "must be a date or dateTime, e.g. 2026-12-07 or 2026-12-07T09:30:00Z, after an optional prefix".to_owned()
    })?;
    match prefix {
        "eq" => Ok((Some(start), Some(end))),
        "ge" => Ok((Some(start), None)),
        "gt" => Ok((Some(end), None)),
        "le" => Ok((None, Some(end))),
        "lt" => Ok((None, Some(start))),
        other => Err(format!("prefix `{other}` is not supported: eq, ge, gt, le or lt")),
    }
}

/// The instants a FHIR date or dateTime covers, [start, end) in µs: a year, a
/// month, a day (UTC), a second, or one instant when it has a fraction.
fn range(text: &str) -> Option<(i64, i64)> {
    let micros = |at: OffsetDateTime| i64::try_from(at.unix_timestamp_nanos() / 1000).ok();
    let day = |y: i32, m: u8, d: u8| {
        let date = Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()?;
        Some(PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc())
    };
    let number = |s: &str| s.parse::<i32>().ok().filter(|_| s.chars().all(|c| c.is_ascii_digit()));
    let (start, end) = match text.len() {
        4 => {
            let year = number(text)?;
            (day(year, 1, 1)?, day(year + 1, 1, 1)?)
        }
        7 if &text[4..5] == "-" => {
            let (year, month) = (number(&text[..4])?, u8::try_from(number(&text[5..])?).ok()?);
            let next = if month == 12 { day(year + 1, 1, 1)? } else { day(year, month + 1, 1)? };
            (day(year, month, 1)?, next)
        }
        10 => {
            let start = day(
                number(&text[..4])?,
                u8::try_from(number(&text[5..7])?).ok()?,
                u8::try_from(number(&text[8..])?).ok()?,
            )?;
            (start, start + time::Duration::DAY)
        }
        _ => {
            let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
            let step = if at.nanosecond() == 0 && !text.contains('.') {
                time::Duration::SECOND
            } else {
                time::Duration::microseconds(1)
            };
            (at, at + step)
        }
    };
    Some((micros(start)?, micros(end)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    const DAY: i64 = 86_400_000_000;
    const DEC_7: i64 = 1_796_601_600_000_000; // 2026-12-07T00:00:00Z

    #[test]
    fn last_updated_prefixes_bound_the_range_of_the_date_s_precision() {
        let search = parse(&pairs(&[("_lastUpdated", "ge2026-12-07"), ("_lastUpdated", "lt2026-12-08")])).unwrap();
        assert_eq!((search.updated_from, search.updated_before), (Some(DEC_7), Some(DEC_7 + DAY)));
        let search = parse(&pairs(&[("_lastUpdated", "gt2026-12-07")])).unwrap();
        assert_eq!(search.updated_from, Some(DEC_7 + DAY), "gt a day is after the whole day");
        let search = parse(&pairs(&[("_lastUpdated", "le2026-12-07T00:00:00Z")])).unwrap();
        assert_eq!(search.updated_before, Some(DEC_7 + 1_000_000));
        let search = parse(&pairs(&[("_lastUpdated", "2026-12")])).unwrap();
        assert_eq!(search.updated_before.unwrap() - search.updated_from.unwrap(), 31 * DAY);
    }

    #[test]
    fn bad_values_name_their_parameter_and_unknown_parameters_are_ignored() {
        let bad = parse(&pairs(&[("_lastUpdated", "sa2026"), ("_count", "0"), ("owner", "Patient/1"), ("x", "y")]))
            .unwrap_err();
        let names: Vec<_> = bad.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["_lastUpdated", "_count", "owner"]);
        assert!(parse(&pairs(&[("_lastUpdated", "ge2026-13-01")])).is_err());
    }

    #[test]
    fn references_and_statuses_and_count() {
        let search = parse(&pairs(&[
            ("owner", "Organization/demo-health-hlaing"),
            ("requester", "demo-school-hlaing"),
            ("status", "requested,received"),
            ("_count", "500"),
        ]))
        .unwrap();
        assert_eq!(search.owner.as_deref(), Some("demo-health-hlaing"));
        assert_eq!(search.requester.as_deref(), Some("demo-school-hlaing"));
        assert_eq!(search.statuses, ["requested", "received"]);
        assert_eq!(search.count, MAX_COUNT);
    }
}
