//! Registering this run's sending and receiving organisations and issuing
//! their tokens with the hub's own key.

use referral_hub_domain::wire::{DeliveryChannel, Organisation, OrganisationStatus, Sector};
use referral_hub_proto::v1::{RegisterOrganisationRequest, directory_service_client::DirectoryServiceClient};
use referral_hub_server::keys::{HubKey, TokenRequest};
use tonic::{
    Request,
    transport::{Channel, Endpoint},
};

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

/// Registers fresh organisations for this run (so inboxes start empty) through
/// the directory's admin RPC, and connects.
pub async fn prepare(options: &Options) -> Result<Fleet, String> {
    let key = HubKey::load_or_create(&options.data_dir).map_err(|e| e.to_string())?;
    let token = |org: &str, roles: &[&str]| {
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        let request = TokenRequest {
            issuer: &options.issuer,
            audience: &options.issuer,
            subject: "load-generator",
            org,
            roles: &roles,
            ttl: time::Duration::hours(12),
        };
        key.issue(&request, time::OffsetDateTime::now_utc()).map_err(|e| e.to_string())
    };
    let mut channels = Vec::with_capacity(options.connections);
    for _ in 0..options.connections.max(1) {
        let endpoint = Endpoint::from_shared(format!("http://{}", options.target)).map_err(|e| e.to_string())?;
        channels.push(endpoint.connect().await.map_err(|e| format!("connect {}: {e}", options.target))?);
    }
    let mut directory = DirectoryServiceClient::new(channels[0].clone());
    let admin = token(options.admin_org.as_str(), &["admin"])?;
    let run = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut register = async |prefix: &str, count: usize, sector: Sector, roles: &[&str]| {
        let mut fleet = Vec::with_capacity(count);
        for i in 0..count {
            let id = format!("load-{run}-{prefix}{i}");
            let organisation = Organisation {
                id: id.clone(),
                name: format!("Load test organisation {id}"),
                sector: sector as i32,
                areas: vec!["MM/YGN".into()],
                services: vec!["case_management".into()],
                lead_agency_areas: vec![],
                channel: DeliveryChannel::Pull as i32,
                status: OrganisationStatus::Active as i32,
                push_endpoint: String::new(),
                client_certificate_sha256: String::new(),
            };
            let mut request = Request::new(RegisterOrganisationRequest { organisation: Some(organisation) });
            let bearer = format!("Bearer {admin}").parse().map_err(|_| "token is not header text".to_owned())?;
            request.metadata_mut().insert("authorization", bearer);
            directory.register_organisation(request).await.map_err(|s| format!("register {id}: {}", s.message()))?;
            fleet.push((id.clone(), token(&id, roles)?));
        }
        Ok::<_, String>(fleet)
    };
    let senders = register("s", options.senders, Sector::Health, &["referrer"]).await?;
    let receivers = register("r", options.receivers, Sector::SocialWelfare, &["receiver"]).await?;
    Ok(Fleet { senders, receivers, channels, target: options.target.clone() })
}
