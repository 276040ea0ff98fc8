//! The embedded migrations: applied by the schema's owner (`referral-hub
//! migrate`, or `serve` by default), or only checked by a hub that serves as
//! a PostgreSQL role which may not change the schema (docs/operations.md
//! "PostgreSQL roles"): it reads `_sqlx_migrations` and changes nothing.

use sqlx::migrate::Migrator;

use crate::{Backend, MigrationGaps, Result, Store, StoreError};

pub(crate) static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
pub(crate) static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

/// PostgreSQL's SQLSTATE `insufficient_privilege`.
const INSUFFICIENT_PRIVILEGE: &str = "42501";

impl Store {
    /// Applies the embedded migrations of this backend that are not yet
    /// applied. Needs a role that may change the schema (its owner).
    pub async fn migrate(&self) -> Result<()> {
        self.migrator().run(&self.pools.write).await?;
        Ok(())
    }

    /// How this database's migrations differ from this binary's, read from
    /// `_sqlx_migrations` (absent: nothing applied). Changes nothing, so a
    /// role that may only read that table can ask.
    pub async fn migration_gaps(&self) -> Result<MigrationGaps> {
        let exists = match self.pools.backend {
            Backend::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            Backend::Postgres => {
                "SELECT COUNT(*) FROM (SELECT to_regclass('_sqlx_migrations') AS t) AS r WHERE t IS NOT NULL"
            }
        };
        let (tables,): (i64,) = sqlx::query_as(exists).fetch_one(&self.pools.read).await?;
        let applied: Vec<(i64, Vec<u8>, i64)> = if tables == 0 {
            Vec::new()
        } else {
            let read =
                "SELECT version, checksum, CAST(CASE WHEN success THEN 1 ELSE 0 END AS BIGINT) FROM _sqlx_migrations";
            sqlx::query_as(read).fetch_all(&self.pools.read).await.map_err(unreadable)?
        };
        let applied: Vec<_> =
            applied.into_iter().map(|(version, checksum, done)| (version, checksum, done == 1)).collect();
        Ok(MigrationGaps::between(self.migrator(), &applied))
    }

    /// Succeeds only if the database has exactly this binary's migrations:
    /// what a hub serving without migrating (`serve --migrations check`)
    /// checks before it starts, instead of finding a missing column mid-request.
    pub async fn require_migrated(&self) -> Result<()> {
        let gaps = self.migration_gaps().await?;
        if gaps.is_empty() { Ok(()) } else { Err(StoreError::NotMigrated(gaps)) }
    }

    fn migrator(&self) -> &'static Migrator {
        match self.pools.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }
}

/// A refused read of `_sqlx_migrations` says which grant is missing.
fn unreadable(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some(INSUFFICIENT_PRIVILEGE) => {
            StoreError::MigrationsUnreadable(error)
        }
        _ => StoreError::Database(error),
    }
}
