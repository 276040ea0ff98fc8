//! Push delivery over real sockets: agencies join in their own formats. A
//! health facility's FHIR Bundle becomes a referral that a Primero-style
//! social welfare system receives by push (Standard Webhooks signed); its
//! acceptance, posted back in Primero's format, reaches the facility as FHIR
//! Task updates. Failures are retried on schedule (the hub's clock moves, no
//! sleeping), then dead-lettered; a 410 stops at once; a replica killed
//! mid-delivery has its queue taken over when the lease runs out.

use referral_hub_domain::{delivery::RETRY_SCHEDULE, push_policy::PushPolicy, sample};
use referral_hub_e2e::{
    Backend, SOCIAL_WELFARE_ORG, TestHub,
    receiver::{Receiver, signature_verifies},
    submitted,
};
use referral_hub_proto::v1::{GetMessageRequest, ListAuditEntriesRequest, MessageStatus, Sector};
use referral_hub_store::AuditFilter;
use serde_json::Value;

const FACILITY: &str = "demo-health-ygh";
const PRIMERO: &str = "demo-sw-hlaing";

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
}

/// The code of a Task's `businessStatus` coding whose system ends with `system`.
fn business_status(task: &Value, system: &str) -> String {
    let codings = task["businessStatus"]["coding"].as_array().cloned().unwrap_or_default();
    let coding = codings.iter().find(|c| c["system"].as_str().is_some_and(|s| s.ends_with(system)));
    coding.and_then(|c| c["code"].as_str()).unwrap_or_default().to_owned()
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("a JSON document")
}

/// The facility and the Primero system, each with its own endpoint; the
/// facility's FHIR referral is submitted. Returns the message id.
async fn referral_from_the_facility(
    hub: &TestHub,
    facility: &Receiver,
    primero: &Receiver,
) -> (String, String, String) {
    let facility_secret = hub.push_organisation(FACILITY, Sector::Health, "MM/YGN", &facility.url).await;
    let primero_secret = hub.push_organisation(PRIMERO, Sector::SocialWelfare, "MM/YGN/Hlaing", &primero.url).await;
    let bundle = fixture("health/referral-bundle.json");
    let (status, receipt) = hub.post_document("/fhir/r4/Bundle", FACILITY, &["referrer", "receiver"], bundle).await;
    assert_eq!(status, 200, "{receipt}");
    let message_id = json(receipt.as_bytes())["accepted"][0]["message_id"].as_str().expect("message id").to_owned();
    (message_id, facility_secret, primero_secret)
}

async fn a_fhir_referral_reaches_primero_by_push_and_its_acceptance_returns_as_fhir_tasks(backend: Backend) {
    let hub = TestHub::start_with_push(backend, PushPolicy::dev()).await;
    let (facility, primero) = (Receiver::start(&[]).await, Receiver::start(&[]).await);
    let (message_id, facility_secret, primero_secret) = referral_from_the_facility(&hub, &facility, &primero).await;

    hub.push.scan_now().await;
    let pushed = primero.received();
    assert_eq!(pushed.len(), 1);
    assert!(signature_verifies(&primero_secret, &pushed[0]), "Standard Webhooks signature");
    assert_eq!((pushed[0].id.as_str(), pushed[0].content_type.as_str()), (message_id.as_str(), "application/json"));
    let case = json(&pushed[0].body);
    assert_eq!(case["data"]["id"], message_id.as_str(), "the case's id is the message id: {case}");
    assert!(case["data"]["services_section"].as_array().is_some_and(|s| !s.is_empty()), "{case}");
    let mut reader = hub.messages(PRIMERO, &["receiver"]).await;
    let delivered = reader.get_message(GetMessageRequest { message_id: message_id.clone() }).await.unwrap();
    assert_eq!(delivered.into_inner().message.unwrap().status(), MessageStatus::Delivered, "2xx counts as delivered");

    // Primero answers in its own format; the facility hears it in FHIR.
    for status in ["in_progress", "accepted"] {
        let transition = serde_json::json!({"data": {"id": message_id, "status": status}}).to_string();
        let (code, body) = hub.post_document("/primero/v2/referrals", PRIMERO, &["receiver"], transition.into()).await;
        assert_eq!(code, 200, "{body}");
    }
    hub.push.scan_now().await;
    let tasks = facility.received();
    assert_eq!(tasks.len(), 2);
    assert!(tasks.iter().all(|t| signature_verifies(&facility_secret, t)));
    let actions: Vec<_> = tasks.iter().map(|t| business_status(&json(&t.body), "follow-up-action")).collect();
    assert_eq!(actions, ["acknowledge", "accept"]);
    assert_eq!(business_status(&json(&tasks[1].body), "TaskBusinessStatusCS"), "3.0", "BSeR: Accepted");
    let accepted = json(&tasks[1].body);
    assert_eq!((accepted["resourceType"].as_str(), accepted["status"].as_str()), (Some("Task"), Some("accepted")));
    assert_eq!(accepted["focus"]["reference"], format!("ServiceRequest/{message_id}"));
    // BSeR: the referral's requester and owner, though the receiver posted the update.
    assert_eq!(accepted["requester"]["reference"], format!("Organization/{FACILITY}"));
    assert_eq!(accepted["owner"]["reference"], format!("Organization/{PRIMERO}"));
    assert_eq!(accepted["extension"][0]["valueReference"]["reference"], format!("Organization/{PRIMERO}"));
    hub.push.scan_now().await;
    assert_eq!(facility.received().len() + primero.received().len(), 3, "each entry pushed once");
}

async fn failures_are_retried_on_schedule_then_dead_lettered(backend: Backend) {
    let hub = TestHub::start_with_push(backend, PushPolicy::dev()).await;
    // Two 500s then success for the first referral; every attempt fails for the second.
    let primero = Receiver::start(&[500, 500]).await;
    let facility = Receiver::start(&[]).await;
    let (first, _, _) = referral_from_the_facility(&hub, &facility, &primero).await;

    hub.push.scan_now().await;
    hub.push.scan_now().await;
    assert_eq!(primero.received().len(), 1, "no retry before the 5 s wait is over");
    hub.clock.advance(time::Duration::seconds(6));
    hub.push.scan_now().await;
    assert_eq!(primero.received().len(), 2);
    hub.clock.advance(time::Duration::minutes(6));
    hub.push.scan_now().await;
    let attempts = primero.received();
    assert_eq!(attempts.len(), 3);
    assert!(attempts.iter().all(|a| a.id == first), "one webhook-id across retries");

    let broken = Receiver::start(&[500; 20]).await;
    hub.push_organisation(PRIMERO, Sector::SocialWelfare, "MM/YGN/Hlaing", &broken.url).await;
    let mut bundle = json(&fixture("health/referral-bundle.json"));
    bundle["identifier"]["value"] = "second-referral".into();
    let (status, receipt) =
        hub.post_document("/fhir/r4/Bundle", FACILITY, &["referrer"], bundle.to_string().into()).await;
    assert_eq!(status, 200, "{receipt}");
    // Each wait of the schedule, plus its jitter and a second, then one pass.
    hub.push.scan_now().await;
    for wait in RETRY_SCHEDULE.into_iter().chain([time::Duration::hours(10)]) {
        hub.clock.advance(wait * 1.1 + time::Duration::seconds(1));
        hub.push.scan_now().await;
    }
    assert_eq!(broken.received().len(), 8, "the first attempt and 7 retries, then no more");
    let dead = hub.db.store.dead_letters("DEAD").await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].attempts, dead[0].last_error.as_str()), (8, "HTTP 500"));
    let mut auditor = hub.audit(FACILITY, &["auditor"]).await;
    let entries = auditor.list_audit_entries(ListAuditEntriesRequest::default()).await.unwrap().into_inner().entries;
    let count = |action: &str| entries.iter().filter(|e| e.action == action).count();
    assert_eq!((count("DELIVERY_FAILED"), count("DELIVERY_DEAD_LETTERED")), (2 + 7, 1));
    let metrics = hub.metrics().await;
    let series = referral_hub_e2e::prometheus::parse(&metrics);
    assert_eq!(series.value("referral_hub_push_dead_letters_total", &[]), Some(1.0), "an alertable metric");
    assert_eq!(series.value("referral_hub_push_attempts_total", &[("outcome", "failed")]), Some(9.0));
}

async fn a_failing_push_is_dead_lettered_at_the_maximum_age(backend: Backend) {
    let hub = TestHub::start_with_push(backend, PushPolicy::dev()).await;
    let primero = Receiver::start(&[503; 20]).await;
    let facility = Receiver::start(&[]).await;
    referral_from_the_facility(&hub, &facility, &primero).await;
    // Attempts 11 h apart: at 0, 11, 22 and 33 h the entry is retried; at 44 h it is
    // past the 36 h maximum age and given up on, though the schedule had retries left.
    for _ in 0..7 {
        hub.push.scan_now().await;
        hub.clock.advance(time::Duration::hours(11));
    }
    assert_eq!(primero.received().len(), 5);
    let dead = hub.db.store.dead_letters("DEAD").await.unwrap();
    assert_eq!((dead.len(), dead[0].attempts), (1, 5));
}

async fn a_gone_endpoint_is_suspended_at_once(backend: Backend) {
    let hub = TestHub::start_with_push(backend, PushPolicy::dev()).await;
    let primero = Receiver::start(&[410]).await;
    let facility = Receiver::start(&[]).await;
    referral_from_the_facility(&hub, &facility, &primero).await;
    hub.push.scan_now().await;
    hub.clock.advance(time::Duration::hours(1));
    hub.push.scan_now().await;
    assert_eq!(primero.received().len(), 1, "no retry after 410 Gone");
    let dead = hub.db.store.dead_letters("DEAD").await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].last_error.contains("410"), "{}", dead[0].last_error);
}

async fn follow_ups_in_the_answer_to_a_push_are_taken(backend: Backend) {
    let hub = TestHub::start_with_push(backend, PushPolicy::dev()).await;
    let (facility, primero) = (Receiver::start(&[]).await, Receiver::start(&[]).await);
    let (message_id, _, _) = referral_from_the_facility(&hub, &facility, &primero).await;
    // Primero answers the push itself with "in progress": the message is acknowledged at once.
    primero.answer_with(serde_json::json!({"data": {"id": message_id, "status": "in_progress"}}).to_string().into());
    hub.push.scan_now().await;
    let mut reader = hub.messages(PRIMERO, &["receiver"]).await;
    let seen = reader.get_message(GetMessageRequest { message_id: message_id.clone() }).await.unwrap().into_inner();
    assert_eq!(seen.message.unwrap().status(), MessageStatus::Acknowledged);
    assert_eq!(seen.follow_ups.len(), 1);
    hub.push.scan_now().await;
    let tasks = facility.received();
    assert_eq!(tasks.len(), 1, "the facility hears of it as a FHIR Task");
    assert_eq!(business_status(&json(&tasks[0].body), "follow-up-action"), "acknowledge");
}

/// An agency whose endpoint never answers holds up only its own queue: in the
/// same pass another agency is pushed to while that request still waits out
/// its timeout (a pass went through the queues one after another, so one dead
/// endpoint delayed every agency after it by the push timeout).
async fn a_hanging_endpoint_holds_up_only_its_own_queue(backend: Backend) {
    let hub = TestHub::start_with_push(backend, PushPolicy::dev()).await;
    // The facility's queue comes first in a pass: queues are taken in id order.
    let (hanging_facility, primero) = (Receiver::start(&[0]).await, Receiver::start(&[]).await);
    referral_from_the_facility(&hub, &hanging_facility, &primero).await;
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["referrer"]).await;
    submitted(&mut welfare, sample::submit("to-the-facility", FACILITY)).await;

    let push = hub.push.clone();
    tokio::spawn(async move { push.scan_now().await });
    let guard = std::time::Duration::from_secs(60);
    tokio::time::timeout(guard, primero.wait_for(1)).await.expect("Primero is pushed to");
    tokio::time::timeout(guard, hanging_facility.wait_for(1)).await.expect("the facility is pushed to");
    let failed = AuditFilter { action: Some("DELIVERY_FAILED".into()), limit: 10, ..AuditFilter::default() };
    assert_eq!(
        hub.db.store.query_audit(&failed).await.unwrap().len(),
        0,
        "Primero was pushed to before the facility's request timed out"
    );
}

referral_hub_e2e::on_both_backends!(
    a_hanging_endpoint_holds_up_only_its_own_queue,
    a_fhir_referral_reaches_primero_by_push_and_its_acceptance_returns_as_fhir_tasks,
    follow_ups_in_the_answer_to_a_push_are_taken,
    failures_are_retried_on_schedule_then_dead_lettered,
    a_failing_push_is_dead_lettered_at_the_maximum_age,
    a_gone_endpoint_is_suspended_at_once,
);

/// Two replicas on PostgreSQL: the one holding a queue is killed while its
/// request hangs; the other takes the queue over once the lease runs out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_replica_s_queue_is_taken_over_after_its_lease() {
    let hub = TestHub::start_with_push(Backend::Postgres, PushPolicy::dev()).await;
    let primero = Receiver::start(&[0]).await; // 0: the first request never gets an answer
    let facility = Receiver::start(&[]).await;
    let (message_id, _, _) = referral_from_the_facility(&hub, &facility, &primero).await;
    let replica = hub.replica().await;
    let replica_push = replica.push.clone();
    tokio::spawn(async move { replica_push.scan_now().await });
    let guard = std::time::Duration::from_secs(20);
    tokio::time::timeout(guard, primero.wait_for(1)).await.expect("the replica pushes");
    replica.kill();

    tokio::time::timeout(guard, hub.push.scan_now()).await.expect("a pass while the lease holds");
    assert_eq!(primero.received().len(), 1, "the lease still holds: nobody pushes the entry twice at once");
    hub.clock.advance(time::Duration::seconds(61));
    tokio::time::timeout(guard, hub.push.scan_now()).await.expect("a pass after the lease ran out");
    let received = primero.received();
    assert_eq!(received.len(), 2, "taken over after the lease ran out");
    assert!(received.iter().all(|r| r.id == message_id));
}
