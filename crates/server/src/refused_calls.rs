//! Refused calls in the audit log, through the [`RefusalTally`]: the first
//! refusal of each (source, certificate, actor, reason) and minute in full at
//! once, the count when the minute is over (a task on the hub's clock, and at
//! shutdown). Permission refusals are counted the same way as failed
//! authentication: a verified caller is bounded by its rate budget, but at
//! 200 calls a second that budget alone would still write millions of rows a
//! day; the first refusal of each minute in full keeps who tried what.

use referral_hub_domain::timestamps::UnixMicros;
use std::{net::SocketAddr, sync::Arc};

use referral_hub_domain::audit::{Action, Entry, Outcome, Severity};

use crate::{
    auth::{CallFacts, Caller},
    clock::micros,
    error::ApiError,
    hub::{Hub, detail},
    refusals::{ClosedWindow, RefusalKey, RefusalTally, WINDOW_MICROS},
    scheduler_control::SchedulerControl,
};

/// Distinct (source, certificate, actor, reason) keys counted at once; more
/// fold into one overflow key per reason.
pub const TALLY_CAPACITY: usize = 4_096;

/// A refusal to count.
pub(crate) struct Refusal<'a> {
    /// `AUTHENTICATION_FAILED` or `PERMISSION_DENIED`.
    pub action: Action,
    /// The verified caller, when the refusal is about permissions.
    pub caller: Option<&'a Caller>,
    /// Why.
    pub reason: String,
}

impl Hub {
    /// Counts a refused call; writes its audit entry in full if it is the first
    /// of its window (and the count of the key's previous window, if that
    /// ended). An audit write that fails is the call's answer: the hub fails closed.
    pub(crate) async fn audit_refusal(&self, facts: &CallFacts, refusal: Refusal<'_>) -> Result<(), ApiError> {
        let now = micros(self.clock.now());
        let key = RefusalKey {
            action: refusal.action,
            source: without_port(&facts.source_address),
            certificate: facts.certificate.clone(),
            actor_org: refusal.caller.map(|c| c.org.to_string()).unwrap_or_default(),
            actor_subject: refusal.caller.map(|c| c.subject.clone()).unwrap_or_default(),
            reason: refusal.reason,
        };
        let recorded = self.refusals.lock().unwrap_or_else(|p| p.into_inner()).record(key, now);
        let mut entries: Vec<Entry> = recorded.closed.iter().map(|closed| self.count_entry(closed, now)).collect();
        if let Some(key) = recorded.first {
            let mut entry = match refusal.caller {
                Some(caller) => self.entry(caller, key.action, Outcome::Refused, Severity::Warning),
                None => self.facts_entry(facts, key.action, Outcome::Refused, Severity::Warning),
            };
            entry.detail = detail(&[("reason", key.reason.into()), ("rpc", facts.rpc.clone().into())]);
            entries.push(entry);
        }
        if !entries.is_empty() {
            self.store.audit(entries).await?;
        }
        Ok(())
    }

    /// Writes the count entries of the windows that ended by the hub's clock
    /// (every window when `all`, at shutdown).
    pub(crate) async fn flush_refusals(&self, all: bool) -> Result<usize, ApiError> {
        let now = micros(self.clock.now());
        let closed = {
            let mut tally = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
            if all { tally.close_all() } else { tally.close_ended(now) }
        };
        if closed.is_empty() {
            return Ok(0);
        }
        let entries: Vec<Entry> = closed.iter().map(|window| self.count_entry(window, now)).collect();
        self.store.audit(entries).await?;
        Ok(closed.len())
    }

    /// The entry counting a closed window's refusals (its first one included).
    fn count_entry(&self, window: &ClosedWindow, now: i64) -> Entry {
        let key = &window.key;
        let entry = Entry::new(UnixMicros::new(now), key.action, Outcome::Refused, Severity::Warning)
            .by(&key.actor_org, &key.actor_subject, String::new())
            .with_detail(detail(&[
                ("reason", key.reason.clone().into()),
                ("count", window.count.into()),
                ("window_start", window.started_at.into()),
                ("window_end", (window.started_at + WINDOW_MICROS).into()),
            ]));
        Entry { actor_certificate: key.certificate.clone(), source_address: key.source.clone(), ..entry }
    }
}

/// The tally a hub starts with.
pub(crate) fn new_tally() -> std::sync::Mutex<RefusalTally> {
    std::sync::Mutex::new(RefusalTally::new(TALLY_CAPACITY))
}

/// Writes ended windows' counts on every tick of `control`, until the hub stops.
pub(crate) async fn flush_refusals(hub: Arc<Hub>, control: Arc<SchedulerControl>) {
    control
        .run(&hub.shutdown, || async {
            if let Err(error) = hub.flush_refusals(false).await {
                tracing::error!(%error, "refusal counts not written; retrying on the next tick");
            }
        })
        .await;
}

/// `10.0.0.5:41234` -> `10.0.0.5`; anything else as it is.
fn without_port(address: &str) -> String {
    address.parse::<SocketAddr>().map(|a| a.ip().to_string()).unwrap_or_else(|_| address.to_owned())
}
