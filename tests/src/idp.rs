//! An identity provider as far as the hub sees one: a tiny HTTPS server on
//! 127.0.0.1 (rustls, a certificate from a test CA) serving a discovery
//! document and a JWKS with whatever cache headers a test sets, counting the
//! requests; signing keys of the algorithms providers use (RS256, PS256,
//! ES256); and tokens shaped as Keycloak and Microsoft Entra ID issue them
//! (`tests/fixtures/idp/`, whose README names the sources).

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex, OnceLock},
};

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

/// One canned answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Extra headers (`Cache-Control`, `Expires`).
    pub headers: Vec<(String, String)>,
    /// The body (JSON).
    pub body: String,
}

impl Reply {
    /// 200 with `body` and `headers`.
    pub fn json(body: &Value, headers: &[(&str, &str)]) -> Reply {
        let headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        Reply { status: 200, headers, body: body.to_string() }
    }

    /// An error status with an empty body (an outage).
    pub fn status(status: u16) -> Reply {
        Reply { status, headers: Vec::new(), body: String::new() }
    }
}

/// The HTTPS server; stops when dropped.
pub struct HttpsServer {
    /// Where it listens.
    pub address: SocketAddr,
    /// The test CA's certificate (PEM), which the hub is told to trust.
    pub ca_pem: Vec<u8>,
    replies: Arc<Mutex<HashMap<String, Reply>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    _task: tokio::task::JoinHandle<()>,
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        self._task.abort();
    }
}

impl HttpsServer {
    /// Starts serving on a random loopback port with a certificate for 127.0.0.1.
    pub async fn start() -> HttpsServer {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate().expect("CA key");
        let ca = params.self_signed(&ca_key).expect("CA");
        let server_key = KeyPair::generate().expect("server key");
        let server = CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .expect("server params")
            .signed_by(&server_key, &ca, &ca_key)
            .expect("server certificate");
        let certificate = rustls::pki_types::CertificateDer::from(server.der().to_vec());
        let key = rustls::pki_types::PrivateKeyDer::try_from(server_key.serialize_der()).expect("key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![certificate], key)
            .expect("TLS config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (replies, hits) = (Arc::default(), Arc::default());
        let task = tokio::spawn(serve(listener, acceptor, Arc::clone(&replies), Arc::clone(&hits)));
        HttpsServer { address, ca_pem: ca.pem().into_bytes(), replies, hits, _task: task }
    }

    /// `https://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.address)
    }

    /// Answers GET `path` with `reply` from now on.
    pub fn answer(&self, path: &str, reply: Reply) {
        self.replies.lock().unwrap_or_else(|p| p.into_inner()).insert(path.to_owned(), reply);
    }

    /// How many requests for `path` arrived.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap_or_else(|p| p.into_inner()).get(path).copied().unwrap_or(0)
    }
}

async fn serve(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    replies: Arc<Mutex<HashMap<String, Reply>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        let (acceptor, replies, hits) = (acceptor.clone(), replies.clone(), hits.clone());
        tokio::spawn(async move {
            let Ok(mut tls) = acceptor.accept(stream).await else { return };
            let Some(path) = request_path(&mut tls).await else { return };
            *hits.lock().unwrap_or_else(|p| p.into_inner()).entry(path.clone()).or_default() += 1;
            let reply = replies.lock().unwrap_or_else(|p| p.into_inner()).get(&path).cloned();
            let reply = reply.unwrap_or_else(|| Reply::status(404));
            let extra: String = reply.headers.iter().map(|(n, v)| format!("{n}: {v}\r\n")).collect();
            let head = format!(
                "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n",
                reply.status,
                reply.body.len()
            );
            let _ = tls.write_all(head.as_bytes()).await;
            let _ = tls.write_all(reply.body.as_bytes()).await;
            let _ = tls.shutdown().await;
        });
    }
}

/// The path of a GET request's first line, once its head has arrived.
async fn request_path(stream: &mut (impl AsyncReadExt + Unpin)) -> Option<String> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16_384 {
        let read = stream.read(&mut buffer).await.ok()?;
        if read == 0 {
            return None;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let text = String::from_utf8_lossy(&head);
    text.lines().next()?.split(' ').nth(1).map(str::to_owned)
}

/// A provider's signing key: its private half signs, its JWK is published.
pub struct IdpKey {
    /// `kid`.
    pub kid: String,
    /// The algorithm it signs with.
    pub algorithm: Algorithm,
    encoding: EncodingKey,
    /// The public half as a JWK.
    pub jwk: Value,
}

/// One RSA key pair (PKCS#1 DER, modulus, exponent) per test process:
/// generating one takes a while, and a kid is what tells keys apart here.
fn rsa_key() -> &'static (Vec<u8>, Vec<u8>, Vec<u8>) {
    static KEY: OnceLock<(Vec<u8>, Vec<u8>, Vec<u8>)> = OnceLock::new();
    KEY.get_or_init(|| {
        use rsa::{pkcs1::EncodeRsaPrivateKey, traits::PublicKeyParts};
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key");
        let der = private.to_pkcs1_der().expect("PKCS#1").as_bytes().to_vec();
        (der, private.n().to_bytes_be(), private.e().to_bytes_be())
    })
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl IdpKey {
    /// An RSA key signing with `algorithm` (RS256 or PS256); its JWK states
    /// `alg` when `declared` (Keycloak does, Entra does not).
    pub fn rsa(kid: &str, algorithm: Algorithm, declared: bool) -> IdpKey {
        let (der, n, e) = rsa_key();
        let mut jwk = json!({ "kty": "RSA", "use": "sig", "kid": kid, "n": b64(n), "e": b64(e) });
        if declared {
            jwk["alg"] = json!(format!("{algorithm:?}"));
        }
        IdpKey { kid: kid.to_owned(), algorithm, encoding: EncodingKey::from_rsa_der(der), jwk }
    }

    /// A fresh ECDSA P-256 key (ES256).
    pub fn es256(kid: &str) -> IdpKey {
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("P-256 key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).expect("pair");
        let point = pair.public_key().as_ref();
        let (x, y) = (&point[1..33], &point[33..65]);
        let jwk = json!({ "kty": "EC", "use": "sig", "crv": "P-256", "kid": kid, "x": b64(x), "y": b64(y) });
        IdpKey {
            kid: kid.to_owned(),
            algorithm: Algorithm::ES256,
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk,
        }
    }

    /// A JWT of `header` and `claims` signed by this key with `algorithm`
    /// (which need not be the key's: a test of algorithm pinning says so).
    pub fn sign_as(&self, algorithm: Algorithm, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &self.encoding, algorithm).expect("sign");
        format!("{input}.{signature}")
    }

    /// `claims` signed with this key's algorithm under `header` (its `kid`
    /// and `alg` set to this key's).
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let mut header = header.clone();
        header["kid"] = json!(self.kid);
        header["alg"] = json!(format!("{:?}", self.algorithm));
        self.sign_as(self.algorithm, &header, claims)
    }
}

/// A JWKS of `keys`, plus what providers publish beside signing keys: an
/// encryption key (Keycloak's `RSA-OAEP`), which the hub leaves out.
pub fn jwks(keys: &[&IdpKey]) -> Value {
    let mut published: Vec<Value> = keys.iter().map(|k| k.jwk.clone()).collect();
    let mut encryption = IdpKey::rsa("enc-key", Algorithm::RS256, false).jwk;
    encryption["use"] = json!("enc");
    encryption["alg"] = json!("RSA-OAEP");
    published.push(encryption);
    json!({ "keys": published })
}

/// A token shape from `tests/fixtures/idp/<name>.json`: `{header, claims}`.
pub fn fixture(name: &str) -> (Value, Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/idp").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let shape: Value = serde_json::from_str(&text).expect("fixture JSON");
    (shape["header"].clone(), shape["claims"].clone())
}

/// `claims` issued now (real time: the verifier checks `exp` against it)
/// for `lifetime` seconds, with `changes` merged in at the top level.
pub fn issued_now(claims: &Value, lifetime: i64, changes: &Value) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut claims = claims.clone();
    let object = claims.as_object_mut().expect("claims object");
    for time_claim in ["iat", "nbf", "auth_time"] {
        if object.contains_key(time_claim) {
            object.insert(time_claim.into(), json!(now));
        }
    }
    object.insert("exp".into(), json!(now + lifetime));
    object.extend(changes.as_object().cloned().unwrap_or_default());
    claims
}
