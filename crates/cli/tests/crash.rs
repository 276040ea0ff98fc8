//! Crash safety (docs/operations.md "Delivery guarantees"): the real binary takes
//! concurrent referrals and is `kill -9`ed at random moments, round after
//! round, on SQLite and on PostgreSQL. After each restart: every submit that
//! was answered OK is stored exactly as sent and delivered, none twice; a
//! retry of a submit whose answer was lost is never a second message; the
//! receiver's inbox resumes after its last acknowledgement; the audit chain
//! verifies.

mod support;

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use referral_hub_domain::sample;
use referral_hub_e2e::{Backend, TestDb};
use referral_hub_proto::v1::{
    AckDeliveryRequest, GetMessageRequest, ListMessagesRequest, Mailbox, ServiceReferral, StreamInboxRequest,
    message::Payload as Stored, message_service_client::MessageServiceClient, submit_message_request::Payload,
};
use support::{DevHub, audit_verify, channel, start_dev, with_token};
use tokio::sync::Notify;
use tonic::transport::Channel;

/// Kill rounds per backend.
const ROUNDS: u32 = 6;
/// Concurrent submitters.
const SUBMITTERS: usize = 6;
/// The receiver acknowledges every this many entries.
const ACK_EVERY: u64 = 5;
const WELFARE: &str = "demo-social-welfare-yangon";

/// A referral whose notes name its request id, so a stored copy can be matched to what was sent.
fn referral(request_id: &str) -> referral_hub_proto::v1::SubmitMessageRequest {
    let mut request = sample::submit(request_id, WELFARE);
    if let Some(Payload::Referral(referral)) = request.payload.as_mut() {
        referral.notes = format!("crash test {request_id}");
    }
    request
}

fn sent_referral(request_id: &str) -> ServiceReferral {
    match referral(request_id).payload {
        Some(Payload::Referral(referral)) => referral,
        _ => unreachable!("a referral"),
    }
}

/// What the submitters learnt: request id to message id for every OK, and
/// the request ids whose answer never came.
#[derive(Default)]
struct Outcomes {
    accepted: HashMap<String, String>,
    unanswered: Vec<String>,
}

/// How far the receiver got: the last acknowledgement answered OK, and the last one attempted.
#[derive(Default, Clone, Copy)]
struct Acks {
    confirmed: u64,
    attempted: u64,
}

/// A small deterministic generator, seeded per run and printed on failure.
fn kill_after(seed: u64, round: u32) -> usize {
    let mixed = seed.wrapping_mul(6364136223846793005).wrapping_add(u64::from(round) * 1442695040888963407);
    5 + (mixed >> 33) as usize % 40
}

async fn client(hub: &DevHub) -> MessageServiceClient<Channel> {
    MessageServiceClient::new(channel(&hub.address).await)
}

/// Submits until the hub dies; each submitter has its own request ids.
async fn submitter(hub_address: String, token: String, name: String, outcomes: Arc<Mutex<Outcomes>>, ok: Arc<Notify>) {
    let mut messages = MessageServiceClient::new(channel(&hub_address).await);
    for n in 0.. {
        let request_id = format!("{name}-{n}");
        match messages.submit_message(with_token(&token, referral(&request_id))).await {
            Ok(answer) => {
                let id = answer.into_inner().message.expect("a message").id;
                outcomes.lock().unwrap().accepted.insert(request_id, id);
                ok.notify_one();
            }
            Err(_) => {
                outcomes.lock().unwrap().unanswered.push(request_id);
                return;
            }
        }
    }
}

/// Reads the receiver's inbox from where it acknowledged, acknowledging as it goes, until the hub dies.
/// Returns the first position it was given.
async fn receiver(hub_address: String, token: String, acks: Arc<Mutex<Acks>>, first: Arc<Mutex<Option<u64>>>) {
    let mut messages = MessageServiceClient::new(channel(&hub_address).await);
    let Ok(stream) = messages.stream_inbox(with_token(&token, StreamInboxRequest::default())).await else { return };
    let mut stream = stream.into_inner();
    while let Ok(Some(item)) = stream.message().await {
        let position = item.entry.expect("an entry").position;
        first.lock().unwrap().get_or_insert(position);
        if position % ACK_EVERY == 0 {
            acks.lock().unwrap().attempted = position;
            if messages.ack_delivery(with_token(&token, AckDeliveryRequest { position })).await.is_err() {
                return;
            }
            acks.lock().unwrap().confirmed = position;
        }
    }
}

async fn kill_nine_rounds(backend: Backend) {
    let db = TestDb::new(backend).await;
    let data = tempfile::tempdir().unwrap();
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let context = format!("{backend:?}, seed {seed}");
    let database = ["--database-url", db.url.as_str()];
    let args = [database[0], database[1], "--rate-limit-per-org", "0"];
    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let acks = Arc::new(Mutex::new(Acks::default()));

    for round in 0..ROUNDS {
        let mut hub = start_dev(data.path(), &args).await;
        let first = Arc::new(Mutex::new(None));
        let reading =
            tokio::spawn(receiver(hub.address.clone(), hub.welfare_token.clone(), acks.clone(), first.clone()));
        let before = *acks.lock().unwrap();
        let ok = Arc::new(Notify::new());
        let submitters: Vec<_> = (0..SUBMITTERS)
            .map(|s| {
                let name = format!("r{round}s{s}");
                tokio::spawn(submitter(
                    hub.address.clone(),
                    hub.health_token.clone(),
                    name,
                    outcomes.clone(),
                    ok.clone(),
                ))
            })
            .collect();
        let target = kill_after(seed, round);
        for _ in 0..target {
            tokio::time::timeout(Duration::from_secs(60), ok.notified()).await.expect("submits are answered");
        }
        hub.child.start_kill().expect("kill -9");
        hub.child.wait().await.expect("reaped");
        for task in submitters {
            task.await.unwrap();
        }
        reading.await.unwrap();
        if let Some(first) = *first.lock().unwrap() {
            assert!(
                first > before.confirmed && first <= before.attempted + 1,
                "round {round}: the inbox resumed at {first}, after acknowledging {} ({context})",
                before.confirmed
            );
        }
    }

    // Restart once more and check everything.
    let hub = start_dev(data.path(), &args).await;
    let mut messages = client(&hub).await;
    let (accepted, unanswered) = {
        let outcomes = outcomes.lock().unwrap();
        (outcomes.accepted.clone(), outcomes.unanswered.clone())
    };
    assert!(accepted.len() >= ROUNDS as usize * 5, "{} accepted ({context})", accepted.len());
    for (request_id, id) in &accepted {
        let got =
            messages.get_message(with_token(&hub.health_token, GetMessageRequest { message_id: id.clone() })).await;
        let message = got.unwrap_or_else(|e| panic!("{request_id} was answered OK but is lost: {e:?} ({context})"));
        let Some(Stored::Referral(stored)) = message.into_inner().message.and_then(|m| m.payload) else {
            panic!("{request_id}: no referral ({context})")
        };
        assert_eq!(stored, sent_referral(request_id), "stored exactly as sent ({context})");
    }
    // Retrying an unanswered submit never makes a second message.
    for request_id in &unanswered {
        let retried = messages.submit_message(with_token(&hub.health_token, referral(request_id))).await;
        assert!(retried.is_ok(), "{request_id}: {retried:?} ({context})");
    }
    let mut notes = Vec::new();
    let mut page_token = String::new();
    loop {
        let list =
            ListMessagesRequest { mailbox: Mailbox::Sent as i32, page_size: 500, page_token, ..Default::default() };
        let page = messages.list_messages(with_token(&hub.health_token, list)).await.unwrap().into_inner();
        for message in page.messages {
            if let Some(Stored::Referral(referral)) = message.payload {
                notes.push(referral.notes);
            }
        }
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let distinct: HashSet<&String> = notes.iter().collect();
    assert_eq!(distinct.len(), notes.len(), "no request was stored twice ({context})");
    assert_eq!(notes.len(), accepted.len() + unanswered.len(), "every request is one message ({context})");

    // Every message is in the receiver's inbox once, in one unbroken sequence.
    let mut inbox = messages
        .stream_inbox(with_token(&hub.welfare_token, StreamInboxRequest { after_position: Some(0) }))
        .await
        .unwrap()
        .into_inner();
    let mut delivered = HashSet::new();
    for expected in 1..=notes.len() as u64 {
        let next = tokio::time::timeout(Duration::from_secs(60), inbox.message()).await.expect("within 60 s");
        let entry = next.unwrap().unwrap().entry.unwrap();
        assert_eq!(entry.position, expected, "({context})");
        let Some(referral_hub_proto::v1::inbox_entry::Item::Message(message)) = entry.item else { panic!("a message") };
        assert!(delivered.insert(message.id), "a message delivered at two positions ({context})");
    }
    assert!(accepted.values().all(|id| delivered.contains(id)), "every accepted message reaches its receiver");

    let (verified, text) = audit_verify(&database);
    assert!(verified && text.contains("audit chain intact"), "{text} ({context})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_on_sqlite() {
    kill_nine_rounds(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_on_postgres() {
    kill_nine_rounds(Backend::Postgres).await
}
