//! EDUCATION adapter tests: round trip, golden files, refusals, fuzzing.

mod dialects;
mod fuzz;
mod golden;
mod refusal;
mod round_trip;

use super::EducationAdapter;

fn adapter() -> EducationAdapter {
    EducationAdapter::new().expect("the built-in code tables are valid")
}
