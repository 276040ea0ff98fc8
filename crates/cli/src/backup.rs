//! `referral-hub backup | restore`: an online copy of the SQLite database,
//! and a restore into an empty data directory, each checked (SQLite's
//! integrity check and the audit chain) and audited. PostgreSQL is backed up
//! with its own tools (`docs/operations.md`). The keys in `<data-dir>/keys`
//! are not in the copy on purpose: keep their backup apart, so that a stolen
//! database backup does not open the payloads.

use std::path::{Path, PathBuf};

use clap::Args;
use referral_hub_server::clock::{Clock, SystemClock, micros};
use referral_hub_store::Store;

use crate::{
    CliError, DatabaseArgs, admin_entry,
    private_files::{create_dir, restrict_file},
};

/// `backup`.
#[derive(Args)]
pub struct BackupArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Where to write the copy; must not exist yet.
    #[arg(long)]
    to: PathBuf,
}

/// `restore`.
#[derive(Args)]
pub struct RestoreArgs {
    /// The backup file written by `backup`.
    #[arg(long)]
    from: PathBuf,
    /// The data directory to restore into; it must hold no database yet.
    #[arg(long, env = "REFERRAL_HUB_DATA_DIR", default_value = "referral-hub-data")]
    data_dir: PathBuf,
}

const DATABASE_FILE: &str = "referral-hub.db";

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// Writes the copy while the hub may be serving, then checks it.
pub async fn backup(args: BackupArgs) -> Result<(), CliError> {
    if args.to.exists() {
        return Err(CliError::Config(format!("{} exists; a backup never overwrites", args.to.display())));
    }
    let store = Store::connect(&args.database.url()).await?;
    let entry = admin_entry(micros(SystemClock.now()), serde_json::json!({"change": "backup"}));
    store.audit(vec![entry]).await?;
    store.backup_to(&args.to).await?;
    store.close().await;
    let entries = checked(&args.to).await?;
    eprintln!(
        "backup written to {}: integrity ok, audit chain intact ({entries} entries). Keep a copy of \
         <data-dir>/keys apart from it: without those keys the payloads cannot be opened.",
        args.to.display()
    );
    Ok(())
}

/// Copies a backup into an empty data directory, checks it, brings its schema
/// up to this version, and records the restore in its audit log.
pub async fn restore(args: RestoreArgs) -> Result<(), CliError> {
    create_dir(&args.data_dir)?;
    let target = args.data_dir.join(DATABASE_FILE);
    if target.exists() {
        return Err(CliError::Config(format!(
            "{} exists; restore only into an empty data directory",
            target.display()
        )));
    }
    checked(&args.from).await?;
    std::fs::copy(&args.from, &target)
        .map_err(|source| CliError::File { path: target.display().to_string(), source })?;
    restrict_file(&target)?;
    let store = Store::connect(&sqlite_url(&target)).await?;
    store.migrate().await?;
    let entry = admin_entry(micros(SystemClock.now()), serde_json::json!({"change": "restore"}));
    store.audit(vec![entry]).await?;
    store.close().await;
    let entries = checked(&target).await?;
    eprintln!(
        "restored into {}: integrity ok, audit chain intact ({entries} entries). Put the keys backup in {}/keys \
         before serving.",
        args.data_dir.display(),
        args.data_dir.display()
    );
    Ok(())
}

/// SQLite's integrity check and the audit chain of the database file at `path`; the number of entries.
async fn checked(path: &Path) -> Result<u64, CliError> {
    let store = Store::connect(&sqlite_url(path)).await?;
    let integrity = store.integrity_check().await?;
    let verified = store.verify_audit(1, None).await?;
    store.close().await;
    if integrity != "ok" {
        return Err(CliError::Audit(format!("{}: integrity check failed: {integrity}", path.display())));
    }
    match verified {
        Ok(verified) => Ok(verified.checked),
        Err(chain_break) => Err(CliError::Audit(format!(
            "{}: the audit chain breaks at entry {}: {}",
            path.display(),
            chain_break.seq,
            chain_break.reason
        ))),
    }
}
