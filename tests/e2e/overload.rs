//! Overload is refused, not absorbed: an organisation over its request rate,
//! and any caller beyond the in-flight bound, gets `RESOURCE_EXHAUSTED` with a
//! retry hint and nothing is stored; other organisations, health checks and
//! metrics carry on. Oversized messages are refused whole. A stalled inbox
//! consumer holds neither other organisations nor its own messages back.

use referral_hub_domain::{ids::OrgId, rate_limit::RateLimit, sample};
use referral_hub_e2e::{
    Backend, HEALTH_ORG, POLICE_ORG, SOCIAL_WELFARE_ORG, TestHub, next_entry, sent_count, submitted,
};
use referral_hub_proto::v1::{StreamInboxRequest, inbox_entry::Item, submit_message_request::Payload};
use referral_hub_server::limits::Limits;
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};
use tonic_types::StatusExt;

async fn metric(hub: &TestHub, name: &str) -> Option<f64> {
    referral_hub_e2e::prometheus::parse(&hub.metrics().await).value(name, &[])
}

async fn an_organisation_over_its_rate_waits_for_its_budget(backend: Backend) {
    let limit = RateLimit { per_second: 2, burst: 3 };
    let hub = TestHub::start_with_limits(backend, Limits::new(Some(limit), 100)).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    for n in 0..3 {
        submitted(&mut health, sample::submit(&format!("burst-{n}"), SOCIAL_WELFARE_ORG)).await;
    }
    let refused = health.submit_message(sample::submit("over", SOCIAL_WELFARE_ORG)).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    let retry = refused.get_details_retry_info().expect("a RetryInfo detail").retry_delay;
    assert_eq!(retry, Some(std::time::Duration::from_millis(500)), "one request every 500 ms");

    // Another organisation has its own budget.
    let mut police = hub.messages(POLICE_ORG, &["referrer"]).await;
    submitted(&mut police, sample::submit("police", SOCIAL_WELFARE_ORG)).await;

    hub.clock.advance(time::Duration::milliseconds(500));
    submitted(&mut health, sample::submit("over", SOCIAL_WELFARE_ORG)).await;
    let stored = hub.db.store.inbox_after(&OrgId::new(SOCIAL_WELFARE_ORG), 0, 100).await.unwrap();
    assert_eq!(stored.len(), 5, "the refused submit stored nothing; its retry did");
    assert_eq!(metric(&hub, "referral_hub_requests_rate_limited_total").await, Some(1.0));
}

async fn beyond_the_in_flight_bound_calls_are_shed(backend: Backend) {
    let limits = Limits::new(None, 2);
    let hub = TestHub::start_with_limits(backend, limits.clone()).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    // Two requests are busy: the test holds the permits they would.
    let busy = limits.in_flight.clone().acquire_many_owned(2).await.unwrap();

    let shed = health.submit_message(sample::submit("shed", SOCIAL_WELFARE_ORG)).await.unwrap_err();
    assert_eq!(shed.code(), Code::ResourceExhausted, "{shed:?}");
    assert!(shed.get_details_retry_info().is_some(), "with a retry hint");
    let (status, _) = hub.post_document("/education/concerns", HEALTH_ORG, &["referrer"], b"{}".to_vec()).await;
    assert_eq!(status, 503, "an adapter's HTTP caller is told the same");
    let check = HealthClient::new(hub.channel().await).check(HealthCheckRequest::default()).await.unwrap();
    assert_eq!(check.into_inner().status(), ServingStatus::Serving, "health checks are never shed");
    assert_eq!(metric(&hub, "referral_hub_requests_shed_total").await, Some(2.0));

    drop(busy);
    submitted(&mut health, sample::submit("after", SOCIAL_WELFARE_ORG)).await;
    assert_eq!(sent_count(&mut health).await, 1, "only the submit after the load passed is stored");
}

async fn an_oversized_message_is_refused_whole(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let mut huge = sample::submit("huge", SOCIAL_WELFARE_ORG);
    let Some(Payload::Referral(referral)) = huge.payload.as_mut() else { unreachable!("a referral") };
    referral.notes = "x".repeat(referral_hub_server::MAX_MESSAGE_BYTES + 1);
    let refused = health.submit_message(huge).await.unwrap_err();
    assert!(matches!(refused.code(), Code::OutOfRange | Code::ResourceExhausted), "{refused:?}");
    let body = vec![b' '; referral_hub_server::MAX_MESSAGE_BYTES + 1];
    let (status, _) = hub.post_document("/fhir/r4/Bundle", HEALTH_ORG, &["referrer"], body).await;
    assert_eq!(status, 413);
    assert_eq!(sent_count(&mut health).await, 0);
}

/// The inbox pump of a stream waits for its consumer (a bounded channel under
/// HTTP/2 flow control), so a consumer that stops reading holds a bounded
/// buffer, other organisations are served meanwhile, and it resumes in order.
async fn a_stalled_consumer_holds_nothing_back(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["receiver"]).await;
    let mut stalled = welfare.stream_inbox(StreamInboxRequest { after_position: Some(0) }).await.unwrap().into_inner();
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let sent = 300;
    for n in 0..sent {
        submitted(&mut health, sample::submit(&format!("queued-{n}"), SOCIAL_WELFARE_ORG)).await;
    }
    // Meanwhile another organisation's stream is served at once.
    let mut police = hub.messages(POLICE_ORG, &["receiver"]).await;
    let mut other = police.stream_inbox(StreamInboxRequest { after_position: Some(0) }).await.unwrap().into_inner();
    let to_police = submitted(&mut health, sample::submit("to-police", POLICE_ORG)).await;
    let Some(Item::Message(first)) = next_entry(&mut other).await.item else { panic!("a message") };
    assert_eq!(first.id, to_police.id);

    // The stalled consumer resumes and gets everything, in order.
    for position in 1..=sent {
        assert_eq!(next_entry(&mut stalled).await.position, position);
    }
}

referral_hub_e2e::on_both_backends!(
    an_organisation_over_its_rate_waits_for_its_budget,
    beyond_the_in_flight_bound_calls_are_shed,
    an_oversized_message_is_refused_whole,
    a_stalled_consumer_holds_nothing_back,
);
