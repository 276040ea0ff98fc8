//! The gRPC face of referral-hub: the services of `referralhub.v1`, bearer-token
//! authentication, role checks, and the mapping of every failure to a gRPC
//! status with `google.rpc` details. Rules come from the domain crate and
//! durability from the store crate; this crate only wires them to the network.

mod access;
mod adapter_http;
pub mod admission;
mod application;
mod audit_service;
pub mod auth;
mod authenticate;
pub mod authority;
mod background;
pub mod checkpoint;
pub mod claims;
pub mod clock;
mod consent_service;
mod consents;
mod convert;
pub mod demo;
mod diagnostics_service;
mod directory_service;
pub mod directory_writes;
pub mod error;
mod fhir_rest;
mod hub;
pub mod identity_provider;
pub mod jwk;
pub mod keys;
pub mod limits;
mod load_shedding;
pub mod local_ids;
mod message_service;
pub mod metrics;
mod paging;
pub mod push;
mod read_deadline;
pub mod refusals;
mod refused_calls;
mod release;
mod routes;
pub mod scheduler;
pub mod scheduler_control;
mod settings;
mod shutdown;
mod stats_service;
pub mod telemetry;
pub mod tls_listener;
pub mod tree_heads;
mod verified_tokens;

pub use application::{Application, ServeError};
pub use routes::MAX_MESSAGE_BYTES;
pub use settings::{KeyReload, Settings};
pub use tls_listener::TlsConfig;
