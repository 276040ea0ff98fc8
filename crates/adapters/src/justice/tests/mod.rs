//! Tests of the justice adapter: golden files, refusals, round trips, fuzzing.

mod follow_ups;
mod fuzz;
mod golden;
mod refusal;
mod roundtrip;

use super::JusticeAdapter;

fn adapter() -> JusticeAdapter {
    JusticeAdapter::new().expect("the built-in tables load")
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../../tests/fixtures/justice/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|_| panic!("fixture {name} is readable"))
}
