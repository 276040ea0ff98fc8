//! `referralhub.v1.DiagnosticsService`: a no-op echo, the baseline every load
//! figure is compared with (hub throughput / echo throughput on the same run).
//! Like every other RPC it needs a valid token of an active organisation
//! (any role) and is charged to its rate budget: an open echo was a free
//! amplifier outside every limit.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use referral_hub_domain::wire::{EchoRequest, EchoResponse, diagnostics_service_server::DiagnosticsService};

use crate::hub::Hub;

/// The DiagnosticsService implementation.
pub struct DiagnosticsApi {
    hub: Arc<Hub>,
}

impl DiagnosticsApi {
    /// Echoes for callers `hub` authenticates.
    pub fn new(hub: Arc<Hub>) -> Self {
        Self { hub }
    }
}

#[tonic::async_trait]
impl DiagnosticsService for DiagnosticsApi {
    async fn echo(&self, request: Request<EchoRequest>) -> Result<Response<EchoResponse>, Status> {
        self.hub.authenticated(&request).await?;
        Ok(Response::new(EchoResponse { payload: request.into_inner().payload }))
    }
}
