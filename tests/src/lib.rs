//! The shared harness of the end-to-end suite: a fresh database on either
//! backend, the real hub serving on a random loopback port, and clients that
//! carry a token for any organisation and roles.
//!
//! Every test is written once as `async fn name(backend: Backend)` and
//! instantiated for SQLite and PostgreSQL by [`on_both_backends!`].

pub mod canary;
pub mod forger;
pub mod idp;
pub mod otlp;
pub mod postgres_roles;
pub mod private_postgres;
pub mod prometheus;
pub mod receiver;

use std::{collections::HashMap, net::SocketAddr, sync::Arc};

use tempfile::TempDir;
use tokio::sync::oneshot;
use tonic::{
    Request, Status,
    metadata::{AsciiMetadataValue, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Channel, Endpoint},
};

use referral_hub_domain::{
    audit::tree_head::TreeHeadSchedule, deadlines::DeadlinePolicy, push_policy::PushPolicy, timestamps::UnixMicros,
    validation::Rules,
};
use referral_hub_proto::v1::{
    DeliveryChannel, FollowUpAction, InboxEntry, Message, Organisation, OrganisationStatus, PostFollowUpRequest,
    Sector, StreamInboxResponse, SubmitMessageRequest, audit_service_client::AuditServiceClient,
    consent_service_client::ConsentServiceClient, directory_service_client::DirectoryServiceClient,
    message_service_client::MessageServiceClient, stats_service_client::StatsServiceClient,
};
use referral_hub_server::{
    Application, KeyReload, Settings, TlsConfig,
    admission::Admission,
    authority::Authority,
    clock::{Clock, ManualClock},
    identity_provider::IdentityProvider,
    keys::{HubKey, KeyBindings, SpeaksFor, TokenRequest},
    limits::Limits,
    scheduler::SchedulerControl,
    tree_heads::TreeHeadSettings,
};
use referral_hub_store::Store;

/// The police station is neither sender nor receiver in most tests.
pub use referral_hub_server::demo::{COURT_ORG, HEALTH_ORG, OPERATOR_ORG, POLICE_ORG, SCHOOL_ORG, SOCIAL_WELFARE_ORG};

/// The demo organisation test hubs grant `oversight` (the ombudsperson's
/// part): the community group, which is otherwise rarely a party.
pub const OVERSIGHT_ORG: &str = "demo-community-hlaing";

/// Test schedulers and pushers run only when asked (`SchedulerControl::scan_now`).
const SCHEDULER_INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);

/// The JWKS file in a test hub's key directory (empty at start) whose keys verify tokens.
pub const JWKS_FILE: &str = "jwks.json";

/// Test hubs keep closed messages' payloads 30 days.
pub const RETENTION: time::Duration = time::Duration::days(30);

/// The secret of test hubs' link keys and local-id keys.
pub const LINK_KEY_SECRET: &[u8] = b"test link key secret, 32 bytes or more";

/// `iss` and `aud` of test tokens.
pub const ISSUER: &str = "referral-hub-test";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `REFERRAL_HUB_TEST_POSTGRES_URL`.
    Postgres,
}

/// Instantiates each named `async fn(Backend)` as a test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await
                }
            )*
        }
    };
}

/// The test payload keys `k1` and `k2` (fixed bytes), sealing with `current`.
pub fn test_sealer(current: &str) -> referral_hub_store::Sealer {
    let keys = [("k1".to_owned(), [1u8; 32]), ("k2".to_owned(), [2u8; 32])].into_iter().collect();
    referral_hub_store::Sealer::new(current, keys).expect("test keys")
}

/// A fresh, migrated database that lives as long as this value.
pub struct TestDb {
    /// The store on it.
    pub store: Store,
    /// Its URL.
    pub url: String,
    _dir: TempDir,
}

impl TestDb {
    /// The backend it is on.
    pub fn backend(&self) -> Backend {
        if self.url.starts_with("postgres") { Backend::Postgres } else { Backend::Sqlite }
    }

    /// Creates an empty database on `backend` and migrates it.
    pub async fn new(backend: Backend) -> TestDb {
        let server = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(std::env::var("REFERRAL_HUB_TEST_POSTGRES_URL").expect(
                "PostgreSQL tests need REFERRAL_HUB_TEST_POSTGRES_URL; run ./scripts/test, which starts a throwaway server",
            )),
        };
        Self::on(server.as_deref()).await
    }

    /// Creates an empty, migrated database on the PostgreSQL server at
    /// `postgres_server`, or in a SQLite file when `None`.
    pub async fn on(postgres_server: Option<&str>) -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = match postgres_server {
            None => format!("sqlite://{}", dir.path().join("hub.db").display()),
            Some(server) => create_postgres_database(server).await,
        };
        let store = Store::connect(&url).await.expect("connect");
        store.migrate().await.expect("migrate");
        store.seal_with(test_sealer("k1"));
        TestDb { store, url, _dir: dir }
    }

    /// The database at `url`, as a hub serving with `--migrations check`
    /// opens it: not migrated here, and refused unless it already has every
    /// migration (`url` may name a role that cannot change the schema).
    pub async fn checked(url: &str) -> Result<TestDb, referral_hub_store::StoreError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::connect(url).await?;
        if let Err(error) = store.require_migrated().await {
            store.close().await;
            return Err(error);
        }
        store.seal_with(test_sealer("k1"));
        Ok(TestDb { store, url: url.to_owned(), _dir: dir })
    }
}

async fn create_postgres_database(server: &str) -> String {
    use sqlx::Connection;
    let name = format!("hub_test_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(server).await.expect("connect to the test PostgreSQL server");
    sqlx::Executor::execute(&mut admin, format!("CREATE DATABASE {name}").as_str()).await.expect("create database");
    let (base, _) = server.rsplit_once('/').expect("URL with a database name");
    format!("{base}/{name}")
}

/// The real hub on a random port, with the demo directory and a manual clock.
pub struct TestHub {
    /// Where it listens.
    pub address: SocketAddr,
    /// Where it serves `GET /metrics`.
    pub admin_address: SocketAddr,
    /// Its database (also usable directly).
    pub db: TestDb,
    /// Its clock; tests move it instead of sleeping.
    pub clock: ManualClock,
    /// The key its tokens are signed with.
    pub key: Arc<HubKey>,
    /// Its deadline scheduler (`scan_now` after moving the clock).
    pub scheduler: Arc<SchedulerControl>,
    /// Its pusher (`scan_now` pushes whatever is due).
    pub push: Arc<SchedulerControl>,
    /// Its verification keys' reloader (`scan_now` after changing key files).
    pub keys: Arc<SchedulerControl>,
    /// Its revocation refresh (`scan_now` after revoking in the store).
    pub revocations: Arc<SchedulerControl>,
    /// Its writer of refusal counts (`scan_now` after moving the clock past a minute).
    pub refusals: Arc<SchedulerControl>,
    /// Its tree head signer (`scan_now` after moving the clock past the interval).
    pub tree_heads: Arc<SchedulerControl>,
    /// Whom identity provider keys speak for (`bind_key`, then `keys.scan_now`).
    key_bindings: Arc<std::sync::Mutex<KeyBindings>>,
    /// Its limits and push policy, which its replicas share.
    options: Options,
    _server: Server,
    key_dir: TempDir,
}

/// What a test hub is configured with beyond the defaults.
#[derive(Clone)]
struct Options {
    limits: Limits,
    /// Strict unless a test opts into dev mode to push to a local http sink.
    push: PushPolicy,
    /// How long a verified request's body may take; the server's default when `None`.
    body_read_timeout: Option<std::time::Duration>,
    /// When tree heads are signed ([`TEST_TREE_HEADS`] unless a test says).
    tree_heads: TreeHeadSchedule,
    /// The witness directory, if a test wants one.
    witness_dir: Option<std::path::PathBuf>,
}

/// Tree heads on a test hub: none until a test moves the clock a day on (or
/// starts the hub with a schedule of its own) and ticks `tree_heads`.
pub const TEST_TREE_HEADS: TreeHeadSchedule =
    TreeHeadSchedule { entries: u64::MAX, interval: std::time::Duration::from_secs(86_400) };

impl Options {
    fn new(limits: Limits, push: PushPolicy) -> Options {
        Options { limits, push, body_read_timeout: None, tree_heads: TEST_TREE_HEADS, witness_dir: None }
    }

    /// The tree head task of a server whose signing key is in `key_dir`.
    fn tree_heads(&self, key_dir: &std::path::Path, control: &Arc<SchedulerControl>) -> TreeHeadSettings {
        let key_dir = key_dir.to_owned();
        TreeHeadSettings {
            schedule: self.tree_heads,
            control: control.clone(),
            signing_key: Box::new(move || HubKey::load_or_create(&key_dir)),
            witness_dir: self.witness_dir.clone(),
        }
    }

    /// The admission settings of one server: its periodic tasks run only when asked.
    fn admission(&self) -> Admission {
        let defaults = Admission::default();
        Admission {
            revocation_refresh: SchedulerControl::every(SCHEDULER_INTERVAL),
            refusal_flush: SchedulerControl::every(SCHEDULER_INTERVAL),
            body_read_timeout: self.body_read_timeout.unwrap_or(defaults.body_read_timeout),
            ..defaults
        }
    }
}

/// The main test server; stopped when dropped.
struct Server {
    _stop: oneshot::Sender<()>,
}

/// Another replica on its own runtime and thread; killed when dropped or on purpose.
pub struct Replica {
    /// Where it listens.
    pub address: SocketAddr,
    /// Its deadline scheduler.
    pub scheduler: Arc<SchedulerControl>,
    /// Its pusher.
    pub push: Arc<SchedulerControl>,
    /// Its revocation refresh.
    pub revocations: Arc<SchedulerControl>,
    kill: Option<oneshot::Sender<()>>,
    /// Asks for the graceful stop (SIGTERM's), and hears when it is over.
    stop: Option<(oneshot::Sender<()>, oneshot::Receiver<()>)>,
}

impl Replica {
    /// Stops it as SIGTERM stops the binary, and returns once it has stopped:
    /// calls in flight finish, its inbox streams end cleanly, its pusher
    /// finishes the entry in flight and releases its queues, its writes are
    /// committed.
    pub async fn stop(mut self) {
        if let Some((stop, stopped)) = self.stop.take() {
            let _ = stop.send(());
            let done = tokio::time::timeout(std::time::Duration::from_secs(30), stopped).await;
            done.expect("the replica stops within 30 s").expect("the replica stopped gracefully");
        }
    }

    /// Stops it abruptly, as a crash would: its runtime is dropped with every
    /// connection, stream and in-flight call of this replica.
    pub fn kill(mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
    }
}

/// The real hub over `store`, built by the binary's startup path on random
/// loopback ports (the API and the admin listener); it serves once run.
#[allow(clippy::too_many_arguments)]
async fn server(
    store: Store,
    key: &HubKey,
    clock: &ManualClock,
    tls: Option<TlsConfig>,
    (scheduler, push): (&Arc<SchedulerControl>, &Arc<SchedulerControl>),
    options: &Options,
    (key_reload, identity_provider): (Option<KeyReload>, Option<IdentityProvider>),
    (admission, tree_heads): (Admission, TreeHeadSettings),
) -> Application {
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let settings = Settings {
        listen: loopback,
        admin_listen: Some(loopback),
        issuer: ISSUER.into(),
        audience: ISSUER.into(),
        verification_keys: HashMap::from([(key.kid().to_owned(), key.verification_key())]),
        key_reload,
        identity_provider,
        tls,
        rules: Rules { push: options.push.clone(), ..Rules::default() },
        deadlines: DeadlinePolicy::default(),
        clock: Arc::new(clock.clone()),
        link_key_secret: LINK_KEY_SECRET.to_vec(),
        scheduler: scheduler.clone(),
        push: push.clone(),
        push_timeouts: Default::default(),
        retention: RETENTION,
        limits: options.limits.clone(),
        authority: Authority::new([OPERATOR_ORG.to_owned()], [OVERSIGHT_ORG.to_owned()]),
        statistics_period: referral_hub_domain::statistics::PeriodUnit::Month,
        admission,
        fhir_concept_map: None,
        tree_heads,
    };
    Application::build(settings, store).await.expect("the hub starts")
}

/// Runs `application` until `stop` completes; a hub that fails while serving fails the test.
async fn run(application: Application, stop: impl std::future::Future<Output = ()> + Send) {
    if let Err(e) = application.run_until_stopped(stop).await {
        panic!("hub stopped: {e}");
    }
}

/// No rate limit, and more requests in flight than any test makes: tests move
/// a manual clock, so a rate limit would never refill unless a test asks for one.
pub fn unlimited() -> Limits {
    Limits::new(None, 100_000)
}

/// A plaintext channel to `address`.
pub async fn channel_to(address: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{address}")).expect("endpoint").connect().await.expect("connect to hub")
}

impl TestHub {
    /// Starts a plaintext hub on `backend`.
    pub async fn start(backend: Backend) -> TestHub {
        Self::start_with_tls(backend, None).await
    }

    /// Starts a hub on `backend`, serving TLS when `tls` is given.
    pub async fn start_with_tls(backend: Backend, tls: Option<TlsConfig>) -> TestHub {
        Self::start_with(backend, tls, unlimited()).await
    }

    /// Starts a plaintext hub on `backend` with overload `limits`.
    pub async fn start_with_limits(backend: Backend, limits: Limits) -> TestHub {
        Self::start_with(backend, None, limits).await
    }

    async fn start_with(backend: Backend, tls: Option<TlsConfig>, limits: Limits) -> TestHub {
        Self::start_on(TestDb::new(backend).await, tls, limits).await
    }

    /// Starts a plaintext hub on `backend` that signs tree heads on
    /// `schedule` (still only when `tree_heads` ticks) and writes them to
    /// `witness_dir` if given.
    pub async fn start_with_tree_heads(
        backend: Backend,
        schedule: TreeHeadSchedule,
        witness_dir: Option<std::path::PathBuf>,
    ) -> TestHub {
        let options = Options { tree_heads: schedule, witness_dir, ..Options::new(unlimited(), PushPolicy::default()) };
        Self::start_configured(TestDb::new(backend).await, None, options).await
    }

    /// Starts a plaintext hub on `backend` that signs tree heads on
    /// `schedule` and may push to local endpoints ([`PushPolicy::dev`]).
    pub async fn start_with_tree_heads_pushing(backend: Backend, schedule: TreeHeadSchedule) -> TestHub {
        let options = Options { tree_heads: schedule, ..Options::new(unlimited(), PushPolicy::dev()) };
        Self::start_configured(TestDb::new(backend).await, None, options).await
    }

    /// The directory of its keys (its data directory), to rotate them as an operator would.
    pub fn data_dir(&self) -> &std::path::Path {
        self.key_dir.path()
    }

    /// Starts a plaintext hub on `backend` whose pusher may reach what `push`
    /// admits: tests that push to a local http sink opt into
    /// [`PushPolicy::dev`] here; every other hub has the strict policy.
    pub async fn start_with_push(backend: Backend, push: PushPolicy) -> TestHub {
        Self::start_configured(TestDb::new(backend).await, None, Options::new(unlimited(), push)).await
    }

    /// Starts a hub on the database `db`.
    pub async fn start_on(db: TestDb, tls: Option<TlsConfig>, limits: Limits) -> TestHub {
        Self::start_configured(db, tls, Options::new(limits, PushPolicy::default())).await
    }

    /// Starts a plaintext hub on `backend` with overload `limits`, whose verified
    /// requests' bodies must arrive within `body_read_timeout`.
    pub async fn start_with_body_read_timeout(
        backend: Backend,
        limits: Limits,
        body_read_timeout: std::time::Duration,
    ) -> TestHub {
        let options =
            Options { body_read_timeout: Some(body_read_timeout), ..Options::new(limits, PushPolicy::default()) };
        Self::start_configured(TestDb::new(backend).await, None, options).await
    }

    /// Starts a plaintext hub on `backend` verifying, besides its own, the
    /// tokens of `provider` (started with `IdentityProvider::start`).
    pub async fn start_with_provider(backend: Backend, provider: IdentityProvider) -> TestHub {
        let options = Options::new(unlimited(), PushPolicy::default());
        Self::start_provided(TestDb::new(backend).await, None, options, Some(provider)).await
    }

    async fn start_configured(db: TestDb, tls: Option<TlsConfig>, options: Options) -> TestHub {
        Self::start_provided(db, tls, options, None).await
    }

    async fn start_provided(
        db: TestDb,
        tls: Option<TlsConfig>,
        options: Options,
        provider: Option<IdentityProvider>,
    ) -> TestHub {
        referral_hub_server::demo::seed(&db.store).await.expect("seed demo directory");
        let key_dir = tempfile::tempdir().expect("temp dir");
        let key = Arc::new(HubKey::load_or_create(key_dir.path()).expect("hub key"));
        let keys = SchedulerControl::every(SCHEDULER_INTERVAL);
        let jwks = key_dir.path().join(JWKS_FILE);
        std::fs::write(&jwks, r#"{"keys": []}"#).expect("an empty JWKS");
        let data_dir = key_dir.path().to_owned();
        let key_bindings = Arc::new(std::sync::Mutex::new(KeyBindings::default()));
        let bindings = key_bindings.clone();
        let load = move || {
            let bindings = bindings.lock().unwrap_or_else(|p| p.into_inner()).clone();
            referral_hub_server::keys::verification_keys(&data_dir, &[], Some(&jwks), &bindings)
        };
        let key_reload = KeyReload { load: Box::new(load), control: keys.clone() };
        let admission = options.admission();
        let (revocations, refusals) = (admission.revocation_refresh.clone(), admission.refusal_flush.clone());
        let clock = ManualClock::new(time::OffsetDateTime::now_utc());
        let (scheduler, push) =
            (SchedulerControl::every(SCHEDULER_INTERVAL), SchedulerControl::every(SCHEDULER_INTERVAL));
        let controls = (&scheduler, &push);
        let tree_heads = SchedulerControl::every(SCHEDULER_INTERVAL);
        let tasks = (admission, options.tree_heads(key_dir.path(), &tree_heads));
        let application =
            server(db.store.clone(), &key, &clock, tls, controls, &options, (Some(key_reload), provider), tasks).await;
        let (address, admin_address) = (application.address(), application.admin_address().expect("admin listener"));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            tokio::select! {
                _ = run(application, std::future::pending()) => {}
                _ = stopped => {}
            }
        });
        let server = Server { _stop: stop };
        TestHub {
            address,
            admin_address,
            db,
            clock,
            key,
            scheduler,
            push,
            keys,
            revocations,
            refusals,
            tree_heads,
            key_bindings,
            options,
            _server: server,
            key_dir,
        }
    }

    /// Another replica of this hub: its own runtime, server and connection
    /// pool on the same database, with the same keys and clock.
    pub async fn replica(&self) -> Replica {
        let (ready, started) = oneshot::channel();
        let (kill, killed) = oneshot::channel::<()>();
        let ((stop, stop_asked), (done, stopped)) = (oneshot::channel::<()>(), oneshot::channel::<()>());
        let (url, key, clock) = (self.db.url.clone(), self.key.clone(), self.clock.clone());
        let options = Options { limits: unlimited(), ..self.options.clone() };
        let (scheduler, push) =
            (SchedulerControl::every(SCHEDULER_INTERVAL), SchedulerControl::every(SCHEDULER_INTERVAL));
        let (replica_scheduler, replica_push) = (scheduler.clone(), push.clone());
        let replica_admission = options.admission();
        let replica_tree_heads = options.tree_heads(self.key_dir.path(), &SchedulerControl::every(SCHEDULER_INTERVAL));
        let revocations = replica_admission.revocation_refresh.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
            let runtime = runtime.expect("replica runtime");
            runtime.block_on(async move {
                let store = Store::connect(&url).await.expect("connect replica");
                store.seal_with(test_sealer("k1"));
                let controls = (&replica_scheduler, &replica_push);
                let tasks = (replica_admission, replica_tree_heads);
                let application = server(store, &key, &clock, None, controls, &options, (None, None), tasks).await;
                let _ = ready.send(application.address());
                let stop_asked = async {
                    if stop_asked.await.is_err() {
                        std::future::pending::<()>().await; // Dropped: that is a kill.
                    }
                };
                tokio::select! {
                    _ = run(application, stop_asked) => {
                        let _ = done.send(());
                    }
                    _ = killed => {}
                }
            });
            // Dropping the runtime here ends every task of this replica at once, as a crash would.
        });
        let address = started.await.expect("replica started");
        Replica { address, scheduler, push, revocations, kill: Some(kill), stop: Some((stop, stopped)) }
    }

    /// Its metrics, as Prometheus scrapes them.
    pub async fn metrics(&self) -> String {
        let response =
            reqwest::get(format!("http://{}/metrics", self.admin_address)).await.expect("the admin listener");
        response.text().await.expect("a body")
    }

    /// Lets the identity provider key `kid` speak for `speaks_for` from the
    /// next key reload on (`keys.scan_now()`).
    pub fn bind_key(&self, kid: &str, speaks_for: SpeaksFor) {
        self.key_bindings.lock().unwrap_or_else(|p| p.into_inner()).bind(kid, speaks_for);
    }

    /// The directory holding this hub's signing key (as a data directory would).
    pub fn key_dir(&self) -> &std::path::Path {
        self.key_dir.path()
    }

    /// A token for `org` with `roles`, signed by this hub's key.
    pub fn token(&self, org: &str, roles: &[&str]) -> String {
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        let request = TokenRequest {
            issuer: ISSUER,
            audience: ISSUER,
            subject: "worker-1",
            org,
            roles: &roles,
            ttl: time::Duration::hours(1),
        };
        // Token lifetimes are checked against the real clock, not the hub's manual one.
        self.key.issue(&request, time::OffsetDateTime::now_utc()).expect("issue token")
    }

    /// A plaintext channel to the hub.
    pub async fn channel(&self) -> Channel {
        channel_to(self.address).await
    }

    /// A MessageService client acting for `org` with `roles`.
    pub async fn messages(&self, org: &str, roles: &[&str]) -> MessageClient {
        MessageServiceClient::with_interceptor(self.channel().await, Bearer::new(&self.token(org, roles)))
    }

    /// A MessageService client sending `token` as is.
    pub async fn messages_with_token(&self, token: &str) -> MessageClient {
        MessageServiceClient::with_interceptor(self.channel().await, Bearer::new(token))
    }

    /// A DirectoryService client acting for `org` with `roles`.
    pub async fn directory(
        &self,
        org: &str,
        roles: &[&str],
    ) -> DirectoryServiceClient<InterceptedService<Channel, Bearer>> {
        DirectoryServiceClient::with_interceptor(self.channel().await, Bearer::new(&self.token(org, roles)))
    }
}

/// A MessageService client with a bearer token.
pub type MessageClient = MessageServiceClient<InterceptedService<Channel, Bearer>>;

/// Adds `authorization: Bearer …` to every call.
#[derive(Clone)]
pub struct Bearer(AsciiMetadataValue);

impl Bearer {
    /// Wraps `token`; a token that is not valid header text is sent empty.
    pub fn new(token: &str) -> Bearer {
        Bearer(MetadataValue::try_from(format!("Bearer {token}")).unwrap_or_else(|_| MetadataValue::from_static("")))
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request.metadata_mut().insert("authorization", self.0.clone());
        Ok(request)
    }
}

/// A follow-up request for `action` with whatever that action requires filled in.
pub fn follow_up(message_id: &str, action: FollowUpAction, request_id: &str) -> PostFollowUpRequest {
    PostFollowUpRequest {
        request_id: request_id.into(),
        message_id: message_id.into(),
        action: action as i32,
        reason: if matches!(action, FollowUpAction::Decline | FollowUpAction::Withdraw) {
            "No capacity this month.".into()
        } else {
            String::new()
        },
        note: if action == FollowUpAction::Note { "Called the aunt.".into() } else { String::new() },
        outcome: if action == FollowUpAction::Complete {
            "Child enrolled in weekly counselling.".into()
        } else {
            String::new()
        },
        appointment_at: (action == FollowUpAction::ScheduleAppointment)
            .then_some(prost_types::Timestamp { seconds: 1_800_000_000, nanos: 0 }),
        next_review_date: String::new(),
        share_with_sender: false,
    }
}

/// The next entry of an inbox stream, failing the test if none comes within
/// ten seconds (a guard against hanging, not a wait for state).
pub async fn next_entry(stream: &mut tonic::Streaming<StreamInboxResponse>) -> InboxEntry {
    let next = tokio::time::timeout(std::time::Duration::from_secs(10), stream.message()).await;
    next.expect("an inbox entry within 10 s").expect("stream ok").expect("stream open").entry.expect("entry")
}

/// The field paths of an `INVALID_ARGUMENT`'s `BadRequest` details.
pub fn bad_fields(status: &Status) -> Vec<String> {
    use tonic_types::StatusExt;
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    let details = status.get_details_bad_request().expect("BadRequest details");
    details.field_violations.into_iter().map(|v| v.field).collect()
}

/// The violation types of a `FAILED_PRECONDITION`'s `PreconditionFailure` details.
pub fn precondition(status: &Status) -> Vec<(String, String)> {
    use tonic_types::StatusExt;
    assert_eq!(status.code(), tonic::Code::FailedPrecondition, "{status:?}");
    let details = status.get_details_precondition_failure().expect("PreconditionFailure details");
    details.violations.into_iter().map(|v| (v.r#type, v.description)).collect()
}

impl TestHub {
    /// An AuditService client acting for `org` with `roles`.
    pub async fn audit(&self, org: &str, roles: &[&str]) -> AuditServiceClient<InterceptedService<Channel, Bearer>> {
        AuditServiceClient::with_interceptor(self.channel().await, Bearer::new(&self.token(org, roles)))
    }
}

impl TestHub {
    /// A ConsentService client acting for `org` with `roles`.
    pub async fn consents(
        &self,
        org: &str,
        roles: &[&str],
    ) -> ConsentServiceClient<InterceptedService<Channel, Bearer>> {
        ConsentServiceClient::with_interceptor(self.channel().await, Bearer::new(&self.token(org, roles)))
    }
}

impl TestHub {
    /// The hub clock's current time, in seconds since the Unix epoch.
    pub fn clock_now_seconds(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    /// Moves the clock to the first instant of the calendar month after the
    /// one containing `at` (unless it is there already), so that month has
    /// ended and statistics may count it; returns that month's start.
    pub fn end_the_month_of(&self, at: time::OffsetDateTime) -> time::OffsetDateTime {
        let month = referral_hub_domain::statistics::PeriodUnit::Month;
        let start = month.start_of(at);
        let next = month.next(start);
        if self.clock.now() < next {
            self.clock.advance(next - self.clock.now());
        }
        start
    }
}

/// A statistics request for the whole calendar month starting at `start`,
/// grouped by `group_by`, of the caller's own organisation.
pub fn month_statistics(
    start: time::OffsetDateTime,
    group_by: &[referral_hub_proto::v1::Dimension],
) -> referral_hub_proto::v1::GetStatisticsRequest {
    referral_hub_proto::v1::GetStatisticsRequest {
        from: Some(prost_types::Timestamp { seconds: start.unix_timestamp(), nanos: 0 }),
        period: referral_hub_proto::v1::Period::Month as i32,
        group_by: group_by.iter().map(|d| *d as i32).collect(),
        ..Default::default()
    }
}

/// How many messages `client`'s organisation has sent, every page counted.
pub async fn sent_count(client: &mut MessageClient) -> usize {
    use referral_hub_proto::v1::{ListMessagesRequest, Mailbox};
    let (mut count, mut page_token) = (0, String::new());
    loop {
        let list =
            ListMessagesRequest { mailbox: Mailbox::Sent as i32, page_size: 500, page_token, ..Default::default() };
        let page = client.list_messages(list).await.expect("list sent messages").into_inner();
        count += page.messages.len();
        if page.next_page_token.is_empty() {
            return count;
        }
        page_token = page.next_page_token;
    }
}

/// Submits `request` and returns the stored message, failing the test if it is refused.
pub async fn submitted(client: &mut MessageClient, request: SubmitMessageRequest) -> Message {
    client.submit_message(request).await.expect("submit accepted").into_inner().message.expect("a message")
}

impl TestHub {
    /// A StatsService client acting for `org` with `roles`.
    pub async fn stats(&self, org: &str, roles: &[&str]) -> StatsServiceClient<InterceptedService<Channel, Bearer>> {
        StatsServiceClient::with_interceptor(self.channel().await, Bearer::new(&self.token(org, roles)))
    }
}

/// Proto JSON to a SubmitMessage request, as grpcurl converts it with the
/// server's descriptors (for the commands the README and the dev banner print).
pub fn submit_from_json(json: &str) -> SubmitMessageRequest {
    use prost::Message as _;
    let pool = prost_reflect::DescriptorPool::decode(referral_hub_proto::FILE_DESCRIPTOR_SET).expect("descriptors");
    let descriptor = pool.get_message_by_name("referralhub.v1.SubmitMessageRequest").expect("in the descriptors");
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let message = prost_reflect::DynamicMessage::deserialize(descriptor, &mut deserializer)
        .unwrap_or_else(|e| panic!("not valid proto JSON: {e}\n{json}"));
    SubmitMessageRequest::decode(message.encode_to_vec().as_slice()).expect("re-encoded")
}

/// `message` (of proto type `name`, e.g. `referralhub.v1.SignedTreeHead`) in
/// the protobuf JSON mapping, as grpcurl prints a response.
pub fn proto_json(message: &impl prost::Message, name: &str) -> serde_json::Value {
    let pool = prost_reflect::DescriptorPool::decode(referral_hub_proto::FILE_DESCRIPTOR_SET).expect("descriptors");
    let descriptor = pool.get_message_by_name(name).expect("in the descriptors");
    let dynamic =
        prost_reflect::DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice()).expect("decodes");
    serde_json::to_value(&dynamic).expect("serialises")
}

impl TestHub {
    /// Registers a PUSH organisation delivering to `endpoint`, with a fresh
    /// signing secret, which it returns.
    pub async fn push_organisation(&self, id: &str, sector: Sector, area: &str, endpoint: &str) -> String {
        let organisation = Organisation {
            id: id.into(),
            name: format!("Push organisation {id}"),
            sector: sector as i32,
            areas: vec![area.into()],
            services: vec!["case_management".into(), "health_care".into()],
            lead_agency_areas: vec![],
            channel: DeliveryChannel::Push as i32,
            status: OrganisationStatus::Active as i32,
            push_endpoint: endpoint.into(),
            client_certificate_sha256: String::new(),
        };
        self.db.store.upsert_organisation(&organisation).await.expect("register push organisation");
        let secret = referral_hub_server::push::webhook::new_secret().expect("secret");
        self.db.store.set_push_secret(&id.into(), &secret, false, UnixMicros::new(0)).await.expect("store secret");
        secret
    }

    /// POSTs a native document to an adapter endpoint of the hub as `org` with
    /// `roles`; the HTTP status and the body.
    pub async fn post_document(&self, path: &str, org: &str, roles: &[&str], body: Vec<u8>) -> (u16, String) {
        self.send_document(reqwest::Method::POST, path, org, roles, body).await
    }

    /// Sends `body` to an adapter route with `method` (Primero's PATCH and
    /// DELETE) as `org`: the HTTP status and the body.
    pub async fn send_document(
        &self,
        method: reqwest::Method,
        path: &str,
        org: &str,
        roles: &[&str],
        body: Vec<u8>,
    ) -> (u16, String) {
        let response = reqwest::Client::new()
            .request(method, format!("http://{}{path}", self.address))
            .bearer_auth(self.token(org, roles))
            .body(body)
            .send()
            .await
            .expect("the hub answers HTTP");
        let status = response.status().as_u16();
        (status, response.text().await.expect("a body"))
    }
}
