//! Push endpoints as a weapon (issue 26, finding 3), each attack performed
//! and refused: endpoints that reach the hub's own machine, private networks
//! or cloud metadata get no POST and are dead-lettered with the reason; a
//! URL carrying credentials is refused at registration; a redirect is a
//! failed attempt, never followed; an endless answer is read only to the
//! document limit; the signing secret is sealed at rest and still signs.

use referral_hub_domain::{
    delivery::RETRY_SCHEDULE, ids::OrgId, push_policy::PushPolicy, sample, timestamps::UnixMicros,
};
use referral_hub_e2e::{
    Backend, HEALTH_ORG, OPERATOR_ORG, SOCIAL_WELFARE_ORG, TestDb, TestHub, bad_fields,
    receiver::{self, Receiver, signature_verifies},
    submitted,
};
use referral_hub_proto::v1::{
    DeliveryChannel, GetMessageRequest, MessageStatus, Organisation, OrganisationStatus, RegisterOrganisationRequest,
    Sector,
};
use referral_hub_store::AuditFilter;
use tonic::Code;

const AREA: &str = "MM/YGN/Hlaing";

/// A referral from the health centre to `org`; returns its id.
async fn refer_to(hub: &TestHub, org: &str) -> String {
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    submitted(&mut health, sample::submit(&format!("to-{org}"), org)).await.id
}

/// One push pass now, then one after each wait of the retry schedule (with
/// its jitter and a second): every entry that keeps failing is dead-lettered.
async fn push_through_the_retry_schedule(hub: &TestHub) {
    hub.push.scan_now().await;
    for wait in RETRY_SCHEDULE.into_iter().chain([time::Duration::hours(10)]) {
        hub.clock.advance(wait * 1.1 + time::Duration::seconds(1));
        hub.push.scan_now().await;
    }
}

async fn audited(hub: &TestHub, action: &str) -> usize {
    let filter = AuditFilter { action: Some(action.into()), limit: 1000, ..AuditFilter::default() };
    hub.db.store.query_audit(&filter).await.unwrap().len()
}

async fn every_refused_address_class_gets_no_post_and_is_dead_lettered_with_it(backend: Backend) {
    let hub = TestHub::start(backend).await;
    // A real sink on loopback: the endpoints that point at it must never reach it.
    let sink = Receiver::start(&[]).await;
    let port = sink.url.trim_start_matches("http://127.0.0.1:").split('/').next().unwrap().to_owned();
    let endpoints = [
        ("push-localhost", format!("https://localhost:{port}/hooks"), "loopback"),
        ("push-loopback", format!("http://127.0.0.1:{port}/hooks"), "loopback"),
        ("push-mapped-loopback", format!("https://[::ffff:127.0.0.1]:{port}/hooks"), "loopback"),
        ("push-unspecified", format!("https://0.0.0.0:{port}/hooks"), "unspecified"),
        ("push-metadata", "https://169.254.169.254/latest/meta-data".into(), "link-local"),
        ("push-link-local-v6", "https://[fe80::1]/hooks".into(), "link-local"),
        ("push-private", "https://10.0.0.5:6443/api".into(), "private"),
        ("push-ula", "https://[fd00::5]/hooks".into(), "private"),
        ("push-cgnat", "https://100.64.0.1/hooks".into(), "shared (CGNAT)"),
        ("push-multicast", "https://224.0.0.1/hooks".into(), "multicast"),
        ("push-broadcast", "https://255.255.255.255/hooks".into(), "broadcast"),
    ];
    for (org, endpoint, _) in &endpoints {
        // Written straight to the directory, as an entry from before this policy would be.
        hub.push_organisation(org, Sector::SocialWelfare, AREA, endpoint).await;
        refer_to(&hub, org).await;
    }
    push_through_the_retry_schedule(&hub).await;

    assert!(sink.received().is_empty(), "no POST reached the sink");
    let dead = hub.db.store.dead_letters("DEAD").await.unwrap();
    assert_eq!(dead.len(), endpoints.len());
    for (org, _, class) in &endpoints {
        let letter = dead.iter().find(|d| d.org_id == *org).expect("a dead letter");
        let reason = format!("endpoint refused: the address is {class},");
        assert!(letter.last_error.starts_with(&reason), "{org}: {}", letter.last_error);
        assert_eq!(letter.attempts, 8, "{org}: retried on the schedule first");
    }
    assert_eq!(audited(&hub, "DELIVERY_FAILED").await, 7 * endpoints.len());
    assert_eq!(audited(&hub, "DELIVERY_SUCCEEDED").await, 0);
}

async fn credentials_and_refused_addresses_are_refused_at_registration(backend: Backend) {
    let agency = |endpoint: &str| Organisation {
        id: "ngo-push".into(),
        name: "An agency receiving by push".into(),
        sector: Sector::SocialWelfare as i32,
        areas: vec![AREA.into()],
        channel: DeliveryChannel::Push as i32,
        status: OrganisationStatus::Active as i32,
        push_endpoint: endpoint.into(),
        ..Organisation::default()
    };
    let register = |endpoint: &str| RegisterOrganisationRequest { organisation: Some(agency(endpoint)) };
    let strict = TestHub::start(backend).await;
    let mut admin = strict.directory(OPERATOR_ORG, &["admin"]).await;
    let refused = [
        "http://127.0.0.1:1@localhost:47203/hook",
        "https://user:secret@his.example.org/hooks",
        "https://169.254.169.254/",
        "https://10.0.0.5:6443/api",
        "https://[::ffff:10.0.0.5]/api",
        "https://localhost/hooks",
        "http://127.0.0.1:47203/hook",
        "https://his.example.org/hooks#fragment",
    ];
    for endpoint in refused {
        let status = admin.register_organisation(register(endpoint)).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{endpoint}");
        assert_eq!(bad_fields(&status), ["organisation.push_endpoint"], "{endpoint}");
    }
    admin.register_organisation(register("https://his.example.org/hooks")).await.unwrap();

    // Dev mode admits plain http to loopback, never credentials.
    let dev = TestHub::start_with_push(backend, PushPolicy::dev()).await;
    let mut admin = dev.directory(OPERATOR_ORG, &["admin"]).await;
    let status = admin.register_organisation(register("http://127.0.0.1:1@localhost:47203/hook")).await.unwrap_err();
    assert_eq!(bad_fields(&status), ["organisation.push_endpoint"]);
    admin.register_organisation(register("http://127.0.0.1:47203/hook")).await.unwrap();
}

async fn a_redirect_is_a_failed_attempt_and_never_followed(backend: Backend) {
    let hub = TestHub::start_with_push(backend, PushPolicy::dev()).await;
    let (redirecting, elsewhere) = (Receiver::start(&[307; 20]).await, Receiver::start(&[]).await);
    redirecting.redirect_to(&elsewhere.url);
    hub.push_organisation("push-redirect", Sector::SocialWelfare, AREA, &redirecting.url).await;
    let message_id = refer_to(&hub, "push-redirect").await;

    hub.push.scan_now().await;
    assert_eq!(redirecting.received().len(), 1);
    assert!(elsewhere.received().is_empty(), "the signed payload went nowhere else");
    assert_eq!((audited(&hub, "DELIVERY_FAILED").await, audited(&hub, "DELIVERY_SUCCEEDED").await), (1, 0));
    let mut reader = hub.messages("push-redirect", &["receiver"]).await;
    let message = reader.get_message(GetMessageRequest { message_id }).await.unwrap().into_inner().message.unwrap();
    assert_eq!(message.status(), MessageStatus::Submitted, "not delivered");

    push_through_the_retry_schedule(&hub).await;
    assert!(elsewhere.received().is_empty());
    let dead = hub.db.store.dead_letters("DEAD").await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].attempts, dead[0].last_error.as_str()), (8, "HTTP 307: redirects are not followed"));
}

/// `VmRSS` (resident now) or `VmHWM` (peak resident) of this test's process,
/// in bytes; nextest runs each test in a process of its own.
fn memory(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with(field)).expect(field);
    line.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()).expect("a size in kB") * 1024
}

async fn an_endless_answer_is_read_only_to_the_document_limit(backend: Backend) {
    let hub = TestHub::start_with_push(backend, PushPolicy::dev()).await;
    // A first delivery, so the pusher's client and connection pool exist before measuring.
    let ordinary = Receiver::start(&[]).await;
    hub.push_organisation("push-ordinary", Sector::SocialWelfare, AREA, &ordinary.url).await;
    refer_to(&hub, "push-ordinary").await;
    hub.push.scan_now().await;
    assert_eq!(ordinary.received().len(), 1);

    let flood = receiver::flood(1 << 30).await;
    hub.push_organisation("push-flood", Sector::SocialWelfare, AREA, &flood).await;
    let message_id = refer_to(&hub, "push-flood").await;
    // The peak is measured, not what is left after: a buffered answer is freed when the attempt ends.
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak resident set to the current one");
    let before = memory("VmRSS:");
    hub.push.scan_now().await;
    let grown = memory("VmHWM:").saturating_sub(before);
    assert!(grown < 8 << 20, "a 1 GiB answer took the peak {} KiB above where it was", grown >> 10);
    let mut reader = hub.messages("push-flood", &["receiver"]).await;
    let message = reader.get_message(GetMessageRequest { message_id }).await.unwrap().into_inner().message.unwrap();
    assert_eq!(message.status(), MessageStatus::Delivered, "a 2xx is a delivery; only the answer is dropped");
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

async fn a_webhook_secret_is_sealed_at_rest_and_still_signs(backend: Backend) {
    let hub = TestHub::start_with_push(backend, PushPolicy::dev()).await;
    let sink = Receiver::start(&[]).await;
    let secret = hub.push_organisation("push-sealed", Sector::SocialWelfare, AREA, &sink.url).await;
    let key = secret.trim_start_matches("whsec_");
    let raw = hub.db.store.raw_push_secrets(&OrgId::new("push-sealed")).await.unwrap();
    assert_eq!(raw.len(), 1);
    assert!(raw[0].starts_with(&[0, 1, 2, b'k', b'1']) && !contains(&raw[0], key), "sealed under k1");
    if backend == Backend::Sqlite {
        let path = hub.db.url.trim_start_matches("sqlite://").to_owned();
        for file in [path.clone(), format!("{path}-wal")] {
            let bytes = std::fs::read(&file).unwrap_or_default();
            assert!(!contains(&bytes, key), "no secret in {file}");
        }
    }
    refer_to(&hub, "push-sealed").await;
    hub.push.scan_now().await;
    assert!(signature_verifies(&secret, &sink.received()[0]), "opened to sign");
}

/// A secret stored plain (as before migration 0015) keeps working, and the
/// re-sealing pass seals it. On the store alone: a hub's own background pass
/// could seal it at any moment.
async fn a_plain_secret_keeps_working_until_the_pass_seals_it(backend: Backend) {
    let db = TestDb::new(backend).await;
    referral_hub_server::demo::seed(&db.store).await.unwrap();
    let plain = referral_hub_server::push::webhook::new_secret().unwrap();
    db.store
        .set_push_secret(&OrgId::new(SOCIAL_WELFARE_ORG), "whsec_c2VhbGVk", false, UnixMicros::new(0))
        .await
        .unwrap();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    sqlx::query("UPDATE push_secrets SET secret = $1, previous_secret = $1 WHERE org_id = $2")
        .bind(plain.as_bytes().to_vec())
        .bind(SOCIAL_WELFARE_ORG)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let raw = db.store.raw_push_secrets(&OrgId::new(SOCIAL_WELFARE_ORG)).await.unwrap();
    assert!(raw.len() == 2 && raw.iter().all(|blob| contains(blob, &plain)), "stored plain");
    let both = Some((plain.clone(), Some(plain.clone())));
    assert_eq!(db.store.push_secrets(&OrgId::new(SOCIAL_WELFARE_ORG)).await.unwrap(), both, "read as it is");

    assert_eq!(db.store.reseal(100).await.unwrap(), 1, "one organisation's secrets");
    let raw = db.store.raw_push_secrets(&OrgId::new(SOCIAL_WELFARE_ORG)).await.unwrap();
    assert!(raw.iter().all(|blob| blob.starts_with(&[0, 1, 2, b'k', b'1']) && !contains(blob, &plain)), "sealed");
    assert_eq!(db.store.push_secrets(&OrgId::new(SOCIAL_WELFARE_ORG)).await.unwrap(), both, "and opened");
    assert_eq!(db.store.reseal(100).await.unwrap(), 0, "nothing left to seal");
}

referral_hub_e2e::on_both_backends!(
    every_refused_address_class_gets_no_post_and_is_dead_lettered_with_it,
    credentials_and_refused_addresses_are_refused_at_registration,
    a_redirect_is_a_failed_attempt_and_never_followed,
    an_endless_answer_is_read_only_to_the_document_limit,
    a_webhook_secret_is_sealed_at_rest_and_still_signs,
    a_plain_secret_keeps_working_until_the_pass_seals_it,
);
