//! State shared by every service: the store, the rules, the clock, and the
//! authenticator, plus the one check every RPC starts with.

use std::sync::Arc;

use tonic::Request;

use referral_hub_domain::{
    deadlines::DeadlinePolicy, roles::Role, validation::Rules, wire::OrganisationStatus,
};
use referral_hub_store::Store;

use crate::{
    auth::{Authenticator, Caller},
    clock::Clock,
    error::ApiError,
};

/// Everything a request handler needs, shared behind an `Arc`.
pub struct Hub {
    /// The database.
    pub store: Store,
    /// Validation rules (taxonomies, limits).
    pub rules: Rules,
    /// Response deadlines.
    pub deadlines: DeadlinePolicy,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// Token verification.
    pub auth: Authenticator,
}

impl Hub {
    /// Verifies the token, that the caller's organisation is registered and
    /// active (a suspended organisation's tokens are refused), and that the
    /// caller holds one of `roles`.
    pub async fn caller<T>(
        &self,
        request: &Request<T>,
        roles: &[Role],
    ) -> Result<Caller, ApiError> {
        let caller = self.auth.verify(request.metadata())?;
        let org = self.store.organisation(&caller.org).await?;
        if org.is_none_or(|o| o.status() != OrganisationStatus::Active) {
            return Err(ApiError::Unauthenticated(
                "organisation unknown or suspended",
            ));
        }
        caller.require_any(roles)?;
        Ok(caller)
    }
}
