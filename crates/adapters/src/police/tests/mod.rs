//! POLICE adapter tests: round trip, golden files, refusals, fuzzing.

mod fuzz;
mod golden;
mod refusal;
mod round_trip;

use super::PoliceAdapter;

fn adapter() -> PoliceAdapter {
    PoliceAdapter::new().expect("the built-in code tables are valid")
}
