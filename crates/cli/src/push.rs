//! `referral-hub dead-letters …` and `referral-hub push-secret`: the
//! operator's side of push delivery, run directly against the database.
//! Dead letters are shown as metadata only (ids, counts, the last HTTP status),
//! never payloads; every change is audited.

use clap::{Args, Subcommand};

use referral_hub_domain::{audit::Entry, ids::OrgId, timestamps::UnixMicros};
use referral_hub_server::{
    clock::{Clock, SystemClock, micros},
    keys,
    push::webhook,
};
use referral_hub_store::{DeadLetter, Store};

use crate::{CliError, DatabaseArgs};

/// The dead-letter subcommands.
#[derive(Subcommand)]
pub enum DeadLetterCommand {
    /// List dead letters (default: those still DEAD), oldest first.
    List(ListArgs),
    /// Show one dead letter's metadata.
    Show(LetterArgs),
    /// Deliver it again: its message or follow-up goes back into the organisation's queue.
    Retry(LetterArgs),
    /// Give it up for good.
    Cancel(LetterArgs),
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// DEAD, RETRIED or CANCELLED.
    #[arg(long, default_value = "DEAD")]
    state: String,
}

#[derive(Args)]
pub struct LetterArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// The dead letter's id.
    id: String,
}

/// `push-secret` arguments.
#[derive(Args)]
pub struct PushSecretArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// The PUSH organisation.
    #[arg(long)]
    org: String,
    /// Keep signing with the old secret too until the receiver has the new one.
    #[arg(long)]
    keep_previous: bool,
    /// Id of the payload key the secret is sealed with (as `serve --payload-key-id`;
    /// the keys are in the data directory).
    #[arg(long, env = "REFERRAL_HUB_PAYLOAD_KEY_ID", default_value = "k1")]
    payload_key_id: String,
}

/// Runs a dead-letter subcommand.
pub async fn dead_letters(command: DeadLetterCommand) -> Result<(), CliError> {
    let now = micros(SystemClock.now());
    match command {
        DeadLetterCommand::List(args) => {
            let store = Store::connect(&args.database.url()).await?;
            for letter in store.dead_letters(&args.state).await? {
                println!("{}", line(&letter));
            }
            store.close().await;
        }
        DeadLetterCommand::Show(args) => {
            let store = Store::connect(&args.database.url()).await?;
            let letter = store.dead_letter_by_id(&args.id).await?.ok_or_else(|| not_found(&args.id))?;
            println!("{}", show(&letter));
            store.close().await;
        }
        DeadLetterCommand::Retry(args) => {
            let store = Store::connect(&args.database.url()).await?;
            if !store.retry_dead_letter(&args.id, UnixMicros::new(now), admin_entry(&args.id, "retry", now)).await? {
                return Err(not_found(&args.id));
            }
            eprintln!("dead letter {} is queued for delivery again", args.id);
            store.close().await;
        }
        DeadLetterCommand::Cancel(args) => {
            let store = Store::connect(&args.database.url()).await?;
            if !store.cancel_dead_letter(&args.id, admin_entry(&args.id, "cancel", now)).await? {
                return Err(not_found(&args.id));
            }
            eprintln!("dead letter {} cancelled", args.id);
            store.close().await;
        }
    }
    Ok(())
}

/// Creates or rotates an organisation's signing secret and prints it once.
pub async fn push_secret(args: PushSecretArgs) -> Result<(), CliError> {
    let store = Store::connect(&args.database.url()).await?;
    let org = OrgId::new(&args.org);
    if store.organisation(&org).await?.is_none() {
        return Err(CliError::Config(format!("no organisation {} in the directory", args.org)));
    }
    let secret = webhook::new_secret().map_err(|_| CliError::Config("no randomness available".into()))?;
    // Sealed at rest like payloads, with the hub's payload keys.
    store.seal_with(keys::load_or_create_payload_keys(&args.database.data_dir, &args.payload_key_id)?);
    store.set_push_secret(&org, &secret, args.keep_previous, UnixMicros::of(SystemClock.now())).await?;
    store.close().await;
    println!("{secret}");
    Ok(())
}

fn line(letter: &DeadLetter) -> String {
    format!("{}\t{}\t{}\t{} attempts\t{}", letter.id, letter.org_id, letter.state, letter.attempts, letter.last_error)
}

fn show(letter: &DeadLetter) -> String {
    serde_json::json!({
        "id": letter.id,
        "org_id": letter.org_id,
        "state": letter.state,
        "inbox_position": letter.position,
        "message_id": letter.message_id,
        "follow_up_id": letter.follow_up_id,
        "attempts": letter.attempts,
        "first_failed_at_micros": letter.first_failed_at,
        "dead_at_micros": letter.dead_at,
        "last_error": letter.last_error,
    })
    .to_string()
}

fn admin_entry(id: &str, what: &str, now: i64) -> Entry {
    crate::admin_entry(now, serde_json::json!({"dead_letter": id, "change": what}))
}

fn not_found(id: &str) -> CliError {
    CliError::Config(format!("no DEAD letter with id {id}"))
}
