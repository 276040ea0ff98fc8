use referral_hub_domain::sample;
use referral_hub_e2e::{Backend, HEALTH_ORG, SOCIAL_WELFARE_ORG, TestHub};

async fn submit_works(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let response = health
        .submit_message(sample::submit("r1", SOCIAL_WELFARE_ORG))
        .await
        .expect("submit")
        .into_inner();
    assert!(!response.replayed);
}

referral_hub_e2e::on_both_backends!(submit_works);
