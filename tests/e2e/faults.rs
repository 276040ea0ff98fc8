//! Database faults (docs/operations.md "Delivery guarantees"): PostgreSQL stopped
//! and started again under load. Meanwhile the hub answers `UNAVAILABLE`
//! (never a panic, never a half-written message) and it recovers by itself:
//! every submit answered OK is stored, every refused one can be retried under
//! its request id and becomes exactly one message, and the audit chain holds.

use std::{
    collections::BTreeSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use referral_hub_domain::{ids::OrgId, sample};
use referral_hub_e2e::{
    HEALTH_ORG, MessageClient, SOCIAL_WELFARE_ORG, TestDb, TestHub, private_postgres::PrivatePostgres, sent_count,
    unlimited,
};
use referral_hub_proto::v1::GetMessageRequest;
use tokio::sync::Notify;
use tonic::Code;

/// Every answer the submitters got: request id, code, message id when OK.
type Answers = Arc<Mutex<Vec<(String, Code, String)>>>;

async fn submit_until(
    mut client: MessageClient,
    name: String,
    answers: Answers,
    stop: Arc<AtomicBool>,
    seen: Arc<Notify>,
) {
    for n in 0.. {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let request_id = format!("{name}-{n}");
        let answer = client.submit_message(sample::submit(&request_id, SOCIAL_WELFARE_ORG)).await;
        let (code, id) = match answer {
            Ok(response) => (Code::Ok, response.into_inner().message.expect("a message").id),
            Err(status) => (status.code(), String::new()),
        };
        answers.lock().unwrap().push((request_id, code, id));
        seen.notify_one();
    }
}

/// Waits until the submitters have given `n` more answers.
async fn answers_seen(seen: &Notify, n: usize) {
    for _ in 0..n {
        tokio::time::timeout(std::time::Duration::from_secs(60), seen.notified()).await.expect("submits are answered");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_mid_load() {
    let server = PrivatePostgres::start();
    let hub = TestHub::start_on(TestDb::on(Some(&server.url())).await, None, unlimited()).await;
    let (answers, stop, seen) = (Answers::default(), Arc::new(AtomicBool::new(false)), Arc::new(Notify::new()));
    let mut submitters = Vec::new();
    for s in 0..3 {
        let client = hub.messages(HEALTH_ORG, &["referrer"]).await;
        submitters.push(tokio::spawn(submit_until(
            client,
            format!("s{s}"),
            answers.clone(),
            stop.clone(),
            seen.clone(),
        )));
    }
    answers_seen(&seen, 20).await;

    tokio::task::block_in_place(|| server.stop());
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let during = health.submit_message(sample::submit("during", SOCIAL_WELFARE_ORG)).await.unwrap_err();
    assert_eq!(during.code(), Code::Unavailable, "{during:?}");
    assert!(during.message().contains("retry"), "{during:?}");
    answers_seen(&seen, 3).await;

    tokio::task::block_in_place(|| server.start_again());
    let after = health.submit_message(sample::submit("after", SOCIAL_WELFARE_ORG)).await;
    assert!(after.is_ok(), "the hub recovers by itself: {after:?}");
    answers_seen(&seen, 20).await;
    stop.store(true, Ordering::SeqCst);
    for submitter in submitters {
        submitter.await.unwrap();
    }

    let answers = answers.lock().unwrap().clone();
    let codes: BTreeSet<_> = answers.iter().map(|(_, code, _)| format!("{code:?}")).collect();
    assert_eq!(codes, BTreeSet::from(["Ok".to_owned(), "Unavailable".to_owned()]), "only OK or UNAVAILABLE");
    for (request_id, code, id) in &answers {
        if *code == Code::Ok {
            let got = health.get_message(GetMessageRequest { message_id: id.clone() }).await;
            assert!(got.is_ok(), "{request_id} was answered OK and must be stored: {got:?}");
        } else {
            let retried = health.submit_message(sample::submit(request_id, SOCIAL_WELFARE_ORG)).await;
            assert!(retried.is_ok(), "{request_id} can be retried: {retried:?}");
        }
    }
    let retried = health.submit_message(sample::submit("during", SOCIAL_WELFARE_ORG)).await;
    assert!(retried.is_ok());
    assert_eq!(sent_count(&mut health).await, answers.len() + 2, "one message per request id, none half-written");
    let inbox = hub.db.store.inbox_after(&OrgId::new(SOCIAL_WELFARE_ORG), 0, 10_000).await.unwrap();
    assert_eq!(inbox.len(), answers.len() + 2, "each message has its inbox entry");
    hub.db.store.verify_audit(0, None).await.unwrap().expect("the audit chain verifies");
}
