//! Several replicas on one PostgreSQL: submits spread over three replicas, one
//! is killed partway, and still every accepted referral reaches its receiver
//! once, nothing is duplicated, and the audit chain is one unforked chain.

use std::{
    collections::{BTreeMap, BTreeSet},
    net::SocketAddr,
    sync::Arc,
    time::Duration,
};

use referral_hub_domain::sample;
use referral_hub_e2e::{Backend, Bearer, HEALTH_ORG, POLICE_ORG, SOCIAL_WELFARE_ORG, TestHub};
use referral_hub_proto::v1::{
    AckDeliveryRequest, ChildRef, StreamInboxRequest, inbox_entry::Item, message_service_client::MessageServiceClient,
};
use tokio::sync::{Mutex, Notify};

const SCHOOL_ORG: &str = "demo-school-hlaing";
const MESSAGES: usize = 2000;
const SENDING_TASKS: usize = 12;

/// Which replicas are up; a killed one is taken out.
type Live = Arc<Mutex<Vec<SocketAddr>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_one_killed_nothing_lost_or_duplicated() {
    let hub = TestHub::start(Backend::Postgres).await;
    let (second, third) = (hub.replica().await, hub.replica().await);
    let live: Live = Arc::new(Mutex::new(vec![hub.address, second.address, third.address]));
    let killed = third.address;

    // Receivers: social welfare streams from the replica that will die, the school from another.
    let welfare = tokio::spawn(receive(hub.token(SOCIAL_WELFARE_ORG, &["receiver"]), killed, live.clone()));
    let school = tokio::spawn(receive(hub.token(SCHOOL_ORG, &["receiver"]), second.address, live.clone()));

    let accepted: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let halfway = Arc::new(Notify::new());
    let mut senders = Vec::new();
    for task in 0..SENDING_TASKS {
        let tokens = [hub.token(HEALTH_ORG, &["referrer"]), hub.token(POLICE_ORG, &["referrer"])];
        let (live, accepted, halfway) = (live.clone(), accepted.clone(), halfway.clone());
        senders.push(tokio::spawn(async move {
            for n in (task..MESSAGES).step_by(SENDING_TASKS) {
                let recipient = if n % 2 == 0 { SOCIAL_WELFARE_ORG } else { SCHOOL_ORG };
                let mut request = sample::submit(&format!("scale-{n}"), recipient);
                let child = ChildRef { local_id: format!("child-{n}"), ..ChildRef::default() };
                request.child = Some(child.clone());
                request.consent.as_mut().unwrap().child = Some(child);
                let token = &tokens[n % 2];
                // Retried with the same request id on another replica if its replica dies.
                let mut attempt = n;
                let id = loop {
                    let address = {
                        let live = live.lock().await;
                        live[attempt % live.len()]
                    };
                    // The replica may die between picking it and connecting: try the next one.
                    let Some(channel) = connect(address).await else {
                        attempt += 1;
                        continue;
                    };
                    let mut client = MessageServiceClient::with_interceptor(channel, Bearer::new(token));
                    match client.submit_message(request.clone()).await {
                        Ok(response) => break response.into_inner().message.unwrap().id,
                        Err(status) => {
                            assert!(
                                matches!(
                                    status.code(),
                                    tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled
                                ),
                                "{status:?}"
                            );
                            attempt += 1;
                        }
                    }
                };
                let mut accepted = accepted.lock().await;
                accepted.insert(id, recipient.to_owned());
                if accepted.len() == MESSAGES / 3 {
                    halfway.notify_one();
                }
            }
        }));
    }
    halfway.notified().await;
    live.lock().await.retain(|a| *a != killed);
    third.kill();
    for sender in senders {
        sender.await.unwrap();
    }
    let accepted = accepted.lock().await.clone();
    assert_eq!(accepted.len(), MESSAGES, "every referral accepted exactly once");
    let expected = |org: &str| {
        accepted.iter().filter(|(_, r)| r.as_str() == org).map(|(id, _)| id.clone()).collect::<BTreeSet<_>>()
    };

    let ((welfare_seen, welfare_streams), (school_seen, _)) = (welfare.await.unwrap(), school.await.unwrap());
    assert!(welfare_streams >= 2, "the receiver on the killed replica resumed on another one");
    assert_eq!(welfare_seen, expected(SOCIAL_WELFARE_ORG));
    assert_eq!(school_seen, expected(SCHOOL_ORG));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(&sqlx::AnyPool::connect(&hub.db.url).await.unwrap())
        .await
        .unwrap();
    assert_eq!(count as usize, MESSAGES, "retries created no duplicate");
    let verified = hub.db.store.verify_audit(1, None).await.unwrap().expect("one unforked chain");
    assert!(verified.checked as usize >= 2 * MESSAGES, "{}", verified.checked);
}

/// A channel to a replica, or `None` if it is gone (killed by the test).
async fn connect(address: SocketAddr) -> Option<tonic::transport::Channel> {
    tonic::transport::Endpoint::from_shared(format!("http://{address}")).ok()?.connect().await.ok()
}

/// Streams an organisation's inbox until it has seen `MESSAGES / 2` distinct
/// messages, reconnecting to a live replica when its own dies, acknowledging as
/// it goes; fails on any entry redelivered after it was acknowledged.
async fn receive(token: String, mut address: SocketAddr, live: Live) -> (BTreeSet<String>, usize) {
    let mut seen = BTreeSet::new();
    let mut streams = 0;
    let mut acked = 0u64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while seen.len() < MESSAGES / 2 {
        assert!(tokio::time::Instant::now() < deadline, "timed out with {} seen", seen.len());
        let Some(channel) = connect(address).await else {
            address = live.lock().await[0];
            continue;
        };
        let mut client = MessageServiceClient::with_interceptor(channel, Bearer::new(&token));
        streams += 1;
        let stream = client.stream_inbox(StreamInboxRequest::default()).await;
        let mut stream = match stream {
            Ok(response) => response.into_inner(),
            Err(_) => {
                address = live.lock().await[0];
                continue;
            }
        };
        loop {
            let next = tokio::time::timeout(Duration::from_secs(10), stream.message()).await;
            let Ok(Ok(Some(response))) = next else {
                // This replica died (or went quiet): resume on a live one after the last ack.
                address = live.lock().await[0];
                break;
            };
            let entry = response.entry.unwrap();
            assert!(entry.position > acked, "entry {} redelivered after ack {acked}", entry.position);
            if let Some(Item::Message(message)) = entry.item {
                seen.insert(message.id);
            }
            if (entry.position % 25 == 0 || seen.len() == MESSAGES / 2)
                && client.ack_delivery(AckDeliveryRequest { position: entry.position }).await.is_ok()
            {
                acked = entry.position;
            }
            if seen.len() == MESSAGES / 2 {
                break;
            }
        }
    }
    (seen, streams)
}
