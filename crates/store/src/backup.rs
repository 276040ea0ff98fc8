//! Online backups of the embedded database (docs/operations.md "Backup and restore"):
//! SQLite writes a consistent snapshot while the hub serves. PostgreSQL is
//! backed up with its own tools (`pg_dump`, or base backups with WAL
//! archiving for point-in-time recovery), as `docs/operations.md` describes.

use crate::{Backend, Result, Store, StoreError};

impl Store {
    /// Writes a consistent copy of the SQLite database to `path` (which must
    /// not exist) while readers and writers carry on (`VACUUM INTO`).
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<()> {
        if self.pools.backend != Backend::Sqlite {
            return Err(StoreError::Unsupported(
                "online backup is for SQLite; back up PostgreSQL with pg_dump or PITR",
            ));
        }
        sqlx::query("VACUUM INTO $1").bind(path.display().to_string()).execute(&self.pools.read).await?;
        Ok(())
    }

    /// SQLite's own check of every page and index: `ok`, or what is wrong.
    pub async fn integrity_check(&self) -> Result<String> {
        if self.pools.backend != Backend::Sqlite {
            return Err(StoreError::Unsupported("integrity_check is a SQLite check"));
        }
        let row: (String,) = sqlx::query_as("PRAGMA integrity_check").fetch_one(&self.pools.read).await?;
        Ok(row.0)
    }
}
