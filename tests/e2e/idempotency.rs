//! Retries with the same request id return the first result and never a duplicate.

use referral_hub_domain::{
    ids::{MessageId, OrgId},
    sample,
    wire::submit_message_request::Payload,
};
use referral_hub_e2e::{Backend, HEALTH_ORG, SOCIAL_WELFARE_ORG, TestHub, follow_up, precondition};
use referral_hub_proto::v1::{FollowUpAction as A, ListMessagesRequest, Mailbox, MessageStatus as S};

async fn a_retried_submit_returns_the_first_message(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let request = sample::submit("same-key", SOCIAL_WELFARE_ORG);
    let first = health.submit_message(request.clone()).await.unwrap().into_inner();
    let retry = health.submit_message(request.clone()).await.unwrap().into_inner();
    assert!(!first.replayed);
    assert!(retry.replayed);
    assert_eq!(first.message, retry.message);

    let mut changed = request.clone();
    let Some(Payload::Referral(referral)) = changed.payload.as_mut() else { unreachable!() };
    referral.reason = "A different reason".into();
    let reused = health.submit_message(changed).await.unwrap_err();
    assert_eq!(precondition(&reused)[0].0, "REQUEST_ID_REUSED");

    // Another organisation may use the same key for its own message.
    let mut police = hub.messages(referral_hub_e2e::POLICE_ORG, &["referrer"]).await;
    let theirs = police.submit_message(request).await.unwrap().into_inner();
    assert!(!theirs.replayed);
    assert_ne!(theirs.message.unwrap().id, first.message.clone().unwrap().id);

    let sent = health
        .list_messages(ListMessagesRequest { mailbox: Mailbox::Sent as i32, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(sent.messages.len(), 1);
    let inbox = hub.db.store.inbox_after(&OrgId::new(SOCIAL_WELFARE_ORG), 0, 10).await.unwrap();
    assert_eq!(inbox.len(), 2, "one entry from health, one from police: no duplicate");
}

async fn a_retried_follow_up_is_applied_once(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["receiver"]).await;
    let sent = health.submit_message(sample::submit("m", SOCIAL_WELFARE_ORG)).await.unwrap().into_inner();
    let id = sent.message.unwrap().id;
    let ack = follow_up(&id, A::Acknowledge, "ack-1");
    let first = welfare.post_follow_up(ack.clone()).await.unwrap().into_inner();
    let retry = welfare.post_follow_up(ack.clone()).await.unwrap().into_inner();
    assert!(retry.replayed && !first.replayed);
    assert_eq!(first.follow_up, retry.follow_up);
    assert_eq!(retry.message.unwrap().status(), S::Acknowledged);

    let reused = welfare.post_follow_up(follow_up(&id, A::Accept, "ack-1")).await.unwrap_err();
    assert_eq!(precondition(&reused)[0].0, "REQUEST_ID_REUSED");
    assert_eq!(hub.db.store.follow_ups(&MessageId::new(&id)).await.unwrap().len(), 1);
    assert_eq!(hub.db.store.inbox_after(&OrgId::new(HEALTH_ORG), 0, 10).await.unwrap().len(), 1);
}

referral_hub_e2e::on_both_backends!(a_retried_submit_returns_the_first_message, a_retried_follow_up_is_applied_once);
