//! End-to-end suite: the real hub over real gRPC sockets, on SQLite and PostgreSQL.

mod access;
mod adapters;
mod admin;
mod alerts;
mod at_rest;
mod audit;
mod canaries;
mod consent;
mod deadlines;
mod directory;
mod faults;
mod flow;
mod idempotency;
mod isolation;
mod lifecycle;
mod overload;
mod push;
mod readme;
mod retention;
mod scale_out;
mod statistics;
mod store;
mod telemetry;
mod tls;
mod transfer;
mod validation;
