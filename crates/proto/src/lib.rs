//! Wire types of the `referralhub.v1` API, generated from `proto/` at build time.
//!
//! This crate is the public contract in Rust form. With the `services` feature it
//! also carries the tonic client and server stubs; without it, it is plain data,
//! so the pure domain crate can use the same types without seeing tonic.

/// The `referralhub.v1` package.
#[allow(clippy::all, missing_docs)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/referralhub.v1.rs"));
}

/// Encoded `FileDescriptorSet` of every proto file, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptor.bin"));

mod payload_fields;
pub use payload_fields::{PAYLOAD_FIELDS, PayloadField, category_of};
