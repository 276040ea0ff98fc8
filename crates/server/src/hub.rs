//! State shared by every service: the store, the rules, the clock, and the
//! authenticator, and the audit entries every service writes. The checks
//! every RPC starts with are `access.rs`. The types of its fields live in
//! modules that do not import this one, so the hub sits below the services.

use std::sync::Arc;

use referral_hub_domain::{
    audit::{Action, Entry, Outcome, Severity},
    deadlines::DeadlinePolicy,
    timestamps::UnixMicros,
    validation::Rules,
};
use referral_hub_store::Store;

use crate::{
    auth::{Authenticator, CallFacts, Caller},
    clock::Clock,
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
    /// Secret of the child link key HMAC.
    pub link_key_secret: Vec<u8>,
    /// How long after a message is closed or withdrawn its payload is kept.
    pub retention: time::Duration,
    /// Operational counters (`GET /metrics`).
    pub metrics: crate::metrics::Metrics,
    /// Overload bounds.
    pub limits: crate::limits::Limits,
    /// What each organisation has left of its request budget.
    pub budgets: crate::limits::Budgets,
    /// Who may act hub-wide: the operator's organisations, oversight grants.
    pub authority: crate::authority::Authority,
    /// Refused calls of the current minute, counted until written.
    pub(crate) refusals: std::sync::Mutex<crate::refusals::RefusalTally>,
    /// Open inbox streams per organisation.
    pub(crate) streams: crate::limits::StreamSlots,
    /// Begun when the hub stops: background tasks and inbox streams end at it.
    pub(crate) shutdown: crate::shutdown::Shutdown,
}

impl Hub {
    /// An audit entry by `caller`, now.
    pub fn entry(&self, caller: &Caller, action: Action, outcome: Outcome, severity: Severity) -> Entry {
        self.facts_entry(&caller.facts, action, outcome, severity).by(&caller.org, &caller.subject, caller.roles_text())
    }

    pub(crate) fn facts_entry(&self, facts: &CallFacts, action: Action, outcome: Outcome, severity: Severity) -> Entry {
        Entry {
            actor_certificate: facts.certificate.clone(),
            source_address: facts.source_address.clone(),
            trace_id: facts.trace_id.clone(),
            ..Entry::new(UnixMicros::of(self.clock.now()), action, outcome, severity)
        }
    }
}

/// An audit detail object from key/value pairs: codes, ids and category names only.
pub fn detail(pairs: &[(&str, serde_json::Value)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> =
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    serde_json::Value::Object(map).to_string()
}
