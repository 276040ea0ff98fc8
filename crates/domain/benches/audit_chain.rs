//! Audit chain verification throughput (target: >= 200,000 entries/s).
//! `cargo bench -p referral-hub-domain --bench audit_chain`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use referral_hub_domain::{
    audit::{Action, Entry, GENESIS, Outcome, Severity, Stored, Verifier, chain},
    timestamps::UnixMicros,
};

const ENTRIES: usize = 100_000;

/// Entries shaped like real ones: ids, hashes and a small JSON detail.
fn realistic(n: usize) -> Vec<Stored> {
    chain((0..n).map(|i| {
        let at = UnixMicros::new(1_800_000_000_000_000 + i as i64);
        let entry = Entry::new(at, Action::DeliveryAttempted, Outcome::Success, Severity::Info)
            .by("demo-social-welfare-yangon", "worker-0042", "receiver,referrer".into())
            .about(&format!("01938f2e-7c1a-7b3e-9f00-{i:012x}"), "MESSAGE_KIND_SERVICE_REFERRAL")
            .child("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into())
            .with_detail(r#"{"disclosed":["IDENTITY","CONTACT","HEALTH"],"withheld":["LEGAL"]}"#.into());
        Entry {
            source_address: "10.20.30.40:51234".into(),
            purpose: "SERVICE_PROVISION".into(),
            consent_id: "01938f2e-0000-7000-8000-000000000001".into(),
            trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
            ..entry
        }
    }))
}

fn verification(c: &mut Criterion) {
    let log = realistic(ENTRIES);
    let mut group = c.benchmark_group("audit_chain");
    group.throughput(Throughput::Elements(ENTRIES as u64));
    group.sample_size(10);
    group.bench_function("verify_100k", |b| {
        b.iter(|| {
            let mut verifier = Verifier::new(1, GENESIS);
            for stored in &log {
                verifier.push(stored).expect("intact");
            }
            verifier.checked()
        })
    });
    group.bench_function("append_hash_100k", |b| {
        b.iter_batched(
            || log.iter().map(|s| s.entry.clone()).collect::<Vec<_>>(),
            |entries| chain(entries).len(),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, verification);
criterion_main!(benches);
