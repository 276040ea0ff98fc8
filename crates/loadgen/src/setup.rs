//! Registering this run's sending and receiving organisations and issuing
//! their tokens with the hub's own key.

use referral_hub_domain::wire::{DeliveryChannel, Organisation, OrganisationStatus, Sector};
use referral_hub_server::keys::{HubKey, TokenRequest};
use referral_hub_store::Store;
use tonic::transport::{Channel, Endpoint};

use crate::Options;

/// The organisations, tokens and connections of one run.
pub struct Fleet {
    /// Sender organisation ids with their tokens.
    pub senders: Vec<(String, String)>,
    /// Receiver organisation ids with their tokens.
    pub receivers: Vec<(String, String)>,
    /// Shared connections for the senders.
    pub channels: Vec<Channel>,
    /// The hub's address.
    pub target: String,
}

/// Registers fresh organisations for this run (so inboxes start empty) and connects.
pub async fn prepare(options: &Options) -> Result<Fleet, String> {
    let url = options
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", options.data_dir.join("referral-hub.db").display()));
    let store = Store::connect(&url).await.map_err(|e| format!("database: {e}"))?;
    store.migrate().await.map_err(|e| format!("database: {e}"))?;
    let key = HubKey::load_or_create(&options.data_dir).map_err(|e| e.to_string())?;
    let run = time::OffsetDateTime::now_utc().unix_timestamp();
    let register = |prefix: &str, count: usize, sector: Sector, roles: &[&str]| {
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        (0..count)
            .map(|i| {
                let id = format!("load-{run}-{prefix}{i}");
                key.issue(
                    &TokenRequest {
                        issuer: "referral-hub",
                        audience: "referral-hub",
                        subject: "load-generator",
                        org: &id,
                        roles: &roles,
                        ttl: time::Duration::hours(12),
                    },
                    time::OffsetDateTime::now_utc(),
                )
                .map(|token| (id.clone(), token, sector))
                .map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let senders = register("s", options.senders, Sector::Health, &["referrer"])?;
    let receivers = register("r", options.receivers, Sector::SocialWelfare, &["receiver"])?;
    for (id, _, sector) in senders.iter().chain(&receivers) {
        let org = Organisation {
            id: id.clone(),
            name: format!("Load test organisation {id}"),
            sector: *sector as i32,
            areas: vec!["MM/YGN".into()],
            services: vec!["case_management".into()],
            lead_agency_areas: vec![],
            channel: DeliveryChannel::Pull as i32,
            status: OrganisationStatus::Active as i32,
        };
        store.upsert_organisation(&org).await.map_err(|e| format!("register {id}: {e}"))?;
    }
    store.close().await;
    let mut channels = Vec::with_capacity(options.connections);
    for _ in 0..options.connections.max(1) {
        let endpoint = Endpoint::from_shared(format!("http://{}", options.target)).map_err(|e| e.to_string())?;
        channels.push(endpoint.connect().await.map_err(|e| format!("connect {}: {e}", options.target))?);
    }
    let strip = |list: Vec<(String, String, Sector)>| list.into_iter().map(|(id, token, _)| (id, token)).collect();
    Ok(Fleet { senders: strip(senders), receivers: strip(receivers), channels, target: options.target.clone() })
}
