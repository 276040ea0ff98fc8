//! The rules of referral-hub as plain, synchronous Rust: what a valid message
//! is, which codes exist, how a message moves through its life cycle, and when
//! it is due. No async, no I/O, no clock (callers pass `now`), so every rule is
//! tested exhaustively and fast. The store and the server call in here; this
//! crate never calls out.

pub mod audit;
pub mod consent;
pub mod deadlines;
pub mod delivery;
pub mod directory_change;
pub mod ids;
pub mod key_refresh;
pub mod lifecycle;
pub mod link_key;
pub mod payload;
pub mod push_policy;
pub mod rate_limit;
pub mod roles;
pub mod sample;
pub mod statistics;
pub mod taxonomy;
pub mod timestamps;
pub mod tokens;
pub mod validation;

pub use referral_hub_proto::v1 as wire;
