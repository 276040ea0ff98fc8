//! OpenTelemetry traces (docs/operations.md "Telemetry"): spans exported over OTLP
//! to a real collector continue the caller's W3C trace, nest the store and
//! the adapters under the request's span, a message's later delivery joins
//! the trace of the request that submitted it, and the trace id is the one in
//! the audit entry.

use opentelemetry_proto::tonic::trace::v1::Span;
use referral_hub_domain::{push_policy::PushPolicy, sample};
use referral_hub_e2e::{
    Backend, Bearer, HEALTH_ORG, TestHub,
    otlp::{Collector, hex},
    receiver::Receiver,
};
use referral_hub_proto::v1::{Sector, message_service_client::MessageServiceClient};
use referral_hub_store::AuditFilter;
use tracing_subscriber::{Layer, layer::SubscriberExt};

const FACILITY: &str = "demo-health-ygh";
const PRIMERO: &str = "demo-sw-hlaing";
const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

fn named<'a>(spans: &'a [Span], name: &str) -> Vec<&'a Span> {
    spans.iter().filter(|s| s.name == name).collect()
}

/// The one span named `name` whose parent is `parent`.
fn child_of<'a>(spans: &'a [Span], name: &str, parent: &Span) -> &'a Span {
    let children: Vec<_> = named(spans, name).into_iter().filter(|s| s.parent_span_id == parent.span_id).collect();
    assert_eq!(children.len(), 1, "one {name} under {}: {spans:#?}", parent.name);
    assert_eq!(children[0].trace_id, parent.trace_id, "{name} in its parent's trace");
    children[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_continue_the_callers_trace_through_store_and_adapters() {
    let (collector, endpoint) = Collector::start().await;
    let (layer, telemetry) = referral_hub_server::telemetry::otlp_layer(&endpoint).expect("exporter");
    let subscriber = tracing_subscriber::registry().with(layer.with_filter(tracing::level_filters::LevelFilter::INFO));
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this process");
    let hub = TestHub::start_with_push(Backend::Sqlite, PushPolicy::dev()).await;
    let receiver = Receiver::start(&[]).await;
    // The organisations of the FHIR fixture: a facility, and a Primero system receiving by push.
    hub.push_organisation(FACILITY, Sector::Health, "MM/YGN", &receiver.url).await;
    hub.push_organisation(PRIMERO, Sector::SocialWelfare, "MM/YGN/Hlaing", &receiver.url).await;

    // A gRPC submit inside the caller's trace.
    let traceparent = format!("00-{TRACE}-{CALLER_SPAN}-01");
    let token = hub.token(HEALTH_ORG, &["referrer"]);
    let mut request = tonic::Request::new(sample::submit("traced", PRIMERO));
    request.metadata_mut().insert("traceparent", traceparent.parse().unwrap());
    let mut client = MessageServiceClient::with_interceptor(hub.channel().await, Bearer::new(&token));
    let sent = client.submit_message(request).await.unwrap().into_inner().message.unwrap();
    // An adapter's document, without a trace of its own, and a push through an adapter.
    let bundle = std::fs::read(format!("{}/fixtures/health/referral-bundle.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let (status, receipt) = hub.post_document("/fhir/r4/Bundle", FACILITY, &["referrer"], bundle).await;
    assert_eq!(status, 200, "{receipt}");
    hub.push.scan_now().await;
    telemetry.flush();

    let spans = collector.spans();
    let submit_path = "/referralhub.v1.MessageService/SubmitMessage";
    let submit = named(&spans, submit_path);
    assert_eq!(submit.len(), 1, "{spans:#?}");
    assert_eq!((hex(&submit[0].trace_id), hex(&submit[0].parent_span_id)), (TRACE.into(), CALLER_SPAN.into()));
    child_of(&spans, "store.insert_message", submit[0]);

    let post = named(&spans, "/fhir/r4/Bundle");
    assert_eq!(post.len(), 1);
    assert!(post[0].parent_span_id.is_empty(), "a new trace for a caller without one");
    child_of(&spans, "adapter.inbound", post[0]);
    child_of(&spans, "store.insert_message", post[0]);

    let pushes = named(&spans, "push.deliver");
    assert_eq!(pushes.len(), 2, "both referrals pushed to the Primero system: {spans:#?}");
    for push in &pushes {
        child_of(&spans, "adapter.outbound", push);
    }
    // Each delivery joins the trace of the request that submitted its message.
    let pushed_in = |submit: &Span| pushes.iter().filter(|p| p.parent_span_id == submit.span_id).count();
    assert_eq!(pushed_in(submit[0]), 1, "the gRPC referral's push is in the caller's trace");
    assert_eq!(pushed_in(post[0]), 1, "the FHIR referral's push is in its POST's trace");

    let filter = AuditFilter { message_id: Some(sent.id), limit: 10, ..Default::default() };
    let entries = hub.db.store.query_audit(&filter).await.unwrap();
    assert_eq!(entries[0].entry.trace_id, TRACE, "the submit's audit entry names the trace");
}
