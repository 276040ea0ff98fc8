//! Consent as pure rules (docs/consent.md): which records are in force, whether
//! they allow a message to reach a receiver, and what of it that receiver may
//! see. The server feeds in records and the receiver; nothing here reads a
//! database or a clock.

mod decision;
mod disclosure;
mod policy;

pub use decision::{Decision, Question, active, decide};
pub use disclosure::{ALL_CATEGORIES, Cut, cut_payload, present_categories};
pub use policy::{AgeBand, ConsentPolicy, PolicyError};
