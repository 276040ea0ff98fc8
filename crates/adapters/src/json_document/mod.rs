//! The hub's own JSON document, for sectors whose systems have no standard
//! format of their own: EDUCATION speaks it as is, POLICE through a NIEM
//! renaming of its members. Reading a document while naming every bad
//! element ([`fields`]), the notes block that carries native fields the
//! canonical payload has no place for ([`notes`]), the child and caregiver
//! elements ([`person`]), the status-update document ([`status_update`]),
//! the `hub` element and withheld notice ([`envelope`]), and the naming of
//! the hub's validation errors after the document's elements ([`element`]).
//! The refusal document is [`crate::problem`].
//!
//! Every outbound document puts what the hub set (message id, sender, status,
//! deadlines) under one `hub` element, and everything an agency could have
//! sent at the top level. Inbound refuses `hub`: it is read-only, so an
//! agency can never believe it set a consent id or a status by echoing it.

pub(crate) mod element;
pub(crate) mod envelope;
pub(crate) mod fields;
pub(crate) mod notes;
pub(crate) mod person;
pub(crate) mod status_update;
