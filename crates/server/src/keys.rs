//! The hub's own Ed25519 signing key, kept in the data directory, for small
//! deployments that let the hub issue tokens (`referral-hub token issue`) and
//! for dev mode. Created on first use; a restart reuses it. Rotating it keeps
//! the previous public key in `keys/previous/`, so tokens already issued stay
//! valid until they expire; [`verification_keys`] reads every key a token may
//! be signed with, and a running hub re-reads them when the files change.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    fs, io,
    path::Path,
};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use referral_hub_store::Sealer;

/// File name of the PKCS#8 key inside `<data-dir>/keys/`.
const KEY_FILE: &str = "hub-signing-ed25519.pk8";
/// Directory of previous signing keys' public halves (`<kid>.ed25519.pub`, 32 raw bytes).
const PREVIOUS_DIR: &str = "previous";
/// File name suffix of a previous signing key's public half.
const PREVIOUS_SUFFIX: &str = ".ed25519.pub";
/// File name of the link-key secret inside `<data-dir>/keys/`.
const LINK_SECRET_FILE: &str = "link-key.secret";

/// Loads `<data_dir>/keys/link-key.secret` (32 random bytes), creating it
/// (mode 0600) if absent. Every replica of a hub must share this file: the
/// same national identifier must give the same link key everywhere.
pub fn load_or_create_link_secret(data_dir: &Path) -> Result<Vec<u8>, KeyError> {
    load_or_create_secret(&data_dir.join("keys").join(LINK_SECRET_FILE))
}

/// The payload keys in `<data_dir>/keys/payload/` (`<key id>.key`, 32 random
/// bytes each), creating the current one if absent. Every replica must share
/// them. Retiring a key is deleting its file, once `Store::reseal` has sealed
/// everything under a newer one.
pub fn load_or_create_payload_keys(data_dir: &Path, current: &str) -> Result<Sealer, KeyError> {
    let dir = data_dir.join("keys").join("payload");
    let shown = dir.display().to_string();
    let valid_id =
        !current.is_empty() && current.len() <= 64 && current.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid_id {
        return Err(KeyError::Malformed { path: format!("{shown}/{current}.key (ids: 1-64 letters, digits, '-')") });
    }
    load_or_create_secret(&dir.join(format!("{current}.key")))?;
    let mut keys = BTreeMap::new();
    for entry in fs::read_dir(&dir).map_err(|source| KeyError::Io { path: shown.clone(), source })? {
        let path = entry.map_err(|source| KeyError::Io { path: shown.clone(), source })?.path();
        let Some(id) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".key")) else { continue };
        let bytes = fs::read(&path).map_err(|source| KeyError::Io { path: path.display().to_string(), source })?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Malformed { path: path.display().to_string() })?;
        keys.insert(id.to_owned(), key);
    }
    Sealer::new(current, keys).map_err(|_| KeyError::Malformed { path: shown })
}

/// Reads the 32-byte secret at `path`, creating it (mode 0600) if absent.
fn load_or_create_secret(path: &Path) -> Result<Vec<u8>, KeyError> {
    let shown = path.display().to_string();
    let io_error = |source| KeyError::Io { path: shown.clone(), source };
    match fs::read(path) {
        Ok(bytes) if bytes.len() >= 32 => Ok(bytes),
        Ok(_) => Err(KeyError::Malformed { path: shown }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(io_error)?;
            }
            let mut secret = vec![0u8; 32];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut secret)
                .map_err(|_| KeyError::Malformed { path: shown.clone() })?;
            write_private(path, &secret).map_err(io_error)?;
            Ok(secret)
        }
        Err(e) => Err(io_error(e)),
    }
}

/// Why the hub's key could not be loaded or a token not be issued.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing the key file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// Which file.
        path: String,
        /// What failed.
        source: io::Error,
    },
    /// The key file does not hold a usable key.
    #[error("key file {path} does not hold a usable key")]
    Malformed {
        /// Which file.
        path: String,
    },
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
    /// A configured key set has no key tokens could be verified with.
    #[error(
        "{location}: no usable signing key (RSA RS256/PS256, ECDSA P-256 ES256 or Ed25519 EdDSA, with a kid); left out: {}",
        if unusable.is_empty() { "none, the set is empty" } else { unusable }
    )]
    NoUsableKey {
        /// The file or URL.
        location: String,
        /// Each key left out and why.
        unusable: String,
    },
}

/// The hub's signing key pair.
pub struct HubKey {
    pkcs8: Vec<u8>,
    public: Vec<u8>,
    kid: String,
}

impl HubKey {
    /// Loads `<data_dir>/keys/hub-signing-ed25519.pk8`, creating it (mode 0600) if absent.
    pub fn load_or_create(data_dir: &Path) -> Result<HubKey, KeyError> {
        let dir = data_dir.join("keys");
        let path = dir.join(KEY_FILE);
        let shown = path.display().to_string();
        let io_error = |source| KeyError::Io { path: shown.clone(), source };
        let pkcs8 = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(&dir).map_err(io_error)?;
                let rng = ring::rand::SystemRandom::new();
                let document =
                    Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| KeyError::Malformed { path: shown.clone() })?;
                write_private(&path, document.as_ref()).map_err(io_error)?;
                document.as_ref().to_vec()
            }
            Err(e) => return Err(io_error(e)),
        };
        Self::from_pkcs8(pkcs8).ok_or(KeyError::Malformed { path: shown })
    }

    fn from_pkcs8(pkcs8: Vec<u8>) -> Option<HubKey> {
        let pair = Ed25519KeyPair::from_pkcs8(&pkcs8).ok()?;
        let public = pair.public_key().as_ref().to_vec();
        let digest = Sha256::digest(&public);
        let kid = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Some(HubKey { pkcs8, public, kid })
    }

    /// Signs `message` (Ed25519), e.g. an audit checkpoint.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        // The key was parsed when this HubKey was made, so parsing again cannot fail.
        Ed25519KeyPair::from_pkcs8(&self.pkcs8).map(|pair| pair.sign(message).as_ref().to_vec()).unwrap_or_default()
    }

    /// Whether `signature` is this key's signature of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &self.public)
            .verify(message, signature)
            .is_ok()
    }

    /// The Ed25519 public key (32 bytes), as the audit signing keys record it.
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// The key id tokens carry in their header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JSON Web Key (OKP, Ed25519), for a JWKS that
    /// others verify the hub's tokens and checkpoints with.
    pub fn jwk(&self) -> serde_json::Value {
        use base64::Engine as _;
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&self.public);
        serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": self.kid, "x": x })
    }

    /// The verifying half, for the authenticator.
    pub fn decoding_key(&self) -> DecodingKey {
        DecodingKey::from_ed_der(&self.public)
    }

    /// The verifying half as the authenticator holds it: the hub's own key
    /// speaks for any organisation (the operator issues its tokens).
    pub fn verification_key(&self) -> VerificationKey {
        VerificationKey::own(self.decoding_key(), Algorithm::EdDSA, SpeaksFor::Any)
    }

    /// Signs a token for `org` / `subject` with `roles`, valid for `ttl` from `now`.
    pub fn issue(&self, claims: &TokenRequest<'_>, now: OffsetDateTime) -> Result<String, KeyError> {
        self.issue_recorded(claims, now).map(|issued| issued.token)
    }

    /// Signs a token like [`HubKey::issue`], with a fresh `jti`, and returns
    /// what the hub records of it besides the token itself.
    pub fn issue_recorded(&self, claims: &TokenRequest<'_>, now: OffsetDateTime) -> Result<IssuedToken, KeyError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        let jti = uuid::Uuid::now_v7().to_string();
        let (issued_at, expires_at) = (now.unix_timestamp(), (now + claims.ttl).unix_timestamp());
        let body = Claims {
            iss: claims.issuer,
            aud: claims.audience,
            sub: claims.subject,
            org: claims.org,
            roles: claims.roles,
            iat: issued_at,
            nbf: issued_at,
            exp: expires_at,
            jti: &jti,
        };
        let token = jsonwebtoken::encode(&header, &body, &EncodingKey::from_ed_der(&self.pkcs8))?;
        Ok(IssuedToken { token, jti, kid: self.kid.clone(), issued_at, expires_at })
    }
}

/// A token the hub signed, and the metadata `token list` shows of it.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The token; printed once, never stored.
    pub token: String,
    /// Its `jti`, by which it can be revoked.
    pub jti: String,
    /// The key that signed it.
    pub kid: String,
    /// `iat`, Unix seconds.
    pub issued_at: i64,
    /// `exp`, Unix seconds.
    pub expires_at: i64,
}

/// Which organisations a verification key may sign tokens for. An identity
/// provider's key speaks only for the organisations the operator bound it to,
/// so one agency's compromised provider cannot act for another agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpeaksFor {
    /// Any organisation: the hub's own keys, or a key bound with `*`.
    Any,
    /// These organisations only (none: the key verifies nobody's tokens).
    Only(BTreeSet<String>),
}

impl SpeaksFor {
    /// Whether a token for `org` signed by this key is honoured.
    pub fn allows(&self, org: &str) -> bool {
        match self {
            SpeaksFor::Any => true,
            SpeaksFor::Only(orgs) => orgs.contains(org),
        }
    }
}

/// A key tokens may be signed with, and whom it may speak for.
#[derive(Clone)]
pub struct VerificationKey {
    /// The public key.
    pub key: DecodingKey,
    /// The organisations its tokens may name.
    pub speaks_for: SpeaksFor,
    /// The one algorithm its tokens may be signed with (`jwk.rs`).
    pub algorithm: Algorithm,
    /// Issuer, audience and claim paths of its tokens; `None`: the hub's own
    /// (`--issuer`, `--audience`, `org`, `roles`).
    pub profile: Option<std::sync::Arc<crate::claims::TokenProfile>>,
}

impl VerificationKey {
    /// A key whose tokens look like the hub's own (issuer, audience, claims).
    pub fn own(key: DecodingKey, algorithm: Algorithm, speaks_for: SpeaksFor) -> VerificationKey {
        VerificationKey { key, speaks_for, algorithm, profile: None }
    }
}

/// `--key-orgs KID=org1,org2` (or `KID=*`): the organisations each identity
/// provider key may speak for, by `kid`. A provider key without a binding
/// speaks for nobody: binding is explicit, never implied.
#[derive(Debug, Clone, Default)]
pub struct KeyBindings(HashMap<String, SpeaksFor>);

impl KeyBindings {
    /// Parses `KID=org1,org2` / `KID=*` specifications.
    pub fn parse(specs: &[String]) -> Result<KeyBindings, String> {
        let mut bindings = KeyBindings::default();
        for spec in specs {
            let Some((kid, orgs)) = spec.split_once('=') else {
                return Err(format!("--key-orgs {spec:?}: expected KID=org1,org2 or KID=*"));
            };
            let orgs: BTreeSet<String> =
                orgs.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect();
            let speaks_for = match orgs.iter().any(|o| o == "*") {
                true if orgs.len() == 1 => SpeaksFor::Any,
                true => return Err(format!("--key-orgs {spec:?}: `*` stands alone")),
                false if kid.is_empty() || orgs.is_empty() => {
                    return Err(format!("--key-orgs {spec:?}: a kid and at least one organisation"));
                }
                false => SpeaksFor::Only(orgs),
            };
            bindings.bind(kid.trim(), speaks_for);
        }
        Ok(bindings)
    }

    /// Binds `kid` to `speaks_for`, replacing any earlier binding.
    pub fn bind(&mut self, kid: &str, speaks_for: SpeaksFor) {
        self.0.insert(kid.to_owned(), speaks_for);
    }

    /// Whom the provider key `kid` speaks for: nobody unless bound.
    fn of(&self, kid: &str) -> SpeaksFor {
        self.of_or(kid, &SpeaksFor::Only(BTreeSet::new()))
    }

    /// Whom the provider key `kid` speaks for: its binding, else `unbound`
    /// (the organisations its issuer is bound to, `--oidc-orgs`).
    pub(crate) fn of_or(&self, kid: &str, unbound: &SpeaksFor) -> SpeaksFor {
        self.0.get(kid).unwrap_or(unbound).clone()
    }
}

/// Replaces the hub's signing key with a new one, keeping the old public key
/// for verification (`keys/previous/<kid>.ed25519.pub`). Returns the old and
/// the new key ids. Running hubs pick the change up by themselves.
pub fn rotate_signing_key(data_dir: &Path) -> Result<(String, String), KeyError> {
    let old = HubKey::load_or_create(data_dir)?;
    let dir = data_dir.join("keys");
    let previous = dir.join(PREVIOUS_DIR);
    let shown = previous.display().to_string();
    fs::create_dir_all(&previous).map_err(|source| KeyError::Io { path: shown.clone(), source })?;
    let kept = previous.join(format!("{}{PREVIOUS_SUFFIX}", old.kid));
    fs::write(&kept, &old.public).map_err(|source| KeyError::Io { path: kept.display().to_string(), source })?;
    let path = dir.join(KEY_FILE);
    let shown = path.display().to_string();
    let rng = ring::rand::SystemRandom::new();
    let document = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| KeyError::Malformed { path: shown.clone() })?;
    // Written aside and renamed over the old key, so a reader never sees half a key.
    let staged = dir.join(format!("{KEY_FILE}.new"));
    write_private(&staged, document.as_ref()).map_err(|source| KeyError::Io { path: shown.clone(), source })?;
    fs::rename(&staged, &path).map_err(|source| KeyError::Io { path: shown.clone(), source })?;
    let new = HubKey::from_pkcs8(document.as_ref().to_vec()).ok_or(KeyError::Malformed { path: shown })?;
    Ok((old.kid, new.kid))
}

/// Forgets a previous signing key: tokens it signed are refused from then on.
/// `false` if there is no such previous key.
pub fn retire_signing_key(data_dir: &Path, kid: &str) -> Result<bool, KeyError> {
    let path = data_dir.join("keys").join(PREVIOUS_DIR).join(format!("{kid}{PREVIOUS_SUFFIX}"));
    match fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(KeyError::Io { path: path.display().to_string(), source }),
    }
}

/// Every key a token may be signed with, by `kid`: the hub's signing key and
/// its previous ones in `data_dir` (speaking for any organisation), Ed25519
/// public keys in PEM files (`kid` = file stem), and the signing keys of a
/// JWKS file (an identity provider's; RSA, ECDSA or Ed25519, each pinned to
/// its algorithm), each speaking for the organisations `bindings` gives its `kid`.
pub fn verification_keys(
    data_dir: &Path,
    pem_files: &[std::path::PathBuf],
    jwks: Option<&Path>,
    bindings: &KeyBindings,
) -> Result<HashMap<String, VerificationKey>, KeyError> {
    let current = HubKey::load_or_create(data_dir)?;
    let mut keys = HashMap::from([(current.kid.clone(), current.verification_key())]);
    let provider = |kid: &str, key, algorithm| VerificationKey::own(key, algorithm, bindings.of(kid));
    let previous = data_dir.join("keys").join(PREVIOUS_DIR);
    if let Ok(entries) = fs::read_dir(&previous) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(kid) = name.strip_suffix(PREVIOUS_SUFFIX) else { continue };
            let public = read_file(&entry.path())?;
            let key = VerificationKey::own(DecodingKey::from_ed_der(&public), Algorithm::EdDSA, SpeaksFor::Any);
            keys.insert(kid.to_owned(), key);
        }
    }
    for path in pem_files {
        let shown = path.display().to_string();
        let key = DecodingKey::from_ed_pem(&read_file(path)?).map_err(|_| KeyError::Malformed { path: shown })?;
        let kid = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        keys.insert(kid.clone(), provider(&kid, key, Algorithm::EdDSA));
    }
    if let Some(path) = jwks {
        for pinned in read_jwks_file(path)?.usable {
            let key = provider(&pinned.kid, pinned.key, pinned.algorithm);
            keys.insert(pinned.kid, key);
        }
    }
    Ok(keys)
}

/// Checks at start that the JWKS file `path` holds at least one usable
/// signing key, and says which keys it leaves out and why: a configured key
/// set the hub cannot use would refuse every token of its provider.
pub fn check_jwks_file(path: &Path) -> Result<(), KeyError> {
    let set = read_jwks_file(path)?;
    if !set.unusable.is_empty() {
        tracing::warn!(jwks = %path.display(), unusable = %set.unusable_text(), "JWKS keys left out");
    }
    if set.usable.is_empty() {
        let unusable = set.unusable_text();
        return Err(KeyError::NoUsableKey { location: path.display().to_string(), unusable });
    }
    Ok(())
}

fn read_jwks_file(path: &Path) -> Result<crate::jwk::ReadSet, KeyError> {
    crate::jwk::read_set(&read_file(path)?).map_err(|_| KeyError::Malformed { path: path.display().to_string() })
}

fn read_file(path: &Path) -> Result<Vec<u8>, KeyError> {
    fs::read(path).map_err(|source| KeyError::Io { path: path.display().to_string(), source })
}

/// What a token says about its bearer.
pub struct TokenRequest<'a> {
    /// `iss`: this hub.
    pub issuer: &'a str,
    /// `aud`: this hub.
    pub audience: &'a str,
    /// `sub`: the worker or system.
    pub subject: &'a str,
    /// `org`: the organisation.
    pub org: &'a str,
    /// `roles`.
    pub roles: &'a [String],
    /// How long it is valid.
    pub ttl: Duration,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    org: &'a str,
    roles: &'a [String],
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: &'a str,
}

fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}
