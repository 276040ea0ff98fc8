//! `referral-hub audit verify | checkpoint | keys`: the operator's side of
//! the tamper-evident log, run directly against the database. Verifying
//! needs public keys only (docs/transparency.md).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use referral_hub_domain::audit::{Action, Severity, hex};
use referral_hub_server::{
    checkpoint::{self, Checkpoint},
    clock::{Clock, SystemClock, micros},
    keys::HubKey,
    tree_heads::{
        against::{self, Against, StoredHeads},
        json, witness,
    },
};
use referral_hub_store::{SigningKeyPeriod, Store};

use crate::{CliError, DatabaseArgs, cli_entry, private_files::create_dir, read};

/// The audit subcommands.
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain (all of it, or a range) and name the first bad entry.
    Verify(VerifyArgs),
    /// Print a checkpoint of the chain head signed with the hub's key (JSON).
    Checkpoint(CheckpointArgs),
    /// Print every key the hub ever signed tree heads or checkpoints with,
    /// and when each was in use (a JWK set).
    Keys(CheckpointArgs),
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
    /// A signed tree head kept outside the database (an organisation's, a
    /// witness's) that the log's first entries must still match.
    #[arg(long)]
    against: Option<PathBuf>,
    /// With --against: the witness directory whose leaf hashes name the
    /// first entry that differs.
    #[arg(long, requires = "against")]
    witness_dir: Option<PathBuf>,
    /// The published signing keys (a JWK set kept outside the database) to
    /// check signatures with; default: the keys the database lists.
    #[arg(long)]
    keys: Option<PathBuf>,
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
        AuditCommand::Keys(args) => {
            let store = open(&args.database).await?;
            println!("{:#}", json::key_set(&store.signing_keys().await?));
            Ok(())
        }
        AuditCommand::Checkpoint(args) => {
            let store = open(&args.database).await?;
            let key = HubKey::load_or_create(&args.database.data_dir)?;
            let taken = checkpoint::take(&store, &key, micros(SystemClock.now())).await?;
            println!("{}", serde_json::to_string_pretty(&taken).map_err(|e| CliError::Config(e.to_string()))?);
            record(&store, serde_json::json!({"command": "audit checkpoint", "seq": taken.seq})).await;
            Ok(())
        }
    }
}

async fn verify(args: VerifyArgs) -> Result<(), CliError> {
    let store = open(&args.database).await?;
    let keys = match &args.keys {
        Some(path) => json::parse_key_set(&json_file(path)?)
            .ok_or_else(|| CliError::Config(format!("{}: not a JWK set of Ed25519 keys", path.display())))?,
        None => store.signing_keys().await?,
    };
    if let Some(path) = &args.checkpoint {
        let checkpoint: Checkpoint = serde_json::from_value(json_file(path)?)
            .map_err(|e| CliError::Config(format!("{}: not a checkpoint: {e}", path.display())))?;
        checkpoint::check(&store, &keys, &checkpoint).await.map_err(|e| CliError::Audit(e.to_string()))?;
        eprintln!("checkpoint at entry {} holds", checkpoint.seq);
    }
    if let Some(path) = &args.against {
        verify_against(&store, &keys, path, args.witness_dir.as_deref()).await?;
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
            // The stored heads cover the log from its start: checked on a whole-log run.
            if args.from <= 1 && args.to.is_none() { stored_heads(&store, &keys).await } else { Ok(()) }
        }
        Err(chain_break) => Err(CliError::Audit(format!("audit chain broken at {chain_break}"))),
    }
}

/// Checks the hub's own stored tree heads against the entries: a rewrite
/// whose author could recompute the chain but not sign heads shows here.
async fn stored_heads(store: &Store, keys: &[SigningKeyPeriod]) -> Result<(), CliError> {
    match against::check_stored_heads(store, keys).await? {
        StoredHeads::Hold { heads } => {
            println!("tree heads hold: {heads} signed heads match the entries");
            Ok(())
        }
        StoredHeads::Broken { size, why } => Err(CliError::Audit(format!(
            "the stored tree head of {size} entries does not hold: {}",
            match why {
                Against::BadHead(check) => check.reason().to_owned(),
                Against::Shorter { entries } => format!("the log has only {entries} entries"),
                Against::Rewritten { .. } | Against::Extends => "the entries no longer have its root".to_owned(),
            }
        ))),
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

/// Checks the log against the tree head in `path` (docs/transparency.md "Witnesses").
async fn verify_against(
    store: &Store,
    keys: &[SigningKeyPeriod],
    path: &std::path::Path,
    witness_dir: Option<&std::path::Path>,
) -> Result<(), CliError> {
    let head = json::parse_tree_head(&json_file(path)?)
        .ok_or_else(|| CliError::Config(format!("{}: not a signed tree head", path.display())))?;
    let witnessed = witness_dir
        .map(|dir| witness::read_leaf_hashes(dir).map_err(|e| CliError::Config(format!("{}: {e}", dir.display()))))
        .transpose()?;
    let size = head.size;
    let fail = |text: String| Err(CliError::Audit(format!("against the tree head of {size} entries: {text}")));
    match against::check(store, &head, keys, witnessed.as_deref()).await? {
        Against::Extends => {
            eprintln!("the log extends the tree head of {size} entries (root {})", hex(&head.root));
            Ok(())
        }
        Against::BadHead(check) => fail(format!("the tree head does not hold: {}", check.reason())),
        Against::Shorter { entries } => fail(format!("the log has only {entries} entries: entries were removed")),
        Against::Rewritten { first_differing: Some(seq) } => fail(format!(
            "the log was rewritten: entry {seq} is the first that differs from the witness (edited, removed or inserted)"
        )),
        Against::Rewritten { first_differing: None } => fail(
            "the log was rewritten: its first entries no longer have the signed root (give --witness-dir to name the first that differs)"
                .into(),
        ),
    }
}

fn json_file(path: &std::path::Path) -> Result<serde_json::Value, CliError> {
    serde_json::from_slice(&read(path)?).map_err(|e| CliError::Config(format!("{}: not JSON: {e}", path.display())))
}

async fn open(database: &DatabaseArgs) -> Result<Store, CliError> {
    create_dir(&database.data_dir)?;
    let store = Store::connect(&database.url()).await?;
    store.migrate().await?;
    Ok(store)
}
