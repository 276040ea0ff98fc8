//! Who may call what: other organisations get NOT_FOUND, missing roles get
//! PERMISSION_DENIED, and every bad token is UNAUTHENTICATED.

use referral_hub_domain::sample;
use referral_hub_domain::{
    audit::Action,
    ids::{MessageId, OrgId},
};
use referral_hub_e2e::{Backend, HEALTH_ORG, ISSUER, POLICE_ORG, SOCIAL_WELFARE_ORG, TestHub, follow_up, submitted};
use referral_hub_proto::v1::{
    AckDeliveryRequest, FollowUpAction as A, GetMessageRequest, ListMessagesRequest, Mailbox, OrganisationStatus,
    StreamInboxRequest,
};
use referral_hub_server::keys::{HubKey, TokenRequest};
use referral_hub_store::AuditFilter;
use tonic::Code;

async fn another_organisation_sees_nothing(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let sent = health.submit_message(sample::submit("m", SOCIAL_WELFARE_ORG)).await.unwrap().into_inner();
    let id = sent.message.unwrap().id;

    let mut police = hub.messages(POLICE_ORG, &["referrer", "receiver", "supervisor", "auditor", "admin"]).await;
    let get = police.get_message(GetMessageRequest { message_id: id.clone() }).await.unwrap_err();
    assert_eq!(get.code(), Code::NotFound);
    let unknown = police.get_message(GetMessageRequest { message_id: uuid_like() }).await.unwrap_err();
    assert_eq!((unknown.code(), unknown.message()), (get.code(), get.message()), "probing reveals nothing");
    for action in [A::Acknowledge, A::Withdraw, A::Note] {
        let status = police.post_follow_up(follow_up(&id, action, "x")).await.unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "{action:?}");
    }
    for mailbox in [Mailbox::Sent, Mailbox::Received] {
        let list = police.list_messages(ListMessagesRequest { mailbox: mailbox as i32, ..Default::default() });
        assert!(list.await.unwrap().into_inner().messages.is_empty());
    }
    assert!(hub.db.store.inbox_after(&OrgId::new(POLICE_ORG), 0, 10).await.unwrap().is_empty());
    assert!(hub.db.store.follow_ups(&MessageId::new(&id)).await.unwrap().is_empty(), "nothing was posted");
}

/// The code of a call that must fail.
fn denied<T>(result: Result<T, tonic::Status>) -> Code {
    result.map(drop).expect_err("the call must be refused").code()
}

fn uuid_like() -> String {
    "01900000-0000-7000-8000-000000000000".into()
}

async fn a_missing_role_is_permission_denied(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let id = submitted(&mut health, sample::submit("m", SOCIAL_WELFARE_ORG)).await.id;

    let mut auditor = hub.messages(HEALTH_ORG, &["auditor"]).await;
    assert_eq!(denied(auditor.submit_message(sample::submit("a", SOCIAL_WELFARE_ORG)).await), Code::PermissionDenied);
    assert_eq!(denied(auditor.get_message(GetMessageRequest { message_id: id.clone() }).await), Code::PermissionDenied);
    let sent = ListMessagesRequest { mailbox: Mailbox::Sent as i32, ..Default::default() };
    assert_eq!(denied(auditor.list_messages(sent.clone()).await), Code::PermissionDenied);
    assert_eq!(denied(auditor.post_follow_up(follow_up(&id, A::Note, "n")).await), Code::PermissionDenied);
    assert_eq!(denied(auditor.stream_inbox(StreamInboxRequest::default()).await), Code::PermissionDenied);
    assert_eq!(denied(auditor.ack_delivery(AckDeliveryRequest { position: 0 }).await), Code::PermissionDenied);

    // Each side's moves need that side's role.
    let mut receiver_only = hub.messages(HEALTH_ORG, &["receiver"]).await;
    assert_eq!(
        denied(receiver_only.submit_message(sample::submit("b", SOCIAL_WELFARE_ORG)).await),
        Code::PermissionDenied
    );
    assert_eq!(denied(receiver_only.list_messages(sent).await), Code::PermissionDenied);
    assert_eq!(denied(receiver_only.post_follow_up(follow_up(&id, A::Withdraw, "w")).await), Code::PermissionDenied);
    let mut welfare_referrer = hub.messages(SOCIAL_WELFARE_ORG, &["referrer"]).await;
    assert_eq!(
        denied(welfare_referrer.post_follow_up(follow_up(&id, A::Acknowledge, "k")).await),
        Code::PermissionDenied
    );
    let received = ListMessagesRequest { mailbox: Mailbox::Received as i32, ..Default::default() };
    assert_eq!(denied(welfare_referrer.list_messages(received).await), Code::PermissionDenied);
    assert!(hub.db.store.follow_ups(&MessageId::new(&id)).await.unwrap().is_empty());
}

async fn bad_tokens_are_unauthenticated(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let now = time::OffsetDateTime::now_utc();
    let roles = vec!["referrer".to_owned()];
    let claims = |org: &'static str, issuer: &'static str, audience: &'static str, ttl| TokenRequest {
        issuer,
        audience,
        subject: "w",
        org,
        roles: &roles,
        ttl,
    };
    let hour = time::Duration::hours(1);
    let sign = |request: &TokenRequest<'_>, at| hub.key.issue(request, at).unwrap();
    let valid = sign(&claims(HEALTH_ORG, ISSUER, ISSUER, hour), now);
    let other_dir = tempfile::tempdir().unwrap();
    let other_key = HubKey::load_or_create(other_dir.path()).unwrap();
    let foreign = other_key.issue(&claims(HEALTH_ORG, ISSUER, ISSUER, hour), now).unwrap();
    let for_police = sign(&claims(POLICE_ORG, ISSUER, ISSUER, hour), now);
    let parts = |t: &str| t.split('.').map(str::to_owned).collect::<Vec<_>>();
    let (v, f, p) = (parts(&valid), parts(&foreign), parts(&for_police));
    let hs256 = {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(hub.key.kid().to_owned());
        let body = full_claims(now);
        jsonwebtoken::encode(&header, &body, &jsonwebtoken::EncodingKey::from_secret(b"guess")).unwrap()
    };
    let alg_none = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), v[1]);
    let unknown_kid = format!("{}.{}.{}", b64(br#"{"alg":"EdDSA","typ":"JWT","kid":"no-such-key"}"#), v[1], v[2]);
    // Correctly signed by the hub's own key, each lacking one required claim.
    let lacking = |claim: &str| {
        let mut body = full_claims(now);
        body.remove(claim);
        signed_by_hub(&hub.key, &body)
    };
    let mut admin_claims = full_claims(now);
    admin_claims.insert("roles".into(), serde_json::json!(["admin"]));
    let tampered = format!("{}.{}.{}", v[0], b64(serde_json::to_string(&admin_claims).unwrap().as_bytes()), v[2]);

    let cases: Vec<(&str, String)> = vec![
        ("no token", String::new()),
        ("garbage", "not-a-jwt".into()),
        ("alg none", alg_none),
        ("HS256 algorithm confusion", hs256),
        ("unknown kid", unknown_kid),
        ("signed by another key", foreign),
        ("our header and claims, another key's signature", format!("{}.{}.{}", v[0], v[1], f[2])),
        ("claims swapped after signing", format!("{}.{}.{}", v[0], p[1], v[2])),
        ("payload tampered (roles raised to admin)", tampered),
        ("expired", sign(&claims(HEALTH_ORG, ISSUER, ISSUER, hour), now - time::Duration::hours(3))),
        ("not yet valid", sign(&claims(HEALTH_ORG, ISSUER, ISSUER, hour), now + hour)),
        ("wrong audience", sign(&claims(HEALTH_ORG, ISSUER, "another-hub", hour), now)),
        ("wrong issuer", sign(&claims(HEALTH_ORG, "someone-else", ISSUER, hour), now)),
        ("unknown organisation", sign(&claims("ghost-org", ISSUER, ISSUER, hour), now)),
        ("no exp", lacking("exp")),
        ("no iss", lacking("iss")),
        ("no aud", lacking("aud")),
        ("no sub", lacking("sub")),
        ("no org", lacking("org")),
        ("no roles", lacking("roles")),
        ("no iat", lacking("iat")),
        ("lifetime beyond the maximum", sign(&claims(HEALTH_ORG, ISSUER, ISSUER, time::Duration::hours(25)), now)),
    ];
    let mut full = hub.messages_with_token(&signed_by_hub(&hub.key, &full_claims(now))).await;
    full.submit_message(sample::submit("crafted", SOCIAL_WELFARE_ORG)).await.expect("the complete crafted token works");
    for (case, token) in &cases {
        let mut client = hub.messages_with_token(token).await;
        let status = client.submit_message(sample::submit("t", SOCIAL_WELFARE_ORG)).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{case}: {status:?}");
    }

    // The valid token works until its organisation is suspended.
    let mut client = hub.messages_with_token(&valid).await;
    client.submit_message(sample::submit("ok", SOCIAL_WELFARE_ORG)).await.expect("valid token");
    let mut org = hub.db.store.organisation(&OrgId::new(HEALTH_ORG)).await.unwrap().unwrap();
    org.status = OrganisationStatus::Suspended as i32;
    hub.db.store.upsert_organisation(&org).await.unwrap();
    let status = client.submit_message(sample::submit("after", SOCIAL_WELFARE_ORG)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    // Every refusal is in the audit log, with a reason but not the token: the
    // first of each reason (this minute, from this address) in full with the
    // RPC, the rest counted once the minute is over.
    hub.clock.advance(time::Duration::minutes(1));
    hub.refusals.scan_now().await;
    let filter =
        AuditFilter { action: Some(Action::AuthenticationFailed.as_str().into()), limit: 100, ..Default::default() };
    let refused = hub.db.store.query_audit(&filter).await.unwrap();
    let detail =
        |s: &referral_hub_domain::audit::Stored| serde_json::from_str::<serde_json::Value>(&s.entry.detail).unwrap();
    let (full, counts): (Vec<_>, Vec<_>) = refused.iter().partition(|s| detail(s).get("count").is_none());
    let counted: u64 = counts.iter().map(|s| detail(s)["count"].as_u64().unwrap() - 1).sum();
    assert_eq!(full.len() as u64 + counted, cases.len() as u64 + 1, "every refused call is counted once");
    assert!(full.len() < cases.len(), "refusals for the same reason share an entry: {}", full.len());
    for stored in &refused {
        assert_eq!(stored.entry.outcome, "REFUSED");
        assert!(!stored.entry.detail.contains(&v[2]), "no token material in the audit log");
    }
    assert!(full.iter().all(|s| s.entry.detail.contains("SubmitMessage")), "the first in full names the RPC");
    for reason in ["suspended", "token lacks iat", "token lifetime beyond the maximum", "malformed token"] {
        assert!(full.iter().any(|s| s.entry.detail.contains(reason)), "{reason}");
    }
}

/// Every claim a hub token has, valid for an hour from `now`, for HEALTH_ORG as a referrer.
fn full_claims(now: time::OffsetDateTime) -> serde_json::Map<String, serde_json::Value> {
    let exp = (now + time::Duration::hours(1)).unix_timestamp();
    let claims = serde_json::json!({
        "iss": ISSUER, "aud": ISSUER, "sub": "w", "org": HEALTH_ORG, "roles": ["referrer"], "exp": exp,
        "iat": now.unix_timestamp(),
    });
    claims.as_object().cloned().unwrap_or_default()
}

/// A JWT with `claims`, properly signed (EdDSA) by the hub's own key.
fn signed_by_hub(key: &HubKey, claims: &serde_json::Map<String, serde_json::Value>) -> String {
    let header = serde_json::json!({ "alg": "EdDSA", "typ": "JWT", "kid": key.kid() }).to_string();
    let input = format!("{}.{}", b64(header.as_bytes()), b64(serde_json::to_string(claims).unwrap().as_bytes()));
    format!("{input}.{}", b64(&key.sign(input.as_bytes())))
}

/// URL-safe base64 without padding, as JWT segments are encoded.
fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

referral_hub_e2e::on_both_backends!(
    another_organisation_sees_nothing,
    a_missing_role_is_permission_denied,
    bad_tokens_are_unauthenticated,
);
