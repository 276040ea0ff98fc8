//! The two phases of a run: the echo baseline and the referrals, each driven
//! closed-loop or open-loop, with receivers streaming and acknowledging.

use std::{
    collections::{BTreeMap, HashMap},
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use prost::Message as _;
use referral_hub_domain::{sample, wire::ChildRef};
use referral_hub_proto::v1::{
    AckDeliveryRequest, EchoRequest, StreamInboxRequest, diagnostics_service_client::DiagnosticsServiceClient,
    inbox_entry::Item, message_service_client::MessageServiceClient,
};
use tokio::sync::{Semaphore, mpsc, watch};
use tonic::{Code, Request};

use crate::{Mode, Options, setup::Fleet};

/// What one phase measured.
pub struct Phase {
    /// Successful calls.
    pub ok: u64,
    /// Wall time of the sending part.
    pub elapsed: Duration,
    /// Call latency, µs (open loop: from the scheduled start).
    pub latency: Histogram<u64>,
    /// Failed calls by status code.
    pub errors: BTreeMap<String, u64>,
    /// Submit-to-stream latency, µs (referrals only).
    pub end_to_end: Histogram<u64>,
    /// Messages seen on the receivers' streams.
    pub delivered: u64,
}

impl Phase {
    /// A phase that did not run.
    pub fn empty() -> Phase {
        Phase {
            ok: 0,
            elapsed: Duration::ZERO,
            latency: histogram(),
            errors: BTreeMap::new(),
            end_to_end: histogram(),
            delivered: 0,
        }
    }
}

/// An empty latency histogram (µs, up to two minutes).
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds")
}

/// The no-op baseline: echo a payload the size of a referral, with the
/// senders' tokens (the echo, like every RPC, needs one; the token check and
/// the rate budget are then in the baseline as in the hub's own figure).
pub async fn echo(options: &Options, fleet: &Fleet) -> Result<Phase, String> {
    let payload = sample::submit("x", "y").encode_to_vec();
    let channels = fleet.channels.clone();
    let senders = Arc::new(fleet.senders.clone());
    let (latency, ok, errors, elapsed) = drive(options, move |seq, _| {
        let mut client = DiagnosticsServiceClient::new(channels[seq as usize % channels.len()].clone());
        let (_, token) = &senders[seq as usize % senders.len()];
        let request = authorised(token, EchoRequest { payload: payload.clone() });
        async move { client.echo(request).await.map(drop).map_err(|s| s.code()) }
    })
    .await;
    Ok(Phase { ok, elapsed, latency, errors, end_to_end: histogram(), delivered: 0 })
}

/// Consented referrals from every sender to every receiver, while the
/// receivers stream and acknowledge.
pub async fn referrals(options: &Options, fleet: &Fleet) -> Result<Phase, String> {
    let started: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let (stop, stopped) = watch::channel(false);
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel::<u64>();
    for (org, token) in fleet.receivers.iter().filter(|_| !options.no_stream) {
        let endpoint = format!("http://{}", fleet.target);
        let channel = tonic::transport::Endpoint::from_shared(endpoint)
            .map_err(|e| e.to_string())?
            .connect()
            .await
            .map_err(|e| format!("receiver {org}: {e}"))?;
        let acks = Acks { every: options.ack_every, token: token.clone() };
        tokio::spawn(receive(channel, acks, started.clone(), seen_tx.clone(), stopped.clone()));
    }
    drop(seen_tx);
    let channels = fleet.channels.clone();
    let senders = Arc::new(fleet.senders.clone());
    let receivers = Arc::new(fleet.receivers.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>());
    let starts = started.clone();
    let (latency, ok, errors, elapsed) = drive(options, move |seq, measured| {
        let mut client = MessageServiceClient::new(channels[seq as usize % channels.len()].clone());
        let (_, token) = &senders[seq as usize % senders.len()];
        let recipient = &receivers[seq as usize % receivers.len()];
        let mut submit = sample::submit(&format!("load-{seq}"), recipient);
        let child = ChildRef { local_id: format!("child-{seq}"), ..ChildRef::default() };
        submit.child = Some(child.clone());
        if let Some(consent) = submit.consent.as_mut() {
            consent.child = Some(child);
        }
        let request = authorised(token, submit);
        if measured {
            starts.lock().unwrap_or_else(|p| p.into_inner()).insert(format!("load-{seq}"), Instant::now());
        }
        async move { client.submit_message(request).await.map(drop).map_err(|s| s.code()) }
    })
    .await;
    // Wait for the streams to deliver what was accepted (or give up after 30 s).
    let mut end_to_end = histogram();
    let mut delivered = 0;
    let deadline = tokio::time::sleep(Duration::from_secs(30));
    tokio::pin!(deadline);
    while delivered < ok && !options.no_stream {
        tokio::select! {
            seen = seen_rx.recv() => match seen {
                Some(micros) => {
                    delivered += 1;
                    let _ = end_to_end.record(micros.max(1));
                }
                None => break,
            },
            _ = &mut deadline => break,
        }
    }
    let _ = stop.send(true);
    Ok(Phase { ok, elapsed, latency, errors, end_to_end, delivered })
}

/// How a receiver authenticates and acknowledges.
struct Acks {
    /// Acknowledge after this many messages.
    every: u64,
    /// The receiver's bearer token.
    token: String,
}

/// One receiving organisation: streams its inbox, reports each referral's
/// end-to-end time, and acknowledges in batches.
async fn receive(
    channel: tonic::transport::Channel,
    acks: Acks,
    started: Arc<Mutex<HashMap<String, Instant>>>,
    seen: mpsc::UnboundedSender<u64>,
    mut stop: watch::Receiver<bool>,
) {
    let mut client = MessageServiceClient::new(channel);
    let token = &acks.token;
    let Ok(response) = client.stream_inbox(authorised(token, StreamInboxRequest::default())).await else { return };
    let mut stream = response.into_inner();
    let mut unacked = 0;
    loop {
        let next = tokio::select! {
            next = stream.message() => next,
            _ = stop.changed() => return,
        };
        let Ok(Some(response)) = next else { return };
        let Some(entry) = response.entry else { continue };
        if let Some(Item::Message(message)) = &entry.item {
            let start = started.lock().unwrap_or_else(|p| p.into_inner()).remove(&message.request_id);
            if let Some(start) = start {
                let _ = seen.send(start.elapsed().as_micros() as u64);
            }
        }
        unacked += 1;
        if unacked >= acks.every {
            unacked = 0;
            let _ = client.ack_delivery(authorised(token, AckDeliveryRequest { position: entry.position })).await;
        }
    }
}

/// `message` with the bearer token.
fn authorised<T>(token: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    if let Ok(bearer) = format!("Bearer {token}").parse() {
        request.metadata_mut().insert("authorization", bearer);
    }
    request
}

/// One outcome of a measured call: its latency in microseconds and how it ended.
type Outcome = (u64, Result<(), Code>);

/// When a phase starts, when its calls start counting, and when it ends.
#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    measured_from: Instant,
    deadline: Instant,
}

/// Runs `call` closed-loop or open-loop for the warm-up and then the
/// configured time; `call(seq, measured)` is told whether the call started
/// after the warm-up, and only those are counted.
async fn drive<F, Fut>(options: &Options, call: F) -> (Histogram<u64>, u64, BTreeMap<String, u64>, Duration)
where
    F: Fn(u64, bool) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Code>> + Send + 'static,
{
    let call = Arc::new(call);
    let (results_tx, results_rx) = mpsc::unbounded_channel::<Outcome>();
    let start = Instant::now();
    let measured_from = start + options.warmup();
    let window = Window { start, measured_from, deadline: measured_from + options.duration() };
    match options.mode {
        Mode::Closed | Mode::AuditProofs => closed_loop(call, options.concurrency.max(1), window, results_tx),
        Mode::Open => open_loop(call, options.rate.max(1), window, results_tx),
    }
    let (latency, ok, errors) = tally(results_rx).await;
    (latency, ok, errors, measured_from.elapsed())
}

/// `concurrency` callers, each starting its next call when the last returns.
fn closed_loop<F, Fut>(call: Arc<F>, concurrency: usize, window: Window, results: mpsc::UnboundedSender<Outcome>)
where
    F: Fn(u64, bool) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Code>> + Send + 'static,
{
    let counter = Arc::new(AtomicU64::new(0));
    for _ in 0..concurrency {
        let (call, results, counter) = (call.clone(), results.clone(), counter.clone());
        tokio::spawn(async move {
            while Instant::now() < window.deadline {
                let seq = counter.fetch_add(1, Ordering::Relaxed);
                let t0 = Instant::now();
                let measured = t0 >= window.measured_from;
                let outcome = call(seq, measured).await;
                if measured {
                    let _ = results.send((t0.elapsed().as_micros() as u64, outcome));
                }
            }
        });
    }
}

/// Calls started on a fixed schedule of `rate` a second, whether earlier
/// ones returned or not; latency counts from the scheduled start.
fn open_loop<F, Fut>(call: Arc<F>, rate: u64, window: Window, results: mpsc::UnboundedSender<Outcome>)
where
    F: Fn(u64, bool) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Code>> + Send + 'static,
{
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let in_flight = Arc::new(Semaphore::new(50_000));
    tokio::spawn(async move {
        let mut seq = 0u64;
        loop {
            let scheduled = window.start + interval.mul_f64(seq as f64);
            if scheduled >= window.deadline {
                break;
            }
            tokio::time::sleep_until(scheduled.into()).await;
            let Ok(permit) = in_flight.clone().acquire_owned().await else { break };
            let (call, results) = (call.clone(), results.clone());
            let measured = scheduled >= window.measured_from;
            tokio::spawn(async move {
                let outcome = call(seq, measured).await;
                if measured {
                    let _ = results.send((scheduled.elapsed().as_micros() as u64, outcome));
                }
                drop(permit);
            });
            seq += 1;
        }
    });
}

/// The latencies of the calls that succeeded and the count of each error,
/// once every caller has finished.
async fn tally(mut results: mpsc::UnboundedReceiver<Outcome>) -> (Histogram<u64>, u64, BTreeMap<String, u64>) {
    let mut latency = histogram();
    let mut ok = 0;
    let mut errors = BTreeMap::new();
    while let Some((micros, outcome)) = results.recv().await {
        match outcome {
            Ok(()) => {
                ok += 1;
                let _ = latency.record(micros.max(1));
            }
            Err(code) => *errors.entry(format!("{code:?}")).or_insert(0) += 1,
        }
    }
    (latency, ok, errors)
}
