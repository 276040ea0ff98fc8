//! TLS through rustls when a certificate is configured, with optional client
//! certificates: a client with or without one is served over TLS, and a
//! plaintext client is not. An organisation that registers its certificate is
//! served only over that certificate.

use rcgen::{BasicConstraints, CertificateParams, CertifiedKey, DnType, IsCa, KeyPair};
use referral_hub_domain::{audit::hex, ids::OrgId, sample};
use referral_hub_e2e::{Backend, Bearer, HEALTH_ORG, POLICE_ORG, SOCIAL_WELFARE_ORG, TestHub, submitted};
use referral_hub_proto::v1::message_service_client::MessageServiceClient;
use referral_hub_server::TlsConfig;
use referral_hub_store::AuditFilter;
use sha2::{Digest, Sha256};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

struct Pki {
    ca: rcgen::Certificate,
    ca_key: KeyPair,
}

impl Pki {
    fn new() -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // Distinct names: OpenSSL clients (curl) take a leaf whose issuer is its own subject for self-signed.
        params.distinguished_name.push(DnType::CommonName, "referral-hub test CA");
        let ca_key = KeyPair::generate().unwrap();
        let ca = params.self_signed(&ca_key).unwrap();
        Pki { ca, ca_key }
    }

    /// A certificate for `name` signed by the CA.
    fn issue(&self, name: &str) -> CertifiedKey {
        let key_pair = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![name.to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.signed_by(&key_pair, &self.ca, &self.ca_key).unwrap();
        CertifiedKey { cert, key_pair }
    }
}

/// A TLS endpoint to `url` trusting `trust`, presenting `identity` when given.
fn tls_endpoint(url: &str, trust: &ClientTlsConfig, identity: Option<&CertifiedKey>) -> Endpoint {
    let tls = match identity {
        Some(client) => trust.clone().identity(Identity::from_pem(client.cert.pem(), client.key_pair.serialize_pem())),
        None => trust.clone(),
    };
    let endpoint = Endpoint::from_shared(url.to_owned()).unwrap().connect_timeout(std::time::Duration::from_secs(10));
    endpoint.tls_config(tls).unwrap()
}

/// A TLS hub with optional client certificates under `pki`, and what a client needs to reach it.
async fn tls_hub(pki: &Pki) -> (TestHub, String, ClientTlsConfig) {
    let server = pki.issue("localhost");
    let tls = TlsConfig {
        cert_pem: server.cert.pem().into_bytes(),
        key_pem: server.key_pair.serialize_pem().into_bytes(),
        client_ca_pem: Some(pki.ca.pem().into_bytes()),
    };
    let hub = TestHub::start_with_tls(Backend::Sqlite, Some(tls)).await;
    // Connect to the IPv4 listener itself; the certificate name comes from `domain_name`.
    let url = format!("https://127.0.0.1:{}", hub.address.port());
    let trust = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pki.ca.pem())).domain_name("localhost");
    (hub, url, trust)
}

async fn health(channel: Channel) -> ServingStatus {
    let mut client = HealthClient::new(channel);
    let check = client.check(HealthCheckRequest::default());
    let response = tokio::time::timeout(std::time::Duration::from_secs(10), check).await.expect("answered within 10 s");
    response.unwrap().into_inner().status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_optional_client_certificates() {
    let pki = Pki::new();
    let (hub, url, trust) = tls_hub(&pki).await;
    let anonymous = tls_endpoint(&url, &trust, None);
    assert_eq!(health(anonymous.connect().await.unwrap()).await, ServingStatus::Serving);

    let client = pki.issue("demo-health-hlaing");
    let with_cert = tls_endpoint(&url, &trust, Some(&client));
    let channel = with_cert.connect().await.unwrap();
    assert_eq!(health(channel.clone()).await, ServingStatus::Serving);

    // A call over the client certificate records its fingerprint in the audit entry.
    let token = hub.token(HEALTH_ORG, &["referrer"]);
    let mut messages = MessageServiceClient::with_interceptor(channel, Bearer::new(&token));
    let sent = submitted(&mut messages, sample::submit("mtls", SOCIAL_WELFARE_ORG)).await;
    let filter = AuditFilter { message_id: Some(sent.id), limit: 10, ..Default::default() };
    let entries = hub.db.store.query_audit(&filter).await.unwrap();
    let fingerprint = hex(&Sha256::digest(client.cert.der()));
    assert_eq!(entries[0].entry.actor_certificate, fingerprint);

    // A plaintext client is never served: refused, or left unanswered (the
    // timeout bounds the wait; it is not waiting for a state).
    let plaintext = Endpoint::from_shared(format!("http://127.0.0.1:{}", hub.address.port())).unwrap();
    let probe = async {
        let channel = plaintext.connect().await.ok()?;
        HealthClient::new(channel).check(HealthCheckRequest::default()).await.ok()
    };
    let answered = tokio::time::timeout(std::time::Duration::from_secs(10), probe).await.ok().flatten();
    assert!(answered.is_none(), "a plaintext client must not be served by a TLS listener");
}

/// docs/security.md "Identity": when an organisation registers a client
/// certificate, its tokens count only over that certificate, and no other
/// organisation's token counts over it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_organisation_is_served_only_over_its_certificate() {
    let pki = Pki::new();
    let (hub, url, trust) = tls_hub(&pki).await;
    let (health_cert, police_cert) = (pki.issue("demo-health-hlaing"), pki.issue("demo-police-hlaing"));
    let mut organisation = hub.db.store.organisation(&OrgId::new(HEALTH_ORG)).await.unwrap().unwrap();
    organisation.client_certificate_sha256 = hex(&Sha256::digest(health_cert.cert.der()));
    hub.db.store.upsert_organisation(&organisation).await.unwrap();

    let token = hub.token(HEALTH_ORG, &["referrer"]);
    let mut calls = 0;
    for (case, identity, served) in [
        ("its own certificate", Some(&health_cert), true),
        ("another organisation's", Some(&police_cert), false),
        ("none", None, false),
    ] {
        let channel = tls_endpoint(&url, &trust, identity).connect().await.unwrap();
        let mut messages = MessageServiceClient::with_interceptor(channel, Bearer::new(&token));
        calls += 1;
        let answer = messages.submit_message(sample::submit(&format!("bound-{calls}"), SOCIAL_WELFARE_ORG)).await;
        match answer {
            Ok(_) => assert!(served, "{case}: a token for a bound organisation was honoured"),
            Err(status) => {
                assert!(!served, "{case}: {status:?}");
                assert_eq!(status.code(), tonic::Code::Unauthenticated, "{case}");
            }
        }
    }
    // An organisation without a registered certificate may use any certificate but another organisation's.
    let police = hub.token(POLICE_ORG, &["referrer"]);
    for (case, identity, served) in [("HEALTH's certificate", &health_cert, false), ("its own", &police_cert, true)] {
        let channel = tls_endpoint(&url, &trust, Some(identity)).connect().await.unwrap();
        let mut messages = MessageServiceClient::with_interceptor(channel, Bearer::new(&police));
        calls += 1;
        let answer = messages.submit_message(sample::submit(&format!("bound-{calls}"), SOCIAL_WELFARE_ORG)).await;
        assert_eq!(
            answer.map(drop).map_err(|s| s.code()),
            if served { Ok(()) } else { Err(tonic::Code::Unauthenticated) },
            "police over {case}"
        );
    }
    let filter = AuditFilter { action: Some("AUTHENTICATION_FAILED".into()), limit: 10, ..Default::default() };
    let refused = hub.db.store.query_audit(&filter).await.unwrap();
    assert_eq!(refused.len(), 3, "every refusal is audited");
    assert!(refused.iter().all(|e| e.entry.detail.contains("client certificate")));
    assert_eq!(refused[0].entry.actor_certificate, hex(&Sha256::digest(police_cert.cert.der())));
    assert_eq!(refused[1].entry.actor_certificate, "", "no certificate was presented");
}

/// Many agency systems speak only HTTP/1.1: over TLS the listener offers
/// `http/1.1` beside `h2` by ALPN, so curl limited to HTTP/1.1 posts a FHIR
/// Bundle on the same port gRPC clients use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http1_only_client_posts_a_fhir_bundle_over_tls() {
    let pki = Pki::new();
    let (hub, _, trust) = tls_hub(&pki).await;
    let files = tempfile::tempdir().unwrap();
    let ca = files.path().join("ca.pem");
    std::fs::write(&ca, pki.ca.pem()).unwrap();
    let bundle = format!("{}/../docs/examples/health-referral-bundle.json", env!("CARGO_MANIFEST_DIR"));
    let port = hub.address.port();
    let authorization = format!("authorization: Bearer {}", hub.token(HEALTH_ORG, &["referrer"]));
    let mut curl = std::process::Command::new("curl");
    curl.args(["-sS", "--http1.1", "--cacert"])
        .arg(&ca)
        .args(["--resolve", &format!("localhost:{port}:127.0.0.1"), "-H", &authorization])
        .args(["-H", "content-type: application/fhir+json", "--data-binary", &format!("@{bundle}")])
        .args(["-o", "/dev/null", "-w", "%{http_version} %{response_code}"])
        .arg(format!("https://localhost:{port}/fhir/r4/Bundle"));
    let curl = tokio::task::spawn_blocking(move || curl.output()).await.unwrap().expect("curl runs");
    let answer = String::from_utf8_lossy(&curl.stdout);
    assert!(curl.status.success(), "{answer} {}", String::from_utf8_lossy(&curl.stderr));
    assert_eq!(answer, "1.1 200", "served over HTTP/1.1 and accepted");

    // gRPC clients still negotiate HTTP/2 on the same listener.
    let url = format!("https://127.0.0.1:{port}");
    assert_eq!(health(tls_endpoint(&url, &trust, None).connect().await.unwrap()).await, ServingStatus::Serving);
}
