//! TLS on the hub's one listener, offering both HTTP/2 and HTTP/1.1 by ALPN.
//!
//! tonic's own TLS offers only `h2`, so an HTTP/1.1-only client (many agency
//! systems posting to an adapter endpoint) fails the handshake. Here the
//! handshake is ours (rustls, the same verification tonic configures: the
//! client CA optional, so an organisation without a bound certificate still
//! connects) and tonic serves the finished TLS streams: it tells HTTP/1.1 from
//! HTTP/2 by the connection preface, and reads client certificates from the
//! stream's connect info as before (`auth.rs`, `Request::peer_certs`).

use std::{io, sync::Arc, time::Duration};

use rustls::{
    RootCertStore, ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    server::WebPkiClientVerifier,
};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::mpsc,
};
use tokio_rustls::{TlsAcceptor, server::TlsStream};
use tokio_stream::wrappers::ReceiverStream;

/// PEM material for TLS.
pub struct TlsConfig {
    /// Server certificate chain.
    pub cert_pem: Vec<u8>,
    /// Server private key.
    pub key_pem: Vec<u8>,
    /// CA that signs client certificates; when set, clients may present one.
    pub client_ca_pem: Option<Vec<u8>>,
}

/// The protocols offered, in the server's order of preference.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// How long a client may take over the handshake: a connection that has not
/// finished it holds a socket and a task and has proved nothing yet.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshaken connections waiting for the server to take them.
const ACCEPTED_BACKLOG: usize = 64;

/// Why the TLS material cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// A PEM file holds no certificate or key, or a malformed one.
    #[error("{what}: {source}")]
    Pem {
        /// Which file: the certificate chain, the key, the client CA.
        what: &'static str,
        /// What the parser found.
        source: rustls::pki_types::pem::Error,
    },
    /// rustls refused the material (a key that does not match the certificate).
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client CA cannot be used to verify client certificates.
    #[error("client CA: {0}")]
    ClientVerifier(#[from] rustls::server::VerifierBuilderError),
}

/// The rustls configuration of the listener: the hub's certificate, client
/// certificates verified against the client CA when one is configured
/// (optional, as the organisations that bind none still connect), ALPN h2
/// and http/1.1.
pub fn server_config(tls: &TlsConfig) -> Result<Arc<ServerConfig>, TlsSetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions()?;
    let builder = match &tls.client_ca_pem {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            roots.add_parsable_certificates(certificates(ca, "client CA")?);
            let verifier =
                WebPkiClientVerifier::builder_with_provider(roots.into(), provider).allow_unauthenticated().build()?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let key =
        PrivateKeyDer::from_pem_slice(&tls.key_pem).map_err(|source| TlsSetupError::Pem { what: "TLS key", source })?;
    let mut config = builder.with_single_cert(certificates(&tls.cert_pem, "TLS certificate")?, key)?;
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

fn certificates(pem: &[u8], what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    CertificateDer::pem_slice_iter(pem).collect::<Result<_, _>>().map_err(|source| TlsSetupError::Pem { what, source })
}

/// The connections of `listener` once their TLS handshake is done. Each
/// handshake runs in its own task, so a slow one delays nobody else; one that
/// fails or outlasts [`HANDSHAKE_TIMEOUT`] is dropped. Accepting stops when
/// the server drops the stream (at shutdown).
pub fn incoming(listener: TcpListener, config: Arc<ServerConfig>) -> ReceiverStream<io::Result<TlsStream<TcpStream>>> {
    let (accepted, stream) = mpsc::channel(ACCEPTED_BACKLOG);
    let acceptor = TlsAcceptor::from(config);
    tokio::spawn(async move {
        loop {
            let connection = tokio::select! {
                () = accepted.closed() => return,
                connection = listener.accept() => connection,
            };
            match connection {
                Ok((tcp, _)) => {
                    // gRPC writes small frames and waits for the answer: no batching.
                    let _ = tcp.set_nodelay(true);
                    let (acceptor, accepted) = (acceptor.clone(), accepted.clone());
                    tokio::spawn(async move {
                        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                            Ok(Ok(tls)) => {
                                let _ = accepted.send(Ok(tls)).await;
                            }
                            Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                            Err(_) => tracing::debug!("TLS handshake timed out"),
                        }
                    });
                }
                // The server logs and skips these, as it does for plaintext.
                Err(error) => {
                    if accepted.send(Err(error)).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    ReceiverStream::new(stream)
}
