//! What the hub's two listeners serve. The API listener: the gRPC services,
//! health and reflection, and the adapters' HTTP endpoints, behind the
//! middleware every request passes in order (its trace, its token, the
//! in-flight bound). The admin listener: `GET /metrics` and gRPC health.

use std::{sync::Arc, time::Duration};

use tonic::{
    server::NamedService,
    service::Routes,
    transport::{Server, server::Router},
};
use tonic_health::{
    ServingStatus,
    pb::health_server::{Health, HealthServer},
    server::HealthReporter,
};

use referral_hub_adapters::Adapters;
use referral_hub_domain::{
    statistics::PeriodUnit,
    wire::{
        audit_service_server::AuditServiceServer, consent_service_server::ConsentServiceServer,
        diagnostics_service_server::DiagnosticsServiceServer, directory_service_server::DirectoryServiceServer,
        message_service_server::MessageServiceServer, stats_service_server::StatsServiceServer,
    },
};

use crate::{
    admission::Http2Limits, audit_service::AuditApi, authenticate::Gate, consent_service::ConsentApi,
    diagnostics_service::DiagnosticsApi, directory_service::DirectoryApi, hub::Hub, message_service::MessageApi,
    stats_service::StatsApi,
};

/// Largest request the hub decodes, over gRPC and through the adapters alike.
/// Referrals carry attachments by reference, so real ones are a few kilobytes.
pub const MAX_MESSAGE_BYTES: usize = referral_hub_adapters::MAX_DOCUMENT_BYTES;

/// What the hub reports the health of: itself as a whole (`""`) and each gRPC service.
const SERVICES: [&str; 7] = [
    "",
    <MessageServiceServer<MessageApi> as NamedService>::NAME,
    <DirectoryServiceServer<DirectoryApi> as NamedService>::NAME,
    <AuditServiceServer<AuditApi> as NamedService>::NAME,
    <ConsentServiceServer<ConsentApi> as NamedService>::NAME,
    <DiagnosticsServiceServer<DiagnosticsApi> as NamedService>::NAME,
    <StatsServiceServer<StatsApi> as NamedService>::NAME,
];

/// Reports every service as `status`: serving once the hub is built, not
/// serving once it stops, so probes take the replica out before it closes.
pub(crate) async fn report(health: &HealthReporter, status: ServingStatus) {
    for service in SERVICES {
        health.set_service_status(service, status).await;
    }
}

/// How the API listener is served: what it shows and how its connections are limited.
pub(crate) struct Api {
    /// The adapters behind the HTTP endpoints.
    pub adapters: Arc<Adapters>,
    /// The period unit statistics are published by.
    pub statistics_period: PeriodUnit,
    /// How long a verified request's body may take to arrive.
    pub body_read_timeout: Duration,
    /// The HTTP/2 limits of every connection.
    pub http2: Http2Limits,
    /// Whether the listener is TLS (the FHIR server's links say https).
    pub tls: bool,
}

/// The API listener's router: every service, health and reflection, and the
/// adapters' endpoints, behind the middleware, with HTTP/1.1 accepted too.
pub(crate) fn api<H: Health>(
    hub: &Arc<Hub>,
    api: Api,
    health: HealthServer<H>,
) -> Result<Router, tonic_reflection::server::Error> {
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(referral_hub_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let adapter_routes = crate::adapter_http::routes(hub.clone(), api.adapters.clone())
        .merge(crate::fhir_rest::routes(hub.clone(), api.adapters.clone(), api.tls))
        .merge(crate::tree_heads::routes(hub.clone()));
    let services = with_services(hub, Routes::from(adapter_routes), api.statistics_period)
        .add_service(health)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?);
    let gate = Arc::new(Gate { hub: hub.clone(), adapters: api.adapters, body_read_timeout: api.body_read_timeout });
    let routes = services
        .into_axum_router()
        .layer(axum::middleware::from_fn_with_state(hub.clone(), crate::load_shedding::shed_beyond_in_flight))
        .layer(axum::middleware::from_fn_with_state(gate, crate::authenticate::authenticate_first))
        .layer(axum::middleware::from_fn(crate::auth::trace_the_rpc));
    let http2 = api.http2;
    let builder = Server::builder()
        .max_concurrent_streams(http2.max_concurrent_streams)
        .http2_keepalive_interval(Some(http2.keepalive_interval))
        .http2_keepalive_timeout(Some(http2.keepalive_timeout))
        .http2_max_header_list_size(http2.max_header_list_size);
    // HTTP/1.1 too, for the adapters' endpoints; gRPC clients speak HTTP/2 as ever.
    Ok(builder.accept_http1(true).add_routes(Routes::from(routes)))
}

/// `routes` with the hub's gRPC services, each decoding at most [`MAX_MESSAGE_BYTES`].
fn with_services(hub: &Arc<Hub>, routes: Routes, statistics_period: PeriodUnit) -> Routes {
    routes
        .add_service(
            MessageServiceServer::new(MessageApi::new(hub.clone())).max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            DirectoryServiceServer::new(DirectoryApi::new(hub.clone())).max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(AuditServiceServer::new(AuditApi::new(hub.clone())).max_decoding_message_size(MAX_MESSAGE_BYTES))
        .add_service(
            ConsentServiceServer::new(ConsentApi::new(hub.clone())).max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            DiagnosticsServiceServer::new(DiagnosticsApi::new(hub.clone()))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            StatsServiceServer::new(StatsApi::new(hub.clone(), statistics_period))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
}

/// The admin listener's router, plaintext for the internal network:
/// `GET /metrics`, and the gRPC health service, which an orchestrator's
/// probes reach without the API listener's TLS.
pub(crate) fn admin<H: Health>(hub: Arc<Hub>, health: HealthServer<H>) -> axum::Router {
    Routes::new(health)
        .into_axum_router()
        .route("/metrics", axum::routing::get(move || async move { hub.metrics.render() }))
}
