//! Fuzz targets on every inbound path, bounded so they run inside `cargo
//! test` on stable: random bytes, and the fixtures with random edits. An
//! inbound translation must never panic, whatever the bytes.

use super::adapter;
use crate::testing::{fixture, fuzz_bytes, fuzz_mutated};

const ITERATIONS: usize = 3000;

#[test]
fn concerns_never_panic_on_random_bytes() {
    fuzz_bytes(&adapter(), "/education/concerns", ITERATIONS);
}

#[test]
fn concerns_never_panic_on_mutated_reports() {
    fuzz_mutated(&adapter(), "/education/concerns", &[fixture("education/concern.json")], ITERATIONS);
}

#[test]
fn csv_batches_never_panic_on_random_bytes() {
    fuzz_bytes(&adapter(), "/education/concerns.csv", ITERATIONS);
}

#[test]
fn csv_batches_never_panic_on_mutated_batches() {
    fuzz_mutated(&adapter(), "/education/concerns.csv", &[fixture("education/concerns.csv")], ITERATIONS);
}

#[test]
fn status_updates_never_panic_on_random_bytes() {
    fuzz_bytes(&adapter(), "/education/status", ITERATIONS);
}

#[test]
fn status_updates_never_panic_on_mutated_updates() {
    fuzz_mutated(&adapter(), "/education/status", &[fixture("education/status.json")], ITERATIONS);
}
