//! The tables of one population and what is published of them: the types
//! `suppression` fills and `differencing` audits, in a leaf of their own so
//! neither of the two imports the other's types.

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

/// One population counted by `dimensions` grouping dimensions and by every
/// subset of them: `tables[mask]` is grouped by the dimensions whose bit is
/// set in `mask` (in request order), so `tables[(1 << dimensions) - 1]` is
/// the table asked for and `tables[0]` is unused (the total is `total`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cube {
    /// Messages in the population.
    pub total: u64,
    /// The table of each subset of the dimensions, by bit mask.
    pub tables: Vec<Vec<Cell>>,
}

/// What is published of a cube: the full table and the total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The cells of the table asked for; none when the population is under
    /// the threshold or the table cannot be published safely.
    pub cells: Vec<Published>,
    /// The total, or `<threshold`.
    pub total: String,
}

impl Cube {
    /// How many grouping dimensions the full table has.
    pub fn dimensions(&self) -> usize {
        self.tables.len().trailing_zeros() as usize
    }
}

/// How a table is published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Pattern {
    /// Its cells, each hidden or not.
    Hidden(Vec<bool>),
    /// No cells at all: no pattern made every line safe.
    Withheld,
}

impl Pattern {
    /// Whether its cell `i` is hidden.
    pub(super) fn hides(&self, i: usize) -> bool {
        match self {
            Pattern::Hidden(hidden) => hidden[i],
            Pattern::Withheld => true,
        }
    }
}
