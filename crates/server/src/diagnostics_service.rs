//! `referralhub.v1.DiagnosticsService`: a no-op echo, the baseline every load
//! figure is compared with (hub throughput / echo throughput on the same run).

use tonic::{Request, Response, Status};

use referral_hub_domain::wire::{EchoRequest, EchoResponse, diagnostics_service_server::DiagnosticsService};

/// The DiagnosticsService implementation.
#[derive(Debug, Default)]
pub struct DiagnosticsApi;

#[tonic::async_trait]
impl DiagnosticsService for DiagnosticsApi {
    async fn echo(&self, request: Request<EchoRequest>) -> Result<Response<EchoResponse>, Status> {
        Ok(Response::new(EchoResponse { payload: request.into_inner().payload }))
    }
}
