//! Store conformance: the guarantees the server builds on, checked directly
//! against each backend.

use std::collections::BTreeSet;

use referral_hub_domain::{
    audit::Entry,
    ids::{MessageId, OrgId},
    timestamps::UnixMicros,
    wire::{FollowUpAction, MessageKind, MessageStatus, RiskLevel},
};
use referral_hub_e2e::{Backend, HEALTH_ORG, POLICE_ORG, SOCIAL_WELFARE_ORG, TestDb};
use referral_hub_store::{
    ChildKey, ConsentRow, Dimension, FollowUpRecord, Mailbox, MessageFilter, MessageRecord, Population, StatsQuery,
    Store, StoreError,
};

async fn seeded(backend: Backend) -> TestDb {
    let db = TestDb::new(backend).await;
    referral_hub_server::demo::seed(&db.store).await.unwrap();
    db
}

fn message(sender: &str, request_id: &str) -> MessageRecord {
    MessageRecord {
        id: MessageId::from(uuid::Uuid::now_v7().to_string()),
        sender_org: sender.into(),
        sender_subject: "w".into(),
        recipient_org: SOCIAL_WELFARE_ORG.into(),
        request_id: request_id.into(),
        request_hash: vec![1; 32],
        kind: MessageKind::ServiceReferral,
        status: MessageStatus::Submitted,
        risk_level: RiskLevel::High,
        child_link_key: None,
        created_at: UnixMicros::new(1),
        updated_at: UnixMicros::new(1),
        acknowledge_by: UnixMicros::new(2),
        respond_by: UnixMicros::new(3),
        body: vec![9, 9],
        consent_id: None,
        legal_basis: None,
        hold_reason: None,
        area: None,
        acknowledge_overdue_at: None,
        respond_overdue_at: None,
        rerouted_from: None,
        sender_sector: None,
        recipient_sector: None,
        sex: None,
        age_band: None,
        displacement: None,
        owner_org: None,
        sender_view_status: None,
        re_referral_of: None,
        traceparent: None,
        acknowledged_at: None,
        accepted_at: None,
        purged_at: None,
    }
}

/// An audit entry for store-level writes.
fn audit() -> Entry {
    Entry { action: "TEST".into(), ..Entry::default() }
}

fn follow_up(message_id: &str, request_id: &str, action: FollowUpAction, after: MessageStatus) -> FollowUpRecord {
    FollowUpRecord {
        id: uuid::Uuid::now_v7().to_string(),
        message_id: message_id.into(),
        author_org: SOCIAL_WELFARE_ORG.into(),
        author_subject: "w".into(),
        request_id: request_id.into(),
        request_hash: vec![2; 32],
        action,
        status_after: after,
        created_at: UnixMicros::new(5),
        body: vec![],
        hidden_from_sender: false,
    }
}

async fn concurrent_inserts_get_gap_free_positions(backend: Backend) {
    let db = seeded(backend).await;
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store: Store = db.store.clone();
            let sender = if i % 2 == 0 { HEALTH_ORG } else { POLICE_ORG };
            tokio::spawn(async move {
                store.insert_message(&message(sender, &format!("r{i}")), None, vec![], vec![audit()]).await
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for task in tasks {
        assert!(ids.insert(task.await.unwrap().unwrap().id), "distinct ids");
    }
    let inbox = db.store.inbox_after(&OrgId::new(SOCIAL_WELFARE_ORG), 0, 1000).await.unwrap();
    let positions: Vec<u64> = inbox.iter().map(|e| e.position).collect();
    assert_eq!(positions, (1..=40).collect::<Vec<_>>());
    assert_eq!(inbox.iter().map(|e| e.message().unwrap().id.clone()).collect::<BTreeSet<_>>(), ids);
    let page = db.store.inbox_after(&OrgId::new(SOCIAL_WELFARE_ORG), 38, 1000).await.unwrap();
    assert_eq!(page.iter().map(|e| e.position).collect::<Vec<_>>(), vec![39, 40]);
    // Concurrent appends never fork the audit chain.
    let verified = db.store.verify_audit(1, None).await.unwrap().expect("intact chain");
    assert_eq!((verified.checked, verified.last_seq), (40, 40));
}

/// Submissions that arrive together share one group transaction; a retry
/// beaten to it and a row the database refuses fail alone, and everything
/// else in the group is stored whole, in order, on one chain.
async fn a_bad_submission_fails_alone_in_its_group(backend: Backend) {
    let db = seeded(backend).await;
    let submit = |record: MessageRecord| {
        let store: Store = db.store.clone();
        tokio::spawn(async move { (record.clone(), store.insert_message(&record, None, vec![], vec![audit()]).await) })
    };
    let mut tasks = Vec::new();
    for i in 0..40 {
        tasks.push(submit(message(HEALTH_ORG, &format!("r{i}"))));
        if i % 4 == 0 {
            // The same request id with another body, and a row whose recipient does not exist.
            tasks.push(submit(MessageRecord { request_hash: vec![7; 32], ..message(HEALTH_ORG, &format!("r{i}")) }));
            tasks.push(submit(MessageRecord { recipient_org: "not-registered".into(), ..message(POLICE_ORG, "x") }));
        }
    }
    let (mut stored, mut conflicts, mut refused) = (BTreeSet::new(), 0, 0);
    for task in tasks {
        match task.await.unwrap() {
            (record, Ok(written)) => {
                assert_eq!(written, record);
                assert_eq!(
                    db.store.message_by_request(&OrgId::new(HEALTH_ORG), &record.request_id).await.unwrap(),
                    Some(record)
                );
                stored.insert(written.id);
            }
            (_, Err(StoreError::Conflict)) => conflicts += 1,
            (record, Err(StoreError::Database(_))) if record.recipient_org == "not-registered" => refused += 1,
            (_, Err(other)) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((stored.len(), conflicts, refused), (40, 10, 10));
    let inbox = db.store.inbox_after(&OrgId::new(SOCIAL_WELFARE_ORG), 0, 1000).await.unwrap();
    assert_eq!(inbox.iter().map(|e| e.position).collect::<Vec<_>>(), (1..=40).collect::<Vec<_>>());
    assert_eq!(inbox.iter().map(|e| e.message().unwrap().id.clone()).collect::<BTreeSet<_>>(), stored);
    let verified = db.store.verify_audit(1, None).await.unwrap().expect("intact chain");
    assert_eq!(verified.checked, 40, "one entry per stored message, none for the failed ones");
}

async fn a_reused_request_id_stores_nothing(backend: Backend) {
    let db = seeded(backend).await;
    let first = message(HEALTH_ORG, "same");
    assert_eq!(db.store.insert_message(&first, None, vec![], vec![audit()]).await.unwrap(), first);
    let second = MessageRecord { request_hash: vec![7; 32], ..message(HEALTH_ORG, "same") };
    let reused = db.store.insert_message(&second, None, vec![], vec![audit()]).await;
    assert!(matches!(reused, Err(StoreError::Conflict)), "{reused:?}");
    assert_eq!(db.store.message_by_request(&OrgId::new(HEALTH_ORG), &"same".into()).await.unwrap(), Some(first));
    assert_eq!(db.store.message(&second.id).await.unwrap(), None);
    assert_eq!(
        db.store.verify_audit(1, None).await.unwrap().unwrap().checked,
        1,
        "the refused insert left no audit entry"
    );
    assert_eq!(db.store.inbox_after(&OrgId::new(SOCIAL_WELFARE_ORG), 0, 10).await.unwrap().len(), 1);
}

async fn a_follow_up_on_a_moved_message_is_a_conflict_and_writes_nothing(backend: Backend) {
    let db = seeded(backend).await;
    let m = message(HEALTH_ORG, "m");
    db.store.insert_message(&m, None, vec![], vec![audit()]).await.unwrap();
    let ack = follow_up(&m.id, "f1", FollowUpAction::Acknowledge, MessageStatus::Acknowledged);
    db.store.insert_follow_up(&ack, MessageStatus::Submitted, &OrgId::new(HEALTH_ORG), audit()).await.unwrap();
    let stale = follow_up(&m.id, "f2", FollowUpAction::Acknowledge, MessageStatus::Acknowledged);
    let result = db.store.insert_follow_up(&stale, MessageStatus::Submitted, &OrgId::new(HEALTH_ORG), audit()).await;
    assert!(matches!(result, Err(StoreError::Conflict)), "{result:?}");
    assert_eq!(db.store.follow_ups(&m.id).await.unwrap(), vec![ack.clone()]);
    assert_eq!(db.store.inbox_after(&OrgId::new(HEALTH_ORG), 0, 10).await.unwrap().len(), 1);
    assert_eq!(db.store.follow_up_by_request(&OrgId::new(SOCIAL_WELFARE_ORG), &"f2".into()).await.unwrap(), None);
    assert_eq!(db.store.follow_up_by_request(&OrgId::new(SOCIAL_WELFARE_ORG), &"f1".into()).await.unwrap(), Some(ack));
    assert_eq!(db.store.message(&m.id).await.unwrap().unwrap().status, MessageStatus::Acknowledged);
}

async fn acks_are_cumulative_monotonic_and_bounded(backend: Backend) {
    let db = seeded(backend).await;
    let (a, b, c) = (message(HEALTH_ORG, "a"), message(HEALTH_ORG, "b"), message(HEALTH_ORG, "c"));
    for m in [&a, &b, &c] {
        db.store.insert_message(m, None, vec![], vec![audit()]).await.unwrap();
    }
    assert_eq!(db.store.acked_position(&OrgId::new(SOCIAL_WELFARE_ORG)).await.unwrap(), 0);
    assert_eq!(db.store.ack_inbox(&OrgId::new(SOCIAL_WELFARE_ORG), 2, UnixMicros::new(10), &audit()).await.unwrap(), 2);
    let db = &db;
    let status = |id: MessageId| async move { db.store.message(&id).await.unwrap().unwrap().status };
    assert_eq!(status(a.id.clone()).await, MessageStatus::Delivered);
    assert_eq!(status(b.id.clone()).await, MessageStatus::Delivered);
    assert_eq!(status(c.id.clone()).await, MessageStatus::Submitted);
    assert_eq!(db.store.ack_inbox(&OrgId::new(SOCIAL_WELFARE_ORG), 1, UnixMicros::new(11), &audit()).await.unwrap(), 2);
    assert!(matches!(
        db.store.ack_inbox(&OrgId::new(SOCIAL_WELFARE_ORG), 4, UnixMicros::new(12), &audit()).await,
        Err(StoreError::AckBeyondEnd { position: 4, last: 3 })
    ));
    assert_eq!(db.store.acked_position(&OrgId::new(SOCIAL_WELFARE_ORG)).await.unwrap(), 2);
    assert!(matches!(
        db.store.ack_inbox(&OrgId::new(POLICE_ORG), 1, UnixMicros::new(13), &audit()).await,
        Err(StoreError::AckBeyondEnd { last: 0, .. })
    ));
}

/// Acknowledgements that queue among submissions are committed after them,
/// one per round: each still gets its own cursor, a bad one fails alone,
/// every message up to the last acknowledged position is delivered once (one
/// audit entry each), and the chain stays whole.
async fn acks_queued_among_submissions_each_commit_once(backend: Backend) {
    let db = seeded(backend).await;
    for i in 0..20 {
        db.store
            .insert_message(&message(HEALTH_ORG, &format!("first-{i}")), None, vec![], vec![audit()])
            .await
            .unwrap();
    }
    let mut acks = Vec::new();
    let mut submissions = Vec::new();
    for i in 0..20_u64 {
        let store: Store = db.store.clone();
        submissions.push(tokio::spawn(async move {
            store.insert_message(&message(POLICE_ORG, &format!("later-{i}")), None, vec![], vec![audit()]).await
        }));
        if i % 2 == 1 {
            // Positions 20, 18, ..., 2: a later one may commit first.
            let position = 21 - i;
            let store: Store = db.store.clone();
            let ack = tokio::spawn(async move {
                store.ack_inbox(&OrgId::new(SOCIAL_WELFARE_ORG), position, UnixMicros::new(10), &audit()).await
            });
            acks.push((position, ack));
        }
    }
    let store: Store = db.store.clone();
    let beyond = tokio::spawn(async move {
        store.ack_inbox(&OrgId::new(SOCIAL_WELFARE_ORG), 1000, UnixMicros::new(10), &audit()).await
    });
    for (position, ack) in acks {
        let cursor = ack.await.unwrap().unwrap();
        assert!((position..=20).contains(&cursor), "ack of {position} left the cursor at {cursor}");
    }
    assert!(matches!(beyond.await.unwrap(), Err(StoreError::AckBeyondEnd { position: 1000, .. })));
    for submission in submissions {
        submission.await.unwrap().unwrap();
    }
    assert_eq!(db.store.acked_position(&OrgId::new(SOCIAL_WELFARE_ORG)).await.unwrap(), 20);
    let inbox = db.store.inbox_after(&OrgId::new(SOCIAL_WELFARE_ORG), 0, 100).await.unwrap();
    let statuses: Vec<MessageStatus> = inbox.iter().map(|entry| entry.message().unwrap().status).collect();
    assert_eq!(statuses[..20], [MessageStatus::Delivered; 20]);
    assert_eq!(statuses[20..], [MessageStatus::Submitted; 20]);
    // 40 submissions and one delivery entry for each of the first 20.
    let verified = db.store.verify_audit(1, None).await.unwrap().expect("intact chain");
    assert_eq!((verified.checked, verified.last_seq), (60, 60));
}

/// An acknowledgement of a long backlog is written in steps, one per round of
/// the committer: what queues beside it is written too, and in the end every
/// message of the backlog is delivered once, with one audit entry each.
async fn a_long_ack_delivers_its_whole_range_in_steps(backend: Backend) {
    let db = seeded(backend).await;
    let backlog: Vec<_> = (0..300)
        .map(|i| {
            let store: Store = db.store.clone();
            tokio::spawn(async move {
                store.insert_message(&message(HEALTH_ORG, &format!("backlog-{i}")), None, vec![], vec![audit()]).await
            })
        })
        .collect();
    for message in backlog {
        message.await.unwrap().unwrap();
    }
    let store: Store = db.store.clone();
    let long = tokio::spawn(async move {
        store.ack_inbox(&OrgId::new(SOCIAL_WELFARE_ORG), 300, UnixMicros::new(10), &audit()).await
    });
    let store: Store = db.store.clone();
    let short = tokio::spawn(async move {
        store.ack_inbox(&OrgId::new(SOCIAL_WELFARE_ORG), 7, UnixMicros::new(10), &audit()).await
    });
    db.store.insert_message(&message(POLICE_ORG, "beside"), None, vec![], vec![audit()]).await.unwrap();
    assert_eq!(long.await.unwrap().unwrap(), 300);
    assert!((7..=300).contains(&short.await.unwrap().unwrap()));
    assert_eq!(db.store.acked_position(&OrgId::new(SOCIAL_WELFARE_ORG)).await.unwrap(), 300);
    let inbox = db.store.inbox_after(&OrgId::new(SOCIAL_WELFARE_ORG), 0, 1000).await.unwrap();
    let statuses: Vec<MessageStatus> = inbox.iter().map(|entry| entry.message().unwrap().status).collect();
    assert_eq!(statuses[..300], [MessageStatus::Delivered; 300]);
    assert_eq!(statuses[300..], [MessageStatus::Submitted]);
    // 301 submissions and one delivery entry for each of the 300.
    let verified = db.store.verify_audit(1, None).await.unwrap().expect("intact chain");
    assert_eq!((verified.checked, verified.last_seq), (601, 601));
}

/// Concurrent consent lookups share queries; each caller still gets its own
/// child's records and only those, and a record that does not open fails the
/// lookups of its own child alone.
async fn concurrent_consent_lookups_each_get_their_own_records(backend: Backend) {
    let db = seeded(backend).await;
    for i in 0..20 {
        let record = consent(uuid::Uuid::now_v7(), &format!("child-{i}"));
        db.store.insert_consent(&record, audit()).await.unwrap();
    }
    let raw = sqlx::AnyPool::connect(&db.url).await.unwrap();
    sqlx::query("UPDATE consent_records SET body = $1 WHERE child_local_id = 'child-7'")
        .bind(vec![0_u8, 1, 2])
        .execute(&raw)
        .await
        .unwrap();
    // Children 20-29 have no records; every third caller asks for two children.
    let lookups: Vec<_> = (0..90_usize)
        .map(|i| {
            let store = db.store.clone();
            let children: Vec<usize> = if i % 3 == 1 { vec![i % 30, (i + 1) % 30] } else { vec![i % 30] };
            tokio::spawn(async move {
                let health = OrgId::new(HEALTH_ORG);
                let local_ids: Vec<String> = children.iter().map(|c| format!("child-{c}")).collect();
                let keys: Vec<ChildKey<'_>> =
                    local_ids.iter().map(|local_id| ChildKey { org: &health, local_id, link_key: "" }).collect();
                (children, store.consents_for_children(&keys).await)
            })
        })
        .collect();
    for lookup in lookups {
        let (children, found) = lookup.await.unwrap();
        if children.contains(&7) {
            assert!(found.is_err(), "child-7's record does not open: {found:?}");
            continue;
        }
        let found = found.unwrap_or_else(|error| panic!("{children:?}: {error}"));
        assert_eq!(found.len(), children.len());
        for (child, records) in children.iter().zip(found) {
            let local_ids: Vec<String> = records.iter().map(|r| r.child_local_id.clone()).collect();
            let expected = if *child < 20 { vec![format!("child-{child}")] } else { vec![] };
            assert_eq!(local_ids, expected, "child-{child}");
        }
    }
}

/// A consent record of `HEALTH_ORG`'s with id `id`, for a child known there as `local_id`.
fn consent(id: uuid::Uuid, local_id: &str) -> ConsentRow {
    ConsentRow {
        id: id.to_string(),
        recorded_by_org: HEALTH_ORG.into(),
        request_id: format!("request-{local_id}").into(),
        request_hash: vec![1; 32],
        kind: "GRANT".into(),
        child_local_id: local_id.into(),
        child_link_key: String::new(),
        supersedes_id: None,
        recorded_at: UnixMicros::new(1),
        body: b"terms".to_vec(),
    }
}

/// A re-sealing pass starts where the last pass under the same key stopped,
/// instead of reading every payload again; rows newer than its mark are still
/// checked, and a new key starts from the beginning.
async fn a_reseal_pass_starts_at_its_mark(backend: Backend) {
    let db = seeded(backend).await;
    // A store without a sealer writes plain payloads, which need sealing.
    let plain = Store::connect(&db.url).await.unwrap();
    let at = |unix_seconds| uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, unix_seconds, 0));
    plain.insert_consent(&consent(at(1_600_000_000), "old"), audit()).await.unwrap();
    let k1 = &db.store;
    assert_eq!(k1.reseal(100).await.unwrap(), 1);
    // Below the mark (no hub writes such an id: ids are made at write time), and new.
    plain.insert_consent(&consent(at(1_500_000_000), "older"), audit()).await.unwrap();
    plain.insert_consent(&consent(uuid::Uuid::now_v7(), "new"), audit()).await.unwrap();
    assert_eq!(k1.reseal(100).await.unwrap(), 1, "only the record above the mark is read");
    assert_eq!(k1.reseal(100).await.unwrap(), 0);
    let k2 = Store::connect(&db.url).await.unwrap();
    k2.seal_with(referral_hub_e2e::test_sealer("k2"));
    assert_eq!(k2.reseal(100).await.unwrap(), 3, "a new key starts from the beginning");
    let bodies = db.store.raw_payloads().await.unwrap();
    assert_eq!(bodies.len(), 3);
    assert!(bodies.iter().all(|b| b.starts_with(&[0, 1, 2, b'k', b'2'])), "all sealed under k2");
}

/// On PostgreSQL, once the committer knows the chain head, a group goes in
/// as one statement (the store's `group_statement`) and stores what the locked
/// path stores: consent record, message, concerns, inbox entries in order,
/// audit entries, and other replicas told. When another writer moved the head
/// meanwhile, or a retry was beaten to it, the locked path takes over and the
/// chain stays one. SQLite always takes the locked path.
async fn a_group_in_one_statement_stores_what_the_locked_path_stores(backend: Backend) {
    let db = seeded(backend).await;
    let store = &db.store;
    // Which path the next write takes: counted by the store.
    let path_of = |before: referral_hub_store::GroupCommits| {
        let after = store.group_commits();
        match (after.one_statement - before.one_statement, after.locked - before.locked) {
            (1, 0) => "one statement",
            (0, 1) => "locked",
            other => panic!("one group expected, got {other:?}"),
        }
    };
    let one_statement = if backend == Backend::Postgres { "one statement" } else { "locked" };

    let first = message(HEALTH_ORG, "first");
    let before = store.group_commits();
    store.insert_message(&first, None, vec![], vec![audit()]).await.unwrap();
    assert_eq!(path_of(before), "locked", "the first group reads the head under its lock");

    let other = Store::connect(&db.url).await.unwrap();
    let woken = other.notifier().subscribe(POLICE_ORG);
    let woken = woken.notified();
    tokio::pin!(woken);
    woken.as_mut().enable();
    let grant = consent(uuid::Uuid::now_v7(), "child");
    let second = MessageRecord {
        recipient_org: POLICE_ORG.into(),
        consent_id: Some(grant.id.clone()),
        body: b"a \"quoted\" body \x00\xff".to_vec(),
        child_link_key: Some("link".into()),
        ..message(HEALTH_ORG, "second")
    };
    let concerns = vec!["NEGLECT".to_owned(), "PHYSICAL_ABUSE".to_owned()];
    let before = store.group_commits();
    assert_eq!(store.insert_message(&second, Some(&grant), concerns, vec![audit(), audit()]).await.unwrap(), second);
    assert_eq!(path_of(before), one_statement);
    assert_eq!(store.message(&second.id).await.unwrap(), Some(second.clone()), "every column, body opened");
    assert_eq!(store.consent(&grant.id).await.unwrap(), Some(grant));
    if backend == Backend::Postgres {
        let guard = std::time::Duration::from_secs(30);
        tokio::time::timeout(guard, woken).await.expect("the other replica's streams are woken");
    }

    // A follow-up moves the head outside the committer.
    let ack = follow_up(&first.id, "f1", FollowUpAction::Acknowledge, MessageStatus::Acknowledged);
    store.insert_follow_up(&ack, MessageStatus::Submitted, &OrgId::new(HEALTH_ORG), audit()).await.unwrap();
    let third = message(HEALTH_ORG, "third");
    let before = store.group_commits();
    store.insert_message(&third, None, vec![], vec![audit()]).await.unwrap();
    assert_eq!(path_of(before), "locked", "the head moved: the locked path reads it afresh");

    let fourth = message(HEALTH_ORG, "fourth");
    let before = store.group_commits();
    store.insert_message(&fourth, None, vec![], vec![audit()]).await.unwrap();
    assert_eq!(path_of(before), one_statement);
    let reused = MessageRecord { request_hash: vec![7; 32], ..message(HEALTH_ORG, "fourth") };
    let before = store.group_commits();
    let refused = store.insert_message(&reused, None, vec![], vec![audit()]).await;
    assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");
    assert_eq!(path_of(before), "locked", "a failed statement wrote nothing; the job failed alone on the locked path");
    let before = store.group_commits();
    store.audit(vec![audit()]).await.unwrap();
    assert_eq!(path_of(before), one_statement, "the head is known again");

    let inbox = |org: &str| {
        let org = OrgId::new(org);
        async move {
            let entries = store.inbox_after(&org, 0, 10).await.unwrap();
            entries.into_iter().map(|e| (e.position, e.message().unwrap().request_id.to_string())).collect::<Vec<_>>()
        }
    };
    assert_eq!(inbox(SOCIAL_WELFARE_ORG).await, [(1, "first".into()), (2, "third".into()), (3, "fourth".into())]);
    assert_eq!(inbox(POLICE_ORG).await, [(1, "second".to_owned())]);
    let query = |population| StatsQuery {
        population,
        area: String::new(),
        from: UnixMicros::new(0),
        to: UnixMicros::new(i64::MAX),
        group_by: vec![Dimension::Concern],
    };
    let concerns: Vec<_> =
        store.statistics(&query(Population::Hub)).await.unwrap().0.into_iter().map(|c| (c.key, c.count)).collect();
    assert_eq!(concerns, [(vec!["NEGLECT".to_owned()], 1), (vec!["PHYSICAL_ABUSE".to_owned()], 1)]);
    let total = |population| async move {
        store.statistics(&StatsQuery { group_by: vec![], ..query(population) }).await.unwrap().1
    };
    assert_eq!(total(Population::Hub).await, 4);
    assert_eq!(total(Population::SentOrReceivedBy(POLICE_ORG.into())).await, 1, "police received one");
    assert_eq!(total(Population::SentBy(POLICE_ORG.into())).await, 0, "and sent none");
    let verified = store.verify_audit(1, None).await.unwrap().expect("one intact chain");
    assert_eq!((verified.checked, verified.last_seq), (7, 7), "1 + 2 + follow-up + 1 + 1 + the lone entry");
}

async fn lists_page_newest_first_with_filters(backend: Backend) {
    let db = seeded(backend).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let m = message(HEALTH_ORG, &format!("r{i}"));
        db.store.insert_message(&m, None, vec![], vec![audit()]).await.unwrap();
        ids.push(m.id);
    }
    let withdrawn = follow_up(&ids[1], "w", FollowUpAction::Withdraw, MessageStatus::Withdrawn);
    db.store
        .insert_follow_up(&withdrawn, MessageStatus::Submitted, &OrgId::new(SOCIAL_WELFARE_ORG), audit())
        .await
        .unwrap();
    let filter = |before: Option<String>| MessageFilter {
        org: HEALTH_ORG.into(),
        mailbox: Mailbox::Sent,
        statuses: vec![],
        kinds: vec![MessageKind::ServiceReferral],
        before_id: before.map(MessageId::from),
        counterpart: None,
        updated_from: None,
        updated_before: None,
        limit: 2,
    };
    let page = |found: Vec<MessageRecord>| found.into_iter().map(|m| m.id).collect::<Vec<_>>();
    assert_eq!(page(db.store.list_messages(&filter(None)).await.unwrap()), vec![ids[4].clone(), ids[3].clone()]);
    let next = db.store.list_messages(&filter(Some(String::from(ids[3].clone())))).await.unwrap();
    assert_eq!(page(next), vec![ids[2].clone(), ids[1].clone()]);
    let only_withdrawn = MessageFilter { statuses: vec![MessageStatus::Withdrawn], limit: 10, ..filter(None) };
    assert_eq!(page(db.store.list_messages(&only_withdrawn).await.unwrap()), vec![ids[1].clone()]);
    let received = MessageFilter { mailbox: Mailbox::Received, limit: 10, ..filter(None) };
    assert!(db.store.list_messages(&received).await.unwrap().is_empty());
}

async fn migrations_are_idempotent_and_data_survives_a_reconnect(backend: Backend) {
    let db = seeded(backend).await;
    let m = message(HEALTH_ORG, "kept");
    db.store.insert_message(&m, None, vec![], vec![audit()]).await.unwrap();
    db.store.close().await;
    let again = Store::connect(&db.url).await.unwrap();
    again.migrate().await.unwrap();
    // What `serve --migrations check` reads: every migration, as embedded.
    assert_eq!(again.migration_gaps().await.unwrap(), Default::default());
    again.require_migrated().await.expect("a migrated database is accepted");
    assert!(again.message(&m.id).await.is_err(), "a sealed payload does not open without the key");
    again.seal_with(referral_hub_e2e::test_sealer("k1"));
    assert_eq!(again.message(&m.id).await.unwrap(), Some(m));
}

referral_hub_e2e::on_both_backends!(
    concurrent_inserts_get_gap_free_positions,
    a_bad_submission_fails_alone_in_its_group,
    a_reused_request_id_stores_nothing,
    a_follow_up_on_a_moved_message_is_a_conflict_and_writes_nothing,
    acks_are_cumulative_monotonic_and_bounded,
    acks_queued_among_submissions_each_commit_once,
    a_long_ack_delivers_its_whole_range_in_steps,
    concurrent_consent_lookups_each_get_their_own_records,
    a_reseal_pass_starts_at_its_mark,
    a_group_in_one_statement_stores_what_the_locked_path_stores,
    lists_page_newest_first_with_filters,
    migrations_are_idempotent_and_data_survives_a_reconnect,
);

/// SQLite runs with foreign keys enforced and in WAL mode (its `-wal` file
/// appears beside the database once something is written).
#[tokio::test]
async fn sqlite_enforces_foreign_keys_in_wal_mode() {
    let db = TestDb::new(Backend::Sqlite).await;
    let orphan = message("not-registered", "r");
    assert!(matches!(
        db.store.insert_message(&orphan, None, vec![], vec![audit()]).await,
        Err(StoreError::Database(_))
    ));
    assert_eq!(db.store.message(&orphan.id).await.unwrap(), None);
    referral_hub_server::demo::seed(&db.store).await.unwrap();
    db.store.insert_message(&message(HEALTH_ORG, "ok"), None, vec![], vec![audit()]).await.unwrap();
    let path = db.url.trim_start_matches("sqlite://");
    assert!(std::path::Path::new(&format!("{path}-wal")).exists(), "WAL file beside {path}");
}

/// A message stored through one replica wakes its recipient's streams on
/// another at once: the inbox INSERT carries the `pg_notify`, and the other
/// replica's listener passes it to its notifier (otherwise those streams would
/// wait for their next poll).
#[tokio::test]
async fn an_inbox_entry_on_one_replica_wakes_streams_on_another() {
    let db = seeded(Backend::Postgres).await;
    let other = Store::connect(&db.url).await.unwrap();
    let wake = other.notifier().subscribe(SOCIAL_WELFARE_ORG);
    let woken = wake.notified();
    tokio::pin!(woken);
    woken.as_mut().enable();
    db.store.insert_message(&message(HEALTH_ORG, "r"), None, vec![], vec![audit()]).await.unwrap();
    let guard = std::time::Duration::from_secs(30);
    tokio::time::timeout(guard, woken).await.expect("the other replica's streams are woken");
}
