//! Feeding an open inbox stream: everything after the position, then each new
//! entry as its notification arrives.

use std::{sync::Arc, time::Duration};

use tokio::sync::mpsc;
use tonic::Status;
use tracing::Instrument as _;

use referral_hub_domain::{
    audit::Action,
    wire::{InboxEntry, StreamInboxResponse, inbox_entry},
};
use referral_hub_store::{HubNotice, InboxContent, InboxItem, MessageRecord};

use crate::{auth::Caller, clock::micros, convert, error::ApiError, hub::Hub, release::Released};

/// How many inbox entries a stream reads from the store at a time.
pub(super) const INBOX_BATCH: u32 = 100;
/// How long an idle stream waits for a notification before looking anyway
/// (the fallback if a notification is ever lost).
const INBOX_POLL: Duration = Duration::from_secs(5);

/// Feeds one open inbox stream: everything after `after`, then each new entry
/// as its notification arrives, until the client goes away.
pub(super) async fn pump_inbox(
    hub: Arc<Hub>,
    reader: Caller,
    mut after: u64,
    out: mpsc::Sender<Result<StreamInboxResponse, Status>>,
) {
    let org = reader.org.clone();
    let notify = hub.store.notifier().subscribe(&org);
    loop {
        // Armed before reading, so an entry committed during the read still wakes us.
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let items = match hub.store.inbox_after(&org, after, INBOX_BATCH).await {
            Ok(items) => items,
            Err(error) => {
                let _ = out.send(Err(ApiError::from(error).into())).await;
                return;
            }
        };
        if let Some(last) = items.last() {
            if !send_batch(&hub, &reader, &items, &out).await {
                return;
            }
            after = last.position;
            if items.len() == INBOX_BATCH as usize {
                // More may be waiting already: read on at once.
                continue;
            }
        }
        // The read reached the end of the inbox, and `notified`, armed before
        // it, wakes us for anything committed since. Reading again to find
        // nothing would cost a query (and a round trip) per delivery.
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep(INBOX_POLL) => {}
            _ = out.closed() => return,
        }
    }
}

/// Releases `items` to `reader` and sends them in order; `false` once the
/// stream is over (the client went away, or was sent an error).
async fn send_batch(
    hub: &Hub,
    reader: &Caller,
    items: &[InboxItem],
    out: &mpsc::Sender<Result<StreamInboxResponse, Status>>,
) -> bool {
    let entries = match inbox_entries(hub, reader, items).await {
        Ok(entries) => entries,
        Err(error) => {
            let _ = out.send(Err(error.into())).await;
            return false;
        }
    };
    for (entry, item) in entries.into_iter().zip(items) {
        let span = tracing::info_span!("inbox.deliver", position = entry.position);
        let submitted = item.new_message().and_then(|m| m.traceparent.as_deref());
        let send = out.send(Ok(StreamInboxResponse { entry: Some(entry) }));
        if send.instrument(crate::telemetry::delivery_span(span, submitted)).await.is_err() {
            return false;
        }
        hub.metrics.delivered(item, micros(hub.clock.now()));
    }
    true
}

/// Inbox items as `reader` may see them; new messages are released (and audited) as delivery attempts.
async fn inbox_entries(hub: &Hub, reader: &Caller, items: &[InboxItem]) -> Result<Vec<InboxEntry>, ApiError> {
    let new_messages: Vec<MessageRecord> = items.iter().filter_map(InboxItem::new_message).cloned().collect();
    let mut released = hub.release(reader, &new_messages, Action::DeliveryAttempted).await?.into_iter();
    items
        .iter()
        .map(|item| {
            let entry = match &item.content {
                InboxContent::FollowUp { follow_up, .. } => inbox_entry::Item::FollowUp(convert::follow_up(follow_up)?),
                InboxContent::Notice(HubNotice::Directory(notice)) => {
                    inbox_entry::Item::DirectoryNotice(notice.clone())
                }
                InboxContent::Notice(HubNotice::TreeHead(head)) => inbox_entry::Item::TreeHead(head.clone()),
                InboxContent::Message(_) => match released.next().ok_or(ApiError::Aborted)? {
                    Released { withheld: Some(withheld), .. } => inbox_entry::Item::Withheld(withheld),
                    Released { message, withheld: None } => inbox_entry::Item::Message(message),
                },
            };
            Ok(InboxEntry { position: item.position, item: Some(entry) })
        })
        .collect()
}
