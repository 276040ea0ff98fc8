//! `referralhub.v1.DirectoryService`: who offers what, where.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use referral_hub_domain::{
    audit::{Action, Entry, Outcome, Severity},
    roles::Role,
    validation::{self, AREA_RULE, FieldViolation, is_area_path},
    wire::{
        GetOrganisationRequest, GetOrganisationResponse, ListTaxonomiesRequest, ListTaxonomiesResponse, Organisation,
        OrganisationStatus, RegisterOrganisationRequest, RegisterOrganisationResponse, SearchOrganisationsRequest,
        SearchOrganisationsResponse, Sector, SuspendOrganisationRequest, SuspendOrganisationResponse, Taxonomy,
        TaxonomyCode, UpdateOrganisationRequest, UpdateOrganisationResponse,
        directory_service_server::DirectoryService,
    },
};
use referral_hub_store::OrganisationSearch;

use crate::{
    auth::Caller,
    error::{ApiError, invalid},
    hub::{Hub, detail},
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

    async fn register_organisation(
        &self,
        request: Request<RegisterOrganisationRequest>,
    ) -> Result<Response<RegisterOrganisationResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Admin]).await?;
        let organisation = self.checked(request.into_inner().organisation)?;
        let audit = self.admin_entry(&caller, "RegisterOrganisation", &organisation, "");
        if !self.hub.store.register_organisation(&organisation, audit).await.map_err(ApiError::from)? {
            return Err(ApiError::FailedPrecondition {
                kind: "ORGANISATION_EXISTS",
                subject: organisation.id,
                description: "an organisation with this id is already registered; use UpdateOrganisation".into(),
            }
            .into());
        }
        Ok(Response::new(RegisterOrganisationResponse { organisation: Some(organisation) }))
    }

    async fn update_organisation(
        &self,
        request: Request<UpdateOrganisationRequest>,
    ) -> Result<Response<UpdateOrganisationResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Admin]).await?;
        let organisation = self.checked(request.into_inner().organisation)?;
        self.replace(&caller, "UpdateOrganisation", &organisation, "").await?;
        Ok(Response::new(UpdateOrganisationResponse { organisation: Some(organisation) }))
    }

    async fn suspend_organisation(
        &self,
        request: Request<SuspendOrganisationRequest>,
    ) -> Result<Response<SuspendOrganisationResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Admin]).await?;
        let request = request.into_inner();
        let violations = validation::validate_reason("reason", &request.reason);
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations).into());
        }
        let found = self.hub.store.organisation(&request.organisation_id).await.map_err(ApiError::from)?;
        let organisation = found.ok_or(ApiError::NotFound("organisation"))?;
        let suspended = Organisation { status: OrganisationStatus::Suspended as i32, ..organisation };
        self.replace(&caller, "SuspendOrganisation", &suspended, &request.reason).await?;
        Ok(Response::new(SuspendOrganisationResponse { organisation: Some(suspended) }))
    }

    async fn list_taxonomies(
        &self,
        request: Request<ListTaxonomiesRequest>,
    ) -> Result<Response<ListTaxonomiesResponse>, Status> {
        self.hub.caller(&request, ANY_ROLE).await?;
        let taxonomies = self
            .hub
            .rules
            .taxonomies
            .lists()
            .into_iter()
            .map(|(name, codes)| Taxonomy {
                name: name.into(),
                codes: codes
                    .iter()
                    .map(|c| TaxonomyCode { code: c.code.clone(), names: c.names.clone().into_iter().collect() })
                    .collect(),
            })
            .collect();
        Ok(Response::new(ListTaxonomiesResponse { taxonomies }))
    }
}

impl DirectoryApi {
    /// The organisation of an admin request, or every bad field at once.
    fn checked(&self, organisation: Option<Organisation>) -> Result<Organisation, ApiError> {
        let organisation = organisation.ok_or_else(|| invalid("organisation", "required"))?;
        let violations = validation::validate_organisation(&organisation, &self.hub.rules);
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations));
        }
        Ok(organisation)
    }

    async fn replace(
        &self,
        caller: &Caller,
        rpc: &str,
        organisation: &Organisation,
        reason: &str,
    ) -> Result<(), ApiError> {
        let audit = self.admin_entry(caller, rpc, organisation, reason);
        if !self.hub.store.replace_organisation(organisation, audit).await? {
            return Err(ApiError::NotFound("organisation"));
        }
        Ok(())
    }

    fn admin_entry(&self, caller: &Caller, rpc: &str, organisation: &Organisation, reason: &str) -> Entry {
        let mut entry = self.hub.entry(caller, Action::AdminChange, Outcome::Success, Severity::Warning);
        entry.detail = detail(&[
            ("rpc", rpc.into()),
            ("organisation_id", organisation.id.clone().into()),
            ("status", organisation.status().as_str_name().into()),
            ("reason", reason.into()),
        ]);
        entry
    }
}
