//! Small-cell suppression for statistics (security.md "Privacy"): a count
//! under the threshold is shown as `<N`, and when exactly one cell of a table
//! is hidden the next smallest is hidden too, so the total cannot give it away.

use time::Date;

use crate::wire::ChildDetails;

/// One cell of a statistics table before suppression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// The values of the grouping dimensions, in request order.
    pub key: Vec<String>,
    /// How many messages fall in it.
    pub count: u64,
}

/// A cell as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The values of the grouping dimensions.
    pub key: Vec<String>,
    /// The count, or `<threshold` when suppressed.
    pub count: String,
}

/// Suppresses small cells of one table and returns it with its total (itself
/// suppressed when under the threshold).
pub fn suppress(cells: Vec<Cell>, total: u64, threshold: u64) -> (Vec<Published>, String) {
    let hidden = format!("<{threshold}");
    let mut suppressed: Vec<bool> = cells.iter().map(|c| c.count < threshold).collect();
    if suppressed.iter().filter(|s| **s).count() == 1 {
        // Complementary suppression: hide the smallest visible cell as well.
        let smallest = cells.iter().enumerate().filter(|(i, _)| !suppressed[*i]).min_by_key(|(_, c)| c.count);
        if let Some((i, _)) = smallest {
            suppressed[i] = true;
        }
    }
    let published = cells
        .into_iter()
        .zip(suppressed)
        .map(|(cell, hide)| Published {
            key: cell.key,
            count: if hide { hidden.clone() } else { cell.count.to_string() },
        })
        .collect();
    let total = if total < threshold { hidden } else { total.to_string() };
    (published, total)
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

    fn cell(key: &str, count: u64) -> Cell {
        Cell { key: vec![key.into()], count }
    }

    fn counts(published: &[Published]) -> Vec<&str> {
        published.iter().map(|p| p.count.as_str()).collect()
    }

    #[test]
    fn small_cells_are_hidden() {
        let (cells, total) = suppress(vec![cell("a", 12), cell("b", 3), cell("c", 0), cell("d", 7)], 22, 5);
        assert_eq!(counts(&cells), vec!["12", "<5", "<5", "7"]);
        assert_eq!(total, "22");
    }

    #[test]
    fn a_lone_hidden_cell_cannot_be_recovered_from_the_total() {
        let (cells, total) = suppress(vec![cell("a", 12), cell("b", 3), cell("c", 9)], 24, 5);
        assert_eq!(counts(&cells), vec!["12", "<5", "<5"], "the smallest visible cell is hidden too");
        assert_eq!(total, "24");
        // 24 - 12 = 12 = 3 + 9: the two hidden cells are not separable.
    }

    #[test]
    fn small_totals_and_all_small_tables() {
        let (cells, total) = suppress(vec![cell("a", 2), cell("b", 1)], 3, 5);
        assert_eq!((counts(&cells), total.as_str()), (vec!["<5", "<5"], "<5"));
        let (cells, total) = suppress(vec![cell("a", 3)], 3, 5);
        assert_eq!((counts(&cells), total.as_str()), (vec!["<5"], "<5"));
        let (cells, _) = suppress(vec![], 0, 5);
        assert!(cells.is_empty());
    }

    #[test]
    fn the_sample_child_is_in_the_5_to_9_band() {
        let child = crate::sample::referral().child.unwrap();
        assert_eq!(child_age_band(&child, time::macros::date!(2026 - 11 - 23)), Some("5-9"));
        let estimated = ChildDetails { date_of_birth: String::new(), estimated_age_years: Some(16), ..child };
        assert_eq!(child_age_band(&estimated, time::macros::date!(2026 - 11 - 23)), Some("15-17"));
    }

    #[test]
    fn age_bands() {
        assert_eq!(
            [0, 4, 5, 9, 10, 14, 15, 17].map(age_band),
            ["0-4", "0-4", "5-9", "5-9", "10-14", "10-14", "15-17", "15-17"]
        );
    }
}
