//! Tokens can be revoked (issue 26, finding 7): by `jti`, by organisation and
//! subject, or every token of an organisation issued before a time. A
//! revocation recorded in the database reaches each replica at its next
//! refresh, triggered here instead of waited for, and a token the replica
//! verified (and remembered) before is refused from then on.

use referral_hub_domain::{audit::Action, ids::OrgId, sample, timestamps::UnixMicros, tokens::Revocation};
use referral_hub_e2e::{Backend, Bearer, HEALTH_ORG, ISSUER, POLICE_ORG, SOCIAL_WELFARE_ORG, TestHub, channel_to};
use referral_hub_proto::v1::message_service_client::MessageServiceClient;
use referral_hub_server::keys::{IssuedToken, TokenRequest};
use referral_hub_store::AuditFilter;
use time::OffsetDateTime;
use tonic::Code;

/// A referrer token for `org` / `subject`, issued by the hub's key at `at`.
fn issued(hub: &TestHub, org: &str, subject: &str, at: OffsetDateTime) -> IssuedToken {
    let roles = vec!["referrer".to_owned()];
    let request =
        TokenRequest { issuer: ISSUER, audience: ISSUER, subject, org, roles: &roles, ttl: time::Duration::hours(1) };
    hub.key.issue_recorded(&request, at).expect("issue")
}

/// The code a submit with `token` gets at `address`.
async fn answer(address: std::net::SocketAddr, token: &str, request_id: &str) -> Code {
    let mut client = MessageServiceClient::with_interceptor(channel_to(address).await, Bearer::new(token));
    match client.submit_message(sample::submit(request_id, SOCIAL_WELFARE_ORG)).await {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

/// An operator's revocation, audited like the CLI's.
fn audit_entry() -> referral_hub_domain::audit::Entry {
    use referral_hub_domain::audit::{Entry, Outcome, Severity};
    Entry::new(UnixMicros::default(), Action::AdminChange, Outcome::Success, Severity::Warning)
        .with_detail(r#"{"change":"token revoke"}"#.into())
}

async fn a_revoked_token_is_unauthenticated_each_way_on_every_replica(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let replica = hub.replica().await;
    let now = OffsetDateTime::now_utc();
    let earlier = now - time::Duration::minutes(5);
    let by_jti = issued(&hub, HEALTH_ORG, "w-1", now);
    let by_subject = issued(&hub, HEALTH_ORG, "w-2", earlier);
    let other_subject = issued(&hub, HEALTH_ORG, "w-3", earlier);
    let old_police = issued(&hub, POLICE_ORG, "p-1", earlier);
    let new_police = issued(&hub, POLICE_ORG, "p-2", now);
    let all = [&by_jti, &by_subject, &other_subject, &old_police, &new_police];
    for (n, token) in all.iter().enumerate() {
        // Verified (and remembered) by both replicas before any revocation.
        assert_eq!(answer(hub.address, &token.token, &format!("before-{n}")).await, Code::Ok);
        assert_eq!(answer(replica.address, &token.token, &format!("before-r{n}")).await, Code::Ok);
    }

    let at = micros(now);
    let revocations = [
        Revocation::Token { jti: by_jti.jti.clone() },
        Revocation::Subject { org: HEALTH_ORG.into(), subject: "w-2".into(), issued_before: secs(now) - 60 },
        Revocation::Organisation { org: POLICE_ORG.into(), issued_before: secs(now) - 60 },
    ];
    for revocation in &revocations {
        hub.db.store.revoke_tokens(revocation, UnixMicros::new(at), audit_entry()).await.expect("revoke");
    }
    hub.revocations.scan_now().await;
    assert_eq!(answer(replica.address, &by_jti.token, "stale").await, Code::Ok, "the replica has not refreshed yet");
    replica.revocations.scan_now().await;
    for address in [hub.address, replica.address] {
        assert_eq!(answer(address, &by_jti.token, "jti").await, Code::Unauthenticated, "by jti");
        assert_eq!(answer(address, &by_subject.token, "subject").await, Code::Unauthenticated, "by subject");
        assert_eq!(answer(address, &old_police.token, "org").await, Code::Unauthenticated, "issued before");
    }
    assert_eq!(answer(hub.address, &other_subject.token, "other").await, Code::Ok, "another subject");
    assert_eq!(answer(hub.address, &new_police.token, "newer").await, Code::Ok, "issued after the cutoff");

    let filter = AuditFilter { action: Some(Action::AuthenticationFailed.as_str().into()), ..Default::default() };
    let refused = hub.db.store.query_audit(&AuditFilter { limit: 100, ..filter }).await.unwrap();
    assert!(refused.iter().any(|s| s.entry.detail.contains("token revoked")), "the refusal is audited");
    let changes = AuditFilter { action: Some(Action::AdminChange.as_str().into()), limit: 100, ..Default::default() };
    assert_eq!(hub.db.store.query_audit(&changes).await.unwrap().len(), revocations.len(), "each revocation audited");
}

async fn issued_tokens_are_listed_by_metadata(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let token = issued(&hub, HEALTH_ORG, "w-1", OffsetDateTime::now_utc());
    let row = referral_hub_store::IssuedTokenRow {
        jti: token.jti.clone(),
        org_id: HEALTH_ORG.into(),
        subject: "w-1".into(),
        roles: "referrer".into(),
        kid: token.kid.clone(),
        issued_at: UnixMicros::new(token.issued_at * 1_000_000),
        expires_at: UnixMicros::new(token.expires_at * 1_000_000),
    };
    hub.db.store.record_issued_token(&row, audit_entry()).await.expect("record");
    let health = OrgId::new(HEALTH_ORG);
    let listed =
        hub.db.store.issued_tokens(Some(&health), Some(UnixMicros::new(micros(OffsetDateTime::now_utc()))), 10);
    assert_eq!(listed.await.unwrap(), vec![row.clone()]);
    assert!(hub.db.store.issued_tokens(Some(&OrgId::new(POLICE_ORG)), None, 10).await.unwrap().is_empty());
    let after_expiry = (token.expires_at + 1) * 1_000_000;
    assert!(
        hub.db.store.issued_tokens(None, Some(UnixMicros::new(after_expiry)), 10).await.unwrap().is_empty(),
        "expired ones hidden"
    );
    assert_eq!(hub.db.store.issued_tokens(None, None, 10).await.unwrap(), vec![row]);
}

fn secs(at: OffsetDateTime) -> u64 {
    u64::try_from(at.unix_timestamp()).expect("after 1970")
}

fn micros(at: OffsetDateTime) -> i64 {
    referral_hub_server::clock::micros(at)
}

referral_hub_e2e::on_both_backends!(
    a_revoked_token_is_unauthenticated_each_way_on_every_replica,
    issued_tokens_are_listed_by_metadata,
);
