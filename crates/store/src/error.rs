//! The errors of the storage layer.

/// Why a store operation failed. Messages never carry row contents.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or refused the statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The group committer's thread could not be started.
    #[error("could not start the group committer: {0}")]
    Thread(#[source] std::io::Error),
    /// Migrations could not be applied.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database's migrations are not this binary's, and this hub does not
    /// migrate (`serve --migrations check`, a role that may not change the schema).
    #[error("the database's schema is not this binary's: {0}; {advice}", advice = .0.advice())]
    NotMigrated(crate::MigrationGaps),
    /// This role may not read which migrations are applied.
    #[error(
        "cannot read which migrations are applied ({0}): the serving role needs SELECT on _sqlx_migrations \
         (deploy/postgres/serving-role.sql)"
    )]
    MigrationsUnreadable(#[source] sqlx::Error),
    /// Rows could not be encoded as JSON for a group statement.
    #[error("could not encode rows: {0}")]
    Encode(#[from] serde_json::Error),
    /// The URL names no supported backend.
    #[error("unsupported database URL: expected sqlite:// or postgres://")]
    UnsupportedUrl,
    /// The transaction a submission was grouped into failed (database unavailable).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The backend cannot do this.
    #[error("{0}")]
    Unsupported(&'static str),
    /// The store is shutting down.
    #[error("the store is closed")]
    Closed,
    /// A row changed between the caller's read and its write; re-read and retry.
    #[error("the record changed concurrently")]
    Conflict,
    /// An acknowledgement beyond the last position handed out.
    #[error("position {position} is beyond the last inbox position {last}")]
    AckBeyondEnd {
        /// The position acknowledged.
        position: u64,
        /// The last position that exists.
        last: u64,
    },
    /// A payload was sealed under a key this hub no longer has (retired too early).
    #[error("payload sealed under unknown key `{key_id}`")]
    UnknownPayloadKey {
        /// The key id in the blob.
        key_id: String,
    },
    /// A stored value does not decode (an enum name unknown to this build,
    /// a sealed payload that does not open).
    #[error("stored {column} value is not recognised")]
    Corrupt {
        /// Which column.
        column: &'static str,
    },
}

/// Result alias of this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
