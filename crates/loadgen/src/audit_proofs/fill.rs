//! Filling the log through the store's own write path: `Store::audit`, the
//! group committer's stand-alone appends, in large batches of entries shaped
//! like those a referral leaves (submitted, delivered, acknowledged).

use std::time::{Duration, Instant};

use referral_hub_domain::{
    audit::{Action, Entry, Outcome, Severity},
    timestamps::UnixMicros,
};
use referral_hub_store::Store;

/// Entries per `Store::audit` call.
const BATCH: u64 = 10_000;

/// The first entry's time (2027-01-15), then one entry every 100 µs.
const START_MICROS: i64 = 1_800_000_000_000_000;

/// Appends entries `from..from + count` (0-based, as [`entry`] numbers them);
/// returns how long it took. The log must hold exactly `from` entries.
pub async fn append(store: &Store, from: u64, count: u64) -> Result<Duration, String> {
    let started = Instant::now();
    let mut next = from;
    while next < from + count {
        let end = (next + BATCH).min(from + count);
        let last = store.audit((next..end).map(entry).collect()).await.map_err(|e| format!("appending: {e}"))?;
        if last != end {
            return Err(format!("the log holds {last} entries after appending up to {end}: another writer?"));
        }
        next = end;
    }
    Ok(started.elapsed())
}

/// Entry `i`: the submission, delivery or acknowledgement of message `i / 3`,
/// with the ids, hashes and JSON detail real entries carry.
fn entry(i: u64) -> Entry {
    let message = i / 3;
    let at = UnixMicros::new(START_MICROS + i64::try_from(i).unwrap_or(i64::MAX / 200) * 100);
    let (action, org, subject, roles, detail) = match i % 3 {
        0 => (Action::MessageSubmitted, "demo-health-yangon", "worker-0017", "referrer", SUBMITTED),
        1 => (Action::DeliveryAttempted, "demo-social-welfare-yangon", "worker-0042", "receiver", DISCLOSED),
        _ => (Action::DeliverySucceeded, "demo-social-welfare-yangon", "worker-0042", "receiver", ACKNOWLEDGED),
    };
    let entry = Entry::new(at, action, Outcome::Success, Severity::Info)
        .by(org, subject, roles.into())
        .about(&format!("01938f2e-7c1a-7b3e-9f00-{message:012x}"), "MESSAGE_KIND_SERVICE_REFERRAL")
        .child(format!("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c{:016x}", message % 50_000))
        .with_detail(detail.into());
    Entry {
        source_address: "10.20.30.40:51234".into(),
        purpose: "SERVICE_PROVISION".into(),
        consent_id: format!("01938f2e-0000-7000-8000-{message:012x}"),
        trace_id: format!("4bf92f3577b34da6{i:016x}"),
        ..entry
    }
}

/// The details of the three kinds of entry: category names and positions, never values.
const SUBMITTED: &str =
    r#"{"categories":["IDENTITY","CONTACT","HEALTH","LEGAL"],"receiver":"demo-social-welfare-yangon"}"#;
const DISCLOSED: &str = r#"{"disclosed":["IDENTITY","CONTACT","HEALTH"],"withheld":["LEGAL"]}"#;
const ACKNOWLEDGED: &str = r#"{"acked_position":1234}"#;
