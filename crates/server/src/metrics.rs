//! Operational metrics (docs/operations.md "Telemetry"): OpenTelemetry instruments
//! read out in the Prometheus text format at `GET /metrics` on the admin
//! listener. Labels are codes (kinds, sectors, outcomes, reasons), never ids
//! or anything about a child.

use opentelemetry::{
    KeyValue,
    metrics::{Counter, Histogram, Meter, MeterProvider as _},
};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use prometheus::{Encoder as _, Registry, TextEncoder};
use referral_hub_domain::wire::MessageStatus;
use referral_hub_store::{InboxItem, Store};

/// This replica's instruments.
pub struct Metrics {
    registry: Registry,
    _provider: SdkMeterProvider,
    messages: Counter<u64>,
    consent_refusals: Counter<u64>,
    delivery_latency: Histogram<f64>,
    pushes: Counter<u64>,
    dead_letters: Counter<u64>,
    overdue: Counter<u64>,
    tree_heads: Counter<u64>,
    shed: Counter<u64>,
    rate_limited: Counter<u64>,
}

/// What a push attempt came to.
#[derive(Debug, Clone, Copy)]
pub enum PushOutcome {
    /// The endpoint took it.
    Delivered,
    /// It failed; a retry is scheduled.
    Failed,
    /// It was given up on.
    DeadLettered,
}

impl PushOutcome {
    fn as_str(self) -> &'static str {
        match self {
            PushOutcome::Delivered => "delivered",
            PushOutcome::Failed => "failed",
            PushOutcome::DeadLettered => "dead_lettered",
        }
    }
}

/// Seconds buckets for delivery latency: from a stream's milliseconds to a
/// pull organisation that looks once a day.
const LATENCY_BUCKETS: [f64; 12] = [0.005, 0.025, 0.1, 0.5, 1.0, 5.0, 30.0, 60.0, 300.0, 3600.0, 21_600.0, 86_400.0];

/// A meter provider whose readings land in `registry`, delivery latency in
/// [`LATENCY_BUCKETS`].
fn prometheus_provider(registry: &Registry) -> SdkMeterProvider {
    let exporter = opentelemetry_prometheus::exporter()
        .with_registry(registry.clone())
        .without_target_info()
        .build()
        .expect("a fresh registry takes the exporter's collector");
    SdkMeterProvider::builder()
        .with_reader(exporter)
        .with_view(|instrument: &opentelemetry_sdk::metrics::Instrument| {
            (instrument.name() == "referral_hub_delivery_latency").then(|| {
                opentelemetry_sdk::metrics::Stream::builder()
                    .with_aggregation(opentelemetry_sdk::metrics::Aggregation::ExplicitBucketHistogram {
                        boundaries: LATENCY_BUCKETS.to_vec(),
                        record_min_max: false,
                    })
                    .build()
                    .ok()
            })?
        })
        .build()
}

impl Metrics {
    /// The instruments, with gauges that read `store` (audit appends, the connection pool) when scraped.
    pub fn new(store: &Store) -> Metrics {
        let registry = Registry::new();
        let provider = prometheus_provider(&registry);
        let meter = provider.meter("referral-hub");
        observe_store(&meter, store);
        Metrics {
            messages: meter
                .u64_counter("referral_hub_messages")
                .with_description("Submitted messages by kind, sector pair and outcome.")
                .build(),
            consent_refusals: meter
                .u64_counter("referral_hub_consent_refusals")
                .with_description("Consent refusals (at submit and at delivery) by reason.")
                .build(),
            delivery_latency: meter
                .f64_histogram("referral_hub_delivery_latency")
                .with_unit("s")
                .with_description("From a message's submission to its delivery (streamed, or pushed and taken).")
                .build(),
            pushes: meter
                .u64_counter("referral_hub_push_attempts")
                .with_description("Push attempts by outcome; failed ones are retried on schedule.")
                .build(),
            dead_letters: meter
                .u64_counter("referral_hub_push_dead_letters")
                .with_description(
                    "Pushed entries given up on (see `referral-hub dead-letters`); alert on any increase.",
                )
                .build(),
            tree_heads: meter
                .u64_counter("referral_hub_tree_heads_signed")
                .with_description("Audit tree heads this replica signed and handed to every organisation.")
                .build(),
            overdue: meter
                .u64_counter("referral_hub_overdue_flagged")
                .with_description("Messages flagged overdue by this replica's scheduler.")
                .build(),
            shed: meter
                .u64_counter("referral_hub_requests_shed")
                .with_description("Requests refused with RESOURCE_EXHAUSTED because the in-flight limit was reached.")
                .build(),
            rate_limited: meter
                .u64_counter("referral_hub_requests_rate_limited")
                .with_description("Requests refused with RESOURCE_EXHAUSTED by their organisation's rate limit.")
                .build(),
            registry,
            _provider: provider,
        }
    }

    /// Counts a submitted message of `kind` between two sectors, with its `outcome`
    /// (`accepted`, `invalid`, `consent_refused`, `refused`).
    pub fn message(&self, kind: &str, from: &str, to: &str, outcome: &'static str) {
        let labels = [
            KeyValue::new("kind", kind.to_owned()),
            KeyValue::new("sender_sector", from.to_owned()),
            KeyValue::new("receiver_sector", to.to_owned()),
            KeyValue::new("outcome", outcome),
        ];
        self.messages.add(1, &labels);
    }

    /// Counts a consent refusal for `reason` (`NO_CONSENT`, `EXPIRED`, …).
    pub fn consent_refusal(&self, reason: &str) {
        self.consent_refusals.add(1, &[KeyValue::new("reason", reason.to_owned())]);
    }

    /// Records how long `item` waited, from submission to `now` (µs), if it
    /// is a message handed to its receiver for the first time.
    pub fn delivered(&self, item: &InboxItem, now: i64) {
        if let Some(message) = item.new_message().filter(|m| m.status == MessageStatus::Submitted) {
            self.delivery_latency.record((now - message.created_at.get()).max(0) as f64 / 1e6, &[]);
        }
    }

    /// Counts one push attempt.
    pub fn push(&self, outcome: PushOutcome) {
        self.pushes.add(1, &[KeyValue::new("outcome", outcome.as_str())]);
        if let PushOutcome::DeadLettered = outcome {
            self.dead_letters.add(1, &[]);
        }
    }

    /// Counts a signed tree head.
    pub fn tree_head_signed(&self) {
        self.tree_heads.add(1, &[]);
    }

    /// Counts messages flagged overdue.
    pub fn overdue(&self, flagged: usize) {
        self.overdue.add(flagged as u64, &[]);
    }

    /// Counts a request shed because too many were in flight.
    pub fn shed(&self) {
        self.shed.add(1, &[]);
    }

    /// Counts a request refused by its organisation's rate limit.
    pub fn rate_limited(&self) {
        self.rate_limited.add(1, &[]);
    }

    /// Every metric in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut text = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut text);
        String::from_utf8(text).unwrap_or_default()
    }
}

/// Gauges read from the store at scrape time: audit appends and their total
/// time (their ratio is the mean append latency), group commits by path, and
/// the connection pool.
fn observe_store(meter: &Meter, store: &Store) {
    let audit = store.clone();
    meter
        .u64_observable_counter("referral_hub_audit_appends")
        .with_description("Audit entries appended by this replica.")
        .with_callback(move |observer| observer.observe(audit.audit_timing().entries, &[]))
        .build();
    let audit = store.clone();
    meter
        .f64_observable_counter("referral_hub_audit_append_duration")
        .with_unit("s")
        .with_description(
            "Time spent appending audit entries (hashing and writing; for a PostgreSQL group written as one \
             statement, the whole statement), summed.",
        )
        .with_callback(move |observer| observer.observe(audit.audit_timing().seconds, &[]))
        .build();
    let groups = store.clone();
    meter
        .u64_observable_counter("referral_hub_group_commits")
        .with_description(
            "Group commits of this replica, by path: one_statement (PostgreSQL, the chain head unchanged since \
             this replica's last commit) or locked (the head read under its lock).",
        )
        .with_callback(move |observer| {
            let commits = groups.group_commits();
            observer.observe(commits.one_statement, &[KeyValue::new("path", "one_statement")]);
            observer.observe(commits.locked, &[KeyValue::new("path", "locked")]);
        })
        .build();
    let pool = store.clone();
    meter
        .u64_observable_gauge("referral_hub_db_connections")
        .with_description("Database connections of this replica, by state.")
        .with_callback(move |observer| {
            let (open, idle) = pool.pool_use();
            observer.observe(u64::from(open.saturating_sub(idle)), &[KeyValue::new("state", "in_use")]);
            observer.observe(u64::from(idle), &[KeyValue::new("state", "idle")]);
        })
        .build();
}
