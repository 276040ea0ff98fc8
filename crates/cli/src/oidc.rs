//! `serve --oidc-issuer …`: the identity provider's configuration from the
//! flags, and its keys fetched before the hub serves (a provider whose keys
//! cannot be had stops the start, with the reason).

use std::{collections::BTreeSet, time::Duration};

use referral_hub_server::{
    claims::ClaimPath,
    identity_provider::{IdentityProvider, ProviderConfig},
    keys::{KeyBindings, SpeaksFor},
    scheduler::SchedulerControl,
};

use crate::{CliError, OidcArgs, read};

/// The provider the flags configure, started, or `None` without `--oidc-issuer`.
/// `every` is how often its refresher looks whether a fetch is due.
pub async fn start(
    args: &OidcArgs,
    audience: &str,
    key_orgs: &[String],
    every: Duration,
) -> Result<Option<IdentityProvider>, CliError> {
    let Some(issuer) = &args.oidc_issuer else { return Ok(None) };
    let config = ProviderConfig {
        issuer: issuer.clone(),
        audience: args.oidc_audience.clone().unwrap_or_else(|| audience.to_owned()),
        jwks_url: args.jwks_url.clone(),
        ca_pem: args.jwks_ca.as_deref().map(read).transpose()?,
        org_claim: ClaimPath::parse(&args.org_claim).map_err(|e| CliError::Config(format!("--org-claim: {e}")))?,
        roles_claim: ClaimPath::parse(&args.roles_claim)
            .map_err(|e| CliError::Config(format!("--roles-claim: {e}")))?,
        organisations: organisations(&args.oidc_orgs)?,
        bindings: KeyBindings::parse(key_orgs).map_err(CliError::Config)?,
    };
    if config.organisations == SpeaksFor::Only(BTreeSet::new()) {
        tracing::warn!("an identity provider without --oidc-orgs speaks only through kids bound by --key-orgs");
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let provider = IdentityProvider::start(config, SchedulerControl::every(every), now).await?;
    Ok(Some(provider))
}

/// `--oidc-orgs`: the organisations, or `*` alone for any.
fn organisations(orgs: &[String]) -> Result<SpeaksFor, CliError> {
    let orgs: BTreeSet<String> = orgs.iter().map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect();
    match orgs.contains("*") {
        true if orgs.len() == 1 => Ok(SpeaksFor::Any),
        true => Err(CliError::Config("--oidc-orgs: `*` stands alone".into())),
        false => Ok(SpeaksFor::Only(orgs)),
    }
}
