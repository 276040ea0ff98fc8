//! The domain's per-message work on the submit and delivery paths: validation
//! (each message kind), the consent decision, and cutting a payload to what a
//! receiver may see. `cargo bench -p referral-hub-domain --bench hot_spots`

use std::collections::BTreeSet;

use criterion::{Criterion, criterion_group, criterion_main};
use referral_hub_domain::{
    consent::{ConsentPolicy, Question, cut_payload, decide},
    payload, sample,
    timestamps::timestamp,
    validation::{Rules, validate_submit},
    wire::{ConsentRecord, ConsentRecordKind, DataCategory, Purpose, Sector},
};
use time::macros::date;

const NOW: i64 = 1_800_000_000_000_000;

fn validation(c: &mut Criterion) {
    let rules = Rules::default();
    let today = date!(2026 - 11 - 23);
    let mut group = c.benchmark_group("validate_submit");
    for (name, request) in [
        ("referral", sample::submit("r", "org")),
        ("case_transfer", sample::submit_transfer("t", "org")),
        ("separated_child_alert", sample::submit_alert("a")),
    ] {
        assert!(validate_submit(&request, &rules, today).is_empty(), "{name} is valid");
        group.bench_function(name, |b| b.iter(|| validate_submit(&request, &rules, today)));
    }
    group.finish();
}

/// A child's records as the delivery re-check sees them: an earlier grant
/// superseded by the one in force, and the one in force.
fn records() -> Vec<ConsentRecord> {
    let grant = |id: &str, supersedes: &str| ConsentRecord {
        id: id.into(),
        kind: ConsentRecordKind::Grant as i32,
        terms: Some(sample::consent()),
        supersedes_id: supersedes.into(),
        recorded_at: Some(timestamp(NOW - 86_400_000_000)),
        ..ConsentRecord::default()
    };
    vec![grant("c1", ""), grant("c2", "c1")]
}

fn consent_decision(c: &mut Criterion) {
    let records = records();
    let policy = ConsentPolicy::default();
    c.bench_function("consent_decide", |b| {
        let question = Question {
            records: &records,
            pinned: None,
            receiver_org: "org",
            receiver_sector: Sector::Health,
            purpose: Purpose::ServiceProvision,
            now: NOW,
            policy: &policy,
        };
        b.iter(|| decide(question))
    });
}

fn disclosure(c: &mut Criterion) {
    let referral = payload::from_submit(sample::submit("r", "org").payload.expect("a payload"));
    let allowed: BTreeSet<_> = [DataCategory::Identity, DataCategory::Health].into_iter().collect();
    assert!(!cut_payload(&referral, &allowed).withheld.is_empty(), "something is cut");
    c.bench_function("cut_payload_referral", |b| b.iter(|| cut_payload(&referral, &allowed)));
}

criterion_group!(benches, validation, consent_decision, disclosure);
criterion_main!(benches);
