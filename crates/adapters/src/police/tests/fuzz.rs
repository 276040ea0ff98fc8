//! Fuzz targets on every inbound path, bounded so they run inside `cargo
//! test` on stable: random bytes, and the fixtures with random edits. An
//! inbound translation must never panic, whatever the bytes.

use super::adapter;
use crate::testing::{fixture, fuzz_bytes, fuzz_mutated};

const ITERATIONS: usize = 3000;

#[test]
fn incidents_never_panic_on_random_bytes() {
    fuzz_bytes(&adapter(), "/police/incidents", ITERATIONS);
}

#[test]
fn incidents_never_panic_on_mutated_notifications() {
    fuzz_mutated(&adapter(), "/police/incidents", &[fixture("police/incident.json")], ITERATIONS);
}

#[test]
fn status_updates_never_panic_on_random_bytes() {
    fuzz_bytes(&adapter(), "/police/status", ITERATIONS);
}

#[test]
fn status_updates_never_panic_on_mutated_updates() {
    fuzz_mutated(&adapter(), "/police/status", &[fixture("police/status.json")], ITERATIONS);
}
