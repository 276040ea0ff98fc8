//! The only way push delivery finds an endpoint's addresses: the host is
//! resolved once, each address checked against the [`PushPolicy`], and reqwest
//! gets only the admitted ones, so it connects to exactly an address that was
//! checked (no second lookup a rebinding DNS server could answer
//! differently). reqwest does not call a resolver for IP literals: those are
//! checked by [`PushPolicy::endpoint`] before each request.

use std::{net::SocketAddr, sync::Arc};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use referral_hub_domain::push_policy::{EndpointRefusal, PushPolicy};

/// reqwest's resolver for push delivery.
pub struct PinnedResolver {
    policy: Arc<PushPolicy>,
}

impl PinnedResolver {
    /// Admits what `policy` admits.
    pub fn new(policy: Arc<PushPolicy>) -> Self {
        Self { policy }
    }
}

impl Resolve for PinnedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            // Port 0: the connector sets the URL's port on each address.
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let (admitted, refused): (Vec<_>, Vec<_>) =
                found.into_iter().map(|address| (address, policy.admits(address.ip()))).partition(|(_, a)| a.is_ok());
            match (admitted.is_empty(), refused.into_iter().find_map(|(_, admitted)| admitted.err())) {
                (true, Some(class)) => Err(Box::new(EndpointRefusal::Address(class)) as _),
                _ => Ok(Box::new(admitted.into_iter().map(|(address, _)| address)) as Addrs),
            }
        })
    }
}

/// The refusal of the resolver somewhere in `error`'s chain of causes.
pub fn refusal_in<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a EndpointRefusal> {
    std::iter::successors(Some(error), |e| e.source()).find_map(|e| e.downcast_ref::<EndpointRefusal>())
}
