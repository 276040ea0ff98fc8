//! A graceful stop: the real binary gets SIGTERM while clients submit
//! referrals concurrently and a receiver streams its inbox, on SQLite and on
//! PostgreSQL. It exits on its own, successfully and promptly (30 s is a
//! guard against hanging, not a measure); the receiver's stream ends cleanly
//! rather than failing, so a receiver simply resumes elsewhere; and after a
//! second start on the same data, every submit that was answered OK is
//! stored as sent, and the audit chain verifies.

mod support;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use referral_hub_domain::sample;
use referral_hub_e2e::{Backend, TestDb};
use referral_hub_proto::v1::{
    GetMessageRequest, StreamInboxRequest, StreamInboxResponse, message::Payload as Stored,
    message_service_client::MessageServiceClient, submit_message_request::Payload,
};
use support::{audit_verify, channel, start_dev, with_token};
use tokio::sync::Notify;

/// Concurrent submitters.
const SUBMITTERS: usize = 6;
/// Submits answered OK before the hub is told to stop.
const ANSWERED_BEFORE_SIGTERM: usize = 30;
/// The guard on every wait: far beyond what any step takes.
const GUARD: Duration = Duration::from_secs(30);
const WELFARE: &str = "demo-social-welfare-yangon";

/// A referral whose notes name its request id, so a stored copy can be matched to what was sent.
fn referral(request_id: &str) -> referral_hub_proto::v1::SubmitMessageRequest {
    let mut request = sample::submit(request_id, WELFARE);
    if let Some(Payload::Referral(referral)) = request.payload.as_mut() {
        referral.notes = format!("graceful stop {request_id}");
    }
    request
}

/// Submits until the hub stops answering; records request id and message id of every OK.
async fn submitter(
    address: String,
    token: String,
    name: String,
    accepted: Arc<Mutex<Vec<(String, String)>>>,
    ok: Arc<Notify>,
) {
    let mut messages = MessageServiceClient::new(channel(&address).await);
    for n in 0.. {
        let request_id = format!("{name}-{n}");
        let Ok(answer) = messages.submit_message(with_token(&token, referral(&request_id))).await else { return };
        let id = answer.into_inner().message.expect("a message").id;
        accepted.lock().unwrap().push((request_id, id));
        ok.notify_one();
    }
}

/// Reads an open inbox stream until it ends, telling `first` when an entry
/// came; how many came, and how it ended (`Ok` for a clean end).
async fn receiver(
    mut stream: tonic::Streaming<StreamInboxResponse>,
    first: Arc<Notify>,
) -> (usize, Result<(), tonic::Status>) {
    let mut entries = 0;
    loop {
        match stream.message().await {
            Ok(Some(_)) => {
                entries += 1;
                first.notify_one();
            }
            Ok(None) => return (entries, Ok(())),
            Err(status) => return (entries, Err(status)),
        }
    }
}

async fn sigterm_under_load(backend: Backend) {
    let db = TestDb::new(backend).await;
    let data = tempfile::tempdir().unwrap();
    let database = ["--database-url", db.url.as_str()];
    let args = [database[0], database[1], "--rate-limit-per-org", "0"];
    let mut hub = start_dev(data.path(), &args).await;
    let mut inbox = MessageServiceClient::new(channel(&hub.address).await);
    let opened = inbox.stream_inbox(with_token(&hub.welfare_token, StreamInboxRequest::default())).await;
    let first = Arc::new(Notify::new());
    let reading = tokio::spawn(receiver(opened.expect("the inbox stream opens").into_inner(), first.clone()));
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let ok = Arc::new(Notify::new());
    let submitters: Vec<_> = (0..SUBMITTERS)
        .map(|s| {
            let (address, token) = (hub.address.clone(), hub.health_token.clone());
            tokio::spawn(submitter(address, token, format!("s{s}"), accepted.clone(), ok.clone()))
        })
        .collect();
    for _ in 0..ANSWERED_BEFORE_SIGTERM {
        tokio::time::timeout(GUARD, ok.notified()).await.expect("submits are answered");
    }
    tokio::time::timeout(GUARD, first.notified()).await.expect("the receiver is streaming");

    let pid = rustix::process::Pid::from_raw(hub.child.id().expect("running") as i32).expect("a pid");
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
    let exit = tokio::time::timeout(GUARD, hub.child.wait()).await.expect("the hub exits within 30 s of SIGTERM");
    let exit = exit.expect("reaped");
    assert!(exit.success(), "a SIGTERM stop is a clean exit: {exit:?} ({backend:?})");
    for task in submitters {
        tokio::time::timeout(GUARD, task).await.expect("submitters see the hub gone").unwrap();
    }
    let (entries, ended) = tokio::time::timeout(GUARD, reading).await.expect("the stream ends").unwrap();
    assert!(ended.is_ok(), "the inbox stream ends cleanly, not with {ended:?} ({backend:?})");
    assert!(entries > 0, "the receiver was streaming when the hub stopped ({backend:?})");

    // A second start on the same data: every submit answered OK is there, as sent.
    let hub = start_dev(data.path(), &args).await;
    let mut messages = MessageServiceClient::new(channel(&hub.address).await);
    let accepted = accepted.lock().unwrap().clone();
    assert!(accepted.len() >= ANSWERED_BEFORE_SIGTERM, "{} accepted ({backend:?})", accepted.len());
    for (request_id, id) in &accepted {
        let got =
            messages.get_message(with_token(&hub.health_token, GetMessageRequest { message_id: id.clone() })).await;
        let message = got.unwrap_or_else(|e| panic!("{request_id} was answered OK but is lost: {e:?} ({backend:?})"));
        let Some(Stored::Referral(stored)) = message.into_inner().message.and_then(|m| m.payload) else {
            panic!("{request_id}: no referral ({backend:?})")
        };
        assert_eq!(stored.notes, format!("graceful stop {request_id}"), "stored as sent ({backend:?})");
    }

    let (verified, text) = audit_verify(&database);
    assert!(verified && text.contains("audit chain intact"), "{text} ({backend:?})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_on_sqlite() {
    sigterm_under_load(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_on_postgres() {
    sigterm_under_load(Backend::Postgres).await
}
