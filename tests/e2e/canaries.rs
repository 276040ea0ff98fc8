//! Leak canaries (docs/security.md "Nothing identifying in logs, traces or metrics"): messages of every kind carry
//! planted canary values in every free-text and identifying field; after a
//! full run (submit, push through every sector's adapter, pull, follow-ups,
//! refusals, overdue, statistics) no canary appears in anything the hub
//! logged at any level (span fields included), in the spans it exported over
//! OTLP to a real collector, in its metrics, or in what another organisation
//! was told.

use std::sync::{Arc, Mutex};

use referral_hub_domain::{push_policy::PushPolicy, sample};
use referral_hub_e2e::{
    Backend, HEALTH_ORG, POLICE_ORG, SOCIAL_WELFARE_ORG, TestHub,
    canary::{leaks, plant},
    follow_up, month_statistics, next_entry,
    otlp::Collector,
    receiver::Receiver,
    submitted,
};
use referral_hub_proto::v1::{
    Dimension, FollowUpAction as A, GetMessageRequest, ListOverdueRequest, Sector, StreamInboxRequest,
    SubmitMessageRequest, inbox_entry::Item,
};
use referral_hub_server::clock::Clock as _;
use referral_hub_server::telemetry::Telemetry;
use tonic::Code;

/// Everything the process logs, at every level, with span openings and closings.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Captures every event and span of the process (each test is its own
    /// process under nextest), and exports its spans to `otlp` as the hub would.
    async fn install() -> (Captured, Collector, Telemetry) {
        use tracing_subscriber::{Layer, layer::SubscriberExt};
        let captured = Captured::default();
        let writer = captured.clone();
        let logs = tracing_subscriber::fmt::layer()
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .with_filter(tracing::level_filters::LevelFilter::TRACE);
        let (collector, endpoint) = Collector::start().await;
        let (spans, telemetry) = referral_hub_server::telemetry::otlp_layer(&endpoint).expect("exporter");
        let spans = spans.with_filter(tracing::level_filters::LevelFilter::INFO);
        let subscriber = tracing_subscriber::registry().with(logs).with(spans);
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this process");
        (captured, collector, telemetry)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

/// A PUSH organisation of each sector with an adapter, each with its receiver.
const PUSHED: [(&str, Sector); 5] = [
    ("canary-health", Sector::Health),
    ("canary-school", Sector::Education),
    ("canary-police", Sector::Police),
    ("canary-court", Sector::Justice),
    ("canary-welfare", Sector::SocialWelfare),
];

async fn no_canary_leaves_the_hub_except_to_its_receivers(backend: Backend) {
    let (logs, collector, telemetry) = Captured::install().await;
    // Pushed to local http sinks: dev mode's push policy, opted into.
    let hub = TestHub::start_with_push(backend, PushPolicy::dev()).await;
    let today = time::OffsetDateTime::from_unix_timestamp(hub.clock_now_seconds()).unwrap().date();
    let mut planted = 0;
    let mut canaried = |mut request: SubmitMessageRequest| {
        planted += plant(&mut request, today).len();
        request
    };

    // Submit: a referral to an organisation of every sector, each pushed in its own format; a
    // case transfer to the court; a separated-child alert, routed to the tracing agency, pulled.
    let mut health = hub.messages(HEALTH_ORG, &["referrer", "receiver", "supervisor"]).await;
    let mut receivers = Vec::new();
    let mut sent = Vec::new();
    for (org, sector) in PUSHED {
        let receiver = Receiver::start(&[]).await;
        hub.push_organisation(org, sector, "MM/YGN/Hlaing", &receiver.url).await;
        let request = match sector {
            Sector::Justice => sample::submit_transfer(&format!("to-{org}"), org),
            _ => sample::submit(&format!("to-{org}"), org),
        };
        sent.push((org, submitted(&mut health, canaried(request)).await.id));
        receivers.push(receiver);
    }
    let alert = submitted(&mut health, canaried(sample::submit_alert("alert"))).await;
    hub.push.scan_now().await;
    for (receiver, (org, _)) in receivers.iter().zip(&sent) {
        let documents = receiver.received();
        assert_eq!(documents.len(), 1, "{org}");
        assert!(leaks(&String::from_utf8_lossy(&documents[0].body)), "{org} receives the child's details");
    }
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["receiver"]).await;
    let mut inbox = welfare.stream_inbox(StreamInboxRequest { after_position: Some(0) }).await.unwrap().into_inner();
    let Some(Item::Message(received)) = next_entry(&mut inbox).await.item else { panic!("the alert") };
    assert_eq!(received.id, alert.id);
    assert!(leaks(&format!("{received:?}")), "the tracing agency receives the alert's details");

    // Follow-ups, with canaries in their free text too.
    for (org, id) in &sent {
        let mut receiver = hub.messages(org, &["receiver"]).await;
        receiver.post_follow_up(follow_up(id, A::Acknowledge, "ack")).await.unwrap();
        let mut note = follow_up(id, A::Note, "note");
        note.note = format!("Qzxcanarynote from {org}");
        receiver.post_follow_up(note).await.unwrap();
    }
    let mut decline = follow_up(&sent[0].1, A::Decline, "decline");
    decline.reason = "Qzxcanaryreason: no capacity".into();
    hub.messages(sent[0].0, &["receiver"]).await.post_follow_up(decline).await.unwrap();
    hub.push.scan_now().await;

    // Refusals: bad input from the sender, an illegal move, and another organisation probing.
    let mut bad = canaried(sample::submit("bad", SOCIAL_WELFARE_ORG));
    bad.recipient_org_id = "Qzxcanary-not-an-org".into();
    let refused = health.submit_message(bad).await.unwrap_err();
    assert!(!leaks(refused.message()), "{refused:?}");
    let mut illegal = follow_up(&sent[1].1, A::Complete, "complete");
    illegal.outcome = "Qzxcanaryoutcome".into();
    let refused = health.post_follow_up(illegal).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "only the receiver completes: {refused:?}");
    let mut police = hub.messages(POLICE_ORG, &["referrer", "receiver", "supervisor"]).await;
    let mut answers_to_others = Vec::new();
    for (_, id) in &sent {
        let probe = police.get_message(GetMessageRequest { message_id: id.clone() }).await.unwrap_err();
        let note = police.post_follow_up(follow_up(id, A::Note, "probe")).await.unwrap_err();
        answers_to_others.extend([format!("{probe:?}"), format!("{note:?}")]);
    }

    // Overdue, statistics and metrics.
    hub.clock.advance(time::Duration::days(30));
    hub.scheduler.scan_now().await;
    let mut welfare_supervisor = hub.messages(SOCIAL_WELFARE_ORG, &["supervisor"]).await;
    let overdue = welfare_supervisor.list_overdue(ListOverdueRequest::default()).await.unwrap().into_inner();
    assert!(overdue.messages.iter().any(|m| m.message_id == alert.id), "the unacknowledged alert is overdue");
    let month = hub.end_the_month_of(hub.clock.now() - time::Duration::days(30));
    let mut auditor = hub.stats(HEALTH_ORG, &["auditor"]).await;
    for dimension in [Dimension::Concern, Dimension::Sex, Dimension::Outcome, Dimension::SectorPair] {
        let request = month_statistics(month, &[dimension]);
        answers_to_others.push(format!("{:?}", auditor.get_statistics(request).await.unwrap().into_inner()));
    }
    let metrics = hub.metrics().await;
    assert!(metrics.contains("referral_hub_push"), "{metrics}");

    assert!(planted >= 100, "only {planted} canaries planted");
    let logged = logs.text();
    assert!(logged.contains("referral_hub"), "the hub's own logs were captured");
    let leaked: Vec<&str> = logged.lines().filter(|line| leaks(line)).take(5).collect();
    assert!(leaked.is_empty(), "canaries in the logs ({} bytes captured):\n{}", logged.len(), leaked.join("\n"));
    assert!(!leaks(&metrics), "canary in the metrics");
    telemetry.flush();
    let exported = format!("{:?}", collector.spans());
    assert!(exported.contains("store.insert_message"), "spans were exported");
    assert!(!leaks(&exported), "canary in an exported span");
    for answer in &answers_to_others {
        assert!(!leaks(answer), "canary in an answer to another organisation or an auditor: {answer}");
    }
}

referral_hub_e2e::on_both_backends!(no_canary_leaves_the_hub_except_to_its_receivers);
