//! The hub's [`Settings`] from `serve`'s flags: the files they name read
//! and checked, the data directory's keys created if absent, and an
//! external identity provider's keys fetched, before anything is served.

use std::{collections::HashMap, path::PathBuf, sync::Arc, time::Duration};

use referral_hub_domain::{
    audit::tree_head::TreeHeadSchedule, consent::ConsentPolicy, deadlines::DeadlinePolicy, push_policy::PushPolicy,
    rate_limit::RateLimit, taxonomy::Taxonomies, validation::Rules,
};
use referral_hub_server::{
    KeyReload, Settings, TlsConfig,
    admission::{Admission, Http2Limits},
    authority::Authority,
    clock::SystemClock,
    keys::{self, HubKey, KeyBindings, SpeaksFor, VerificationKey},
    limits::Limits,
    push::webhook::PushTimeouts,
    scheduler::SchedulerControl,
    tree_heads::TreeHeadSettings,
};

use super::ServeArgs;
use crate::{CliError, private_files::create_dir, read};

/// How often the counts of refused calls whose minute is over are written.
const REFUSAL_FLUSH_INTERVAL: Duration = Duration::from_secs(10);

/// How often each replica looks for PUSH deliveries that are due.
const PUSH_INTERVAL: Duration = Duration::from_secs(1);

/// The settings `args` give, and the hub's own signing key (the dev banner's tokens).
pub(super) async fn settings(args: &ServeArgs) -> Result<(Settings, HubKey), CliError> {
    if args.dev && !args.listen.ip().is_loopback() {
        return Err(CliError::Config(format!("--dev listens on loopback only; {} is not loopback", args.listen)));
    }
    let tls = tls(args)?;
    let files = Files::read(args)?;
    create_dir(&args.database.data_dir)?;
    let key = HubKey::load_or_create(&args.database.data_dir)?;
    let (verification_keys, key_reload) = verification_keys(args)?;
    let identity_provider =
        crate::oidc::start(&args.oidc, &args.token.audience, &args.key_orgs, key_reload.control.interval).await?;
    let settings = Settings {
        listen: args.listen,
        admin_listen: args.admin_listen,
        issuer: args.token.issuer.clone(),
        audience: args.token.audience.clone(),
        verification_keys,
        key_reload: Some(key_reload),
        identity_provider,
        tls,
        rules: Rules {
            taxonomies: files.taxonomies,
            consent: files.consent,
            minimum_age_of_criminal_responsibility: args.minimum_age_of_criminal_responsibility,
            push: PushPolicy { dev: args.dev, allow: args.push_allow_cidrs.clone() },
            ..Rules::default()
        },
        deadlines: files.deadlines,
        clock: Arc::new(SystemClock),
        link_key_secret: keys::load_or_create_link_secret(&args.database.data_dir)?,
        scheduler: SchedulerControl::every(Duration::from_secs(args.overdue_scan_seconds.max(1))),
        push: SchedulerControl::every(PUSH_INTERVAL),
        push_timeouts: PushTimeouts {
            connect: Duration::from_secs(args.push_connect_timeout_seconds),
            total: Duration::from_secs(args.push_timeout_seconds),
        },
        retention: time::Duration::days(i64::from(args.retention_days)),
        limits: limits(args),
        authority: Authority::new(operators(args), args.oversight_orgs.clone()),
        statistics_period: args.statistics_period.into(),
        admission: admission(args),
        fhir_concept_map: files.fhir_concept_map,
        tree_heads: tree_heads(args),
    };
    Ok((settings, key))
}

/// How often the tree head task looks whether a head is due: often enough
/// that `--tree-head-entries` is met promptly, rarely enough to cost nothing.
const TREE_HEAD_CHECK: Duration = Duration::from_secs(5);

/// The tree head schedule, signing key and witness `args` give.
fn tree_heads(args: &ServeArgs) -> TreeHeadSettings {
    let interval = Duration::from_secs(args.tree_head_interval_seconds);
    let data_dir = args.database.data_dir.clone();
    TreeHeadSettings {
        schedule: TreeHeadSchedule { entries: args.tree_head_entries, interval },
        control: SchedulerControl::every(interval.min(TREE_HEAD_CHECK)),
        signing_key: Box::new(move || HubKey::load_or_create(&data_dir)),
        witness_dir: args.witness_dir.clone(),
    }
}

/// The longest a token may live (`--max-token-lifetime-hours`).
pub(super) fn max_token_lifetime(args: &ServeArgs) -> Duration {
    Duration::from_secs(u64::from(args.token.max_token_lifetime_hours) * 3600)
}

/// The TLS material `--tls-*` name; none only in dev mode.
fn tls(args: &ServeArgs) -> Result<Option<TlsConfig>, CliError> {
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Ok(Some(TlsConfig {
            cert_pem: read(cert)?,
            key_pem: read(key)?,
            client_ca_pem: args.tls_client_ca.as_deref().map(read).transpose()?,
        })),
        _ if args.dev => Ok(None),
        _ => Err(CliError::Config("--tls-cert and --tls-key are required outside --dev".into())),
    }
}

/// The policy files the flags name, parsed; the built-in defaults for those they do not.
struct Files {
    taxonomies: Taxonomies,
    consent: ConsentPolicy,
    deadlines: DeadlinePolicy,
    /// Checked when the hub is built, which reads it into the HEALTH adapter.
    fhir_concept_map: Option<String>,
}

impl Files {
    fn read(args: &ServeArgs) -> Result<Files, CliError> {
        Ok(Files {
            taxonomies: config_file(&args.taxonomies, Taxonomies::from_toml)?.unwrap_or_default(),
            fhir_concept_map: config_file(&args.fhir_concept_map, |text| Ok::<_, String>(text.to_owned()))?,
            consent: config_file(&args.consent_policy, ConsentPolicy::from_toml)?.unwrap_or_default(),
            deadlines: config_file(&args.deadlines, DeadlinePolicy::from_toml)?.unwrap_or_default(),
        })
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

/// The verification keys as they are now, and how to re-read them while
/// serving: the hub's own (in the data directory), the PEM files and the
/// JWKS file, each provider key speaking for whom `--key-orgs` binds it to.
fn verification_keys(args: &ServeArgs) -> Result<(HashMap<String, VerificationKey>, KeyReload), CliError> {
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
    let every = Duration::from_secs(args.key_reload_seconds.max(1));
    Ok((verification_keys, KeyReload { load: Box::new(load), control: SchedulerControl::every(every) }))
}

/// The operator's organisations: as configured, plus the demo one in dev mode.
fn operators(args: &ServeArgs) -> Vec<String> {
    let demo = args.dev.then(|| referral_hub_server::demo::OPERATOR_ORG.to_owned());
    args.operator_orgs.iter().cloned().chain(demo).collect()
}

/// The overload bounds: each organisation's rate (none at 0), in-flight requests, open streams.
fn limits(args: &ServeArgs) -> Limits {
    let rate = (args.rate_limit_per_org > 0)
        .then_some(RateLimit { per_second: args.rate_limit_per_org, burst: args.rate_limit_burst });
    Limits::new(rate, args.max_in_flight as usize).with_streams_per_organisation(args.max_streams_per_org as usize)
}

/// What a caller may hold before and while it proves who it is.
fn admission(args: &ServeArgs) -> Admission {
    Admission {
        max_token_lifetime: max_token_lifetime(args),
        revocation_refresh: SchedulerControl::every(Duration::from_secs(args.revocation_refresh_seconds)),
        refusal_flush: SchedulerControl::every(REFUSAL_FLUSH_INTERVAL),
        body_read_timeout: Duration::from_secs(args.body_read_timeout_seconds),
        http2: Http2Limits {
            max_concurrent_streams: args.max_concurrent_streams,
            keepalive_interval: Duration::from_secs(args.keepalive_seconds),
            keepalive_timeout: Duration::from_secs(args.keepalive_timeout_seconds),
            max_header_list_size: args.max_header_list_bytes,
        },
    }
}
