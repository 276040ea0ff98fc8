//! Metrics (docs/operations.md "Telemetry"): the admin listener's `GET /metrics`
//! parses as Prometheus text and counts what happened, by codes only; the
//! same listener answers the gRPC health checks orchestrators probe.

use referral_hub_domain::sample;
use referral_hub_e2e::{Backend, HEALTH_ORG, SOCIAL_WELFARE_ORG, TestHub, next_entry, prometheus::parse, submitted};
use referral_hub_proto::v1::{ConsentDecision, StreamInboxRequest, submit_message_request::Payload};

async fn what_happened_is_counted(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    submitted(&mut health, sample::submit("counted", SOCIAL_WELFARE_ORG)).await;
    let mut invalid = sample::submit("invalid", SOCIAL_WELFARE_ORG);
    if let Some(Payload::Referral(referral)) = invalid.payload.as_mut() {
        referral.reason.clear();
    }
    health.submit_message(invalid).await.unwrap_err();
    let mut denied = sample::submit("denied", SOCIAL_WELFARE_ORG);
    denied.consent.as_mut().unwrap().decision = ConsentDecision::Deny as i32;
    health.submit_message(denied).await.unwrap_err();
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["receiver"]).await;
    let mut inbox = welfare.stream_inbox(StreamInboxRequest { after_position: Some(0) }).await.unwrap().into_inner();
    next_entry(&mut inbox).await;
    hub.clock.advance(time::Duration::days(30));
    hub.scheduler.scan_now().await;

    let scrape = parse(&hub.metrics().await);
    let messages = |outcome: &str| {
        let labels = [("kind", "SERVICE_REFERRAL"), ("sender_sector", "HEALTH"), ("outcome", outcome)];
        scrape.value("referral_hub_messages_total", &labels)
    };
    assert_eq!(messages("accepted"), Some(1.0));
    assert_eq!(messages("invalid"), Some(1.0));
    assert_eq!(messages("consent_refused"), Some(1.0));
    assert_eq!(scrape.value("referral_hub_consent_refusals_total", &[("reason", "DENIED")]), Some(1.0));
    assert_eq!(scrape.value("referral_hub_delivery_latency_seconds_count", &[]), Some(1.0));
    assert_eq!(scrape.types.get("referral_hub_delivery_latency_seconds").map(String::as_str), Some("histogram"));
    assert!(scrape.value("referral_hub_overdue_flagged_total", &[]).is_some_and(|n| n >= 1.0), "overdue counted");
    assert!(scrape.value("referral_hub_audit_appends_total", &[]).is_some_and(|n| n >= 5.0));
    assert!(scrape.value("referral_hub_audit_append_duration_seconds_total", &[]).is_some_and(|s| s > 0.0));
    let groups = |path: &str| scrape.value("referral_hub_group_commits_total", &[("path", path)]);
    assert!(groups("locked").is_some_and(|n| n >= 1.0), "the first group reads the chain head under its lock");
    let one_statement = groups("one_statement");
    match backend {
        Backend::Postgres => assert!(one_statement.is_some_and(|n| n >= 1.0), "{one_statement:?}"),
        Backend::Sqlite => assert_eq!(one_statement, Some(0.0)),
    }
    assert!(scrape.value("referral_hub_db_connections", &[("state", "idle")]).is_some());
    assert!(scrape.value("referral_hub_db_connections", &[("state", "in_use")]).is_some());
    let ids_in_labels = scrape.samples.iter().flat_map(|s| s.labels.values()).any(|v| v.contains("demo-"));
    assert!(!ids_in_labels, "labels are codes, never organisation or message ids");
}

/// Orchestrators probe the admin listener: plaintext gRPC health, even when the API listener is TLS.
async fn the_admin_listener_answers_health_checks(backend: Backend) {
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};
    let hub = TestHub::start(backend).await;
    let mut health = HealthClient::new(referral_hub_e2e::channel_to(hub.admin_address).await);
    let status = health.check(HealthCheckRequest::default()).await.unwrap().into_inner().status();
    assert_eq!(status, ServingStatus::Serving);
    let service = HealthCheckRequest { service: "referralhub.v1.MessageService".into() };
    assert_eq!(health.check(service).await.unwrap().into_inner().status(), ServingStatus::Serving);
}

referral_hub_e2e::on_both_backends!(what_happened_is_counted, the_admin_listener_answers_health_checks);
