//! Keys change without downtime (docs/security.md "Identity"): after the hub's
//! signing key is rotated, tokens of the old and the new key both work until
//! the old one is retired; an identity provider's JWKS file is re-read when it
//! changes. The reloads are triggered instead of waited for.

use referral_hub_domain::sample;
use referral_hub_e2e::{Backend, HEALTH_ORG, ISSUER, JWKS_FILE, POLICE_ORG, SOCIAL_WELFARE_ORG, TestHub};
use referral_hub_server::keys::{HubKey, SpeaksFor, TokenRequest, retire_signing_key, rotate_signing_key};
use tonic::Code;

/// A referrer token for HEALTH signed by `key`.
fn token(key: &HubKey) -> String {
    token_for(key, HEALTH_ORG)
}

/// The code a submit with `token` gets.
async fn answer(hub: &TestHub, token: &str, request_id: &str) -> Code {
    let mut client = hub.messages_with_token(token).await;
    match client.submit_message(sample::submit(request_id, SOCIAL_WELFARE_ORG)).await {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

async fn a_rotated_signing_key_is_accepted_alongside_the_old_until_retired(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let old = token(&hub.key);
    let (old_kid, new_kid) = rotate_signing_key(hub.key_dir()).unwrap();
    assert_eq!(old_kid, hub.key.kid());
    let new_key = HubKey::load_or_create(hub.key_dir()).unwrap();
    assert_eq!(new_key.kid(), new_kid);
    let new = token(&new_key);

    hub.keys.scan_now().await;
    assert_eq!(answer(&hub, &new, "new").await, Code::Ok);
    assert_eq!(answer(&hub, &old, "old").await, Code::Ok, "tokens already issued keep working");

    assert!(retire_signing_key(hub.key_dir(), &old_kid).unwrap());
    hub.keys.scan_now().await;
    assert_eq!(answer(&hub, &old, "old-retired").await, Code::Unauthenticated);
    assert_eq!(answer(&hub, &new, "new-again").await, Code::Ok);
}

async fn an_identity_providers_jwks_is_reread_when_it_changes(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let provider_dir = tempfile::tempdir().unwrap();
    let provider = HubKey::load_or_create(provider_dir.path()).unwrap();
    let issued = token(&provider);
    assert_eq!(answer(&hub, &issued, "unknown").await, Code::Unauthenticated);

    let jwks = hub.key_dir().join(JWKS_FILE);
    std::fs::write(&jwks, serde_json::json!({ "keys": [provider.jwk()] }).to_string()).unwrap();
    hub.keys.scan_now().await;
    assert_eq!(
        answer(&hub, &issued, "unbound").await,
        Code::Unauthenticated,
        "a provider key speaks for nobody unbound"
    );
    hub.bind_key(provider.kid(), SpeaksFor::Any);
    hub.keys.scan_now().await;
    assert_eq!(answer(&hub, &issued, "published").await, Code::Ok);

    std::fs::write(&jwks, "not json").unwrap();
    hub.keys.scan_now().await;
    assert_eq!(answer(&hub, &issued, "unreadable").await, Code::Ok, "an unreadable JWKS keeps the keys in use");

    std::fs::write(&jwks, r#"{"keys": []}"#).unwrap();
    hub.keys.scan_now().await;
    assert_eq!(answer(&hub, &issued, "withdrawn").await, Code::Unauthenticated, "a key removed from the JWKS");
    assert_eq!(answer(&hub, &token(&hub.key), "own").await, Code::Ok, "the hub's own key stays");
}

/// A referrer token for `org` signed by `key`.
fn token_for(key: &HubKey, org: &str) -> String {
    let roles = vec!["referrer".to_owned()];
    let request = TokenRequest {
        issuer: ISSUER,
        audience: ISSUER,
        subject: "w",
        org,
        roles: &roles,
        ttl: time::Duration::hours(1),
    };
    key.issue(&request, time::OffsetDateTime::now_utc()).unwrap()
}

async fn an_identity_provider_key_speaks_only_for_its_organisations(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let provider_dir = tempfile::tempdir().unwrap();
    let provider = HubKey::load_or_create(provider_dir.path()).unwrap();
    let jwks = hub.key_dir().join(JWKS_FILE);
    std::fs::write(&jwks, serde_json::json!({ "keys": [provider.jwk()] }).to_string()).unwrap();
    let bound = [HEALTH_ORG.to_owned()].into_iter().collect();
    hub.bind_key(provider.kid(), SpeaksFor::Only(bound));
    hub.keys.scan_now().await;
    assert_eq!(answer(&hub, &token_for(&provider, HEALTH_ORG), "bound").await, Code::Ok);
    let police = token_for(&provider, POLICE_ORG);
    let refused = answer(&hub, &police, "not-bound").await;
    assert_eq!(refused, Code::Unauthenticated, "a provider key cannot speak for another organisation");
    let own = token_for(&hub.key, POLICE_ORG);
    assert_eq!(answer(&hub, &own, "own").await, Code::Ok, "the hub's own key speaks for any organisation");
}

referral_hub_e2e::on_both_backends!(
    an_identity_provider_key_speaks_only_for_its_organisations,
    a_rotated_signing_key_is_accepted_alongside_the_old_until_retired,
    an_identity_providers_jwks_is_reread_when_it_changes,
);
