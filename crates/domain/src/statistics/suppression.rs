//! Small-cell suppression (docs/security.md "Statistics"), complementary and
//! consistent across the queries a caller can make of one population.
//!
//! One population (a scope, area and period) can be asked for grouped by any
//! dimensions, so the table asked for is published together with everything
//! an attacker can also get: the total and the same counts grouped by every
//! subset of its dimensions (its marginals). Each table is suppressed in turn,
//! from the total up, and a table is suppressed knowing which cells of its
//! marginals are hidden, so the answer to a query never depends on which
//! other queries were made (the same table always gets the same cells hidden).
//!
//! In a table, every *line* (the cells that differ in one dimension only)
//! adds up to one cell of a marginal. A line may publish its cells only so
//! that no hidden one can be subtracted out:
//! - its marginal visible: no hidden cell, or at least two, and each of
//!   them could hold at least two values for an attacker who knows their sum
//!   and which are small (two small hidden cells summing to 2 are 1 and 1; a
//!   small one beside one of 5, summing to 6, is 1);
//! - its marginal hidden: at least one hidden cell (else the marginal is the
//!   sum of the line).
//!
//! An unsafe line gets its first visible cell by key hidden as well (never
//! chosen by size, which would bound it; preferring one whose other lines
//! have another cell, so hiding it can be protected),
//! until every line is safe. A table that cannot be made safe so (a hidden
//! cell alone in a line whose marginal is shown) is published with no cells
//! at all, not even which ones are present; so is one whose hidden cells
//! could still be computed across lines (`differencing`). A population under
//! the threshold publishes nothing but that.

use std::collections::HashMap;

use super::cube::{Answer, Cell, Cube, Pattern, Published};

/// Suppresses `cube` at `threshold` and returns its full table and total as
/// they may be published.
pub fn publish(cube: &Cube, threshold: u64) -> Answer {
    let hidden_label = format!("<{threshold}");
    if cube.total < threshold {
        return Answer { cells: vec![], total: hidden_label };
    }
    let full = cube.tables.len() - 1;
    let patterns = patterns(cube, threshold);
    let cells = match &patterns[full] {
        Pattern::Withheld => vec![],
        Pattern::Hidden(hidden) => cube.tables[full]
            .iter()
            .zip(hidden)
            .map(|(cell, hide)| Published {
                key: cell.key.clone(),
                count: if *hide { hidden_label.clone() } else { cell.count.to_string() },
            })
            .collect(),
    };
    Answer { cells, total: cube.total.to_string() }
}

/// The pattern of every table of `cube`, marginals first.
fn patterns(cube: &Cube, threshold: u64) -> Vec<Pattern> {
    let mut masks: Vec<usize> = (1..cube.tables.len()).collect();
    masks.sort_by_key(|m| m.count_ones());
    let mut done: Vec<Pattern> = vec![Pattern::Withheld; cube.tables.len()];
    for mask in masks {
        let lines = lines(cube, mask, &done);
        done[mask] = match protect(&cube.tables[mask], &lines, threshold) {
            Pattern::Hidden(hidden) if super::differencing::reveals(cube, mask, &hidden, &done) => Pattern::Withheld,
            pattern => pattern,
        };
    }
    done
}

/// A line of a table: the indices of its cells, and whether the marginal
/// cell they add up to is hidden.
struct Line {
    cells: Vec<usize>,
    marginal_hidden: bool,
}

/// Every line of table `mask`, along each of its dimensions.
fn lines(cube: &Cube, mask: usize, done: &[Pattern]) -> Vec<Line> {
    let table = &cube.tables[mask];
    let bits: Vec<usize> = (0..cube.dimensions()).filter(|b| mask & (1 << b) != 0).collect();
    let mut lines = Vec::new();
    for (position, bit) in bits.iter().enumerate() {
        let sub = mask & !(1 << bit);
        let marginal: HashMap<&[String], usize> =
            cube.tables[sub].iter().enumerate().map(|(i, c)| (c.key.as_slice(), i)).collect();
        let mut by_rest: HashMap<Vec<&String>, Vec<usize>> = HashMap::new();
        for (i, cell) in table.iter().enumerate() {
            let rest = cell.key.iter().enumerate().filter(|(p, _)| *p != position).map(|(_, v)| v).collect();
            by_rest.entry(rest).or_default().push(i);
        }
        for (rest, cells) in by_rest {
            let rest: Vec<String> = rest.into_iter().cloned().collect();
            let marginal_hidden = match sub {
                0 => false,
                _ => marginal.get(rest.as_slice()).is_none_or(|i| done[sub].hides(*i)),
            };
            lines.push(Line { cells, marginal_hidden });
        }
    }
    lines.sort_by(|a, b| a.cells.cmp(&b.cells));
    lines
}

/// Hides the small cells of `table` and as many more as its lines need.
fn protect(table: &[Cell], lines: &[Line], threshold: u64) -> Pattern {
    let mut hidden: Vec<bool> = table.iter().map(|c| c.count < threshold).collect();
    loop {
        let Some(line) = lines.iter().find(|line| !is_safe(line, table, &hidden, threshold)) else {
            return Pattern::Hidden(hidden);
        };
        match complement(line, table, &hidden, lines) {
            Some(i) => hidden[i] = true,
            None => return Pattern::Withheld,
        }
    }
}

/// Whether no hidden cell of `line` can be subtracted out (module docs).
fn is_safe(line: &Line, table: &[Cell], hidden: &[bool], threshold: u64) -> bool {
    let hidden_cells: Vec<u64> = line.cells.iter().filter(|i| hidden[**i]).map(|i| table[*i].count).collect();
    match (line.marginal_hidden, hidden_cells.len()) {
        (true, number) => number > 0,
        (false, 0) => true,
        (false, 1) => false,
        (false, _) => hidden_cells.iter().all(|count| range(*count, &hidden_cells, threshold) > 1),
    }
}

/// How many values a hidden cell holding `count` could take for an attacker
/// who knows the sum of the line's `hidden` cells and which of them are
/// small (each 1 to threshold - 1) and which were hidden with them (each at
/// least the threshold, and unbounded above).
fn range(count: u64, hidden: &[u64], threshold: u64) -> u64 {
    let sum: u64 = hidden.iter().sum();
    let bounds = |c: u64| if c < threshold { (1, Some(threshold - 1)) } else { (threshold, None) };
    let (own_low, own_high) = bounds(count);
    let mut others = hidden.to_vec();
    others.remove(hidden.iter().position(|c| *c == count).expect("the cell is in the line"));
    let others_low: u64 = others.iter().map(|c| bounds(*c).0).sum();
    let others_high: Option<u64> = others.iter().map(|c| bounds(*c).1).sum();
    let low = others_high.map_or(own_low, |high| own_low.max(sum.saturating_sub(high)));
    let high = own_high.map_or(sum.saturating_sub(others_low), |high| high.min(sum.saturating_sub(others_low)));
    (high + 1).saturating_sub(low)
}

/// The cell of `line` to hide next: its first visible cell by key (never by
/// size: choosing the smallest would tell that it is no larger than the cells
/// left visible), preferring one that shares each of its other lines with
/// another cell, so hiding it can itself be protected; `None` when every cell
/// of the line is hidden already.
fn complement(line: &Line, table: &[Cell], hidden: &[bool], lines: &[Line]) -> Option<usize> {
    let protectable = |i: usize| lines.iter().filter(|l| l.cells.contains(&i)).all(|l| l.cells.len() > 1);
    line.cells
        .iter()
        .copied()
        .filter(|i| !hidden[*i])
        .min_by(|a, b| (!protectable(*a), &table[*a].key).cmp(&(!protectable(*b), &table[*b].key)))
}

#[cfg(test)]
#[path = "suppression_tests.rs"]
mod tests;
