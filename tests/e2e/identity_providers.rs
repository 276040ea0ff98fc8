//! Identity providers as they are (issue 27, part 5): tokens shaped as
//! Keycloak and Microsoft Entra ID issue them, signed RS256 (and PS256,
//! ES256) by keys the hub fetches over HTTPS from a JWKS URL or by OpenID
//! Connect discovery, from a real rustls server on 127.0.0.1 with a test CA.
//! Each key verifies its own algorithm only and speaks only for the
//! organisations it is bound to; the key set is refreshed when its cache
//! headers say (the hub's clock is moved, the refresher ticked), kept when the
//! provider is down, and fetched early for an unknown kid at most once per
//! cooldown. The bearer scheme is case-insensitive.

use std::sync::Arc;

use jsonwebtoken::Algorithm;
use referral_hub_domain::{key_refresh, sample, timestamps::UnixMicros, tokens::Revocation};
use referral_hub_e2e::{
    Backend, HEALTH_ORG, POLICE_ORG, SOCIAL_WELFARE_ORG, TestHub, channel_to,
    idp::{HttpsServer, IdpKey, Reply, fixture, issued_now, jwks},
};
use referral_hub_proto::v1::message_service_client::MessageServiceClient;
use referral_hub_server::{
    claims::ClaimPath,
    identity_provider::{IdentityProvider, ProviderConfig},
    keys::{KeyBindings, SpeaksFor},
    scheduler::SchedulerControl,
};
use serde_json::{Value, json};
use tonic::{Code, Request, Status, metadata::MetadataValue};

/// Where the Keycloak realm lives on the test server, and its key set.
const REALM: &str = "/realms/agencies";
const KEYCLOAK_CERTS: &str = "/realms/agencies/protocol/openid-connect/certs";
/// The Entra tenant, its discovery document and its key set.
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const ENTRA_KEYS: &str = "/common/discovery/v2.0/keys";
/// The hub's application (client) id in Entra: the `aud` of its tokens.
const ENTRA_APP_ID: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

/// The code a submit to SOCIAL_WELFARE gets with `authorization: <scheme> <token>`.
async fn answer_with(hub: &TestHub, scheme: &str, token: &str, request_id: &str) -> Code {
    let header: MetadataValue<_> = format!("{scheme} {token}").parse().expect("header text");
    let add = move |mut request: Request<()>| -> Result<Request<()>, Status> {
        request.metadata_mut().insert("authorization", header.clone());
        Ok(request)
    };
    let mut client = MessageServiceClient::with_interceptor(channel_to(hub.address).await, add);
    match client.submit_message(sample::submit(request_id, SOCIAL_WELFARE_ORG)).await {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

async fn answer(hub: &TestHub, token: &str, request_id: &str) -> Code {
    answer_with(hub, "Bearer", token, request_id).await
}

/// A provider configuration for `issuer`, trusting `server`'s CA, whose keys
/// speak for `orgs`.
fn config(server: &HttpsServer, issuer: &str, jwks_url: Option<&str>, orgs: &[&str]) -> ProviderConfig {
    ProviderConfig {
        issuer: issuer.to_owned(),
        audience: "referral-hub".into(),
        jwks_url: jwks_url.map(str::to_owned),
        ca_pem: Some(server.ca_pem.clone()),
        org_claim: ClaimPath::parse("org").unwrap(),
        roles_claim: ClaimPath::parse("realm_access.roles").unwrap(),
        organisations: SpeaksFor::Only(orgs.iter().map(|o| o.to_string()).collect()),
        bindings: KeyBindings::default(),
    }
}

/// Starts the provider (its first fetch) and a hub verifying its tokens;
/// the refresher runs only when ticked.
async fn hub_with(backend: Backend, config: ProviderConfig) -> (TestHub, Arc<SchedulerControl>) {
    let control = SchedulerControl::every(std::time::Duration::from_secs(3600));
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let provider = IdentityProvider::start(config, control.clone(), now).await.expect("the provider starts");
    (TestHub::start_with_provider(backend, provider).await, control)
}

/// A Keycloak access token for `org`, signed by `key`.
fn keycloak_token(server: &HttpsServer, key: &IdpKey, org: &str) -> String {
    let (header, claims) = fixture("keycloak-access-token");
    let claims = issued_now(&claims, 300, &json!({ "iss": server.url(REALM), "org": org }));
    key.sign(&header, &claims)
}

async fn keycloak_rs256_tokens_from_a_jwks_url_speak_only_for_their_organisation(backend: Backend) {
    let server = HttpsServer::start().await;
    let key = IdpKey::rsa("kc-rs256", Algorithm::RS256, true);
    server.answer(KEYCLOAK_CERTS, Reply::json(&jwks(&[&key]), &[("cache-control", "no-cache")]));
    let url = server.url(KEYCLOAK_CERTS);
    let (hub, _) = hub_with(backend, config(&server, &server.url(REALM), Some(&url), &[HEALTH_ORG])).await;

    let health = keycloak_token(&server, &key, HEALTH_ORG);
    assert_eq!(answer(&hub, &health, "kc-health").await, Code::Ok, "an RS256 Keycloak token is accepted");
    let police = keycloak_token(&server, &key, POLICE_ORG);
    assert_eq!(answer(&hub, &police, "kc-police").await, Code::Unauthenticated, "another organisation's is not");
    let (header, claims) = fixture("keycloak-access-token");
    let wrong_audience = issued_now(&claims, 300, &json!({ "iss": server.url(REALM), "aud": "account" }));
    assert_eq!(answer(&hub, &key.sign(&header, &wrong_audience), "kc-aud").await, Code::Unauthenticated);
    let own_issuer = issued_now(&claims, 300, &json!({ "iss": referral_hub_e2e::ISSUER }));
    assert_eq!(answer(&hub, &key.sign(&header, &own_issuer), "kc-iss").await, Code::Unauthenticated, "its own iss");
    let too_long = issued_now(&claims, 25 * 3600, &json!({ "iss": server.url(REALM) }));
    assert_eq!(answer(&hub, &key.sign(&header, &too_long), "kc-long").await, Code::Unauthenticated);
    assert_eq!(answer(&hub, &hub.token(POLICE_ORG, &["referrer"]), "own").await, Code::Ok, "the hub's own keys stay");
}

/// An Entra discovery document for the tenant on `server`.
fn entra_discovery(server: &HttpsServer, issuer: &str) -> Value {
    json!({
        "token_endpoint": server.url(&format!("/{TENANT}/oauth2/v2.0/token")),
        "jwks_uri": server.url(ENTRA_KEYS),
        "issuer": issuer,
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "authorization_endpoint": server.url(&format!("/{TENANT}/oauth2/v2.0/authorize")),
    })
}

async fn entra_tokens_found_by_oidc_discovery_are_read_by_their_claim_paths(backend: Backend) {
    let server = HttpsServer::start().await;
    let issuer = server.url(&format!("/{TENANT}/v2.0"));
    let discovery = format!("/{TENANT}/v2.0/.well-known/openid-configuration");
    server.answer(&discovery, Reply::json(&entra_discovery(&server, &issuer), &[]));
    let key = IdpKey::rsa("KQ2tAcrE7lBaVVGBmc5FobgdJo4", Algorithm::RS256, false);
    let cache = [("cache-control", "max-age=86400, private")];
    server.answer(ENTRA_KEYS, Reply::json(&jwks(&[&key]), &cache));
    let config = ProviderConfig {
        audience: ENTRA_APP_ID.into(),
        org_claim: ClaimPath::parse("extn.org").unwrap(),
        roles_claim: ClaimPath::parse("roles").unwrap(),
        ..config(&server, &issuer, None, &[POLICE_ORG])
    };
    let (hub, _) = hub_with(backend, config).await;
    assert_eq!((server.hits(&discovery), server.hits(ENTRA_KEYS)), (1, 1));

    let (header, claims) = fixture("entra-v2-access-token");
    let police = issued_now(&claims, 3600, &json!({ "iss": issuer }));
    assert_eq!(answer(&hub, &key.sign(&header, &police), "entra").await, Code::Ok, "app roles, extn.org, no jti");
    // Entra signs every tenant's tokens with the same keys: the issuer decides.
    let other_tenant = issued_now(&claims, 3600, &json!({ "iss": server.url("/another-tenant/v2.0") }));
    assert_eq!(answer(&hub, &key.sign(&header, &other_tenant), "tenant").await, Code::Unauthenticated);
    let health = issued_now(&claims, 3600, &json!({ "iss": issuer, "extn.org": HEALTH_ORG }));
    assert_eq!(answer(&hub, &key.sign(&header, &health), "entra-health").await, Code::Unauthenticated);

    // Without a jti, Entra's `uti` names the token for revocation.
    let revoked = issued_now(&claims, 3600, &json!({ "iss": issuer, "uti": "revoked-uti" }));
    let revoked = key.sign(&header, &revoked);
    assert_eq!(answer(&hub, &revoked, "before-revoke").await, Code::Ok);
    let revocation = Revocation::Token { jti: "revoked-uti".into() };
    let at = referral_hub_server::clock::micros(referral_hub_server::clock::Clock::now(&hub.clock));
    let entry = {
        use referral_hub_domain::audit::{Action, Entry, Outcome, Severity};
        Entry::new(UnixMicros::default(), Action::AdminChange, Outcome::Success, Severity::Warning)
            .with_detail(r#"{"change":"token revoke"}"#.into())
    };
    hub.db.store.revoke_tokens(&revocation, UnixMicros::new(at), entry).await.expect("revoke");
    hub.revocations.scan_now().await;
    assert_eq!(answer(&hub, &revoked, "after-revoke").await, Code::Unauthenticated);
    assert_eq!(answer(&hub, &key.sign(&header, &police), "others-stay").await, Code::Ok);
}

async fn each_key_verifies_its_own_algorithm_only(backend: Backend) {
    let server = HttpsServer::start().await;
    let (rs256, ps256, es256) =
        (IdpKey::rsa("rs", Algorithm::RS256, true), IdpKey::rsa("ps", Algorithm::PS256, true), IdpKey::es256("es"));
    server.answer(KEYCLOAK_CERTS, Reply::json(&jwks(&[&rs256, &ps256, &es256]), &[]));
    let url = server.url(KEYCLOAK_CERTS);
    let (hub, _) = hub_with(backend, config(&server, &server.url(REALM), Some(&url), &[HEALTH_ORG])).await;
    let (header, claims) = fixture("keycloak-access-token");
    let claims = issued_now(&claims, 300, &json!({ "iss": server.url(REALM) }));
    for key in [&rs256, &ps256, &es256] {
        let token = key.sign(&header, &claims);
        assert_eq!(answer(&hub, &token, &format!("ok-{}", key.kid)).await, Code::Ok, "{:?}", key.algorithm);
    }
    let as_alg = |key: &IdpKey, algorithm: Algorithm| {
        let header = json!({ "alg": format!("{algorithm:?}"), "typ": "JWT", "kid": key.kid });
        key.sign_as(algorithm, &header, &claims)
    };
    let mismatches = [
        ("RS256 under the PS256 key", as_alg(&ps256, Algorithm::RS256)),
        ("PS256 under the RS256 key", as_alg(&rs256, Algorithm::PS256)),
    ];
    for (case, token) in mismatches {
        assert_eq!(answer(&hub, &token, case).await, Code::Unauthenticated, "{case}");
    }
    let payload = claims.to_string();
    let segment = |text: &str| base64_url(text.as_bytes());
    let none = format!("{}.{}.", segment(r#"{"alg":"none","typ":"JWT","kid":"rs"}"#), segment(&payload));
    assert_eq!(answer(&hub, &none, "none").await, Code::Unauthenticated, "alg none");
    let mut hs = jsonwebtoken::Header::new(Algorithm::HS256);
    hs.kid = Some("rs".into());
    let modulus = rs256.jwk["n"].as_str().unwrap().as_bytes();
    let hs256 = jsonwebtoken::encode(&hs, &claims, &jsonwebtoken::EncodingKey::from_secret(modulus)).unwrap();
    assert_eq!(answer(&hub, &hs256, "hs256").await, Code::Unauthenticated, "HS256 keyed with the public key");
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn the_key_set_follows_its_cache_headers_and_outlives_an_outage(backend: Backend) {
    let server = HttpsServer::start().await;
    let (first, second) = (IdpKey::rsa("first", Algorithm::RS256, true), IdpKey::es256("second"));
    server.answer(KEYCLOAK_CERTS, Reply::json(&jwks(&[&first]), &[("cache-control", "public, max-age=600")]));
    let url = server.url(KEYCLOAK_CERTS);
    let (hub, refresh) = hub_with(backend, config(&server, &server.url(REALM), Some(&url), &[HEALTH_ORG])).await;
    let old = keycloak_token(&server, &first, HEALTH_ORG);
    assert_eq!(answer(&hub, &old, "first").await, Code::Ok);

    hub.clock.advance(time::Duration::seconds(599));
    refresh.scan_now().await;
    assert_eq!(server.hits(KEYCLOAK_CERTS), 1, "fresh for max-age=600: not fetched again");

    server.answer(KEYCLOAK_CERTS, Reply::status(503));
    hub.clock.advance(time::Duration::seconds(2));
    refresh.scan_now().await;
    assert_eq!(server.hits(KEYCLOAK_CERTS), 2, "stale: fetched");
    assert_eq!(answer(&hub, &old, "outage").await, Code::Ok, "the provider is down: the last good set stays");

    let rotated = jwks(&[&second]);
    server.answer(KEYCLOAK_CERTS, Reply::json(&rotated, &[("expires", "Thu, 01 Jan 1970 00:00:00 GMT")]));
    hub.clock.advance(time::Duration::seconds(key_refresh::AFTER_FAILURE_SECONDS as i64 - 1));
    refresh.scan_now().await;
    assert_eq!(server.hits(KEYCLOAK_CERTS), 2, "a failed fetch is tried again after a pause, not at once");
    hub.clock.advance(time::Duration::seconds(1));
    refresh.scan_now().await;
    assert_eq!(server.hits(KEYCLOAK_CERTS), 3);
    let new = keycloak_token(&server, &second, HEALTH_ORG);
    assert_eq!(answer(&hub, &new, "rotated").await, Code::Ok, "the new key (ES256)");

    hub.clock.advance(time::Duration::seconds(key_refresh::FLOOR_SECONDS as i64 - 1));
    refresh.scan_now().await;
    assert_eq!(server.hits(KEYCLOAK_CERTS), 3, "an Expires in the past still keeps the set for the floor");
    // (Asked last: its kid, unknown now, would ask for a fetch.)
    assert_eq!(answer(&hub, &old, "withdrawn").await, Code::Unauthenticated, "a key gone from the set");
}

async fn an_unknown_kid_fetches_the_set_at_most_once_per_cooldown(backend: Backend) {
    let server = HttpsServer::start().await;
    let (first, second) = (IdpKey::rsa("first", Algorithm::RS256, true), IdpKey::rsa("second", Algorithm::PS256, true));
    let cache = [("cache-control", "max-age=3600")];
    server.answer(KEYCLOAK_CERTS, Reply::json(&jwks(&[&first]), &cache));
    let url = server.url(KEYCLOAK_CERTS);
    let (hub, refresh) = hub_with(backend, config(&server, &server.url(REALM), Some(&url), &[HEALTH_ORG])).await;
    server.answer(KEYCLOAK_CERTS, Reply::json(&jwks(&[&first, &second]), &cache));
    let new = keycloak_token(&server, &second, HEALTH_ORG);

    assert_eq!(answer(&hub, &new, "new-1").await, Code::Unauthenticated, "not known yet");
    refresh.scan_now().await;
    assert_eq!(server.hits(KEYCLOAK_CERTS), 1, "within the cooldown of the fetch at start");
    hub.clock.advance(time::Duration::seconds(key_refresh::UNKNOWN_KID_COOLDOWN_SECONDS as i64));
    refresh.scan_now().await;
    assert_eq!(server.hits(KEYCLOAK_CERTS), 2, "the unknown kid asked for a fetch");
    assert_eq!(answer(&hub, &new, "new-2").await, Code::Ok, "the provider's new key");

    let (_, claims) = fixture("keycloak-access-token");
    let claims = issued_now(&claims, 300, &json!({ "iss": server.url(REALM) }));
    for n in 0..5 {
        let forged =
            second.sign_as(Algorithm::PS256, &json!({ "alg": "PS256", "kid": format!("made-up-{n}") }), &claims);
        assert_eq!(answer(&hub, &forged, &format!("made-up-{n}")).await, Code::Unauthenticated);
    }
    refresh.scan_now().await;
    assert_eq!(server.hits(KEYCLOAK_CERTS), 2, "made-up kids cost no fetch within the cooldown");
    hub.clock.advance(time::Duration::seconds(key_refresh::UNKNOWN_KID_COOLDOWN_SECONDS as i64));
    refresh.scan_now().await;
    refresh.scan_now().await;
    assert_eq!(server.hits(KEYCLOAK_CERTS), 3, "and one fetch for all of them after it");
}

async fn the_bearer_scheme_is_case_insensitive(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let token = hub.token(HEALTH_ORG, &["referrer"]);
    for (n, scheme) in ["bearer", "BEARER", "Bearer"].into_iter().enumerate() {
        assert_eq!(answer_with(&hub, scheme, &token, &format!("scheme-{n}")).await, Code::Ok, "{scheme}");
    }
    assert_eq!(answer_with(&hub, "Basic", &token, "basic").await, Code::Unauthenticated);
    let post = |authorization: String| {
        let url = format!("http://{}/fhir/r4/Bundle", hub.address);
        reqwest::Client::new().post(url).header("authorization", authorization).body("{}").send()
    };
    let token = hub.token(HEALTH_ORG, &["referrer"]);
    let refused = post(format!("basic {token}")).await.expect("the hub answers HTTP").status().as_u16();
    assert_eq!(refused, 401, "without a bearer token");
    let lower = post(format!("bearer {token}")).await.expect("the hub answers HTTP").status().as_u16();
    assert_ne!(lower, 401, "an adapter takes `bearer` too (and judges the empty document)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_without_a_usable_key_stops_the_start_with_the_reason() {
    let server = HttpsServer::start().await;
    let start = |config| async {
        let control = SchedulerControl::every(std::time::Duration::from_secs(3600));
        match IdentityProvider::start(config, control, 0).await {
            Ok(_) => panic!("started"),
            Err(error) => error.to_string(),
        }
    };
    let unusable = json!({ "keys": [
        { "kty": "oct", "kid": "shared", "k": "c2VjcmV0" },
        jwks(&[])["keys"][0].clone(),
    ]});
    server.answer(KEYCLOAK_CERTS, Reply::json(&unusable, &[]));
    let url = server.url(KEYCLOAK_CERTS);
    let message = start(config(&server, &server.url(REALM), Some(&url), &[HEALTH_ORG])).await;
    assert!(message.contains("no usable signing key"), "{message}");
    assert!(message.contains("shared: a symmetric key"), "{message}");
    assert!(message.contains("enc-key: not for signatures"), "{message}");

    server.answer(KEYCLOAK_CERTS, Reply::status(500));
    let message = start(config(&server, &server.url(REALM), Some(&url), &[HEALTH_ORG])).await;
    assert!(message.contains("500"), "an unreachable provider stops the start too: {message}");

    let issuer = server.url(&format!("/{TENANT}/v2.0"));
    let discovery = format!("/{TENANT}/v2.0/.well-known/openid-configuration");
    server.answer(&discovery, Reply::json(&entra_discovery(&server, "https://login.example.org/other/v2.0"), &[]));
    let message = start(config(&server, &issuer, None, &[HEALTH_ORG])).await;
    assert!(message.contains("is not the configured"), "OIDC Discovery §4.3: {message}");

    let plain = format!("http://{}{KEYCLOAK_CERTS}", server.address);
    let message = start(config(&server, &server.url(REALM), Some(&plain), &[HEALTH_ORG])).await;
    assert!(message.contains("https only"), "{message}");

    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), unusable.to_string()).unwrap();
    let message = referral_hub_server::keys::check_jwks_file(file.path()).unwrap_err().to_string();
    assert!(message.contains("no usable signing key") && message.contains("shared: a symmetric key"), "{message}");
}

referral_hub_e2e::on_both_backends!(
    keycloak_rs256_tokens_from_a_jwks_url_speak_only_for_their_organisation,
    entra_tokens_found_by_oidc_discovery_are_read_by_their_claim_paths,
    each_key_verifies_its_own_algorithm_only,
    the_key_set_follows_its_cache_headers_and_outlives_an_outage,
    an_unknown_kid_fetches_the_set_at_most_once_per_cooldown,
    the_bearer_scheme_is_case_insensitive,
);
