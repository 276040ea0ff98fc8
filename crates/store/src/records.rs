//! The rows the store reads and writes, in typed form.

use referral_hub_domain::{
    ids::{MessageId, OrgId, RequestId},
    timestamps::UnixMicros,
    wire::{DirectoryNotice, FollowUpAction, MessageKind, MessageStatus, RiskLevel, Sector, SignedTreeHead},
};

/// A message's routing envelope and its encoded body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    /// Hub-assigned UUIDv7.
    pub id: MessageId,
    /// Sending organisation.
    pub sender_org: OrgId,
    /// Sending worker or system.
    pub sender_subject: String,
    /// Receiving organisation.
    pub recipient_org: OrgId,
    /// The sender's idempotency key.
    pub request_id: RequestId,
    /// SHA-256 of the encoded request, to tell a retry from a reuse of the key.
    pub request_hash: Vec<u8>,
    /// Which payload.
    pub kind: MessageKind,
    /// Life-cycle state.
    pub status: MessageStatus,
    /// Risk level, for deadlines and statistics.
    pub risk_level: RiskLevel,
    /// Cross-agency link key of the child, when known (never a name).
    pub child_link_key: Option<String>,
    /// Accepted at.
    pub created_at: UnixMicros,
    /// Last changed at.
    pub updated_at: UnixMicros,
    /// Acknowledge deadline.
    pub acknowledge_by: UnixMicros,
    /// Accept/decline deadline.
    pub respond_by: UnixMicros,
    /// The encoded request (child reference and payload).
    pub body: Vec<u8>,
    /// The consent record it relies on.
    pub consent_id: Option<String>,
    /// The legal basis it relies on instead (an override).
    pub legal_basis: Option<String>,
    /// Why it is HELD.
    pub hold_reason: Option<String>,
    /// Where the child is (area code path), for escalation.
    pub area: Option<String>,
    /// When it was flagged as not acknowledged in time.
    pub acknowledge_overdue_at: Option<UnixMicros>,
    /// When it was flagged as not accepted or declined in time.
    pub respond_overdue_at: Option<UnixMicros>,
    /// The overdue message this one replaces (re-routed by a lead agency).
    pub rerouted_from: Option<MessageId>,
    /// Statistics metadata, never identifying: the sender's sector.
    pub sender_sector: Option<Sector>,
    /// The receiver's sector.
    pub recipient_sector: Option<Sector>,
    /// The child's sex code.
    pub sex: Option<String>,
    /// The child's age band (0-4, 5-9, 10-14, 15-17).
    pub age_band: Option<String>,
    /// The child's displacement status code.
    pub displacement: Option<String>,
    /// The organisation that owns the case once the receiver accepted a
    /// transfer; `None`: the sender.
    pub owner_org: Option<OrgId>,
    /// The status as the original sender last saw it, once the new owner of
    /// a transferred case posted a follow-up it did not share; `None`: `status`.
    pub sender_view_status: Option<MessageStatus>,
    /// The declined referral this one re-refers.
    pub re_referral_of: Option<MessageId>,
    /// W3C `traceparent` of the request that submitted it (trace and span ids
    /// only), so its delivery joins the same trace.
    pub traceparent: Option<String>,
    /// When the receiver first acknowledged it.
    pub acknowledged_at: Option<UnixMicros>,
    /// When the receiver accepted it.
    pub accepted_at: Option<UnixMicros>,
    /// When its payload was purged (retention).
    pub purged_at: Option<UnixMicros>,
}

/// A separated-child alert kept because no lead agency covers its area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnroutedAlert {
    /// Hub-assigned UUIDv7.
    pub id: String,
    /// Sending organisation.
    pub sender_org: OrgId,
    /// Sending worker or system.
    pub sender_subject: String,
    /// The sender's idempotency key (the routed message keeps it).
    pub request_id: RequestId,
    /// SHA-256 of the encoded request.
    pub request_hash: Vec<u8>,
    /// Where the child was found (area code path).
    pub area: String,
    /// Kept at.
    pub received_at: UnixMicros,
    /// The encoded request.
    pub body: Vec<u8>,
    /// The message it became, once an admin routed it.
    pub routed_message_id: Option<MessageId>,
}

/// A consent record: routing columns plus the encoded record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    /// Hub-assigned UUIDv7.
    pub id: String,
    /// Organisation that recorded it.
    pub recorded_by_org: OrgId,
    /// Its idempotency key.
    pub request_id: RequestId,
    /// SHA-256 of the encoded request.
    pub request_hash: Vec<u8>,
    /// `GRANT` or `WITHDRAWAL`.
    pub kind: String,
    /// The child's local id at the recording organisation.
    pub child_local_id: String,
    /// The child's link key, or empty.
    pub child_link_key: String,
    /// The record it replaces or withdraws.
    pub supersedes_id: Option<String>,
    /// Recorded at.
    pub recorded_at: UnixMicros,
    /// The encoded record.
    pub body: Vec<u8>,
}

/// A follow-up and its encoded body (reason, note, outcome, dates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpRecord {
    /// Hub-assigned UUIDv7.
    pub id: String,
    /// The message it is about.
    pub message_id: MessageId,
    /// Posting organisation.
    pub author_org: OrgId,
    /// Posting worker or system.
    pub author_subject: String,
    /// The author's idempotency key.
    pub request_id: RequestId,
    /// SHA-256 of the encoded request.
    pub request_hash: Vec<u8>,
    /// What it does.
    pub action: FollowUpAction,
    /// The message's state after it.
    pub status_after: MessageStatus,
    /// Accepted at.
    pub created_at: UnixMicros,
    /// The encoded request.
    pub body: Vec<u8>,
    /// Posted by the new owner of a transferred case and not shared back:
    /// the original sender neither receives nor reads it.
    pub hidden_from_sender: bool,
}

/// Outcome of an idempotent insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted<T> {
    /// Stored now.
    Created(T),
    /// Stored earlier under the same request id; the caller compares hashes.
    Existing(T),
}

/// One entry of an organisation's inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxItem {
    /// Gap-free position in the organisation's inbox.
    pub position: u64,
    /// What arrived there.
    pub content: InboxContent,
}

/// What an inbox entry holds.
#[derive(Debug, Clone, PartialEq)]
pub enum InboxContent {
    /// A new message addressed to the organisation.
    Message(MessageRecord),
    /// A follow-up on a message the organisation sent or received.
    FollowUp {
        /// The message it is about.
        message: MessageRecord,
        /// The follow-up.
        follow_up: FollowUpRecord,
    },
    /// A notice from the hub itself.
    Notice(HubNotice),
}

/// A notice the hub puts in an organisation's inbox: not a message, no child data.
#[derive(Debug, Clone, PartialEq)]
pub enum HubNotice {
    /// A change to the organisation's own directory entry.
    Directory(DirectoryNotice),
    /// A new signed tree head of the audit log (docs/transparency.md).
    TreeHead(SignedTreeHead),
}

impl HubNotice {
    /// The notice's id: unique per kind and, for a tree head, its size.
    pub fn id(&self) -> String {
        match self {
            HubNotice::Directory(notice) => notice.id.clone(),
            HubNotice::TreeHead(head) => format!("tree-head-{}", head.tree_size),
        }
    }
}

impl InboxItem {
    /// The message the entry is or is about; `None` for a notice.
    pub fn message(&self) -> Option<&MessageRecord> {
        match &self.content {
            InboxContent::Message(message) | InboxContent::FollowUp { message, .. } => Some(message),
            InboxContent::Notice(_) => None,
        }
    }

    /// The new message the entry delivers; `None` for a follow-up or a notice.
    pub fn new_message(&self) -> Option<&MessageRecord> {
        match &self.content {
            InboxContent::Message(message) => Some(message),
            InboxContent::FollowUp { .. } | InboxContent::Notice(_) => None,
        }
    }
}

/// Which side of the exchange to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mailbox {
    /// Messages the organisation sent.
    Sent,
    /// Messages the organisation received.
    Received,
}

/// A page request over one organisation's messages, newest first.
#[derive(Debug, Clone)]
pub struct MessageFilter {
    /// Whose messages.
    pub org: OrgId,
    /// Sent or received.
    pub mailbox: Mailbox,
    /// Only these states (empty: all).
    pub statuses: Vec<MessageStatus>,
    /// Only these kinds (empty: all).
    pub kinds: Vec<MessageKind>,
    /// Only ids below this one (the previous page's last id).
    pub before_id: Option<MessageId>,
    /// Only those with this organisation on the other side (a polling
    /// system's search by the other party).
    pub counterpart: Option<OrgId>,
    /// Only those last changed at or after this.
    pub updated_from: Option<UnixMicros>,
    /// Only those last changed before this.
    pub updated_before: Option<UnixMicros>,
    /// Page size.
    pub limit: u32,
}

/// A page request over active organisations, by id.
#[derive(Debug, Clone, Default)]
pub struct OrganisationSearch {
    /// Offers this service code.
    pub service: Option<String>,
    /// Covers this area (or an area above it).
    pub area: Option<String>,
    /// In this sector.
    pub sector: Option<Sector>,
    /// Only ids above this one (the previous page's last id).
    pub after_id: Option<OrgId>,
    /// Page size.
    pub limit: u32,
}

/// A pushed inbox entry given up on: metadata only, never the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Hub-assigned UUIDv7.
    pub id: String,
    /// The organisation it was for.
    pub org_id: OrgId,
    /// Its inbox position.
    pub position: u64,
    /// The message (for a follow-up: the message it is about).
    pub message_id: MessageId,
    /// The follow-up, when the entry was one.
    pub follow_up_id: Option<String>,
    /// Attempts made.
    pub attempts: u32,
    /// When the first attempt failed.
    pub first_failed_at: UnixMicros,
    /// When it was given up on.
    pub dead_at: UnixMicros,
    /// The last failure: an HTTP status or a transport error kind, never a body.
    pub last_error: String,
    /// `DEAD`, `RETRIED` or `CANCELLED`.
    pub state: String,
}

/// The retry state of the entry at the head of a PUSH organisation's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PushRetry {
    /// Failed attempts so far.
    pub attempts: u32,
    /// When the first of them failed.
    pub first_failed_at: Option<UnixMicros>,
}
