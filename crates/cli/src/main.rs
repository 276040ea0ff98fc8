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
mod tokens;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
};

use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;

use referral_hub_domain::{
    consent::ConsentPolicy,
    deadlines::DeadlinePolicy,
    push_policy::{IpNet, PushPolicy},
    rate_limit::RateLimit,
    statistics::PeriodUnit,
    taxonomy::Taxonomies,
    validation::{DEFAULT_MINIMUM_AGE_OF_CRIMINAL_RESPONSIBILITY, Rules},
};
use referral_hub_server::{
    KeyReload, ServerConfig, TlsConfig,
    admission::{Admission, Http2Limits},
    authority::Authority,
    clock::{Clock, SystemClock},
    keys::{self, HubKey, KeyBindings, SpeaksFor},
    limits::Limits,
    push::webhook::PushTimeouts,
    scheduler::SchedulerControl,
    telemetry::{self, LogFormat},
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
    Serve(Box<ServeArgs>),
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

#[derive(Args)]
struct ServeArgs {
    /// A TOML file setting any of these options (key = the flag's name in snake_case);
    /// the command line and the environment override it.
    #[arg(long, env = "REFERRAL_HUB_CONFIG")]
    config: Option<PathBuf>,
    /// Dev mode: loopback only, no TLS, demo organisations, printed tokens.
    #[arg(long)]
    dev: bool,
    /// Address to listen on.
    #[arg(long, env = "REFERRAL_HUB_LISTEN", default_value = "127.0.0.1:50051")]
    listen: SocketAddr,
    /// Admin address serving `GET /metrics` (Prometheus text), e.g. `127.0.0.1:9464`;
    /// keep it on an internal network. No metrics listener when unset.
    #[arg(long, env = "REFERRAL_HUB_ADMIN_LISTEN")]
    admin_listen: Option<SocketAddr>,
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(flatten)]
    token: TokenArgs,
    /// Extra Ed25519 public keys (PEM) of an external identity provider; the
    /// file name without extension is the `kid`.
    #[arg(long = "jwt-public-key", env = "REFERRAL_HUB_JWT_PUBLIC_KEYS", value_delimiter = ',')]
    jwt_public_keys: Vec<PathBuf>,
    /// Organisations that run the hub (repeat or separate with commas): their
    /// `admin` alone registers, suspends and re-routes organisations (channel,
    /// push endpoint, lead areas, client certificate) and routes unrouted
    /// alerts. Dev mode adds the demo operator organisation.
    #[arg(long = "operator-org", env = "REFERRAL_HUB_OPERATOR_ORGS", value_delimiter = ',')]
    operator_orgs: Vec<String>,
    /// Organisations granted the hub-wide `oversight` role (every organisation's
    /// audit metadata and statistics); the role is ignored in anyone else's tokens.
    #[arg(long = "oversight-org", env = "REFERRAL_HUB_OVERSIGHT_ORGS", value_delimiter = ',')]
    oversight_orgs: Vec<String>,
    /// A JWKS file (an identity provider's JSON Web Key Set) whose signing keys
    /// (RSA, ECDSA P-256, Ed25519) verify tokens; the hub stops at start if it has none.
    #[arg(long, env = "REFERRAL_HUB_JWKS")]
    jwks: Option<PathBuf>,
    #[command(flatten)]
    oidc: OidcArgs,
    /// The organisations an identity provider's key may speak for:
    /// `KID=org1,org2`, or `KID=*` for any (repeat, or separate with `;`).
    /// A provider key (--jwt-public-key, --jwks) without a binding verifies
    /// nobody's tokens; the hub's own keys speak for any organisation.
    #[arg(long = "key-orgs", env = "REFERRAL_HUB_KEY_ORGS", value_delimiter = ';')]
    key_orgs: Vec<String>,
    /// Seconds between re-reads of the token revocations (`token revoke`):
    /// how long a revoked token may still be honoured by this replica.
    #[arg(long, env = "REFERRAL_HUB_REVOCATION_REFRESH_SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    revocation_refresh_seconds: u64,
    /// Seconds a request body may take to arrive once its token is verified;
    /// a slower one is cut off (408 for adapters) and its in-flight slot freed.
    #[arg(long, env = "REFERRAL_HUB_BODY_READ_TIMEOUT_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    body_read_timeout_seconds: u64,
    /// Inbox streams each organisation may hold open on this replica; more get RESOURCE_EXHAUSTED.
    #[arg(long, env = "REFERRAL_HUB_MAX_STREAMS_PER_ORG", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    max_streams_per_org: u32,
    /// HTTP/2: concurrent calls one connection may have open.
    #[arg(long, env = "REFERRAL_HUB_MAX_CONCURRENT_STREAMS", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    max_concurrent_streams: u32,
    /// HTTP/2: seconds between keepalive pings on an idle connection.
    #[arg(long, env = "REFERRAL_HUB_KEEPALIVE_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    keepalive_seconds: u64,
    /// HTTP/2: seconds a keepalive ping may go unanswered before the connection is closed.
    #[arg(long, env = "REFERRAL_HUB_KEEPALIVE_TIMEOUT_SECONDS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    keepalive_timeout_seconds: u64,
    /// HTTP/2: the largest header block accepted, in bytes.
    #[arg(long, env = "REFERRAL_HUB_MAX_HEADER_LIST_BYTES", default_value_t = 16_384, value_parser = clap::value_parser!(u32).range(1024..))]
    max_header_list_bytes: u32,
    /// Seconds between re-reads of the verification keys (the hub's own after
    /// `keys rotate`, PEM files, the JWKS), so changes apply without a restart.
    #[arg(long, env = "REFERRAL_HUB_KEY_RELOAD_SECONDS", default_value_t = 10)]
    key_reload_seconds: u64,
    /// TLS certificate chain (PEM). Required outside dev mode.
    #[arg(long, env = "REFERRAL_HUB_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "REFERRAL_HUB_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// CA (PEM) for optional client certificates.
    #[arg(long, env = "REFERRAL_HUB_TLS_CLIENT_CA", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
    /// Taxonomy file (TOML) replacing the built-in code lists.
    #[arg(long, env = "REFERRAL_HUB_TAXONOMIES")]
    taxonomies: Option<PathBuf>,
    /// FHIR R4 ConceptMap (JSON) replacing the built-in SNOMED CT one: how
    /// codings of other systems in a FHIR referral become hub concerns and services.
    #[arg(long, env = "REFERRAL_HUB_FHIR_CONCEPT_MAP")]
    fhir_concept_map: Option<PathBuf>,
    /// Seconds between scans for messages past their deadlines.
    #[arg(long, env = "REFERRAL_HUB_OVERDUE_SCAN_SECONDS", default_value_t = 60)]
    overdue_scan_seconds: u64,
    /// Consent policy file (TOML: age bands, need-to-know table, legal bases)
    /// replacing the defaults of consent.md.
    #[arg(long, env = "REFERRAL_HUB_CONSENT_POLICY")]
    consent_policy: Option<PathBuf>,
    /// Days a closed or withdrawn message's payload is kept before it is erased
    /// (metadata and audit entries stay).
    #[arg(long, env = "REFERRAL_HUB_RETENTION_DAYS", default_value_t = 730, value_parser = clap::value_parser!(u32).range(1..))]
    retention_days: u32,
    /// The one period unit statistics are published by (whole UTC days, ISO
    /// weeks or calendar months): a hub publishing two units would let a
    /// month be differenced against its days (docs/operations.md "Statistics").
    #[arg(long, env = "REFERRAL_HUB_STATISTICS_PERIOD", value_enum, default_value = "month")]
    statistics_period: StatisticsPeriodArg,
    /// Requests per second each organisation may sustain (0: no limit);
    /// beyond it, and its burst, calls get RESOURCE_EXHAUSTED with a retry hint.
    #[arg(long, env = "REFERRAL_HUB_RATE_LIMIT_PER_ORG", default_value_t = 200)]
    rate_limit_per_org: u32,
    /// Requests an idle organisation may make at once.
    #[arg(long, env = "REFERRAL_HUB_RATE_LIMIT_BURST", default_value_t = 400, value_parser = clap::value_parser!(u32).range(1..))]
    rate_limit_burst: u32,
    /// Requests handled at once by this replica; more are shed with
    /// RESOURCE_EXHAUSTED (health checks and metrics never are).
    #[arg(long, env = "REFERRAL_HUB_MAX_IN_FLIGHT", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    max_in_flight: u32,
    /// Log level, as a filter directive (`info`, `warn,referral_hub_store=debug`).
    #[arg(long, env = "REFERRAL_HUB_LOG_LEVEL", default_value = "info")]
    log_level: String,
    /// Log format; pretty in dev mode and JSON lines otherwise unless set.
    #[arg(long, env = "REFERRAL_HUB_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormatArg>,
    /// OTLP/gRPC collector to export trace spans to (e.g. `http://otel-collector:4317`); off when unset.
    #[arg(long, env = "REFERRAL_HUB_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
    /// Id of the payload key new payloads are sealed with (`<data-dir>/keys/payload/<id>.key`,
    /// created if absent). Changing it re-seals stored payloads in the background.
    #[arg(long, env = "REFERRAL_HUB_PAYLOAD_KEY_ID", default_value = "k1")]
    payload_key_id: String,
    /// Deadline file (TOML: windows by risk level, per-kind replacements)
    /// replacing the defaults of domain.md.
    #[arg(long, env = "REFERRAL_HUB_DEADLINES")]
    deadlines: Option<PathBuf>,
    /// The jurisdiction's minimum age of criminal responsibility (years): the
    /// hub flags a child younger than this at the events in a justice transfer.
    #[arg(
        long,
        env = "REFERRAL_HUB_MINIMUM_AGE_OF_CRIMINAL_RESPONSIBILITY",
        default_value_t = DEFAULT_MINIMUM_AGE_OF_CRIMINAL_RESPONSIBILITY,
        value_parser = clap::value_parser!(u32).range(0..=18)
    )]
    minimum_age_of_criminal_responsibility: u32,
    /// A network (CIDR, e.g. `10.20.0.0/16`) push endpoints may be in although
    /// private, link-local, CGNAT or otherwise refused; repeat or separate with
    /// commas. Everything else must be a public address.
    #[arg(long = "push-allow-cidr", env = "REFERRAL_HUB_PUSH_ALLOW_CIDR", value_delimiter = ',')]
    push_allow_cidrs: Vec<IpNet>,
    /// Seconds push delivery waits for a connection to an endpoint.
    #[arg(long, env = "REFERRAL_HUB_PUSH_CONNECT_TIMEOUT_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    push_connect_timeout_seconds: u64,
    /// Seconds push delivery waits for a whole exchange (connect, send, answer).
    #[arg(long, env = "REFERRAL_HUB_PUSH_TIMEOUT_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    push_timeout_seconds: u64,
}

/// The operator's organisations: as configured, plus the demo one in dev mode.
fn operators(args: &ServeArgs) -> Vec<String> {
    let demo = args.dev.then(|| referral_hub_server::demo::OPERATOR_ORG.to_owned());
    args.operator_orgs.iter().cloned().chain(demo).collect()
}

/// How often the counts of refused calls whose minute is over are written.
const REFUSAL_FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// How often each replica looks for PUSH deliveries that are due.
const PUSH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

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
        Command::Serve(args) => serve(*args).await,
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

/// The store at `database`, migrated, its data directory created.
pub async fn open_store(database: &DatabaseArgs) -> Result<Store, CliError> {
    create_dir(&database.data_dir)?;
    let store = Store::connect(&database.url()).await?;
    store.migrate().await?;
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

async fn serve(args: ServeArgs) -> Result<(), CliError> {
    let format = match args.log_format {
        Some(format) => format.into(),
        None if args.dev => LogFormat::Pretty,
        None => LogFormat::Json,
    };
    let telemetry = telemetry::init(&args.log_level, format, args.otlp_endpoint.as_deref())
        .map_err(|e| CliError::Config(e.to_string()))?;
    if args.dev && !args.listen.ip().is_loopback() {
        return Err(CliError::Config(format!("--dev listens on loopback only; {} is not loopback", args.listen)));
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsConfig {
            cert_pem: read(cert)?,
            key_pem: read(key)?,
            client_ca_pem: args.tls_client_ca.as_deref().map(read).transpose()?,
        }),
        _ if args.dev => None,
        _ => {
            return Err(CliError::Config("--tls-cert and --tls-key are required outside --dev".into()));
        }
    };
    let taxonomies = config_file(&args.taxonomies, Taxonomies::from_toml)?.unwrap_or_default();
    let fhir_concept_map = config_file(&args.fhir_concept_map, |text| Ok::<_, String>(text.to_owned()))?;
    let consent = config_file(&args.consent_policy, ConsentPolicy::from_toml)?.unwrap_or_default();
    let deadlines = config_file(&args.deadlines, DeadlinePolicy::from_toml)?.unwrap_or_default();

    create_dir(&args.database.data_dir)?;
    let key = HubKey::load_or_create(&args.database.data_dir)?;
    let (data_dir, pem_files, jwks) = (args.database.data_dir.clone(), args.jwt_public_keys.clone(), args.jwks.clone());
    let bindings = KeyBindings::parse(&args.key_orgs).map_err(CliError::Config)?;
    let load = move || keys::verification_keys(&data_dir, &pem_files, jwks.as_deref(), &bindings);
    if let Some(jwks) = &args.jwks {
        keys::check_jwks_file(jwks)?;
    }
    let verification_keys = load()?;
    for (kid, key) in &verification_keys {
        if key.speaks_for == SpeaksFor::Only(Default::default()) {
            tracing::warn!(kid, "an identity provider key without --key-orgs verifies nobody's tokens");
        }
    }
    let key_reload_every = std::time::Duration::from_secs(args.key_reload_seconds.max(1));
    let identity_provider = oidc::start(&args.oidc, &args.token.audience, &args.key_orgs, key_reload_every).await?;
    let max_token_lifetime = std::time::Duration::from_secs(u64::from(args.token.max_token_lifetime_hours) * 3600);

    let store = Store::connect(&args.database.url()).await?;
    store.migrate().await?;
    store.seal_with(keys::load_or_create_payload_keys(&args.database.data_dir, &args.payload_key_id)?);
    if args.dev {
        referral_hub_server::demo::seed(&store).await?;
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|source| CliError::File { path: args.listen.to_string(), source })?;
    let address = listener.local_addr().map_err(|source| CliError::File { path: args.listen.to_string(), source })?;
    if args.dev {
        let claims = (args.token.issuer.as_str(), args.token.audience.as_str(), max_token_lifetime);
        dev::print_banner(&key, claims, address, &args.database.data_dir)?;
    }
    let admin_listener = match args.admin_listen {
        Some(admin) => {
            let bound = TcpListener::bind(admin).await;
            let listener = bound.map_err(|source| CliError::File { path: admin.to_string(), source })?;
            let at = listener.local_addr().map_err(|source| CliError::File { path: admin.to_string(), source })?;
            tracing::info!(metrics = %format!("http://{at}/metrics"), "admin listener");
            Some(listener)
        }
        None => None,
    };
    let authority = Authority::new(operators(&args), args.oversight_orgs.clone());
    let config = ServerConfig {
        admin_listener,
        issuer: args.token.issuer,
        audience: args.token.audience,
        verification_keys,
        key_reload: Some(KeyReload { load: Box::new(load), control: SchedulerControl::every(key_reload_every) }),
        identity_provider,
        tls,
        rules: Rules {
            taxonomies,
            consent,
            minimum_age_of_criminal_responsibility: args.minimum_age_of_criminal_responsibility,
            push: PushPolicy { dev: args.dev, allow: args.push_allow_cidrs },
            ..Rules::default()
        },
        deadlines,
        clock: Arc::new(SystemClock),
        link_key_secret: keys::load_or_create_link_secret(&args.database.data_dir)?,
        scheduler: SchedulerControl::every(std::time::Duration::from_secs(args.overdue_scan_seconds.max(1))),
        push: SchedulerControl::every(PUSH_INTERVAL),
        push_timeouts: PushTimeouts {
            connect: std::time::Duration::from_secs(args.push_connect_timeout_seconds),
            total: std::time::Duration::from_secs(args.push_timeout_seconds),
        },
        retention: time::Duration::days(i64::from(args.retention_days)),
        statistics_period: args.statistics_period.into(),
        limits: Limits::new(
            (args.rate_limit_per_org > 0)
                .then_some(RateLimit { per_second: args.rate_limit_per_org, burst: args.rate_limit_burst }),
            args.max_in_flight as usize,
        )
        .with_streams_per_organisation(args.max_streams_per_org as usize),
        admission: Admission {
            max_token_lifetime,
            revocation_refresh: SchedulerControl::every(std::time::Duration::from_secs(
                args.revocation_refresh_seconds,
            )),
            refusal_flush: SchedulerControl::every(REFUSAL_FLUSH_INTERVAL),
            body_read_timeout: std::time::Duration::from_secs(args.body_read_timeout_seconds),
            http2: Http2Limits {
                max_concurrent_streams: args.max_concurrent_streams,
                keepalive_interval: std::time::Duration::from_secs(args.keepalive_seconds),
                keepalive_timeout: std::time::Duration::from_secs(args.keepalive_timeout_seconds),
                max_header_list_size: args.max_header_list_bytes,
            },
        },
        authority,
        fhir_concept_map,
    };
    referral_hub_server::serve(store.clone(), config, listener, shutdown_signal()).await?;
    store.close().await;
    // Export the last spans before exiting.
    drop(telemetry);
    tracing::info!("stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM, so in-flight RPCs finish before exit.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
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

/// `--log-format`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormatArg {
    /// One JSON object per line, for log collectors.
    Json,
    /// Human-readable lines.
    Pretty,
}

impl From<LogFormatArg> for LogFormat {
    fn from(format: LogFormatArg) -> Self {
        match format {
            LogFormatArg::Json => LogFormat::Json,
            LogFormatArg::Pretty => LogFormat::Pretty,
        }
    }
}

/// `--statistics-period`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum StatisticsPeriodArg {
    /// 00:00:00 UTC to the next midnight.
    Day,
    /// Monday 00:00:00 UTC to the next Monday.
    Week,
    /// The 1st at 00:00:00 UTC to the next 1st.
    Month,
}

impl From<StatisticsPeriodArg> for PeriodUnit {
    fn from(period: StatisticsPeriodArg) -> Self {
        match period {
            StatisticsPeriodArg::Day => PeriodUnit::Day,
            StatisticsPeriodArg::Week => PeriodUnit::Week,
            StatisticsPeriodArg::Month => PeriodUnit::Month,
        }
    }
}

/// A TOML configuration file parsed by `parse`, or `None` when not given.
fn config_file<T, E: std::fmt::Display>(
    path: &Option<PathBuf>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<T>, CliError> {
    let Some(path) = path else { return Ok(None) };
    let text = String::from_utf8_lossy(&read(path)?).into_owned();
    parse(&text).map(Some).map_err(|e| CliError::Config(format!("{}: {e}", path.display())))
}

pub fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|source| CliError::File { path: path.display().to_string(), source })
}
