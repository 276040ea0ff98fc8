//! Statistics (docs/security.md "Statistics"): what may be counted and how, so that
//! aggregates never identify a child nor undo a consent: whole periods
//! (`period`), complementary small-cell suppression (`suppression`), and
//! which dimensions describe the child.

mod cube;
mod differencing;
mod period;
mod suppression;

use time::Date;

pub use cube::{Answer, Cell, Cube, Published};
pub use period::{Period, PeriodRequest, PeriodUnit, whole_period};
pub use suppression::publish;

use crate::wire::{ChildDetails, Dimension};

/// Whether grouping by `dimension` says something about the child rather than
/// about the message: the payload's concern, risk, sex, age and displacement,
/// which consent may withhold from a receiver. An organisation's own
/// statistics by these count only the messages it sent (it wrote them), since
/// counting those it received would let it subtract what it was shown from
/// the figures and read what consent withheld.
pub fn describes_the_child(dimension: Dimension) -> bool {
    matches!(
        dimension,
        Dimension::Concern | Dimension::Risk | Dimension::Sex | Dimension::AgeBand | Dimension::Displacement
    )
}

/// The age band of the child a referral is about, on `today`: from the date
/// of birth, else the estimated age.
pub fn child_age_band(child: &ChildDetails, today: Date) -> Option<&'static str> {
    let age = match crate::validation::parse_date(&child.date_of_birth) {
        Some(born) => u32::try_from(crate::validation::years_between(born, today)).ok()?,
        None => child.estimated_age_years?,
    };
    Some(age_band(age))
}

/// The statistics age band of a child: 0-4, 5-9, 10-14 or 15-17.
pub fn age_band(age: u32) -> &'static str {
    match age {
        0..=4 => "0-4",
        5..=9 => "5-9",
        10..=14 => "10-14",
        _ => "15-17",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_child_is_in_the_5_to_9_band() {
        let child = crate::sample::referral().child.unwrap();
        assert_eq!(child_age_band(&child, time::macros::date!(2026 - 11 - 23)), Some("5-9"));
        let estimated = ChildDetails { date_of_birth: String::new(), estimated_age_years: Some(16), ..child };
        assert_eq!(child_age_band(&estimated, time::macros::date!(2026 - 11 - 23)), Some("15-17"));
    }

    #[test]
    fn what_describes_the_child() {
        let about_the_child: Vec<Dimension> =
            (1..=10).filter_map(|d| Dimension::try_from(d).ok()).filter(|d| describes_the_child(*d)).collect();
        assert_eq!(
            about_the_child,
            [Dimension::Concern, Dimension::Risk, Dimension::Sex, Dimension::AgeBand, Dimension::Displacement]
        );
    }

    #[test]
    fn age_bands() {
        assert_eq!(
            [0, 4, 5, 9, 10, 14, 15, 17].map(age_band),
            ["0-4", "0-4", "5-9", "5-9", "10-14", "10-14", "15-17", "15-17"]
        );
    }
}
