//! Fuzzing the case-event path, bounded so that it runs inside `cargo test`:
//! arbitrary bytes, and the fixtures with bytes overwritten. Never a panic.

use super::{adapter, fixture};
use crate::Adapter;

const ITERATIONS: usize = 4000;

#[test]
fn arbitrary_bytes_never_panic() {
    let adapter = adapter();
    bolero::check!().with_iterations(ITERATIONS).for_each(|bytes: &[u8]| {
        let _ = adapter.inbound("/justice/v1/case-events", bytes);
    });
}

#[test]
fn mutated_fixtures_never_panic() {
    let adapter = adapter();
    let documents = [fixture("hearing.json"), fixture("disposition.json")];
    bolero::check!().with_iterations(ITERATIONS).with_type::<(bool, Vec<(u16, u8)>)>().for_each(|(which, edits)| {
        let mut document = documents[usize::from(*which)].clone();
        for (at, byte) in edits {
            let len = document.len();
            document[usize::from(*at) % len] = *byte;
        }
        let _ = adapter.inbound("/justice/v1/case-events", &document);
    });
}
