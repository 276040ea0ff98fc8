//! Multi-row statements in a few fixed sizes. One statement for many rows is
//! what makes a group commit cheap: one hand-off to SQLite's worker thread, one
//! round trip to PostgreSQL. But a statement text the connection has not seen
//! is parsed and planned anew, and for a 40-row INSERT of 27 columns that cost
//! PostgreSQL more than running it. So the rows are padded with rows of NULLs,
//! which the statement skips, up to the next power of two: each statement comes
//! in 8 sizes, which every connection prepares once and keeps in sqlx's
//! statement cache (100 per connection). Exact sizes would be up to 128 texts
//! per statement, too many to keep.

use std::borrow::Cow;

use sqlx::{Any, any::AnyArguments, query::Query};

use crate::{Backend, rows::values};

/// Rows one multi-row statement carries at most: the widest row (a message,
/// 27 columns) times this stays far below SQLite's 32,766 bound parameters.
pub(crate) const MAX_ROWS_PER_INSERT: usize = 128;

/// What a column of a multi-row statement holds: the type of the NULLs that
/// pad it (PostgreSQL gives each column of `VALUES` one type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    /// `TEXT`.
    Text,
    /// `BIGINT` (`INTEGER` on SQLite).
    Integer,
    /// `BYTEA` (`BLOB` on SQLite).
    Bytes,
}

/// One column's value in a row being written. Each table lists a row's values
/// once, in column order, and both ways of writing rows take them from there:
/// bound to the placeholders of a multi-row statement, or carried in the JSON
/// of a group statement (`group_commit::one_statement`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    /// A [`Column::Text`] value; `None` is NULL.
    Text(Option<&'a str>),
    /// A [`Column::Integer`] value.
    Integer(i64),
    /// A [`Column::Bytes`] value (hexadecimal in JSON).
    Bytes(Cow<'a, [u8]>),
}

impl<'a> Value<'a> {
    /// Binds the value to the next placeholder of `query`.
    pub(crate) fn bind(self, query: Query<'a, Any, AnyArguments<'a>>) -> Query<'a, Any, AnyArguments<'a>> {
        match self {
            Value::Text(text) => query.bind(text),
            Value::Integer(number) => query.bind(number),
            Value::Bytes(bytes) => query.bind(bytes.into_owned()),
        }
    }
}

impl serde::Serialize for Value<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Text(Some(text)) => serializer.serialize_str(text),
            Value::Text(None) => serializer.serialize_none(),
            Value::Integer(number) => serializer.serialize_i64(*number),
            Value::Bytes(bytes) => serializer.serialize_str(&referral_hub_domain::audit::hex(bytes)),
        }
    }
}

/// Binds every value of `row`, in order.
pub(crate) fn bind_row<'a>(
    query: Query<'a, Any, AnyArguments<'a>>,
    row: impl IntoIterator<Item = Value<'a>>,
) -> Query<'a, Any, AnyArguments<'a>> {
    row.into_iter().fold(query, |query, value| value.bind(query))
}

/// The rows of one multi-row statement, padded to a fixed size.
pub(crate) struct PaddedRows {
    /// `SELECT * FROM (VALUES (…), …) AS v WHERE v.column1 IS NOT NULL`: the
    /// real rows only. The first column of every statement is never NULL in a
    /// real row.
    pub select: String,
    columns: &'static [Column],
    padding: usize,
}

impl PaddedRows {
    /// `rows` rows (at most [`MAX_ROWS_PER_INSERT`]) of `columns`, their
    /// placeholders numbered from `$first` (PostgreSQL).
    pub(crate) fn new(backend: Backend, first: usize, columns: &'static [Column], rows: usize) -> Self {
        let size = rows.next_power_of_two();
        PaddedRows {
            select: format!(
                "SELECT * FROM (VALUES {}) AS v WHERE v.column1 IS NOT NULL",
                values(backend, first, size, columns.len())
            ),
            columns,
            padding: size - rows,
        }
    }

    /// Binds the padding rows: call after binding the real ones.
    pub(crate) fn pad<'q>(&self, mut query: Query<'q, Any, AnyArguments<'q>>) -> Query<'q, Any, AnyArguments<'q>> {
        for _ in 0..self.padding {
            for column in self.columns {
                query = match column {
                    Column::Text => query.bind(None::<String>),
                    Column::Integer => query.bind(None::<i64>),
                    Column::Bytes => query.bind(None::<Vec<u8>>),
                };
            }
        }
        query
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &[Column] = &[Column::Text, Column::Integer];

    #[test]
    fn rows_are_padded_to_the_next_power_of_two() {
        for (rows, size) in [(1, 1), (2, 2), (3, 4), (5, 8), (64, 64), (65, 128), (128, 128)] {
            let padded = PaddedRows::new(Backend::Sqlite, 1, TWO, rows);
            assert_eq!(padded.select.matches("(?, ?)").count(), size, "{rows} rows");
            assert_eq!(padded.padding, size - rows);
        }
        let sizes: std::collections::BTreeSet<String> =
            (1..=MAX_ROWS_PER_INSERT).map(|rows| PaddedRows::new(Backend::Postgres, 1, TWO, rows).select).collect();
        assert_eq!(sizes.len(), 8, "every statement comes in 8 texts");
    }

    #[test]
    fn postgres_placeholders_are_numbered_from_first() {
        let padded = PaddedRows::new(Backend::Postgres, 2, TWO, 3);
        assert_eq!(
            padded.select,
            "SELECT * FROM (VALUES ($2, $3), ($4, $5), ($6, $7), ($8, $9)) AS v WHERE v.column1 IS NOT NULL"
        );
    }
}
