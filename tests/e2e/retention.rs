//! Retention: a withdrawn or closed message's payload (and its follow-ups'
//! texts) is erased once the retention period has passed (the hub's clock
//! moves); the envelope, the statistics and the audit log remain, and the
//! purge is audited once.

use referral_hub_domain::{ids::MessageId, sample};
use referral_hub_e2e::{
    Backend, HEALTH_ORG, OVERSIGHT_ORG, RETENTION, SOCIAL_WELFARE_ORG, TestHub, follow_up, month_statistics, submitted,
};
use referral_hub_proto::v1::{FollowUpAction, GetMessageRequest, ListAuditEntriesRequest, MessageStatus};
use referral_hub_server::clock::Clock as _;

async fn payloads_are_purged_after_the_retention_period(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let start = hub.clock.now();
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(submitted(&mut health, sample::submit(&format!("r{i}"), SOCIAL_WELFARE_ORG)).await.id);
    }
    health.post_follow_up(follow_up(&ids[0], FollowUpAction::Withdraw, "w0")).await.unwrap();

    hub.clock.advance(RETENTION - time::Duration::hours(1));
    hub.scheduler.scan_now().await;
    assert!(
        hub.db.store.message(&MessageId::new(&ids[0])).await.unwrap().unwrap().purged_at.is_none(),
        "not before its time"
    );
    hub.clock.advance(time::Duration::hours(2));
    hub.scheduler.scan_now().await;
    hub.scheduler.scan_now().await;

    let get = |id: &str| GetMessageRequest { message_id: id.to_owned() };
    let purged = health.get_message(get(&ids[0])).await.unwrap().into_inner();
    let envelope = purged.message.unwrap();
    assert!(envelope.payload_purged && envelope.payload.is_none() && envelope.child.is_none());
    assert_eq!(envelope.status(), MessageStatus::Withdrawn);
    assert_eq!(purged.follow_ups[0].reason, "", "the withdrawal's reason text is gone too");
    assert!(hub.db.store.message(&MessageId::new(&ids[0])).await.unwrap().unwrap().body.is_empty());
    let open = health.get_message(get(&ids[1])).await.unwrap().into_inner().message.unwrap();
    assert!(!open.payload_purged && open.payload.is_some(), "an open message keeps its payload");

    let mut auditor = hub.audit(OVERSIGHT_ORG, &["auditor", "oversight"]).await;
    let entries = auditor.list_audit_entries(ListAuditEntriesRequest::default()).await.unwrap().into_inner().entries;
    let purges: Vec<_> = entries.iter().filter(|e| e.action == "PAYLOAD_PURGED").collect();
    assert_eq!(purges.len(), 1, "audited once, however many scans");
    assert_eq!(purges[0].message_id, ids[0]);
    let mut stats = hub.stats(HEALTH_ORG, &["auditor"]).await;
    let request = month_statistics(hub.end_the_month_of(start), &[]);
    assert_eq!(stats.get_statistics(request).await.unwrap().into_inner().total, "6", "metadata still counts");
}

referral_hub_e2e::on_both_backends!(payloads_are_purged_after_the_retention_period);
