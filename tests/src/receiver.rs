//! A real HTTP endpoint for push-delivery tests: it records every request
//! (headers and body) and answers with the statuses a test scripts, so the
//! hub's pusher is tested against a socket, not a mock. A push pass
//! (`push.scan_now()`) completes only after its requests were answered, so a
//! test reads [`Receiver::received`] right after it.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{body::Bytes, extract::State, http::HeaderMap, http::StatusCode};
use tokio::{net::TcpListener, sync::watch};

/// One request the endpoint received.
#[derive(Debug, Clone)]
pub struct Received {
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp`.
    pub timestamp: String,
    /// `webhook-signature`.
    pub signature: String,
    /// `content-type`.
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
}

#[derive(Default)]
struct Log {
    received: Vec<Received>,
    /// Statuses to answer with, in order; 200 once they run out; 0: never answer.
    script: VecDeque<u16>,
    /// Bodies to answer with, in order; empty once they run out.
    bodies: VecDeque<Vec<u8>>,
    /// A `location` header for every answer (a redirect, with a 3xx in the script).
    location: Option<String>,
}

/// The endpoint; serves until dropped with the test's runtime.
#[derive(Clone)]
pub struct Receiver {
    /// Its URL, e.g. `http://127.0.0.1:41234/hooks`.
    pub url: String,
    log: Arc<Mutex<Log>>,
    /// How many requests arrived.
    count: watch::Sender<usize>,
}

impl Receiver {
    /// Starts an endpoint on a random loopback port answering `script`, then 200s.
    pub async fn start(script: &[u16]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind receiver");
        let address: SocketAddr = listener.local_addr().expect("receiver address");
        let receiver = Receiver {
            url: format!("http://{address}/hooks"),
            log: Arc::new(Mutex::new(Log {
                received: vec![],
                script: script.iter().copied().collect(),
                bodies: VecDeque::new(),
                location: None,
            })),
            count: watch::Sender::new(0),
        };
        let app = axum::Router::new().route("/hooks", axum::routing::post(record)).with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.expect("receiver serves") });
        receiver
    }

    /// Waits until `n` requests have arrived (for a request that is never
    /// answered, so no pass completes to wait on).
    pub async fn wait_for(&self, n: usize) {
        let mut count = self.count.subscribe();
        let _ = count.wait_for(|arrived| *arrived >= n).await;
    }

    /// Answers a coming request with `body` (after those already queued).
    pub fn answer_with(&self, body: Vec<u8>) {
        self.log.lock().expect("receiver log").bodies.push_back(body);
    }

    /// Sends a `location` header pointing at `url` with every answer from now on.
    pub fn redirect_to(&self, url: &str) {
        self.log.lock().expect("receiver log").location = Some(url.to_owned());
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.log.lock().expect("receiver log").received.clone()
    }
}

async fn record(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> (StatusCode, HeaderMap, Vec<u8>) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (status, location, answer) = {
        let mut log = receiver.log.lock().expect("receiver log");
        log.received.push(Received {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
            content_type: header("content-type"),
            body: body.to_vec(),
        });
        (log.script.pop_front().unwrap_or(200), log.location.clone(), log.bodies.pop_front().unwrap_or_default())
    };
    receiver.count.send_modify(|n| *n += 1);
    if status == 0 {
        std::future::pending::<()>().await;
    }
    let mut answer_headers = HeaderMap::new();
    if let Some(location) = location.and_then(|l| l.parse().ok()) {
        answer_headers.insert(axum::http::header::LOCATION, location);
    }
    (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), answer_headers, answer)
}

/// Spaces a flood answer is made of, shared by every chunk (nothing is allocated per chunk).
static FLOOD_CHUNK: [u8; 64 * 1024] = [b' '; 64 * 1024];

/// Starts an endpoint on a random loopback port that answers every request
/// 200 with `bytes` bytes of spaces (whole 64 KiB chunks), produced lazily as
/// the reader takes them; returns its URL. An endpoint that floods the hub.
pub async fn flood(bytes: u64) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind flood");
    let url = format!("http://{}/hooks", listener.local_addr().expect("flood address"));
    let chunks = bytes / FLOOD_CHUNK.len() as u64;
    let answer = move || async move {
        let chunk = || Ok::<_, std::convert::Infallible>(Bytes::from_static(&FLOOD_CHUNK));
        axum::body::Body::from_stream(futures::StreamExt::take(futures::stream::repeat_with(chunk), chunks as usize))
    };
    let app = axum::Router::new().route("/hooks", axum::routing::post(answer));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("flood serves") });
    url
}

/// Standard Webhooks verification, written independently of the hub's
/// signing code: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` under the
/// base64 key after `whsec_`; true if any listed signature matches.
pub fn signature_verifies(secret: &str, received: &Received) -> bool {
    use base64::{Engine as _, engine::general_purpose::STANDARD};
    use hmac::Mac;
    let Some(key) = secret.strip_prefix("whsec_").and_then(|k| STANDARD.decode(k).ok()) else { return false };
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key) else { return false };
    mac.update(format!("{}.{}.", received.id, received.timestamp).as_bytes());
    mac.update(&received.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    received.signature.split(' ').any(|s| s == expected)
}
