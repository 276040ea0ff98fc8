//! How much room the log and its tree take: rows, and bytes of each table
//! with and without its indexes (SQLite's `dbstat`, PostgreSQL's
//! `pg_relation_size` and `pg_total_relation_size`), read on a connection
//! of its own: the store has no business answering this.

use sqlx::{AnyConnection, Connection as _};

use referral_hub_store::Backend;

/// The tables compared.
const TABLES: [&str; 2] = ["audit_log", "audit_tree_nodes"];

/// Prints the rows and sizes of [`TABLES`] in the database at `url`.
pub async fn print(url: &str, backend: Backend) -> Result<(), String> {
    let failed = |e: sqlx::Error| format!("measuring the tables: {e}");
    let mut db = AnyConnection::connect(url).await.map_err(failed)?;
    let sizes = match backend {
        Backend::Sqlite => {
            "SELECT COALESCE(SUM(CASE WHEN d.name = s.tbl_name THEN d.pgsize ELSE 0 END), 0), \
             COALESCE(SUM(d.pgsize), 0) FROM dbstat d JOIN sqlite_schema s ON s.name = d.name WHERE s.tbl_name = $1"
        }
        Backend::Postgres => "SELECT pg_relation_size($1::regclass), pg_total_relation_size($1::regclass)",
    };
    for table in TABLES {
        let rows: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&mut db).await.map_err(failed)?;
        let (bytes, with_indexes): (i64, i64) =
            sqlx::query_as(sizes).bind(table).fetch_one(&mut db).await.map_err(failed)?;
        let mib = |bytes: i64| bytes as f64 / (1024.0 * 1024.0);
        println!(
            "{table:<20} {rows:>10} rows  {:>8.1} MiB, {:>8.1} MiB with its indexes ({:.0} bytes a row)",
            mib(bytes),
            mib(with_indexes),
            with_indexes as f64 / (rows.max(1) as f64)
        );
    }
    db.close().await.map_err(failed)
}
