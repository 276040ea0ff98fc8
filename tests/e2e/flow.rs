//! The whole loop over real gRPC: a referral reaches the receiver's stream,
//! every follow-up reaches the other side, and inboxes resume without gaps.

use referral_hub_domain::{sample, wire::submit_message_request::Payload};
use referral_hub_e2e::{Backend, HEALTH_ORG, SOCIAL_WELFARE_ORG, TestHub, follow_up, next_entry, submitted};
use referral_hub_proto::v1::{
    AckDeliveryRequest, FollowUpAction as A, GetMessageRequest, MessageStatus as S, StreamInboxRequest,
    inbox_entry::Item, message::Payload as MessagePayload,
};

async fn full_loop(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer", "receiver"]).await;
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["receiver"]).await;
    let mut welfare_inbox = welfare.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();
    let mut health_inbox = health.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();

    let request = sample::submit("loop-1", SOCIAL_WELFARE_ORG);
    let sent = submitted(&mut health, request.clone()).await;
    assert_eq!(sent.status(), S::Submitted);
    assert_eq!(sent.sender_org_id, HEALTH_ORG);

    // The receiver's open stream gets the message exactly as sent.
    let entry = next_entry(&mut welfare_inbox).await;
    assert_eq!(entry.position, 1);
    let Some(Item::Message(received)) = entry.item else { panic!("expected a message") };
    assert_eq!(received.id, sent.id);
    let Some(Payload::Referral(referral)) = request.payload else { unreachable!() };
    assert_eq!(received.payload, Some(MessagePayload::Referral(referral)));
    assert_eq!(received.child, request.child);

    let acked = welfare.ack_delivery(AckDeliveryRequest { position: entry.position }).await.unwrap().into_inner();
    assert_eq!(acked.acked_position, 1);
    let get = |id: String| GetMessageRequest { message_id: id };
    let after_ack = health.get_message(get(sent.id.clone())).await.unwrap().into_inner().message.unwrap();
    assert_eq!(after_ack.status(), S::Delivered);

    // Each receiver move reaches the sender's stream, in order.
    let moves = [(A::Acknowledge, S::Acknowledged), (A::Accept, S::Accepted), (A::Complete, S::Completed)];
    for (i, (action, status)) in moves.into_iter().enumerate() {
        let posted = welfare.post_follow_up(follow_up(&sent.id, action, &format!("f-{i}"))).await.unwrap().into_inner();
        assert_eq!(posted.message.unwrap().status(), status);
        let entry = next_entry(&mut health_inbox).await;
        assert_eq!(entry.position, i as u64 + 1);
        let Some(Item::FollowUp(seen)) = entry.item else { panic!("expected a follow-up") };
        assert_eq!((seen.action(), seen.status_after(), seen.message_id.as_str()), (action, status, sent.id.as_str()));
        if action == A::Complete {
            assert_eq!(seen.outcome, "Child enrolled in weekly counselling.");
        }
    }

    // The sender closes the loop and the receiver hears of it.
    let closed = health.post_follow_up(follow_up(&sent.id, A::Close, "close-1")).await.unwrap().into_inner();
    assert_eq!(closed.message.unwrap().status(), S::Closed);
    let entry = next_entry(&mut welfare_inbox).await;
    assert_eq!(entry.position, 2);
    assert!(matches!(entry.item, Some(Item::FollowUp(f)) if f.action() == A::Close));

    let full = health.get_message(get(sent.id.clone())).await.unwrap().into_inner();
    let actions: Vec<_> = full.follow_ups.iter().map(|f| f.action()).collect();
    assert_eq!(actions, vec![A::Acknowledge, A::Accept, A::Complete, A::Close]);
    assert_eq!(full.message.unwrap().status(), S::Closed);
}

async fn inbox_resumes_after_reconnect(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["receiver"]).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let sent = health.submit_message(sample::submit(&format!("r-{i}"), SOCIAL_WELFARE_ORG)).await.unwrap();
        ids.push(sent.into_inner().message.unwrap().id);
    }

    let mut first = welfare.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();
    let one = next_entry(&mut first).await;
    let two = next_entry(&mut first).await;
    assert_eq!((one.position, two.position), (1, 2));
    welfare.ack_delivery(AckDeliveryRequest { position: 1 }).await.unwrap();
    drop(first);

    // A new stream without a position resumes after the last ack: 2 is seen again
    // (at least once), then 3, then a message sent while the stream is open.
    let mut second = welfare.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();
    let again = next_entry(&mut second).await;
    let three = next_entry(&mut second).await;
    assert_eq!((again.position, three.position), (2, 3));
    let message_id = |entry: &referral_hub_proto::v1::InboxEntry| match &entry.item {
        Some(Item::Message(m)) => m.id.clone(),
        _ => panic!("expected a message"),
    };
    assert_eq!(vec![message_id(&one), message_id(&again), message_id(&three)], ids);
    let live = health.submit_message(sample::submit("r-live", SOCIAL_WELFARE_ORG)).await.unwrap().into_inner();
    let four = next_entry(&mut second).await;
    assert_eq!((four.position, message_id(&four)), (4, live.message.unwrap().id));

    // An explicit position replays from there; acks never move back.
    let mut replay = welfare.stream_inbox(StreamInboxRequest { after_position: Some(0) }).await.unwrap().into_inner();
    assert_eq!(next_entry(&mut replay).await.position, 1);
    welfare.ack_delivery(AckDeliveryRequest { position: 3 }).await.unwrap();
    let back = welfare.ack_delivery(AckDeliveryRequest { position: 2 }).await.unwrap().into_inner();
    assert_eq!(back.acked_position, 3);
    let beyond = welfare.ack_delivery(AckDeliveryRequest { position: 5 }).await.unwrap_err();
    assert_eq!(referral_hub_e2e::bad_fields(&beyond), vec!["position"]);
}

async fn a_declined_referral_is_re_referred_to_another_provider(backend: Backend) {
    const SCHOOL: &str = "demo-school-hlaing";
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["receiver"]).await;
    let first = submitted(&mut health, sample::submit("first", SOCIAL_WELFARE_ORG)).await;
    let mut again = sample::submit("again", SCHOOL);
    again.re_referral_of = first.id.clone();
    let not_declined = health.submit_message(again.clone()).await.unwrap_err();
    assert_eq!(referral_hub_e2e::bad_fields(&not_declined), vec!["re_referral_of"]);

    welfare.post_follow_up(follow_up(&first.id, A::Acknowledge, "w-ack")).await.unwrap();
    welfare.post_follow_up(follow_up(&first.id, A::Decline, "w-decline")).await.unwrap();
    let mut same_provider = again.clone();
    same_provider.recipient_org_id = SOCIAL_WELFARE_ORG.into();
    let refused = health.submit_message(same_provider).await.unwrap_err();
    assert_eq!(referral_hub_e2e::bad_fields(&refused), vec!["recipient_org_id"]);

    let second = submitted(&mut health, again).await;
    assert_eq!((second.re_referral_of_id.as_str(), second.recipient_org_id.as_str()), (first.id.as_str(), SCHOOL));
    let mut school = hub.messages(SCHOOL, &["receiver"]).await;
    let seen = school.get_message(GetMessageRequest { message_id: second.id }).await.unwrap().into_inner();
    assert_eq!(seen.message.unwrap().re_referral_of_id, first.id, "the new provider sees the history link");
}

referral_hub_e2e::on_both_backends!(
    full_loop,
    inbox_resumes_after_reconnect,
    a_declined_referral_is_re_referred_to_another_provider
);
