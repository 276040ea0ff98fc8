//! Helpers shared by the two JSON adapters, EDUCATION and POLICE: reading a
//! JSON document while naming every bad element, the notes block that carries
//! native fields the canonical payload has no place for, the child and
//! caregiver elements, the status-update and withheld documents, and the
//! problem document. They live here, once, because the crate root belongs to
//! the adapter registry; POLICE reaches them as `crate::education::shared`.
//!
//! Every outbound document puts what the hub set (message id, sender, status,
//! deadlines) under one `hub` element, and everything an agency could have
//! sent at the top level. Inbound refuses `hub`: it is read-only, so an
//! agency can never believe it set a consent id or a status by echoing it.

pub(crate) mod element;
pub(crate) mod envelope;
pub(crate) mod fields;
pub(crate) mod follow_up;
pub(crate) mod notes;
pub(crate) mod person;
pub(crate) mod problem;
#[cfg(test)]
pub(crate) mod testing;
