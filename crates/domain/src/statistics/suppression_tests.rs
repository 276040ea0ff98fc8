//! The suppression rule against differencing: for every small population
//! (exhaustively), every answer a caller can get of it (the total, each
//! marginal, the full table) is computed, and every published number becomes
//! an equation over the full table's hidden cells. No hidden cell, of the
//! full table or of a marginal, may be a linear combination of them: no
//! sequence of additions and subtractions of published figures recovers it.
//!
//! (An attacker who also reasons about the order in which the rule hides
//! cells can sometimes narrow a hidden cell further; docs/reliability.md
//! "Differencing statistics" says so.)

use super::*;
use crate::statistics::differencing::rank;

fn cell(key: &[&str], count: u64) -> Cell {
    Cell { key: key.iter().map(|k| k.to_string()).collect(), count }
}

fn counts(answer: &Answer) -> Vec<&str> {
    answer.cells.iter().map(|p| p.count.as_str()).collect()
}

/// A one-dimension cube from its cells (key order kept).
fn one(cells: &[(&str, u64)]) -> Cube {
    let table: Vec<Cell> = cells.iter().filter(|(_, n)| *n > 0).map(|(k, n)| cell(&[k], *n)).collect();
    Cube { total: cells.iter().map(|(_, n)| n).sum(), tables: vec![vec![], table] }
}

#[test]
fn small_cells_are_hidden_with_a_complement() {
    let answer = publish(&one(&[("a", 12), ("b", 3), ("c", 9)]), 5);
    assert_eq!(counts(&answer), ["<5", "<5", "9"], "the first visible cell by key is hidden too");
    assert_eq!(answer.total, "24");
    let answer = publish(&one(&[("a", 12), ("b", 3), ("c", 2), ("d", 7)]), 5);
    assert_eq!(counts(&answer), ["12", "<5", "<5", "7"], "two small cells protect each other");
}

#[test]
fn two_hidden_cells_that_can_only_be_ones_take_a_third() {
    // 22 - 20 = 2 over two present cells: each is 1.
    let answer = publish(&one(&[("a", 1), ("b", 1), ("c", 20)]), 5);
    assert_eq!(counts(&answer), ["<5", "<5", "<5"]);
    assert_eq!(answer.total, "22");
}

#[test]
fn a_population_under_the_threshold_shows_nothing_but_that() {
    let answer = publish(&one(&[("a", 2), ("b", 1)]), 5);
    assert_eq!(answer, Answer { cells: vec![], total: "<5".into() }, "not even which cells are present");
    let answer = publish(&Cube { total: 0, tables: vec![vec![]] }, 5);
    assert_eq!(answer, Answer { cells: vec![], total: "<5".into() });
    let answer = publish(&Cube { total: 7, tables: vec![vec![]] }, 5);
    assert_eq!(answer, Answer { cells: vec![], total: "7".into() });
}

#[test]
fn a_table_is_suppressed_against_its_marginals() {
    // Concern x sex. Alone, the 2-D table has no line with one hidden cell
    // once the row is considered, but the column "male" adds up to the
    // 1-D "male" figure, which is published: its lone small cell is not.
    let table =
        [(["neglect", "female"], 9), (["neglect", "male"], 6), (["violence", "female"], 7), (["violence", "male"], 2)];
    let cube = two(&table);
    let answer = publish(&cube, 5);
    let shown: Vec<(String, &str)> = answer.cells.iter().map(|c| (c.key.join("/"), c.count.as_str())).collect();
    assert_eq!(
        shown,
        [
            ("neglect/female".to_owned(), "<5"),
            ("neglect/male".to_owned(), "<5"),
            ("violence/female".to_owned(), "<5"),
            ("violence/male".to_owned(), "<5")
        ],
        "a cycle of four: every row and column keeps two hidden cells"
    );
}

/// A two-dimension cube from its full table.
fn two(table: &[([&str; 2], u64)]) -> Cube {
    let full: Vec<Cell> = table.iter().filter(|(_, n)| *n > 0).map(|(k, n)| cell(k, *n)).collect();
    let margin = |position: usize| {
        let mut sums: Vec<(String, u64)> = Vec::new();
        for c in &full {
            match sums.iter_mut().find(|(k, _)| *k == c.key[position]) {
                Some((_, n)) => *n += c.count,
                None => sums.push((c.key[position].clone(), c.count)),
            }
        }
        sums.sort();
        sums.into_iter().map(|(k, n)| Cell { key: vec![k], count: n }).collect::<Vec<_>>()
    };
    Cube { total: full.iter().map(|c| c.count).sum(), tables: vec![vec![], margin(0), margin(1), full] }
}

/// Every answer a caller can get of the population `cube` describes: the
/// total and each table, each as its own query would answer it.
fn everything_published(cube: &Cube, threshold: u64) -> Vec<Answer> {
    let dimensions = cube.dimensions();
    (0..cube.tables.len())
        .map(|mask| {
            // The query grouped by the dimensions in `mask` sees the sub-cube of its subsets.
            let subsets: Vec<usize> = (0..cube.tables.len()).filter(|s| s & !mask == 0).collect();
            let mut tables = vec![vec![]; 1 << mask.count_ones()];
            for s in subsets {
                let compact = (0..dimensions)
                    .filter(|b| mask & (1 << b) != 0)
                    .enumerate()
                    .filter(|(_, b)| s & (1 << b) != 0)
                    .fold(0, |acc, (i, _)| acc | (1 << i));
                tables[compact] = cube.tables[s].clone();
            }
            publish(&Cube { total: cube.total, tables }, threshold)
        })
        .collect()
}

/// Fails if a hidden cell of any table of `cube` (hidden in the answer
/// that table's own query gives) is a linear combination of the published
/// numbers; returns how many hidden cells were checked.
fn assert_no_hidden_cell_is_a_difference(cube: &Cube, threshold: u64) -> usize {
    let answers = everything_published(cube, threshold);
    let full = cube.tables.len() - 1;
    let finest = &cube.tables[full];
    let is_shown =
        |mask: usize, key: &[String]| answers[mask].cells.iter().any(|p| p.key == key && !p.count.starts_with('<'));
    // Unknowns: the full table's hidden cells; when it is published without
    // cells, every combination of the dimensions' values (which are present
    // is not told). A cell of table `mask` is the sum of the full cells that
    // agree with it on the dimensions in `mask`.
    let dimensions = cube.dimensions();
    let unknowns: Vec<Vec<String>> = if answers[full].cells.is_empty() {
        (0..dimensions).fold(vec![vec![]], |partial, d| {
            let mut values: Vec<&String> = finest.iter().map(|c| &c.key[d]).collect();
            values.sort();
            values.dedup();
            partial.iter().flat_map(|p| values.iter().map(move |v| [p.clone(), vec![(*v).clone()]].concat())).collect()
        })
    } else {
        finest.iter().filter(|c| !is_shown(full, &c.key)).map(|c| c.key.clone()).collect()
    };
    let row = |mask: usize, key: &[String]| -> Vec<f64> {
        let positions: Vec<usize> = (0..dimensions).filter(|b| mask & (1 << b) != 0).collect();
        unknowns
            .iter()
            .map(|unknown| {
                let agrees = positions.iter().zip(key).all(|(p, k)| unknown[*p] == *k);
                if agrees { 1.0 } else { 0.0 }
            })
            .collect()
    };
    let mut published: Vec<Vec<f64>> = Vec::new();
    let mut hidden: Vec<(usize, Vec<String>, Vec<f64>)> = Vec::new();
    if !answers[0].total.starts_with('<') {
        published.push(vec![1.0; unknowns.len()]);
    }
    for mask in 1..cube.tables.len() {
        for c in &cube.tables[mask] {
            match is_shown(mask, &c.key) {
                true => published.push(row(mask, &c.key)),
                false => hidden.push((mask, c.key.clone(), row(mask, &c.key))),
            }
        }
    }
    let rank_of = |rows: &[Vec<f64>]| rank(rows.to_vec());
    let base = rank_of(&published);
    for (mask, key, target) in &hidden {
        let mut with = published.clone();
        with.push(target.clone());
        assert!(
            rank_of(&with) > base,
            "hidden cell {key:?} of table {mask} is a difference of published figures: {answers:?} of {cube:?}"
        );
    }
    hidden.len()
}

#[test]
fn no_hidden_cell_of_a_one_dimension_table_is_a_difference() {
    // Every table of up to 4 categories with counts 0..=9, threshold 5.
    let mut checked = 0;
    for n in 0..10_000u32 {
        let digits = [n % 10, n / 10 % 10, n / 100 % 10, n / 1000];
        let cells: Vec<(&str, u64)> = ["a", "b", "c", "d"].into_iter().zip(digits.map(u64::from)).collect();
        checked += assert_no_hidden_cell_is_a_difference(&one(&cells), 5);
    }
    assert!(checked > 10_000, "{checked}");
}

#[test]
fn no_hidden_cell_of_a_two_dimension_table_or_its_marginals_is_a_difference() {
    // Every 2 x 3 table with counts 0..=5, threshold 3, and every 3 x 3 table
    // with counts 0..=2 (a zero is an absent cell).
    let mut checked = 0;
    for (rows, largest) in [(["a", "b", ""], 5u32), (["a", "b", "c"], 2)] {
        let keys: Vec<[&str; 2]> =
            rows.iter().filter(|r| !r.is_empty()).flat_map(|r| ["x", "y", "z"].map(|c| [*r, c])).collect();
        let base = largest + 1;
        for n in 0..base.pow(keys.len() as u32) {
            let table: Vec<([&str; 2], u64)> =
                keys.iter().enumerate().map(|(i, k)| (*k, u64::from(n / base.pow(i as u32) % base))).collect();
            checked += assert_no_hidden_cell_is_a_difference(&two(&table), 3);
        }
    }
    assert!(checked > 50_000, "{checked}");
}

#[test]
fn three_dimension_tables_are_protected_line_by_line() {
    // A 2 x 2 x 2 table of random small counts, many times: the full answer
    // is never a difference of what its own marginals publish.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % 9
    };
    for _ in 0..500 {
        let full: Vec<Cell> = (0..8u8)
            .map(|i| {
                let key = [i & 1, i >> 1 & 1, i >> 2 & 1].map(|b| if b == 0 { "p" } else { "q" });
                cell(&key, next())
            })
            .filter(|c| c.count > 0)
            .collect();
        assert_no_hidden_cell_is_a_difference(&three(full), 3);
    }
}

/// A three-dimension cube from its full table.
fn three(full: Vec<Cell>) -> Cube {
    let tables = (0..8usize)
        .map(|mask| {
            let mut sums: Vec<Cell> = Vec::new();
            for c in &full {
                let key: Vec<String> = (0..3).filter(|b| mask & (1 << b) != 0).map(|b| c.key[b].clone()).collect();
                match sums.iter_mut().find(|s| s.key == key) {
                    Some(s) => s.count += c.count,
                    None => sums.push(Cell { key, count: c.count }),
                }
            }
            sums.sort_by(|a, b| a.key.cmp(&b.key));
            if mask == 0 { vec![] } else { sums }
        })
        .collect();
    Cube { total: full.iter().map(|c| c.count).sum(), tables }
}
