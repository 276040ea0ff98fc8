//! A replica stopped as SIGTERM stops the binary (`Replica::stop`): its open
//! inbox streams end cleanly rather than failing, and the receiver resumes
//! after its last acknowledgement on another replica, missing nothing.

use std::time::Duration;

use referral_hub_domain::sample;
use referral_hub_e2e::{Backend, Bearer, HEALTH_ORG, SOCIAL_WELFARE_ORG, TestHub, channel_to, next_entry, submitted};
use referral_hub_proto::v1::{
    AckDeliveryRequest, StreamInboxRequest, inbox_entry::Item, message_service_client::MessageServiceClient,
};

async fn a_stopping_replica_ends_its_streams_and_the_receiver_resumes_elsewhere(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let replica = hub.replica().await;
    let token = hub.token(SOCIAL_WELFARE_ORG, &["receiver"]);
    let mut on_replica = MessageServiceClient::with_interceptor(channel_to(replica.address).await, Bearer::new(&token));
    let mut stream = on_replica.stream_inbox(StreamInboxRequest::default()).await.expect("stream").into_inner();
    let mut sender = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let first = submitted(&mut sender, sample::submit("graceful-1", SOCIAL_WELFARE_ORG)).await;
    let entry = next_entry(&mut stream).await;
    assert!(matches!(&entry.item, Some(Item::Message(m)) if m.id == first.id), "{entry:?}");
    on_replica.ack_delivery(AckDeliveryRequest { position: entry.position }).await.expect("ack");

    replica.stop().await;
    let end = tokio::time::timeout(Duration::from_secs(10), stream.message()).await.expect("the stream ends");
    assert!(matches!(end, Ok(None)), "the stream ends cleanly, without an error: {end:?}");

    let second = submitted(&mut sender, sample::submit("graceful-2", SOCIAL_WELFARE_ORG)).await;
    let mut receiver = hub.messages(SOCIAL_WELFARE_ORG, &["receiver"]).await;
    let mut resumed = receiver.stream_inbox(StreamInboxRequest::default()).await.expect("stream").into_inner();
    let entry = next_entry(&mut resumed).await;
    assert_eq!(entry.position, 2, "resumed after the acknowledgement");
    assert!(matches!(&entry.item, Some(Item::Message(m)) if m.id == second.id), "{entry:?}");
}

referral_hub_e2e::on_both_backends!(a_stopping_replica_ends_its_streams_and_the_receiver_resumes_elsewhere);
