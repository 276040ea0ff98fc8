//! Fuzzing every inbound path (cases, alerts, transfers, transitions),
//! bounded so that it runs inside `cargo test`: arbitrary bytes, and the
//! fixtures with bytes overwritten. Never a panic.

use super::{adapter, fixture};
use crate::Adapter;

const ITERATIONS: usize = 4000;

#[test]
fn arbitrary_bytes_never_panic() {
    let adapter = adapter();
    bolero::check!().with_iterations(ITERATIONS).for_each(|bytes: &[u8]| {
        for path in adapter.paths() {
            let _ = adapter.inbound(path, bytes);
        }
    });
}

#[test]
fn mutated_fixtures_never_panic() {
    let adapter = adapter();
    let documents = [
        ("/primero/v2/cases", fixture("case.json")),
        ("/primero/v2/referrals", fixture("transition_rejected.json")),
        ("/primero/v2/cases", fixture("alert.json")),
        ("/primero/v2/transfers", fixture("transfer.json")),
    ];
    bolero::check!().with_iterations(ITERATIONS).with_type::<(u8, Vec<(u16, u8)>)>().for_each(|(which, edits)| {
        let (path, original) = &documents[usize::from(*which) % documents.len()];
        let mut document = original.clone();
        for (at, byte) in edits {
            let len = document.len();
            document[usize::from(*at) % len] = *byte;
        }
        let _ = adapter.inbound(path, &document);
    });
}
