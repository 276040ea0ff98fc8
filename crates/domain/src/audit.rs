//! The tamper-evident audit log as pure data: what an entry holds, its
//! canonical encoding, the hash chain over it, and verification that names the
//! first bad entry. The store appends and reads; everything that decides
//! whether the log is intact lives here.
//!
//! # Canonical encoding, version 1
//!
//! An outside party re-implements the check from this description alone:
//!
//! ```text
//! canonical(entry) = "RHAUDIT" || 0x01
//!                    || seq      (u64, big-endian)
//!                    || at       (i64 microseconds since the Unix epoch, big-endian)
//!                    || field_1 || ... || field_16
//! field_i          = len (u32, big-endian) || UTF-8 bytes
//! fields, in order: action, outcome, severity, actor_org, actor_subject,
//!                   actor_roles, actor_certificate, source_address, purpose,
//!                   message_id, message_kind, child_key_hash, consent_id,
//!                   legal_basis, detail, trace_id
//! hash(entry)      = SHA-256(previous entry's hash || canonical(entry))
//! ```
//!
//! The first entry has sequence number 1 and its previous hash is 32 zero bytes.

pub mod merkle;
pub mod tree_head;

use sha2::{Digest, Sha256};

/// The previous hash of entry 1.
pub const GENESIS: [u8; 32] = [0; 32];

/// The version byte of the canonical encoding.
pub const ENCODING_VERSION: u8 = 1;

/// What happened. The names are stored and exported; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// A message was accepted.
    MessageSubmitted,
    /// A message was refused (bad input or consent).
    MessageRefused,
    /// A message's consent was decided at delivery and it was sent to the receiver.
    DeliveryAttempted,
    /// The receiver acknowledged delivery.
    DeliverySucceeded,
    /// Delivery was refused at delivery time (consent no longer allows it).
    DeliveryRefused,
    /// A message was read through GetMessage.
    MessageRead,
    /// A follow-up was posted (with the status change it made).
    FollowUpPosted,
    /// A consent record was recorded.
    ConsentRecorded,
    /// A consent record was withdrawn.
    ConsentWithdrawn,
    /// A message was held because its consent was withdrawn.
    MessageHeld,
    /// A legal-basis override was used.
    OverrideUsed,
    /// A token was refused.
    AuthenticationFailed,
    /// A caller lacked the role for an RPC.
    PermissionDenied,
    /// The audit log was queried or verified.
    AuditQueried,
    /// The directory or configuration was changed.
    AdminChange,
    /// A message missed a deadline; the sender and the lead agency were told.
    OverdueFlagged,
    /// A separated-child alert found no lead agency and was kept for an admin.
    AlertUnrouted,
    /// An admin routed a kept separated-child alert.
    AlertRouted,
    /// A push to an organisation's endpoint failed (a retry is scheduled).
    DeliveryFailed,
    /// A push was given up on and kept as a dead letter.
    DeliveryDeadLettered,
    /// A closed or withdrawn message's payload was erased (retention).
    PayloadPurged,
    /// A tree head of this log was signed and handed to every organisation.
    TreeHeadSigned,
}

impl Action {
    /// Every action, for parsing and filters.
    pub const ALL: [Action; 22] = [
        Action::MessageSubmitted,
        Action::MessageRefused,
        Action::DeliveryAttempted,
        Action::DeliverySucceeded,
        Action::DeliveryRefused,
        Action::MessageRead,
        Action::FollowUpPosted,
        Action::ConsentRecorded,
        Action::ConsentWithdrawn,
        Action::MessageHeld,
        Action::OverrideUsed,
        Action::AuthenticationFailed,
        Action::PermissionDenied,
        Action::AuditQueried,
        Action::AdminChange,
        Action::OverdueFlagged,
        Action::AlertUnrouted,
        Action::AlertRouted,
        Action::DeliveryFailed,
        Action::DeliveryDeadLettered,
        Action::PayloadPurged,
        Action::TreeHeadSigned,
    ];

    /// The stored name, e.g. `MESSAGE_SUBMITTED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::MessageSubmitted => "MESSAGE_SUBMITTED",
            Action::MessageRefused => "MESSAGE_REFUSED",
            Action::DeliveryAttempted => "DELIVERY_ATTEMPTED",
            Action::DeliverySucceeded => "DELIVERY_SUCCEEDED",
            Action::DeliveryRefused => "DELIVERY_REFUSED",
            Action::MessageRead => "MESSAGE_READ",
            Action::FollowUpPosted => "FOLLOW_UP_POSTED",
            Action::ConsentRecorded => "CONSENT_RECORDED",
            Action::ConsentWithdrawn => "CONSENT_WITHDRAWN",
            Action::MessageHeld => "MESSAGE_HELD",
            Action::OverrideUsed => "OVERRIDE_USED",
            Action::AuthenticationFailed => "AUTHENTICATION_FAILED",
            Action::PermissionDenied => "PERMISSION_DENIED",
            Action::AuditQueried => "AUDIT_QUERIED",
            Action::AdminChange => "ADMIN_CHANGE",
            Action::OverdueFlagged => "OVERDUE_FLAGGED",
            Action::AlertUnrouted => "ALERT_UNROUTED",
            Action::AlertRouted => "ALERT_ROUTED",
            Action::DeliveryFailed => "DELIVERY_FAILED",
            Action::DeliveryDeadLettered => "DELIVERY_DEAD_LETTERED",
            Action::PayloadPurged => "PAYLOAD_PURGED",
            Action::TreeHeadSigned => "TREE_HEAD_SIGNED",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// How an audited attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It happened.
    Success,
    /// It was refused.
    Refused,
    /// It was tried and did not work (a push the endpoint did not take).
    Failed,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "SUCCESS",
            Outcome::Refused => "REFUSED",
            Outcome::Failed => "FAILED",
        }
    }
}

/// How urgently a reviewer should look at an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Routine.
    Info,
    /// Worth a look (refusals, denials).
    Warning,
    /// Must be reviewed (overrides).
    High,
}

impl Severity {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Warning => "WARNING",
            Severity::High => "HIGH",
        }
    }
}

/// One audit entry (IHE ATNA / FHIR AuditEvent shaped). Text fields hold ids,
/// codes and category names only: never names, narratives or tokens.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    /// Position in the chain, from 1, gap-free.
    pub seq: u64,
    /// When, in microseconds since the Unix epoch.
    pub at: i64,
    /// What happened ([`Action::as_str`]).
    pub action: String,
    /// How it ended ([`Outcome::as_str`]).
    pub outcome: String,
    /// [`Severity::as_str`].
    pub severity: String,
    /// Acting organisation.
    pub actor_org: String,
    /// Acting worker or system.
    pub actor_subject: String,
    /// Roles of the actor, comma-separated.
    pub actor_roles: String,
    /// SHA-256 fingerprint of the client certificate, when one was presented.
    pub actor_certificate: String,
    /// Source address of the call.
    pub source_address: String,
    /// Purpose of use (e.g. `SERVICE_PROVISION`).
    pub purpose: String,
    /// The message concerned.
    pub message_id: String,
    /// Its kind.
    pub message_kind: String,
    /// SHA-256 (hex) of the child's link key: joinable by auditors who know the key, never a name.
    pub child_key_hash: String,
    /// The consent record relied on.
    pub consent_id: String,
    /// The legal basis relied on instead of consent.
    pub legal_basis: String,
    /// Details as JSON: categories disclosed and withheld, refusal reasons, state changes. Never values.
    pub detail: String,
    /// Trace id of the request.
    pub trace_id: String,
}

impl Entry {
    /// The one way an entry begins: what happened, how it ended, how much it
    /// matters and when, as the enums' own text; the other fields start empty
    /// and the builders below fill them.
    pub fn new(at: crate::timestamps::UnixMicros, action: Action, outcome: Outcome, severity: Severity) -> Entry {
        Entry {
            at: at.get(),
            action: action.as_str().into(),
            outcome: outcome.as_str().into(),
            severity: severity.as_str().into(),
            ..Entry::default()
        }
    }

    /// Made by `org`'s `subject`, acting in `roles` (comma-separated).
    pub fn by(self, org: &str, subject: &str, roles: String) -> Entry {
        Entry { actor_org: org.into(), actor_subject: subject.into(), actor_roles: roles, ..self }
    }

    /// About the message `id` of `kind`.
    pub fn about(self, id: &str, kind: &str) -> Entry {
        Entry { message_id: id.into(), message_kind: kind.into(), ..self }
    }

    /// Concerning the child whose link key hashes to `child_key_hash`
    /// ([`child_key_hash`]; empty when the message names no child).
    pub fn child(self, child_key_hash: String) -> Entry {
        Entry { child_key_hash, ..self }
    }

    /// With `detail`: a JSON object of codes, ids and category names, never values.
    pub fn with_detail(self, detail: String) -> Entry {
        Entry { detail, ..self }
    }

    /// The entry a `referralhub.v1.AuditEntry` shows: what a client hashes
    /// to check an inclusion proof (docs/transparency.md).
    pub fn from_wire(wire: &crate::wire::AuditEntry) -> Entry {
        Entry {
            seq: wire.seq,
            at: wire.at.as_ref().map_or(0, crate::timestamps::micros_of),
            action: wire.action.clone(),
            outcome: wire.outcome.clone(),
            severity: wire.severity.clone(),
            actor_org: wire.actor_org.clone(),
            actor_subject: wire.actor_subject.clone(),
            actor_roles: wire.actor_roles.clone(),
            actor_certificate: wire.actor_certificate.clone(),
            source_address: wire.source_address.clone(),
            purpose: wire.purpose.clone(),
            message_id: wire.message_id.clone(),
            message_kind: wire.message_kind.clone(),
            child_key_hash: wire.child_key_hash.clone(),
            consent_id: wire.consent_id.clone(),
            legal_basis: wire.legal_basis.clone(),
            detail: wire.detail.clone(),
            trace_id: wire.trace_id.clone(),
        }
    }

    /// The canonical encoding (see the module documentation).
    pub fn canonical(&self) -> Vec<u8> {
        let fields = [
            &self.action,
            &self.outcome,
            &self.severity,
            &self.actor_org,
            &self.actor_subject,
            &self.actor_roles,
            &self.actor_certificate,
            &self.source_address,
            &self.purpose,
            &self.message_id,
            &self.message_kind,
            &self.child_key_hash,
            &self.consent_id,
            &self.legal_basis,
            &self.detail,
            &self.trace_id,
        ];
        let mut out = Vec::with_capacity(32 + fields.iter().map(|f| 4 + f.len()).sum::<usize>());
        out.extend_from_slice(b"RHAUDIT");
        out.push(ENCODING_VERSION);
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.at.to_be_bytes());
        for field in fields {
            let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(field.as_bytes());
        }
        out
    }

    /// This entry's hash when it follows an entry whose hash is `previous`.
    pub fn chain_hash(&self, previous: &[u8; 32]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(previous);
        hasher.update(self.canonical());
        hasher.finalize().into()
    }
}

/// An entry as stored: with the previous hash it was chained to and its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The entry.
    pub entry: Entry,
    /// The hash of the entry before it, as recorded.
    pub previous_hash: Vec<u8>,
    /// Its hash, as recorded.
    pub hash: Vec<u8>,
}

/// The first entry at which the chain no longer holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit entry {seq}: {reason}")]
pub struct ChainBreak {
    /// Sequence number of the first bad entry (or of the first missing one).
    pub seq: u64,
    /// What is wrong with it.
    pub reason: String,
}

/// Checks entries in sequence order, one batch at a time.
#[derive(Debug, Clone)]
pub struct Verifier {
    next_seq: u64,
    previous: [u8; 32],
    checked: u64,
}

impl Verifier {
    /// Starts at entry `first_seq`, whose predecessor's hash is `previous`
    /// ([`GENESIS`] for a whole-chain check from entry 1).
    pub fn new(first_seq: u64, previous: [u8; 32]) -> Verifier {
        Verifier { next_seq: first_seq, previous, checked: 0 }
    }

    /// Checks the next entry.
    pub fn push(&mut self, stored: &Stored) -> Result<(), ChainBreak> {
        let seq = stored.entry.seq;
        let fail = |seq, reason: &str| Err(ChainBreak { seq, reason: reason.to_owned() });
        if seq != self.next_seq {
            let reason =
                format!("expected entry {} here, found entry {seq}: entries missing or reordered", self.next_seq);
            return Err(ChainBreak { seq: self.next_seq, reason });
        }
        if stored.previous_hash != self.previous {
            return fail(seq, "its previous hash does not match the entry before it");
        }
        let hash = stored.entry.chain_hash(&self.previous);
        if stored.hash != hash {
            return fail(seq, "its contents do not match its hash (edited)");
        }
        self.previous = hash;
        self.next_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// The last verified entry's sequence number and hash.
    pub fn head(&self) -> (u64, [u8; 32]) {
        (self.next_seq - 1, self.previous)
    }

    /// How many entries were verified.
    pub fn checked(&self) -> u64 {
        self.checked
    }
}

/// The bytes a checkpoint signature covers: the chain head at a moment.
pub fn checkpoint_message(seq: u64, hash: &[u8], at: i64) -> Vec<u8> {
    format!("referral-hub audit checkpoint v1\nseq={seq}\nhash={}\nat={at}\n", hex(hash)).into_bytes()
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    // One allocation: the store writes every sealed payload of a PostgreSQL
    // group this way (see the store's `group_statement`).
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// The audit-safe form of a child link key: its SHA-256, hex.
pub fn child_key_hash(link_key: &str) -> String {
    if link_key.is_empty() { String::new() } else { hex(&Sha256::digest(link_key.as_bytes())) }
}

/// Builds a chain of `entries` as the store would, for tests and benchmarks.
pub fn chain(entries: impl IntoIterator<Item = Entry>) -> Vec<Stored> {
    let mut previous = GENESIS;
    entries
        .into_iter()
        .enumerate()
        .map(|(i, mut entry)| {
            entry.seq = i as u64 + 1;
            let hash = entry.chain_hash(&previous);
            let stored = Stored { entry, previous_hash: previous.to_vec(), hash: hash.to_vec() };
            previous = hash;
            stored
        })
        .collect()
}

#[cfg(test)]
mod tests;
