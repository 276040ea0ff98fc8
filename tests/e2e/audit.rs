//! The audit log over real gRPC and real databases: every security-relevant
//! event lands in the chain, appends fail closed, the log is append-only, and
//! any rewrite is detected, naming the first bad entry.

use referral_hub_domain::{
    audit::{self, Entry, Stored},
    ids::OrgId,
    sample,
    timestamps::UnixMicros,
};
use referral_hub_e2e::{
    Backend, HEALTH_ORG, OVERSIGHT_ORG, SCHOOL_ORG, SOCIAL_WELFARE_ORG, TestDb, TestHub, follow_up, next_entry,
};
use referral_hub_proto::v1::{
    AckDeliveryRequest, FollowUpAction as A, GetMessageRequest, ListAuditEntriesRequest, StreamInboxRequest,
    VerifyAuditChainRequest,
};
use referral_hub_server::checkpoint;
use referral_hub_store::Store;
use sqlx::{AnyPool, Executor};
use tonic::Code;

async fn every_event_is_audited_and_the_chain_verifies(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["receiver"]).await;
    let mut refused = sample::submit("bad", SOCIAL_WELFARE_ORG);
    refused.request_id = String::new();
    assert_eq!(health.submit_message(refused).await.unwrap_err().code(), Code::InvalidArgument);
    let sent = health.submit_message(sample::submit("ok", SOCIAL_WELFARE_ORG)).await.unwrap().into_inner();
    let id = sent.message.unwrap().id;
    let mut inbox = welfare.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();
    let entry = next_entry(&mut inbox).await;
    welfare.ack_delivery(AckDeliveryRequest { position: entry.position }).await.unwrap();
    welfare.post_follow_up(follow_up(&id, A::Acknowledge, "f1")).await.unwrap();
    health.get_message(GetMessageRequest { message_id: id.clone() }).await.unwrap();
    let mut no_role = hub.messages(HEALTH_ORG, &["auditor"]).await;
    assert_eq!(
        no_role.get_message(GetMessageRequest { message_id: id.clone() }).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    let mut bad_token = hub.messages_with_token("nonsense").await;
    assert_eq!(
        bad_token.get_message(GetMessageRequest { message_id: id.clone() }).await.unwrap_err().code(),
        Code::Unauthenticated
    );

    let mut auditor = hub.audit(OVERSIGHT_ORG, &["auditor", "oversight"]).await;
    let listed = auditor.list_audit_entries(ListAuditEntriesRequest::default()).await.unwrap().into_inner();
    let actions: Vec<_> = listed.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec![
            "MESSAGE_REFUSED",
            "MESSAGE_SUBMITTED",
            "DELIVERY_ATTEMPTED",
            "DELIVERY_SUCCEEDED",
            "FOLLOW_UP_POSTED",
            "MESSAGE_READ",
            "PERMISSION_DENIED",
            "AUTHENTICATION_FAILED",
            "AUDIT_QUERIED",
        ]
    );
    let submitted = &listed.entries[1];
    assert_eq!((submitted.actor_org.as_str(), submitted.message_id.as_str()), (HEALTH_ORG, id.as_str()));
    assert_eq!(listed.entries[2].actor_org, SOCIAL_WELFARE_ORG, "the receiver's stream is the actor of delivery");
    assert!(listed.entries[4].detail.contains("MESSAGE_STATUS_ACKNOWLEDGED"));
    assert!(listed.entries[7].detail.contains("malformed token"));
    let seqs: Vec<u64> = listed.entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=9).collect::<Vec<_>>());

    // Filters and paging; the filter by message finds what touched it.
    let about = ListAuditEntriesRequest { message_id: id.clone(), page_size: 2, ..Default::default() };
    let page = auditor.list_audit_entries(about.clone()).await.unwrap().into_inner();
    assert_eq!(page.entries.len(), 2);
    let rest = ListAuditEntriesRequest { page_token: page.next_page_token, page_size: 10, ..about };
    let rest = auditor.list_audit_entries(rest).await.unwrap().into_inner();
    assert_eq!(page.entries.len() + rest.entries.len(), 5, "submit, delivery, ack, follow-up, read");

    let verified = auditor.verify_audit_chain(VerifyAuditChainRequest::default()).await.unwrap().into_inner();
    assert!(verified.intact, "{verified:?}");
    assert_eq!(verified.last_seq, verified.checked);
    assert!(verified.checked >= 12, "the queries were audited too: {}", verified.checked);

    let mut not_auditor = hub.audit(HEALTH_ORG, &["referrer", "supervisor"]).await;
    let denied = not_auditor.list_audit_entries(ListAuditEntriesRequest::default()).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
}

/// The audit append fails (a trigger refuses it), so the change it records fails too.
async fn a_failed_audit_append_fails_the_change(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let pool = raw(&hub.db).await;
    let refuse = match backend {
        Backend::Sqlite => vec![
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk says no'); END",
        ],
        Backend::Postgres => vec![
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk says no'; END $$",
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse()",
        ],
    };
    for statement in refuse {
        pool.execute(statement).await.unwrap();
    }
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let status = health.submit_message(sample::submit("m", SOCIAL_WELFARE_ORG)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert!(!status.message().contains("disk says no"), "database detail stays in the log");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM messages").fetch_one(&pool).await.unwrap();
    assert_eq!(count, 0, "no message without its audit entry");
    assert!(hub.db.store.inbox_after(&OrgId::new(SOCIAL_WELFARE_ORG), 0, 10).await.unwrap().is_empty());
}

async fn the_log_is_append_only_and_rewrites_are_named(backend: Backend) {
    let db = TestDb::new(backend).await;
    for i in 0..10 {
        db.store.audit(vec![entry(i)]).await.unwrap();
    }
    let pool = raw(&db).await;
    for statement in ["UPDATE audit_log SET detail = 'x' WHERE seq = 3", "DELETE FROM audit_log WHERE seq = 3"] {
        let error = pool.execute(statement).await.unwrap_err().to_string();
        assert!(error.contains("append-only"), "{statement}: {error}");
    }
    let intact = db.store.verify_audit(1, None).await.unwrap().unwrap();
    assert_eq!(intact.checked, 10);

    // From here on the attacker has the database owner's rights.
    drop_guards(&pool, backend).await;
    let first_bad = |store: &Store| {
        let store = store.clone();
        async move { store.verify_audit(1, None).await.unwrap().unwrap_err().seq }
    };
    for seq in [1, 5, 10] {
        let original: String = sqlx::query_scalar(&format!("SELECT detail FROM audit_log WHERE seq = {seq}"))
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.execute(format!("UPDATE audit_log SET detail = '{{}}' WHERE seq = {seq}").as_str()).await.unwrap();
        assert_eq!(first_bad(&db.store).await, seq, "edit of entry {seq}");
        pool.execute(format!("UPDATE audit_log SET detail = '{original}' WHERE seq = {seq}").as_str()).await.unwrap();
    }
    assert!(db.store.verify_audit(1, None).await.unwrap().is_ok());

    // Reordering: swap the contents of entries 4 and 7 (keeping their numbers).
    let mut log = read_all(&db.store).await;
    let (four, seven) = (log[3].clone(), log[6].clone());
    log[3] = Stored { entry: Entry { seq: 4, ..seven.entry }, ..seven };
    log[6] = Stored { entry: Entry { seq: 7, ..four.entry }, ..four };
    write_all(&pool, &log, None).await;
    assert_eq!(first_bad(&db.store).await, 4, "reordered");

    // Deleting entries: in the middle, and the last one (caught by the head).
    let log = audit::chain((0..10).map(entry));
    write_all(&pool, &log, None).await;
    pool.execute("DELETE FROM audit_log WHERE seq = 6").await.unwrap();
    assert_eq!(first_bad(&db.store).await, 6, "deleted in the middle");
    write_all(&pool, &log, None).await;
    pool.execute("DELETE FROM audit_log WHERE seq = 10").await.unwrap();
    assert_eq!(first_bad(&db.store).await, 10, "deleted at the end");

    // Inserting a forged entry after entry 2, renumbering what follows.
    let mut forged: Vec<Stored> = log.clone();
    let mut extra = log[2].clone();
    extra.entry.detail = r#"{"forged":true}"#.into();
    forged.insert(2, extra);
    for (i, stored) in forged.iter_mut().enumerate() {
        stored.entry.seq = i as u64 + 1;
    }
    write_all(&pool, &forged, None).await;
    assert_eq!(first_bad(&db.store).await, 3, "inserted");
}

async fn a_checkpoint_from_before_a_rewrite_fails(backend: Backend) {
    let db = TestDb::new(backend).await;
    let key_dir = tempfile::tempdir().unwrap();
    let key = referral_hub_server::keys::HubKey::load_or_create(key_dir.path()).unwrap();
    for i in 0..6 {
        db.store.audit(vec![entry(i)]).await.unwrap();
    }
    let taken = checkpoint::take(&db.store, &key, 42).await.unwrap();
    assert_eq!(taken.seq, 6);
    db.store.audit(vec![entry(6)]).await.unwrap();

    // The operator rotates the hub's key and takes another checkpoint: the
    // first still verifies, with the published public keys alone.
    referral_hub_server::keys::rotate_signing_key(key_dir.path()).unwrap();
    let rotated = referral_hub_server::keys::HubKey::load_or_create(key_dir.path()).unwrap();
    let later = checkpoint::take(&db.store, &rotated, 43).await.unwrap();
    drop((key, rotated, key_dir)); // From here on, public keys only.
    let keys = db.store.signing_keys().await.unwrap();
    assert_eq!(keys.len(), 2, "both keys are published");
    assert_eq!(keys[0].valid_until, Some(43), "the first until the second's first use");
    checkpoint::check(&db.store, &keys, &taken).await.expect("the log still extends the checkpoint");
    checkpoint::check(&db.store, &keys, &later).await.expect("and the later one");

    // A forger rewrites entry 2 and recomputes every hash and the head: the chain
    // verifies on its own, but no longer extends the checkpoint.
    let pool = raw(&db).await;
    drop_guards(&pool, backend).await;
    let mut entries: Vec<Entry> = read_all(&db.store).await.into_iter().map(|s| s.entry).collect();
    entries[1].actor_org = "someone-else".into();
    let forged = audit::chain(entries);
    write_all(&pool, &forged, Some(forged.last().unwrap())).await;
    assert!(db.store.verify_audit(1, None).await.unwrap().is_ok(), "a full rehash fools the chain alone");
    let error = checkpoint::check(&db.store, &keys, &taken).await.unwrap_err();
    assert!(error.to_string().contains("entry 6 has another hash"), "{error}");

    let mut tampered = taken.clone();
    tampered.seq = 5;
    assert!(checkpoint::check(&db.store, &keys, &tampered).await.unwrap_err().to_string().contains("signature"));
}

fn entry(i: u64) -> Entry {
    let at = UnixMicros::new(1_800_000_000_000_000 + i as i64);
    Entry::new(at, audit::Action::MessageRead, audit::Outcome::Success, audit::Severity::Info)
        .by(HEALTH_ORG, "", String::new())
        .about(&format!("m-{i}"), "")
}

async fn raw(db: &TestDb) -> AnyPool {
    AnyPool::connect(&db.url).await.unwrap()
}

async fn drop_guards(pool: &AnyPool, backend: Backend) {
    let statements: &[&str] = match backend {
        Backend::Sqlite => &["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"],
        Backend::Postgres => &["DROP TRIGGER audit_log_no_change ON audit_log"],
    };
    for statement in statements {
        pool.execute(*statement).await.unwrap();
    }
}

async fn read_all(store: &Store) -> Vec<Stored> {
    let filter = referral_hub_store::AuditFilter { limit: 1000, ..Default::default() };
    store.query_audit(&filter).await.unwrap()
}

/// Replaces the whole log with `log`, and the head too when given.
async fn write_all(pool: &AnyPool, log: &[Stored], head: Option<&Stored>) {
    pool.execute("DELETE FROM audit_log").await.unwrap();
    for stored in log {
        referral_hub_e2e::forger::insert_entry(pool, stored).await;
    }
    if let Some(head) = head {
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(head.entry.seq as i64)
            .bind(head.hash.clone())
            .execute(pool)
            .await
            .unwrap();
    }
}

/// The W3C trace id of a request and its source address are in its audit entry.
async fn the_trace_id_and_source_reach_the_audit_entry(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let mut request = tonic::Request::new(sample::submit("traced", SOCIAL_WELFARE_ORG));
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    request.metadata_mut().insert("traceparent", traceparent.parse().unwrap());
    let sent = health.submit_message(request).await.unwrap().into_inner().message.unwrap();
    let mut auditor = hub.audit(OVERSIGHT_ORG, &["auditor", "oversight"]).await;
    let filter = ListAuditEntriesRequest { message_id: sent.id, ..Default::default() };
    let entries = auditor.list_audit_entries(filter).await.unwrap().into_inner().entries;
    assert_eq!(entries[0].trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert!(entries[0].source_address.starts_with("127.0.0.1:"), "{}", entries[0].source_address);
    assert_eq!(entries[0].actor_roles, "referrer");
}

/// Need-to-know for audit: an organisation's auditor reads the entries that
/// concern its organisation (its own acts, messages it sent or received) and
/// nothing of others'; asking for another organisation's is refused; every
/// organisation's entries are for oversight, which only the operator grants.
async fn an_auditor_reads_only_what_concerns_its_organisation(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let to_welfare = health.submit_message(sample::submit("w", SOCIAL_WELFARE_ORG)).await.unwrap().into_inner();
    let to_welfare = to_welfare.message.unwrap().id;
    let to_school = health.submit_message(sample::submit("s", SCHOOL_ORG)).await.unwrap().into_inner();
    let to_school = to_school.message.unwrap().id;
    let mut school = hub.messages(SCHOOL_ORG, &["receiver"]).await;
    school.get_message(GetMessageRequest { message_id: to_school.clone() }).await.unwrap();

    let everything = ListAuditEntriesRequest { page_size: 1000, ..Default::default() };
    let mut welfare_auditor = hub.audit(SOCIAL_WELFARE_ORG, &["auditor"]).await;
    let seen = welfare_auditor.list_audit_entries(everything.clone()).await.unwrap().into_inner().entries;
    assert!(seen.iter().any(|e| e.message_id == to_welfare), "the referral it received concerns it");
    assert!(seen.iter().all(|e| e.message_id != to_school), "a referral between two others does not: {seen:?}");
    assert!(
        seen.iter().all(|e| e.actor_org == SOCIAL_WELFARE_ORG || e.message_id == to_welfare),
        "nothing else of other organisations: {seen:?}"
    );
    let others = ListAuditEntriesRequest { organisation_id: SCHOOL_ORG.into(), ..everything.clone() };
    let refused = welfare_auditor.list_audit_entries(others.clone()).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");

    // Oversight claimed by an organisation the operator did not grant it to is ignored.
    let mut school_claims = hub.audit(SCHOOL_ORG, &["auditor", "oversight"]).await;
    let school_seen = school_claims.list_audit_entries(everything.clone()).await.unwrap().into_inner().entries;
    assert!(school_seen.iter().any(|e| e.message_id == to_school));
    assert!(school_seen.iter().all(|e| e.message_id != to_welfare), "{school_seen:?}");

    let mut oversight = hub.audit(OVERSIGHT_ORG, &["auditor", "oversight"]).await;
    let all = oversight.list_audit_entries(everything).await.unwrap().into_inner().entries;
    assert!(all.iter().any(|e| e.message_id == to_welfare) && all.iter().any(|e| e.message_id == to_school));
    assert!(!oversight.list_audit_entries(others).await.unwrap().into_inner().entries.is_empty());
}

referral_hub_e2e::on_both_backends!(
    an_auditor_reads_only_what_concerns_its_organisation,
    the_trace_id_and_source_reach_the_audit_entry,
    every_event_is_audited_and_the_chain_verifies,
    a_failed_audit_append_fails_the_change,
    the_log_is_append_only_and_rewrites_are_named,
    a_checkpoint_from_before_a_rewrite_fails,
);
