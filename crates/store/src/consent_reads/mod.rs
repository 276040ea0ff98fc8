//! Consent lookups of concurrent callers, merged into one query.
//!
//! Every submission reads its child's consent records before the decision.
//! One query each cost a round trip, plus the ping sqlx sends when a
//! connection goes back to its pool; at a few thousand submissions a second
//! on PostgreSQL that was about a third of the database's CPU per referral
//! and a quarter of the hub's. So lookups queue to one task, which runs one
//! query at a time for every lookup waiting, as the group commit does for
//! submissions. On an idle hub a lookup runs at once; under load it waits for
//! at most the query before it. (Two queries at a time made the batches
//! smaller and the closed-loop benchmark slower: 2,840-3,080 referrals/s
//! against 3,078-3,212.)
//!
//! The task keeps its connection from one query to the next instead of
//! handing it back to the pool, which would ping it each time: one round trip
//! per lookup fewer. It lets go of it only when a query fails, and the pool
//! then tests it and drops it if it is broken.

mod batcher;
mod queue;

pub(crate) use batcher::start;
pub(crate) use queue::ConsentReads;
