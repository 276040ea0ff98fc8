//! `referral-hub token issue | list | revoke`: tokens signed by the hub's own
//! key. Issuing records the token's metadata (never the token) so it can be
//! listed and revoked; lifetimes are capped; revocations reach every replica
//! within its `--revocation-refresh-seconds`. Each command is audited.

use clap::{Args, Subcommand};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use referral_hub_domain::{ids::OrgId, roles::Role, timestamps::UnixMicros, tokens::Revocation};
use referral_hub_server::{
    clock::{Clock, SystemClock, micros},
    keys::{HubKey, TokenRequest},
};
use referral_hub_store::IssuedTokenRow;

use crate::{CliError, DatabaseArgs, TokenArgs, admin_entry, open_store as open};

/// The token subcommands.
#[derive(Subcommand)]
pub enum TokenCommand {
    /// Print a token for an organisation's system or worker (its metadata is recorded).
    Issue(IssueArgs),
    /// List the tokens the hub issued (metadata only), newest first.
    List(ListArgs),
    /// Revoke tokens: one by --jti, a worker's by --org and --subject, or an
    /// organisation's issued before a time by --org and --issued-before.
    Revoke(RevokeArgs),
}

/// `token issue`.
#[derive(Args)]
pub struct IssueArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(flatten)]
    token: TokenArgs,
    /// Organisation id (`org` claim).
    #[arg(long)]
    org: String,
    /// Comma-separated roles: referrer, receiver, supervisor, auditor, admin, oversight.
    #[arg(long, value_delimiter = ',', required = true)]
    roles: Vec<String>,
    /// Worker or system id (`sub` claim).
    #[arg(long, default_value = "system")]
    subject: String,
    /// Validity in hours; at most --max-token-lifetime-hours.
    #[arg(long, default_value_t = 24)]
    ttl_hours: i64,
}

/// `token list`.
#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Only this organisation's tokens.
    #[arg(long)]
    org: Option<String>,
    /// Expired tokens too.
    #[arg(long)]
    all: bool,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    limit: u32,
}

/// `token revoke`.
#[derive(Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// The token with this `jti` (see `token list`).
    #[arg(long, conflicts_with_all = ["org", "subject", "issued_before"])]
    jti: Option<String>,
    /// The organisation whose tokens are revoked.
    #[arg(long)]
    org: Option<String>,
    /// With --org: every token of this worker or system issued until now.
    #[arg(long, requires = "org", conflicts_with = "issued_before")]
    subject: Option<String>,
    /// With --org: every token of the organisation issued before this time (RFC 3339, not in the future).
    #[arg(long, requires = "org")]
    issued_before: Option<String>,
}

/// Runs a token subcommand.
pub async fn run(command: TokenCommand) -> Result<(), CliError> {
    match command {
        TokenCommand::Issue(args) => issue(args).await,
        TokenCommand::List(args) => list(args).await,
        TokenCommand::Revoke(args) => revoke(args).await,
    }
}

async fn issue(args: IssueArgs) -> Result<(), CliError> {
    let unknown: Vec<_> = args.roles.iter().filter(|r| Role::parse(r).is_none()).collect();
    if !unknown.is_empty() {
        return Err(CliError::Config(format!(
            "unknown role(s) {unknown:?}; known: referrer, receiver, supervisor, auditor, admin, oversight"
        )));
    }
    let max = args.token.max_token_lifetime_hours;
    if args.ttl_hours < 1 || args.ttl_hours > i64::from(max) {
        return Err(CliError::Config(format!(
            "--ttl-hours {} is outside 1..={max} (--max-token-lifetime-hours): hubs refuse longer-lived tokens",
            args.ttl_hours
        )));
    }
    let key = HubKey::load_or_create(&args.database.data_dir)?;
    let request = TokenRequest {
        issuer: &args.token.issuer,
        audience: &args.token.audience,
        subject: &args.subject,
        org: &args.org,
        roles: &args.roles,
        ttl: time::Duration::hours(args.ttl_hours),
    };
    let issued = key.issue_recorded(&request, SystemClock.now())?;
    let row = IssuedTokenRow {
        jti: issued.jti.clone(),
        org_id: OrgId::new(&args.org),
        subject: args.subject.clone(),
        roles: args.roles.join(","),
        kid: issued.kid.clone(),
        issued_at: UnixMicros::new(issued.issued_at.saturating_mul(1_000_000)),
        expires_at: UnixMicros::new(issued.expires_at.saturating_mul(1_000_000)),
    };
    let change = serde_json::json!({
        "change": "token issue", "organisation_id": args.org, "subject": args.subject,
        "roles": row.roles, "ttl_hours": args.ttl_hours, "kid": issued.kid, "jti": issued.jti,
    });
    let store = open(&args.database).await?;
    store.record_issued_token(&row, admin_entry(micros(SystemClock.now()), change)).await?;
    store.close().await;
    println!("{}", issued.token);
    Ok(())
}

async fn list(args: ListArgs) -> Result<(), CliError> {
    let store = open(&args.database).await?;
    let valid_at = (!args.all).then(|| UnixMicros::of(SystemClock.now()));
    let org = args.org.as_deref().map(OrgId::new);
    let tokens = store.issued_tokens(org.as_ref(), valid_at, args.limit).await?;
    store.close().await;
    println!("jti\torg\tsubject\troles\tkid\tissued_at\texpires_at");
    for t in tokens {
        let (issued, expires) = (rfc3339(t.issued_at.get()), rfc3339(t.expires_at.get()));
        println!("{}\t{}\t{}\t{}\t{}\t{issued}\t{expires}", t.jti, t.org_id, t.subject, t.roles, t.kid);
    }
    Ok(())
}

async fn revoke(args: RevokeArgs) -> Result<(), CliError> {
    let now = SystemClock.now();
    let until_now = u64::try_from(now.unix_timestamp()).unwrap_or(0) + 1;
    let revocation = match (args.jti, args.org, args.subject, args.issued_before) {
        (Some(jti), None, None, None) if !jti.is_empty() => Revocation::Token { jti },
        (None, Some(org), Some(subject), None) => Revocation::Subject { org, subject, issued_before: until_now },
        (None, Some(org), None, Some(before)) => {
            let at = OffsetDateTime::parse(&before, &Rfc3339)
                .map_err(|e| CliError::Config(format!("--issued-before {before:?}: not RFC 3339 ({e})")))?;
            if at > now {
                return Err(CliError::Config(format!("--issued-before {before} is in the future")));
            }
            Revocation::Organisation { org, issued_before: u64::try_from(at.unix_timestamp()).unwrap_or(0) }
        }
        _ => {
            return Err(CliError::Config(
                "say which tokens: --jti J, or --org O --subject S, or --org O --issued-before T".into(),
            ));
        }
    };
    let change = match &revocation {
        Revocation::Token { jti } => serde_json::json!({"change": "token revoke", "jti": jti}),
        Revocation::Subject { org, subject, issued_before } => serde_json::json!({
            "change": "token revoke", "organisation_id": org, "subject": subject, "issued_before": issued_before,
        }),
        Revocation::Organisation { org, issued_before } => serde_json::json!({
            "change": "token revoke", "organisation_id": org, "issued_before": issued_before,
        }),
    };
    let store = open(&args.database).await?;
    store.revoke_tokens(&revocation, UnixMicros::of(now), admin_entry(micros(now), change)).await?;
    store.close().await;
    eprintln!("revoked; every replica refuses these tokens within its --revocation-refresh-seconds");
    Ok(())
}

fn rfc3339(micros: i64) -> String {
    OffsetDateTime::from_unix_timestamp(micros / 1_000_000)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_else(|| micros.to_string())
}
