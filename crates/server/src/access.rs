//! The checks every RPC starts with, in this order: the identity the
//! middleware verified (`authenticate.rs`), the caller's organisation
//! (registered, active, over its own client certificate), its rate budget,
//! and the caller's roles. Every refusal but the rate limit's is audited,
//! counted per minute (`refused_calls.rs`).

use tonic::Request;

use referral_hub_domain::{
    audit::Action,
    roles::Role,
    wire::{Organisation, OrganisationStatus},
};

use crate::{
    auth::{CallFacts, Caller, Verified},
    clock::micros,
    error::ApiError,
    hub::Hub,
    refused_calls::Refusal,
};

impl Hub {
    /// The caller whose token the middleware (`authenticate::authenticate_first`)
    /// verified, once [`Hub::authenticated`] and holding one of `roles`.
    /// Every refusal is audited (counted per minute: `refused_calls.rs`).
    pub async fn caller<T>(&self, request: &Request<T>, roles: &[Role]) -> Result<Caller, ApiError> {
        let caller = self.authenticated(request).await?;
        self.require(&caller, roles).await?;
        Ok(caller)
    }

    /// The caller whose token the middleware verified, whatever its roles,
    /// once its organisation is registered and active (a suspended
    /// organisation's tokens are refused), the call came over the
    /// organisation's registered client certificate if it has one (and not
    /// over another organisation's), and its rate budget pays for the call.
    pub async fn authenticated<T>(&self, request: &Request<T>) -> Result<Caller, ApiError> {
        let facts = CallFacts::of(request);
        let Some(Verified(identity)) = request.extensions().get::<Verified>().cloned() else {
            // Every route but health and reflection is behind the middleware; fail closed if not.
            return Err(self.refuse_unauthenticated(&facts, "not verified before the handler").await);
        };
        let caller = Caller::verified(identity, facts.clone());
        match self.store.organisation(&caller.org).await? {
            Some(org) if org.status() == OrganisationStatus::Active => {
                if !self.certificate_is_its_own(&org, &facts.certificate).await? {
                    let reason = "client certificate is not the organisation's";
                    return Err(self.refuse_unauthenticated(&facts, reason).await);
                }
                self.spend_budget(&org.id, 1)?;
                Ok(self.authority.apply(Caller { sector: org.sector(), ..caller }))
            }
            _ => Err(self.refuse_unauthenticated(&facts, "organisation unknown or suspended").await),
        }
    }

    /// Whether a call presenting the certificate `presented` (SHA-256 hex,
    /// empty without one) may act for `org`: its registered certificate if it
    /// has one, otherwise any certificate not registered to another organisation.
    async fn certificate_is_its_own(&self, org: &Organisation, presented: &str) -> Result<bool, ApiError> {
        Ok(match (org.client_certificate_sha256.as_str(), presented) {
            ("", "") => true,
            ("", presented) => {
                self.store.organisation_with_certificate(presented).await?.is_none_or(|owner| owner == org.id)
            }
            (registered, presented) => registered == presented,
        })
    }

    /// Spends `requests` of `org`'s budget at once, or none of it:
    /// `RESOURCE_EXHAUSTED` when it cannot pay for them all. Not audited:
    /// under a flood an audit write per refusal would be the overload.
    pub(crate) fn spend_budget(&self, org: &str, requests: u32) -> Result<(), ApiError> {
        let Some(limit) = self.limits.per_organisation else { return Ok(()) };
        self.budgets.spend(org, limit, requests, micros(self.clock.now())).inspect_err(|_| {
            self.metrics.rate_limited();
            tracing::warn!(org, "request refused: organisation rate limit");
        })
    }

    /// `PERMISSION_DENIED` (audited) unless `caller` holds one of `roles`.
    pub async fn require(&self, caller: &Caller, roles: &[Role]) -> Result<(), ApiError> {
        if roles.iter().any(|r| caller.has(*r)) {
            return Ok(());
        }
        let refusal =
            Refusal { action: Action::PermissionDenied, caller: Some(caller), reason: caller.facts.rpc.clone() };
        self.audit_refusal(&caller.facts, refusal).await?;
        Err(ApiError::PermissionDenied(roles.to_vec()))
    }

    /// `PERMISSION_DENIED` (audited, counted per minute like every refusal)
    /// unless `caller` is the hub operator (`crate::authority`); `act` says
    /// what was refused, e.g. "register organisations".
    pub async fn require_operator(&self, caller: &Caller, act: &str) -> Result<(), ApiError> {
        if caller.operator {
            return Ok(());
        }
        let reason = format!("{}: not the hub operator", caller.facts.rpc);
        let refusal = Refusal { action: Action::PermissionDenied, caller: Some(caller), reason };
        self.audit_refusal(&caller.facts, refusal).await?;
        Err(ApiError::NotTheOperator(act.to_owned()))
    }

    /// `UNAUTHENTICATED` for `reason`, audited (counted per minute).
    pub(crate) async fn refuse_unauthenticated(&self, facts: &CallFacts, reason: &'static str) -> ApiError {
        let refusal = Refusal { action: Action::AuthenticationFailed, caller: None, reason: reason.into() };
        match self.audit_refusal(facts, refusal).await {
            Ok(()) => ApiError::Unauthenticated(reason),
            Err(e) => e,
        }
    }
}
