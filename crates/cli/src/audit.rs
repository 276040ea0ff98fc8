//! `referral-hub audit verify | checkpoint`: the operator's side of the
//! tamper-evident log, run directly against the database.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use referral_hub_domain::audit::{Action, Severity, hex};
use referral_hub_server::{
    checkpoint::{self, Checkpoint},
    clock::{Clock, SystemClock, micros},
    keys::HubKey,
};
use referral_hub_store::Store;

use crate::{CliError, DatabaseArgs, cli_entry, private_files::create_dir, read};

/// The audit subcommands.
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain (all of it, or a range) and name the first bad entry.
    Verify(VerifyArgs),
    /// Print a checkpoint of the chain head signed with the hub's key (JSON).
    Checkpoint(CheckpointArgs),
}

#[derive(Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// First entry to check.
    #[arg(long, default_value_t = 1)]
    from: u64,
    /// Last entry to check (default: the head, which is then checked too).
    #[arg(long)]
    to: Option<u64>,
    /// A checkpoint file the log must still extend.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
}

#[derive(Args)]
pub struct CheckpointArgs {
    #[command(flatten)]
    database: DatabaseArgs,
}

/// Runs an audit subcommand.
pub async fn run(command: AuditCommand) -> Result<(), CliError> {
    match command {
        AuditCommand::Verify(args) => verify(args).await,
        AuditCommand::Checkpoint(args) => {
            let (store, key) = open(&args.database).await?;
            let taken = checkpoint::take(&store, &key, micros(SystemClock.now())).await?;
            println!("{}", serde_json::to_string_pretty(&taken).map_err(|e| CliError::Config(e.to_string()))?);
            record(&store, serde_json::json!({"command": "audit checkpoint", "seq": taken.seq})).await;
            Ok(())
        }
    }
}

async fn verify(args: VerifyArgs) -> Result<(), CliError> {
    let (store, key) = open(&args.database).await?;
    if let Some(path) = &args.checkpoint {
        let checkpoint: Checkpoint = serde_json::from_slice(&read(path)?)
            .map_err(|e| CliError::Config(format!("{}: not a checkpoint: {e}", path.display())))?;
        checkpoint::check(&store, &key, &checkpoint).await.map_err(|e| CliError::Audit(e.to_string()))?;
        eprintln!("checkpoint at entry {} holds", checkpoint.seq);
    }
    let result = store.verify_audit(args.from, args.to).await?;
    let detail =
        serde_json::json!({"command": "audit verify", "from": args.from, "to": args.to, "intact": result.is_ok()});
    record(&store, detail).await;
    match result {
        Ok(verified) => {
            println!(
                "audit chain intact: {} entries checked, last entry {} hash {}",
                verified.checked,
                verified.last_seq,
                hex(&verified.last_hash)
            );
            Ok(())
        }
        Err(chain_break) => Err(CliError::Audit(format!("audit chain broken at {chain_break}"))),
    }
}

/// Records that the operator read the audit log (`AUDIT_QUERIED`), after the
/// fact, so that a verification covers the log as it was. Best effort: a copy
/// that cannot be written to is still verified.
async fn record(store: &Store, detail: serde_json::Value) {
    let entry = cli_entry(micros(SystemClock.now()), Action::AuditQueried, Severity::Info, detail);
    if let Err(error) = store.audit(vec![entry]).await {
        eprintln!("warning: could not record this query in the audit log: {error}");
    }
}

async fn open(database: &DatabaseArgs) -> Result<(Store, HubKey), CliError> {
    create_dir(&database.data_dir)?;
    let store = Store::connect(&database.url()).await?;
    store.migrate().await?;
    Ok((store, HubKey::load_or_create(&database.data_dir)?))
}
