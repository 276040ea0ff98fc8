//! `referral-hub organisations register | update | suspend | list`: the
//! directory, for an operator at the console. The same validation as
//! `DirectoryService`, and every change audited in the same transaction.

use clap::{Args, Subcommand};
use referral_hub_domain::{
    ids::OrgId,
    push_policy::{IpNet, PushPolicy},
    validation::{Rules, validate_organisation},
    wire::{DeliveryChannel, Organisation, OrganisationStatus, Sector},
};
use referral_hub_server::{
    clock::{Clock, SystemClock, micros},
    directory_writes::{self, Proposed, Written},
};
use referral_hub_store::Store;

use crate::{CliError, DatabaseArgs, admin_entry};

/// The organisations subcommands.
#[derive(Subcommand)]
pub enum OrganisationCommand {
    /// Register a new organisation.
    Register(OrganisationArgs),
    /// Replace a registered organisation's entry (every field as given).
    Update(OrganisationArgs),
    /// Suspend an organisation: it neither sends nor receives, its tokens are refused.
    Suspend(SuspendArgs),
    /// List the directory (id, sector, status, channel, areas).
    List(ListArgs),
}

/// An organisation's entry.
#[derive(Args)]
pub struct OrganisationArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Stable id, e.g. `mm-ygn-hlaing-health-centre`.
    #[arg(long)]
    id: String,
    /// Display name.
    #[arg(long)]
    name: String,
    /// Sector: HEALTH, EDUCATION, POLICE, JUSTICE, SOCIAL_WELFARE or OTHER.
    #[arg(long)]
    sector: String,
    /// Areas it covers, as code paths (`MM/YGN/Hlaing`); repeat or separate with commas.
    #[arg(long = "area", value_delimiter = ',', required = true)]
    areas: Vec<String>,
    /// Service codes it offers.
    #[arg(long = "service", value_delimiter = ',')]
    services: Vec<String>,
    /// Areas where it is the lead agency.
    #[arg(long = "lead-area", value_delimiter = ',')]
    lead_areas: Vec<String>,
    /// Where the hub pushes its deliveries (https); it pulls when unset.
    #[arg(long)]
    push_endpoint: Option<String>,
    /// SHA-256 (hex) of the client certificate its calls must come over.
    #[arg(long)]
    client_certificate_sha256: Option<String>,
    /// Networks a push endpoint may be in although private (as `serve --push-allow-cidr`).
    #[arg(long = "push-allow-cidr", env = "REFERRAL_HUB_PUSH_ALLOW_CIDR", value_delimiter = ',')]
    push_allow_cidrs: Vec<IpNet>,
}

/// `suspend`.
#[derive(Args)]
pub struct SuspendArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// The organisation.
    #[arg(long)]
    id: String,
    /// Why (recorded in the audit log).
    #[arg(long)]
    reason: String,
}

/// `list`.
#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    database: DatabaseArgs,
}

/// Runs an organisations subcommand.
pub async fn run(command: OrganisationCommand) -> Result<(), CliError> {
    let now = micros(SystemClock.now());
    match command {
        OrganisationCommand::Register(args) => write(&args, true, now).await,
        OrganisationCommand::Update(args) => write(&args, false, now).await,
        OrganisationCommand::Suspend(args) => {
            let store = Store::connect(&args.database.url()).await?;
            let found = store.organisation(&OrgId::new(&args.id)).await?;
            let before = found.ok_or_else(|| CliError::Config(format!("no organisation {}", args.id)))?;
            let suspended = Organisation { status: OrganisationStatus::Suspended as i32, ..before.clone() };
            let proposed = Proposed {
                change: "SuspendOrganisation",
                before: Some(&before),
                after: &suspended,
                reason: &args.reason,
            };
            let written = directory_writes::write(&store, admin_entry(now, serde_json::Value::Null), proposed).await?;
            store.close().await;
            written_or_stale(written, &args.id)?;
            eprintln!("suspended {}", args.id);
            Ok(())
        }
        OrganisationCommand::List(args) => {
            let store = Store::connect(&args.database.url()).await?;
            for org in store.organisations().await? {
                let (sector, status, channel) = (org.sector(), org.status(), org.channel());
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    org.id,
                    sector.as_str_name().trim_start_matches("SECTOR_"),
                    status.as_str_name().trim_start_matches("ORGANISATION_STATUS_"),
                    channel.as_str_name().trim_start_matches("DELIVERY_CHANNEL_"),
                    org.areas.join(",")
                );
            }
            store.close().await;
            Ok(())
        }
    }
}

/// Registers (`new`) or replaces the entry `args` describe, audited with each
/// changed field and told to the organisation (`directory_writes`).
async fn write(args: &OrganisationArgs, new: bool, now: i64) -> Result<(), CliError> {
    let (store, organisation) = (Store::connect(&args.database.url()).await?, entry(args)?);
    let id = &organisation.id;
    let before = if new { None } else { store.organisation(&OrgId::new(id)).await? };
    if !new && before.is_none() {
        return Err(CliError::Config(format!("no organisation {id} to update")));
    }
    let change = if new { "RegisterOrganisation" } else { "UpdateOrganisation" };
    let proposed = Proposed { change, before: before.as_ref(), after: &organisation, reason: "" };
    let written = directory_writes::write(&store, admin_entry(now, serde_json::Value::Null), proposed).await?;
    store.close().await;
    match written {
        Written::Stale(_) if new => Err(CliError::Config(format!("{id} is already registered; use update"))),
        written => {
            written_or_stale(written, id)?;
            eprintln!("{} {id}", if new { "registered" } else { "updated" });
            Ok(())
        }
    }
}

/// An error when another change landed between this command's read and its write.
fn written_or_stale(written: Written, id: &str) -> Result<(), CliError> {
    match written {
        Written::Changed(_) => Ok(()),
        Written::Stale(_) => Err(CliError::Config(format!("{id} changed meanwhile; run the command again"))),
    }
}

/// The entry the flags describe, validated as `DirectoryService` validates it.
fn entry(args: &OrganisationArgs) -> Result<Organisation, CliError> {
    let sector = Sector::from_str_name(&format!("SECTOR_{}", args.sector.to_ascii_uppercase()))
        .ok_or_else(|| CliError::Config(format!("unknown sector {}", args.sector)))?;
    let organisation = Organisation {
        id: args.id.clone(),
        name: args.name.clone(),
        sector: sector as i32,
        areas: args.areas.clone(),
        services: args.services.clone(),
        lead_agency_areas: args.lead_areas.clone(),
        channel: if args.push_endpoint.is_some() { DeliveryChannel::Push } else { DeliveryChannel::Pull } as i32,
        status: OrganisationStatus::Active as i32,
        push_endpoint: args.push_endpoint.clone().unwrap_or_default(),
        client_certificate_sha256: args.client_certificate_sha256.clone().unwrap_or_default(),
    };
    // The console has no dev mode: plain http endpoints are for `serve --dev` registrations.
    let rules = Rules { push: PushPolicy { dev: false, allow: args.push_allow_cidrs.clone() }, ..Rules::default() };
    let violations = validate_organisation(&organisation, &rules);
    if violations.is_empty() {
        return Ok(organisation);
    }
    let reasons: Vec<String> = violations.iter().map(|v| format!("{}: {}", v.field, v.description)).collect();
    Err(CliError::Config(reasons.join("; ")))
}
