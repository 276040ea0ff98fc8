//! `referral-hub`: the one binary operators run. `serve` runs the hub,
//! `migrate` prepares a database, `token issue` prints a token signed by the
//! hub's own key. Configuration is typed (clap), with environment overrides.

mod audit;
mod backup;
mod config_file;
mod dev;
mod oidc;
mod organisations;
mod private_files;
mod push;
mod serve;
mod tokens;

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use clap::{Args, Parser, Subcommand};

use referral_hub_server::{
    clock::{Clock, SystemClock},
    keys::{self, HubKey},
};
use referral_hub_store::Store;

use private_files::create_dir;

/// jemalloc instead of glibc's allocator: under load the hub allocates many
/// short-lived buffers on several threads, where glibc's spent a tenth of the
/// CPU consolidating and unlinking chunks.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(name = "referral-hub", version, about = "The child-protection referral hub")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the hub.
    Serve(Box<serve::ServeArgs>),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// Tokens signed by the hub's own key: issue, list, revoke.
    #[command(subcommand)]
    Token(tokens::TokenCommand),
    /// The hub's signing key: rotate it without downtime, retire old ones, publish the public key.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The tamper-evident audit log: verify it, export signed checkpoints.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Pushed deliveries given up on: list, show (metadata only), retry, cancel.
    #[command(subcommand)]
    DeadLetters(push::DeadLetterCommand),
    /// Create or rotate a PUSH organisation's webhook signing secret (printed once).
    PushSecret(push::PushSecretArgs),
    /// The directory: register, update, suspend, list organisations (audited).
    #[command(subcommand)]
    Organisations(organisations::OrganisationCommand),
    /// Write a checked copy of the SQLite database while the hub serves (audited).
    Backup(backup::BackupArgs),
    /// Restore a backup into an empty data directory, checked and audited.
    Restore(backup::RestoreArgs),
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Replace the hub's signing key; tokens signed with the old one stay valid until retired.
    Rotate(DatabaseArgs),
    /// Forget a previous signing key: tokens it signed are refused from then on.
    Retire(RetireArgs),
    /// Print the hub's public signing key as a JWKS (for parties verifying its tokens and checkpoints).
    Jwks(DataDirArgs),
}

/// Just the data directory.
#[derive(Args)]
struct DataDirArgs {
    /// Data directory holding `keys/`.
    #[arg(long, env = "REFERRAL_HUB_DATA_DIR", default_value = "referral-hub-data")]
    data_dir: PathBuf,
}

/// `keys retire`.
#[derive(Args)]
struct RetireArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Key id of the previous signing key.
    #[arg(long)]
    kid: String,
}

/// Where the data lives.
#[derive(Args)]
pub struct DatabaseArgs {
    /// Data directory: the SQLite file and the hub's signing key live here.
    #[arg(long, env = "REFERRAL_HUB_DATA_DIR", default_value = "referral-hub-data")]
    data_dir: PathBuf,
    /// Database URL (`sqlite://…` or `postgres://…`); default: a SQLite file in the data directory.
    #[arg(long, env = "REFERRAL_HUB_DATABASE_URL")]
    database_url: Option<String>,
}

impl DatabaseArgs {
    pub fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("referral-hub.db").display()))
    }
}

/// An external identity provider (docs/operations.md "Identity providers").
#[derive(Args)]
pub struct OidcArgs {
    /// The identity provider's issuer: the `iss` of its tokens, and where its
    /// keys are found by OpenID Connect discovery (`<issuer>/.well-known/openid-configuration`).
    #[arg(long, env = "REFERRAL_HUB_OIDC_ISSUER")]
    oidc_issuer: Option<String>,
    /// The provider's key set (https), fetched directly instead of by discovery.
    #[arg(long, env = "REFERRAL_HUB_JWKS_URL", requires = "oidc_issuer")]
    jwks_url: Option<String>,
    /// The `aud` the provider's tokens carry for this hub (Entra: the
    /// application's client id); default: --audience.
    #[arg(long, env = "REFERRAL_HUB_OIDC_AUDIENCE", requires = "oidc_issuer")]
    oidc_audience: Option<String>,
    /// CA certificates (PEM) trusted for the provider besides the public roots (a private CA).
    #[arg(long, env = "REFERRAL_HUB_JWKS_CA", requires = "oidc_issuer")]
    jwks_ca: Option<PathBuf>,
    /// The organisations the provider's keys may speak for (`*` for any;
    /// repeat or separate with commas); a --key-orgs binding of a kid wins.
    #[arg(long = "oidc-orgs", env = "REFERRAL_HUB_OIDC_ORGS", value_delimiter = ',', requires = "oidc_issuer")]
    oidc_orgs: Vec<String>,
    /// Where the provider's tokens carry the organisation: a claim path
    /// (`org`, `extn.org`), its value a string or an array of one.
    #[arg(long, env = "REFERRAL_HUB_ORG_CLAIM", default_value = "org")]
    org_claim: String,
    /// Where the provider's tokens carry the roles: a claim path (Keycloak
    /// `realm_access.roles`, Entra `roles`), an array or a space-separated string.
    #[arg(long, env = "REFERRAL_HUB_ROLES_CLAIM", default_value = "roles")]
    roles_claim: String,
}

/// Token claims shared by serving and issuing.
#[derive(Args)]
pub struct TokenArgs {
    /// `iss` the hub issues and expects.
    #[arg(long, env = "REFERRAL_HUB_ISSUER", default_value = "referral-hub")]
    issuer: String,
    /// `aud` the hub issues and expects.
    #[arg(long, env = "REFERRAL_HUB_AUDIENCE", default_value = "referral-hub")]
    audience: String,
    /// The longest a token may live (`exp - iat`), in hours: the hub refuses
    /// longer-lived tokens (and tokens without `iat`), and `token issue` will not make one.
    #[arg(long, env = "REFERRAL_HUB_MAX_TOKEN_LIFETIME_HOURS", default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=8760))]
    max_token_lifetime_hours: u32,
}
/// Why the command failed; printed as one line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Store(#[from] referral_hub_store::StoreError),
    #[error(transparent)]
    Key(#[from] referral_hub_server::keys::KeyError),
    #[error(transparent)]
    Serve(#[from] referral_hub_server::ServeError),
    #[error("identity provider: {0}")]
    Provider(#[from] referral_hub_server::identity_provider::ProviderError),
    #[error("{path}: {source}")]
    File { path: String, source: std::io::Error },
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Audit(String),
}

fn main() -> ExitCode {
    private_files::mask_group_and_others();
    let cli = match config_file::with_config_file(std::env::args_os().collect()) {
        Ok(argv) => Cli::parse_from(argv),
        Err(e) => {
            eprintln!("referral-hub: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("referral-hub: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("referral-hub: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Serve(args) => serve::serve(*args).await,
        Command::Migrate(args) => {
            create_dir(&args.data_dir)?;
            let store = Store::connect(&args.url()).await?;
            store.migrate().await?;
            store.close().await;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Audit(command) => audit::run(command).await,
        Command::DeadLetters(command) => push::dead_letters(command).await,
        Command::PushSecret(args) => push::push_secret(args).await,
        Command::Organisations(command) => organisations::run(command).await,
        Command::Keys(KeysCommand::Rotate(args)) => {
            let (old, new) = keys::rotate_signing_key(&args.data_dir)?;
            audited(&args, serde_json::json!({"change": "keys rotate", "old_kid": old, "new_kid": new})).await?;
            eprintln!("signing key {new} replaces {old}; running hubs accept both within --key-reload-seconds");
            eprintln!("once every token signed by {old} has expired: referral-hub keys retire --kid {old}");
            Ok(())
        }
        Command::Keys(KeysCommand::Retire(args)) => {
            if !keys::retire_signing_key(&args.database.data_dir, &args.kid)? {
                return Err(CliError::Config(format!("no previous signing key {}", args.kid)));
            }
            audited(&args.database, serde_json::json!({"change": "keys retire", "kid": args.kid})).await?;
            eprintln!("retired {}; tokens it signed are refused from the next key reload", args.kid);
            Ok(())
        }
        Command::Keys(KeysCommand::Jwks(args)) => {
            let key = HubKey::load_or_create(&args.data_dir)?;
            println!("{}", serde_json::json!({ "keys": [key.jwk()] }));
            Ok(())
        }
        Command::Backup(args) => backup::backup(args).await,
        Command::Restore(args) => backup::restore(args).await,
        Command::Token(command) => tokens::run(command).await,
    }
}

/// The store at `database`, migrated, its data directory created. A
/// database that already has every migration is not touched, so the
/// operator's commands also run as a role that may not change the schema
/// (docs/operations.md "PostgreSQL roles").
pub async fn open_store(database: &DatabaseArgs) -> Result<Store, CliError> {
    create_dir(&database.data_dir)?;
    let store = Store::connect(&database.url()).await?;
    if !store.migration_gaps().await?.is_empty() {
        store.migrate().await?;
    }
    Ok(store)
}

/// The store at `database`, which must already have every migration of this
/// binary (it applies none: the role may not change the schema), its data
/// directory created.
pub async fn open_migrated_store(database: &DatabaseArgs) -> Result<Store, CliError> {
    create_dir(&database.data_dir)?;
    let store = Store::connect(&database.url()).await?;
    if let Err(error) = store.require_migrated().await {
        store.close().await;
        return Err(error.into());
    }
    Ok(store)
}

/// Records an operator's change made outside the database (keys, tokens) in
/// the audit log of the hub at `database`.
async fn audited(database: &DatabaseArgs, change: serde_json::Value) -> Result<(), CliError> {
    let store = open_store(database).await?;
    store.audit(vec![admin_entry(referral_hub_server::clock::micros(SystemClock.now()), change)]).await?;
    store.close().await;
    Ok(())
}

/// An audit entry for an operator's change made with this command line: who
/// ran it (`cli:$USER`) and what changed (`detail`: ids and codes only).
pub fn admin_entry(now: i64, detail: serde_json::Value) -> referral_hub_domain::audit::Entry {
    use referral_hub_domain::audit::{Action, Severity};
    cli_entry(now, Action::AdminChange, Severity::Warning, detail)
}

/// An audit entry of `action` by whoever ran this command line (`cli:$USER`).
pub fn cli_entry(
    now: i64,
    action: referral_hub_domain::audit::Action,
    severity: referral_hub_domain::audit::Severity,
    detail: serde_json::Value,
) -> referral_hub_domain::audit::Entry {
    use referral_hub_domain::{audit::Outcome, timestamps::UnixMicros};
    let runner = format!("cli:{}", std::env::var("USER").unwrap_or_default());
    referral_hub_domain::audit::Entry::new(UnixMicros::new(now), action, Outcome::Success, severity)
        .by("", &runner, String::new())
        .with_detail(detail.to_string())
}

pub fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|source| CliError::File { path: path.display().to_string(), source })
}
