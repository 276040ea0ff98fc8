//! `referralhub.v1.DirectoryService`: who offers what, where.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use referral_hub_domain::{
    roles::Role,
    validation::{AREA_RULE, FieldViolation, is_area_path},
    wire::{
        GetOrganisationRequest, GetOrganisationResponse, SearchOrganisationsRequest, SearchOrganisationsResponse,
        Sector, directory_service_server::DirectoryService,
    },
};
use referral_hub_store::OrganisationSearch;

use crate::{
    error::ApiError,
    hub::Hub,
    paging::{next_page_token, page_size},
};

/// The DirectoryService implementation.
pub struct DirectoryApi {
    hub: Arc<Hub>,
}

impl DirectoryApi {
    /// A service over the shared hub state.
    pub fn new(hub: Arc<Hub>) -> Self {
        Self { hub }
    }
}

/// Every role may read the directory: referrers search it, receivers look up senders.
const ANY_ROLE: &[Role] = &Role::ALL;

#[tonic::async_trait]
impl DirectoryService for DirectoryApi {
    async fn search_organisations(
        &self,
        request: Request<SearchOrganisationsRequest>,
    ) -> Result<Response<SearchOrganisationsResponse>, Status> {
        self.hub.caller(&request, ANY_ROLE).await?;
        let request = request.into_inner();
        let mut violations = Vec::new();
        let mut fail = |field: &str, description: &str| {
            violations.push(FieldViolation { field: field.into(), description: description.into() })
        };
        if !request.area.is_empty() && !is_area_path(&request.area) {
            fail("area", AREA_RULE);
        }
        let sector = match Sector::try_from(request.sector) {
            Ok(Sector::Unspecified) => None,
            Ok(sector) => Some(sector),
            Err(_) => {
                fail("sector", "unknown value");
                None
            }
        };
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations).into());
        }
        let limit = page_size(request.page_size, 50, 100);
        let search = OrganisationSearch {
            service: Some(request.service).filter(|s| !s.is_empty()),
            area: Some(request.area).filter(|a| !a.is_empty()),
            sector,
            after_id: Some(request.page_token).filter(|t| !t.is_empty()),
            limit,
        };
        let organisations = self.hub.store.search_organisations(&search).await.map_err(ApiError::from)?;
        let next_page_token = next_page_token(&organisations, limit, |o| o.id.clone());
        Ok(Response::new(SearchOrganisationsResponse { organisations, next_page_token }))
    }

    async fn get_organisation(
        &self,
        request: Request<GetOrganisationRequest>,
    ) -> Result<Response<GetOrganisationResponse>, Status> {
        self.hub.caller(&request, ANY_ROLE).await?;
        let found = self.hub.store.organisation(&request.get_ref().organisation_id).await.map_err(ApiError::from)?;
        let organisation = found.ok_or(ApiError::NotFound("organisation"))?;
        Ok(Response::new(GetOrganisationResponse { organisation: Some(organisation) }))
    }
}
