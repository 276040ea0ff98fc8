//! `referralhub.v1.DirectoryService`: who offers what, where.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use referral_hub_domain::{
    audit::{Action, Outcome, Severity},
    directory_change::{changes, operators_fields},
    ids::OrgId,
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
    directory_writes::{self, Proposed, Written},
    error::{ApiError, invalid},
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
        let caller = self.hub.caller(&request, ANY_ROLE).await?;
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
            after_id: Some(request.page_token).filter(|t| !t.is_empty()).map(OrgId::from),
            limit,
        };
        let organisations = self.hub.store.search_organisations(&search).await.map_err(ApiError::from)?;
        let next_page_token = next_page_token(&organisations, limit, |o| o.id.clone());
        let organisations = organisations.into_iter().map(|o| as_seen_by(&caller, o)).collect();
        Ok(Response::new(SearchOrganisationsResponse { organisations, next_page_token }))
    }

    async fn get_organisation(
        &self,
        request: Request<GetOrganisationRequest>,
    ) -> Result<Response<GetOrganisationResponse>, Status> {
        let caller = self.hub.caller(&request, ANY_ROLE).await?;
        let id = OrgId::from(request.get_ref().organisation_id.as_str());
        let found = self.hub.store.organisation(&id).await.map_err(ApiError::from)?;
        let organisation = found.ok_or(ApiError::NotFound("organisation"))?;
        Ok(Response::new(GetOrganisationResponse { organisation: Some(as_seen_by(&caller, organisation)) }))
    }

    async fn register_organisation(
        &self,
        request: Request<RegisterOrganisationRequest>,
    ) -> Result<Response<RegisterOrganisationResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Admin]).await?;
        self.hub.require_operator(&caller, "register organisations").await?;
        let organisation = self.checked(request.into_inner().organisation)?;
        let proposed = Proposed { change: "RegisterOrganisation", before: None, after: &organisation, reason: "" };
        if let Written::Stale(_) = self.write(&caller, proposed).await? {
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
        if !caller.operator && organisation.id != caller.org {
            self.hub.require_operator(&caller, "change another organisation's entry").await?;
        }
        let organisation =
            self.replace(&caller, "UpdateOrganisation", &organisation.id, |_| organisation.clone(), "").await?;
        Ok(Response::new(UpdateOrganisationResponse { organisation: Some(organisation) }))
    }

    async fn suspend_organisation(
        &self,
        request: Request<SuspendOrganisationRequest>,
    ) -> Result<Response<SuspendOrganisationResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Admin]).await?;
        self.hub.require_operator(&caller, "suspend organisations").await?;
        let request = request.into_inner();
        let violations = validation::validate_reason("reason", &request.reason);
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations).into());
        }
        let suspend =
            |current: &Organisation| Organisation { status: OrganisationStatus::Suspended as i32, ..current.clone() };
        let (id, reason) = (&request.organisation_id, &request.reason);
        let suspended = self.replace(&caller, "SuspendOrganisation", id, suspend, reason).await?;
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

    /// Replaces the entry of the organisation `change` makes from the current
    /// one, as `caller` may: an organisation's own admin only its own fields
    /// (`directory_change::Steward`). Decided again if another change landed
    /// between the read and the write, so the audited before is the replaced one.
    async fn replace(
        &self,
        caller: &Caller,
        rpc: &'static str,
        id: &str,
        change: impl Fn(&Organisation) -> Organisation,
        reason: &str,
    ) -> Result<Organisation, ApiError> {
        let mut current = self.hub.store.organisation(&OrgId::from(id)).await?;
        for _ in 0..STALE_RETRIES {
            let before = current.ok_or(ApiError::NotFound("organisation"))?;
            let after = change(&before);
            let refused = operators_fields(&changes(Some(&before), &after)).join(", ");
            if !caller.operator && !refused.is_empty() {
                self.hub.require_operator(caller, &format!("change {refused}")).await?;
            }
            let proposed = Proposed { change: rpc, before: Some(&before), after: &after, reason };
            match self.write(caller, proposed).await? {
                Written::Changed(_) => return Ok(after),
                Written::Stale(now) => current = now,
            }
        }
        Err(ApiError::Aborted)
    }

    async fn write(&self, caller: &Caller, proposed: Proposed<'_>) -> Result<Written, ApiError> {
        let author = self.hub.entry(caller, Action::AdminChange, Outcome::Success, Severity::Warning);
        Ok(directory_writes::write(&self.hub.store, author, proposed).await?)
    }
}

/// How often a directory change is decided again when other changes keep
/// landing between its read and its write, before the caller is told to retry.
const STALE_RETRIES: usize = 3;

/// `org` as `caller` may see it: where an organisation receives its
/// deliveries and which certificate it presents are for the operator and the
/// organisation itself, not for whoever might want to impersonate or divert it.
fn as_seen_by(caller: &Caller, org: Organisation) -> Organisation {
    if caller.operator || caller.org == org.id {
        return org;
    }
    Organisation { push_endpoint: String::new(), client_certificate_sha256: String::new(), ..org }
}
