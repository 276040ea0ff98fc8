//! The flags of `serve` (each with its environment variable, and its key in
//! the `--config` file: `config_file.rs`).

use std::{net::SocketAddr, path::PathBuf};

use clap::Args;

use referral_hub_domain::{
    push_policy::IpNet, statistics::PeriodUnit, validation::DEFAULT_MINIMUM_AGE_OF_CRIMINAL_RESPONSIBILITY,
};
use referral_hub_server::telemetry::LogFormat;

use crate::{DatabaseArgs, OidcArgs, TokenArgs};

// `serve`'s flags. (No doc comment: clap would show it as the command's help.)
#[derive(Args)]
pub struct ServeArgs {
    /// A TOML file setting any of these options (key = the flag's name in snake_case);
    /// the command line and the environment override it.
    #[arg(long, env = "REFERRAL_HUB_CONFIG")]
    pub(super) config: Option<PathBuf>,
    /// Dev mode: loopback only, no TLS, demo organisations, printed tokens.
    #[arg(long)]
    pub(super) dev: bool,
    /// Address to listen on.
    #[arg(long, env = "REFERRAL_HUB_LISTEN", default_value = "127.0.0.1:50051")]
    pub(super) listen: SocketAddr,
    /// Admin address serving `GET /metrics` (Prometheus text), e.g. `127.0.0.1:9464`;
    /// keep it on an internal network. No metrics listener when unset.
    #[arg(long, env = "REFERRAL_HUB_ADMIN_LISTEN")]
    pub(super) admin_listen: Option<SocketAddr>,
    #[command(flatten)]
    pub(super) database: DatabaseArgs,
    /// `apply`: apply pending migrations at start (the database user owns the
    /// schema). `check`: apply none, and refuse to start unless every migration
    /// of this binary is applied: for a PostgreSQL role that may not change the
    /// schema (docs/operations.md "PostgreSQL roles"); the owner runs `referral-hub migrate`.
    #[arg(long, env = "REFERRAL_HUB_MIGRATIONS", value_enum, default_value = "apply")]
    pub(super) migrations: MigrationsArg,
    #[command(flatten)]
    pub(super) token: TokenArgs,
    /// Extra Ed25519 public keys (PEM) of an external identity provider; the
    /// file name without extension is the `kid`.
    #[arg(long = "jwt-public-key", env = "REFERRAL_HUB_JWT_PUBLIC_KEYS", value_delimiter = ',')]
    pub(super) jwt_public_keys: Vec<PathBuf>,
    /// Organisations that run the hub (repeat or separate with commas): their
    /// `admin` alone registers, suspends and re-routes organisations (channel,
    /// push endpoint, lead areas, client certificate) and routes unrouted
    /// alerts. Dev mode adds the demo operator organisation.
    #[arg(long = "operator-org", env = "REFERRAL_HUB_OPERATOR_ORGS", value_delimiter = ',')]
    pub(super) operator_orgs: Vec<String>,
    /// Organisations granted the hub-wide `oversight` role (every organisation's
    /// audit metadata and statistics); the role is ignored in anyone else's tokens.
    #[arg(long = "oversight-org", env = "REFERRAL_HUB_OVERSIGHT_ORGS", value_delimiter = ',')]
    pub(super) oversight_orgs: Vec<String>,
    /// A JWKS file (an identity provider's JSON Web Key Set) whose signing keys
    /// (RSA, ECDSA P-256, Ed25519) verify tokens; the hub stops at start if it has none.
    #[arg(long, env = "REFERRAL_HUB_JWKS")]
    pub(super) jwks: Option<PathBuf>,
    #[command(flatten)]
    pub(super) oidc: OidcArgs,
    /// The organisations an identity provider's key may speak for:
    /// `KID=org1,org2`, or `KID=*` for any (repeat, or separate with `;`).
    /// A provider key (--jwt-public-key, --jwks) without a binding verifies
    /// nobody's tokens; the hub's own keys speak for any organisation.
    #[arg(long = "key-orgs", env = "REFERRAL_HUB_KEY_ORGS", value_delimiter = ';')]
    pub(super) key_orgs: Vec<String>,
    /// Seconds between re-reads of the token revocations (`token revoke`):
    /// how long a revoked token may still be honoured by this replica.
    #[arg(long, env = "REFERRAL_HUB_REVOCATION_REFRESH_SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) revocation_refresh_seconds: u64,
    /// Seconds a request body may take to arrive once its token is verified;
    /// a slower one is cut off (408 for adapters) and its in-flight slot freed.
    #[arg(long, env = "REFERRAL_HUB_BODY_READ_TIMEOUT_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) body_read_timeout_seconds: u64,
    /// Inbox streams each organisation may hold open on this replica; more get RESOURCE_EXHAUSTED.
    #[arg(long, env = "REFERRAL_HUB_MAX_STREAMS_PER_ORG", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    pub(super) max_streams_per_org: u32,
    /// HTTP/2: concurrent calls one connection may have open.
    #[arg(long, env = "REFERRAL_HUB_MAX_CONCURRENT_STREAMS", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub(super) max_concurrent_streams: u32,
    /// HTTP/2: seconds between keepalive pings on an idle connection.
    #[arg(long, env = "REFERRAL_HUB_KEEPALIVE_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) keepalive_seconds: u64,
    /// HTTP/2: seconds a keepalive ping may go unanswered before the connection is closed.
    #[arg(long, env = "REFERRAL_HUB_KEEPALIVE_TIMEOUT_SECONDS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) keepalive_timeout_seconds: u64,
    /// HTTP/2: the largest header block accepted, in bytes.
    #[arg(long, env = "REFERRAL_HUB_MAX_HEADER_LIST_BYTES", default_value_t = 16_384, value_parser = clap::value_parser!(u32).range(1024..))]
    pub(super) max_header_list_bytes: u32,
    /// Seconds between re-reads of the verification keys (the hub's own after
    /// `keys rotate`, PEM files, the JWKS), so changes apply without a restart.
    #[arg(long, env = "REFERRAL_HUB_KEY_RELOAD_SECONDS", default_value_t = 10)]
    pub(super) key_reload_seconds: u64,
    /// TLS certificate chain (PEM). Required outside dev mode.
    #[arg(long, env = "REFERRAL_HUB_TLS_CERT", requires = "tls_key")]
    pub(super) tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "REFERRAL_HUB_TLS_KEY", requires = "tls_cert")]
    pub(super) tls_key: Option<PathBuf>,
    /// CA (PEM) for optional client certificates.
    #[arg(long, env = "REFERRAL_HUB_TLS_CLIENT_CA", requires = "tls_cert")]
    pub(super) tls_client_ca: Option<PathBuf>,
    /// Taxonomy file (TOML) replacing the built-in code lists.
    #[arg(long, env = "REFERRAL_HUB_TAXONOMIES")]
    pub(super) taxonomies: Option<PathBuf>,
    /// FHIR R4 ConceptMap (JSON) replacing the built-in SNOMED CT one: how
    /// codings of other systems in a FHIR referral become hub concerns and services.
    #[arg(long, env = "REFERRAL_HUB_FHIR_CONCEPT_MAP")]
    pub(super) fhir_concept_map: Option<PathBuf>,
    /// Sign a tree head of the audit log after this many new entries
    /// (docs/transparency.md); each goes to every active organisation's
    /// inbox, one entry per organisation, hence hours rather than seconds.
    #[arg(long, env = "REFERRAL_HUB_TREE_HEAD_ENTRIES", default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) tree_head_entries: u64,
    /// Or after this many seconds, if the log grew at all.
    #[arg(long, env = "REFERRAL_HUB_TREE_HEAD_INTERVAL_SECONDS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) tree_head_interval_seconds: u64,
    /// A directory outside the database (other storage) that receives every
    /// tree head and leaf hash: the witness `audit verify --against` compares with.
    #[arg(long, env = "REFERRAL_HUB_WITNESS_DIR")]
    pub(super) witness_dir: Option<PathBuf>,
    /// Seconds between scans for messages past their deadlines.
    #[arg(long, env = "REFERRAL_HUB_OVERDUE_SCAN_SECONDS", default_value_t = 60)]
    pub(super) overdue_scan_seconds: u64,
    /// Consent policy file (TOML: age bands, need-to-know table, legal bases)
    /// replacing the defaults of docs/consent.md ("Who may consent", "Need to know").
    #[arg(long, env = "REFERRAL_HUB_CONSENT_POLICY")]
    pub(super) consent_policy: Option<PathBuf>,
    /// Days a closed or withdrawn message's payload is kept before it is erased
    /// (metadata and audit entries stay).
    #[arg(long, env = "REFERRAL_HUB_RETENTION_DAYS", default_value_t = 730, value_parser = clap::value_parser!(u32).range(1..))]
    pub(super) retention_days: u32,
    /// The one period unit statistics are published by (whole UTC days, ISO
    /// weeks or calendar months): a hub publishing two units would let a
    /// month be differenced against its days (docs/operations.md "Statistics").
    #[arg(long, env = "REFERRAL_HUB_STATISTICS_PERIOD", value_enum, default_value = "month")]
    pub(super) statistics_period: StatisticsPeriodArg,
    /// Requests per second each organisation may sustain (0: no limit);
    /// beyond it, and its burst, calls get RESOURCE_EXHAUSTED with a retry hint.
    #[arg(long, env = "REFERRAL_HUB_RATE_LIMIT_PER_ORG", default_value_t = 200)]
    pub(super) rate_limit_per_org: u32,
    /// Requests an idle organisation may make at once.
    #[arg(long, env = "REFERRAL_HUB_RATE_LIMIT_BURST", default_value_t = 400, value_parser = clap::value_parser!(u32).range(1..))]
    pub(super) rate_limit_burst: u32,
    /// Requests handled at once by this replica; more are shed with
    /// RESOURCE_EXHAUSTED (health checks and metrics never are).
    #[arg(long, env = "REFERRAL_HUB_MAX_IN_FLIGHT", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub(super) max_in_flight: u32,
    /// Log level, as a filter directive (`info`, `warn,referral_hub_store=debug`).
    #[arg(long, env = "REFERRAL_HUB_LOG_LEVEL", default_value = "info")]
    pub(super) log_level: String,
    /// Log format; pretty in dev mode and JSON lines otherwise unless set.
    #[arg(long, env = "REFERRAL_HUB_LOG_FORMAT", value_enum)]
    pub(super) log_format: Option<LogFormatArg>,
    /// OTLP/gRPC collector to export trace spans to (e.g. `http://otel-collector:4317`); off when unset.
    #[arg(long, env = "REFERRAL_HUB_OTLP_ENDPOINT")]
    pub(super) otlp_endpoint: Option<String>,
    /// Id of the payload key new payloads are sealed with (`<data-dir>/keys/payload/<id>.key`,
    /// created if absent). Changing it re-seals stored payloads in the background.
    #[arg(long, env = "REFERRAL_HUB_PAYLOAD_KEY_ID", default_value = "k1")]
    pub(super) payload_key_id: String,
    /// Deadline file (TOML: windows by risk level, per-kind replacements)
    /// replacing the defaults of docs/domain.md ("Deadlines and escalation").
    #[arg(long, env = "REFERRAL_HUB_DEADLINES")]
    pub(super) deadlines: Option<PathBuf>,
    /// The jurisdiction's minimum age of criminal responsibility (years): the
    /// hub flags a child younger than this at the events in a justice transfer.
    #[arg(
        long,
        env = "REFERRAL_HUB_MINIMUM_AGE_OF_CRIMINAL_RESPONSIBILITY",
        default_value_t = DEFAULT_MINIMUM_AGE_OF_CRIMINAL_RESPONSIBILITY,
        value_parser = clap::value_parser!(u32).range(0..=18)
    )]
    pub(super) minimum_age_of_criminal_responsibility: u32,
    /// A network (CIDR, e.g. `10.20.0.0/16`) push endpoints may be in although
    /// private, link-local, CGNAT or otherwise refused; repeat or separate with
    /// commas. Everything else must be a public address.
    #[arg(long = "push-allow-cidr", env = "REFERRAL_HUB_PUSH_ALLOW_CIDR", value_delimiter = ',')]
    pub(super) push_allow_cidrs: Vec<IpNet>,
    /// Seconds push delivery waits for a connection to an endpoint.
    #[arg(long, env = "REFERRAL_HUB_PUSH_CONNECT_TIMEOUT_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub(super) push_connect_timeout_seconds: u64,
    /// Seconds push delivery waits for a whole exchange (connect, send, answer).
    #[arg(long, env = "REFERRAL_HUB_PUSH_TIMEOUT_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub(super) push_timeout_seconds: u64,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(super) enum LogFormatArg {
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

/// `--migrations`: who brings the database's schema up to this binary's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum MigrationsArg {
    /// `serve` applies them, as `referral-hub migrate` would.
    Apply,
    /// The owner already has (`referral-hub migrate`); `serve` only checks.
    Check,
}

/// `--statistics-period`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(super) enum StatisticsPeriodArg {
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

impl ServeArgs {
    /// `--log-format`, or else pretty in dev mode and JSON lines otherwise.
    pub(super) fn log_format(&self) -> LogFormat {
        match self.log_format {
            Some(format) => format.into(),
            None if self.dev => LogFormat::Pretty,
            None => LogFormat::Json,
        }
    }
}
