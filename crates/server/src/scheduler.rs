//! The deadline scheduler: on every tick it flags messages past a deadline,
//! tells the sender and the area's lead agency (a hub-generated OVERDUE
//! follow-up), and audits it; and it purges payloads past their retention. Flagging is a conditional update, so with several
//! replicas scanning each overdue event still fires once. The clock is the
//! hub's injected one: tests move it and tick instead of sleeping.

use std::sync::Arc;

use prost::Message as _;

use referral_hub_domain::{
    audit::{Action, Entry, Outcome, Severity, child_key_hash},
    ids::RequestId,
    timestamps::UnixMicros,
    wire::{FollowUpAction, PostFollowUpRequest},
};
use referral_hub_store::{Deadline, FollowUpRecord, MessageRecord};

use crate::{
    consents::request_hash,
    error::ApiError,
    hub::{Hub, detail},
    shutdown::Shutdown,
};

/// Messages flagged per scan at most; the next scan takes the rest.
const SCAN_LIMIT: u32 = 500;

/// Where the binary and the test harness have always found it.
pub use crate::scheduler_control::SchedulerControl;

impl SchedulerControl {
    /// Runs `pass` on every tick or interval until `shutdown` begins; a pass
    /// under way then finishes, and no other starts.
    pub async fn run<F: Future<Output = ()>>(&self, shutdown: &Shutdown, mut pass: impl FnMut() -> F) {
        let mut ticks = self.tick.subscribe();
        // A pass at start: work due while the server was down, and any tick
        // asked for before this task got to run, are not left for the interval.
        ticks.mark_changed();
        loop {
            tokio::select! {
                biased;
                () = shutdown.begun() => return,
                _ = tokio::time::sleep(self.interval) => {}
                changed = ticks.changed() => if changed.is_err() { return },
            }
            let tick = *ticks.borrow_and_update();
            pass().await;
            self.scanned.send_modify(|done| *done = (*done).max(tick));
        }
    }
}

/// Scans on every tick or interval, until the hub stops.
pub async fn run(hub: Arc<Hub>, control: Arc<SchedulerControl>) {
    control
        .run(&hub.shutdown, || async {
            match hub.flag_overdue().await {
                Ok(0) => {}
                Ok(flagged) => {
                    hub.metrics.overdue(flagged);
                    tracing::info!(flagged, "overdue messages flagged");
                }
                Err(error) => tracing::warn!(%error, "overdue scan failed; retrying at the next tick"),
            }
            match hub.purge_expired().await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "payloads purged after the retention period"),
                Err(error) => tracing::warn!(%error, "retention purge failed; retrying at the next tick"),
            }
        })
        .await
}

impl Hub {
    /// Erases the payloads of messages closed or withdrawn longer than the
    /// retention period ago; returns how many.
    pub async fn purge_expired(&self) -> Result<usize, ApiError> {
        let now = self.clock.now();
        let template = Entry::new(UnixMicros::of(now), Action::PayloadPurged, Outcome::Success, Severity::Info).by(
            "",
            "referral-hub",
            String::new(),
        );
        let before = UnixMicros::of(now - self.retention);
        let purged = self.store.purge_closed(before, UnixMicros::of(now), SCAN_LIMIT, &template).await?;
        Ok(purged.len())
    }

    /// Flags every message now past a deadline; returns how many this replica flagged.
    pub async fn flag_overdue(&self) -> Result<usize, ApiError> {
        let now = UnixMicros::of(self.clock.now());
        let mut flagged = 0;
        for (message, deadline) in self.store.due(now, SCAN_LIMIT).await? {
            let lead = match &message.area {
                Some(area) => self.store.lead_agency(area).await?,
                None => None,
            };
            let notice = overdue_notice(&message, deadline, now);
            let audit = Entry::new(now, Action::OverdueFlagged, Outcome::Success, Severity::Warning)
                .about(&message.id, message.kind.as_str_name())
                .child(message.child_link_key.as_deref().map(child_key_hash).unwrap_or_default())
                .with_detail(detail(&[
                    ("deadline", deadline.as_str().into()),
                    ("recipient", message.recipient_org.to_string().into()),
                    ("lead_agency", lead.as_deref().unwrap_or_default().into()),
                ]));
            if self.store.flag_overdue(deadline, &notice, &message.sender_org, lead.as_ref(), audit).await? {
                flagged += 1;
            }
        }
        Ok(flagged)
    }
}

/// The hub's OVERDUE follow-up for `message`, authored in the sender's name.
fn overdue_notice(message: &MessageRecord, deadline: Deadline, now: UnixMicros) -> FollowUpRecord {
    let body = PostFollowUpRequest {
        request_id: format!("overdue:{}:{}", deadline.as_str(), message.id),
        message_id: message.id.to_string(),
        action: FollowUpAction::Overdue as i32,
        note: match deadline {
            Deadline::Acknowledge => "The receiver did not acknowledge this message by its deadline.".into(),
            Deadline::Respond => "The receiver did not accept or decline this message by its deadline.".into(),
        },
        ..Default::default()
    };
    let encoded = body.encode_to_vec();
    FollowUpRecord {
        id: uuid::Uuid::now_v7().to_string(),
        message_id: message.id.clone(),
        author_org: message.sender_org.clone(),
        author_subject: "referral-hub".into(),
        request_id: RequestId::new(&body.request_id),
        request_hash: request_hash(&encoded),
        action: FollowUpAction::Overdue,
        status_after: message.status,
        created_at: now,
        body: encoded,
        hidden_from_sender: false,
    }
}
