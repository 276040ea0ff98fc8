//! The last check before a table is published: that no hidden cell, of the
//! table or of its marginals, is a linear combination of the figures the
//! table and its marginals publish. The line rule of `suppression` protects
//! each line; this catches what crosses lines (a small cell that is its
//! row's marginal plus its column's, minus the total, when the cells outside
//! both are known to be absent).

use super::cube::{Cube, Pattern};

/// More hidden cells than this in one table are not audited: the table is
/// withheld instead (an answer stays fast, and such a table shows little).
const MOST_UNKNOWNS: usize = 256;

/// Whether publishing table `mask` of `cube` with cells `hidden`, beside its
/// marginals as `done` publishes them, would let a hidden cell be computed.
pub(super) fn reveals(cube: &Cube, mask: usize, hidden: &[bool], done: &[Pattern]) -> bool {
    let table = &cube.tables[mask];
    let unknowns: Vec<usize> = (0..table.len()).filter(|i| hidden[*i]).collect();
    if unknowns.len() > MOST_UNKNOWNS {
        return true;
    }
    let dimensions = cube.dimensions();
    // A cell of table `sub` is the sum of the cells of `mask` that agree with it.
    let row = |sub: usize, key: &[String]| -> Vec<f64> {
        let positions: Vec<usize> = (0..dimensions).filter(|b| mask & (1 << b) != 0).collect();
        let compared: Vec<usize> = (0..positions.len()).filter(|p| sub & (1 << positions[*p]) != 0).collect();
        unknowns
            .iter()
            .map(|i| f64::from(u8::from(compared.iter().zip(key).all(|(p, k)| table[*i].key[*p] == *k))))
            .collect()
    };
    let mut published = vec![vec![1.0; unknowns.len()]];
    let mut targets: Vec<Vec<f64>> =
        (0..unknowns.len()).map(|u| (0..unknowns.len()).map(|v| f64::from(u8::from(u == v))).collect()).collect();
    for sub in (1..mask).filter(|s| s & !mask == 0) {
        for (i, cell) in cube.tables[sub].iter().enumerate() {
            match done[sub].hides(i) {
                true => targets.push(row(sub, &cell.key)),
                false => published.push(row(sub, &cell.key)),
            }
        }
    }
    let base = rank(published.clone());
    targets.into_iter().any(|target| {
        let mut with = published.clone();
        with.push(target);
        rank(with) == base
    })
}

/// The rank of `rows`, by Gaussian elimination (0/1 matrices of a few
/// hundred columns at most).
pub(super) fn rank(mut rows: Vec<Vec<f64>>) -> usize {
    let columns = rows.first().map_or(0, Vec::len);
    let mut rank = 0;
    for column in 0..columns {
        let Some(pivot) = (rank..rows.len()).find(|r| rows[*r][column].abs() > 1e-9) else { continue };
        rows.swap(rank, pivot);
        let pivot_row = rows[rank].clone();
        for (r, row) in rows.iter_mut().enumerate() {
            if r != rank && row[column].abs() > 1e-9 {
                let factor = row[column] / pivot_row[column];
                row.iter_mut().zip(&pivot_row).for_each(|(x, p)| *x -= factor * p);
            }
        }
        rank += 1;
    }
    rank
}
