//! Per-sector adapters (docs/adapters.md "Shape"): each agency joins the hub in its own
//! format. An adapter is a pair of pure translations, no I/O:
//!
//! - `inbound`: a native document posted to one of the adapter's HTTP paths
//!   -> canonical requests (the same `SubmitMessageRequest` and
//!   `PostFollowUpRequest` the gRPC services take), or every bad element,
//!   named the sector's way;
//! - `outbound`: a canonical message or follow-up, already cut down by
//!   disclosure for the receiver -> a native document.
//!
//! The transport (HTTP endpoints, push delivery) is the server's; it calls the
//! same core path as gRPC, so adapters never bypass validation, consent,
//! disclosure or audit. Codes map through tables ([`codes`]) loaded from
//! configuration; a code that does not map is an error naming it.
//!
//! Adding a sector means adding one module with its tests and one line in
//! [`Adapters::builtin`]. Every sector but OTHER has one; an OTHER
//! organisation pulls over gRPC. A sector module imports only the crate's
//! shared modules, never another sector: the hub's own JSON document
//! (`json_document`, `problem`: EDUCATION, POLICE), reading a standard's
//! JSON (`native_json`: SOCIAL_WELFARE, JUSTICE), NIEM naming and the
//! handling block (`niem`: JUSTICE, POLICE).

pub mod codes;
pub mod education;
pub mod health;
pub mod justice;
pub mod police;
pub mod social_welfare;

// What several sectors share lives here, at the crate level, so that no
// sector module imports another.
mod json_document;
mod native_json;
mod niem;
mod problem;
#[cfg(test)]
mod testing;

use referral_hub_domain::wire::{
    FollowUp, Message, MessageStatus, MessageWithheld, PostFollowUpRequest, Sector, SubmitMessageRequest,
};

pub use codes::{CodeMap, Unmapped};

/// What a native document asks of the hub, in canonical form.
// A document yields a handful of these, handed straight to the core path: the
// size difference between the variants costs nothing worth a Box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// Submit a new message (the caller's organisation is the sender).
    Submit(SubmitMessageRequest),
    /// Post a follow-up (status change or note) on an existing message.
    FollowUp(PostFollowUpRequest),
}

/// What the hub delivers to an agency, already cut for it by disclosure.
#[derive(Debug, Clone, Copy)]
pub enum Outbound<'a> {
    /// A new message addressed to the agency.
    Message(&'a Message),
    /// A follow-up by the other party on a message the agency sent or received.
    FollowUp(&'a FollowUp),
    /// A message consent no longer lets the hub deliver: its id and why.
    Withheld(&'a MessageWithheld),
}

/// The two organisations of a message: a follow-up names only its author.
#[derive(Debug, Clone, Copy)]
pub struct MessageParties<'a> {
    /// The organisation that sent the message (FHIR: the Task's requester).
    pub sender_org_id: &'a str,
    /// The organisation it was sent to (FHIR: the Task's owner).
    pub recipient_org_id: &'a str,
}

/// One bad element of a native document, named the way the sector names it
/// (a FHIRPath such as `Bundle.entry[1].resource.priority`, a JSON pointer,
/// `row 3, column grade`), with what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeViolation {
    /// The element, in the sector's own naming.
    pub element: String,
    /// What is wrong, for a developer of the sending system.
    pub description: String,
}

/// A native document: body and media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Media type, e.g. `application/fhir+json`.
    pub content_type: &'static str,
    /// The bytes.
    pub body: Vec<u8>,
}

/// An HTTP method an adapter route answers besides the POST of
/// [`Adapter::paths`]: some standards change a resource with PATCH and
/// revoke it with DELETE (Primero's referrals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Create, or post a document.
    Post,
    /// Change part of a resource.
    Patch,
    /// Remove (revoke) a resource.
    Delete,
}

/// A route whose path carries parameters (`{id}` segments, in axum's
/// syntax) or whose method is not POST, for standards that name resources in
/// the path, e.g. `PATCH /api/v2/cases/{id}/referrals/{rid}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The method.
    pub method: Method,
    /// The path pattern; it also stands for the route in
    /// [`Adapter::native_element`] and [`Adapter::errors`].
    pub path: &'static str,
}

impl Method {
    /// The method's name in HTTP.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl Route {
    /// The values of the pattern's parameters in `path`, in order, when
    /// `path` matches the pattern (a parameter matches one non-empty segment).
    pub fn matches(pattern: &str, path: &str) -> Option<Vec<String>> {
        let (mut wanted, mut got) = (pattern.split('/'), path.split('/'));
        let mut values = Vec::new();
        loop {
            match (wanted.next(), got.next()) {
                (None, None) => return Some(values),
                (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') && !g.is_empty() => {
                    values.push(g.to_owned())
                }
                (Some(w), Some(g)) if w == g => {}
                _ => return None,
            }
        }
    }
}

/// What the hub did with one request of a document, for the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// A message was submitted (or a retry found it).
    Submitted {
        /// The hub's message id.
        message_id: String,
        /// Its status, as the proto value name.
        status: String,
        /// Whether this was a retry answered from the stored message.
        replayed: bool,
    },
    /// A follow-up was posted (or a retry found it).
    FollowedUp {
        /// The hub's follow-up id.
        follow_up_id: String,
        /// The message it is about.
        message_id: String,
        /// The message's status after it, as the proto value name.
        status: String,
        /// Whether this was a retry answered from the stored follow-up.
        replayed: bool,
    },
}

impl Receipt {
    /// The hub's own answer shape: `{"accepted": [...]}`.
    pub fn hub_answer(receipts: &[Receipt]) -> Document {
        let accepted: Vec<serde_json::Value> = receipts
            .iter()
            .map(|r| match r {
                Receipt::Submitted { message_id, status, replayed } => {
                    serde_json::json!({"message_id": message_id, "status": status, "replayed": replayed})
                }
                Receipt::FollowedUp { follow_up_id, message_id, status, replayed } => serde_json::json!({
                    "follow_up_id": follow_up_id, "message_id": message_id, "status": status, "replayed": replayed
                }),
            })
            .collect();
        let body = serde_json::json!({ "accepted": accepted }).to_string().into_bytes();
        Document { content_type: "application/json", body }
    }
}

/// Largest native document an adapter accepts, in bytes: the gRPC API's
/// limit, so no door takes more than another. A CSV batch of a school's term
/// is well under it; larger is refused, never truncated.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// One sector's translation pair.
pub trait Adapter: Send + Sync + 'static {
    /// The sector whose systems speak this format.
    fn sector(&self) -> Sector;

    /// The HTTP paths the hub accepts this sector's documents on (POST), e.g.
    /// `/fhir/r4/Bundle`.
    fn paths(&self) -> &'static [&'static str];

    /// The path (one of [`Adapter::paths`]) whose documents, follow-ups, an
    /// agency's system may also return in the body of its answer to a push.
    fn answer_path(&self) -> &'static str;

    /// A native document posted to `path` (one of [`Adapter::paths`]) ->
    /// canonical requests, in document order, or every bad element.
    /// Never panics, whatever the bytes.
    fn inbound(&self, path: &str, document: &[u8]) -> Result<Vec<Inbound>, Vec<NativeViolation>>;

    /// A delivery to an agency of this sector, in its format.
    fn outbound(&self, delivery: Outbound<'_>) -> Result<Document, Unmapped>;

    /// A follow-up on the message between `parties`, for a format that names
    /// both parties on every update whoever posted it (FHIR's Task `requester`
    /// and `owner`); by default what [`Adapter::outbound`] writes of it.
    fn outbound_follow_up(&self, follow_up: &FollowUp, parties: MessageParties<'_>) -> Result<Document, Unmapped> {
        let _ = parties;
        self.outbound(Outbound::FollowUp(follow_up))
    }

    /// Refusals in the sector's error format (FHIR `OperationOutcome`, a JSON
    /// problem document, a CSV row report).
    fn errors(&self, violations: &[NativeViolation]) -> Document;

    /// The refusal of a document posted to `resource` (the request's own
    /// path), answered with HTTP `status`: [`Adapter::errors`], unless the
    /// sector's format repeats these (each of Primero's errors names both).
    fn refusal(&self, resource: &str, status: u16, violations: &[NativeViolation]) -> Document {
        let _ = (resource, status);
        self.errors(violations)
    }

    /// The native element that a canonical field the hub refused (e.g.
    /// `referral.child.sex`) came from in a document posted to `path`, so
    /// that the hub's own validation errors name the sender's elements.
    fn native_element(&self, path: &str, canonical_field: &str) -> String;

    /// The hub's message statuses that the sector's own status code
    /// `native` stands for (several may share one), so that a system can
    /// search by the statuses it knows; empty when it stands for none.
    fn statuses_for(&self, native: &str) -> Vec<MessageStatus> {
        let _ = native;
        vec![]
    }

    /// Routes beyond [`Adapter::paths`]: path parameters, PATCH, DELETE.
    fn routes(&self) -> &'static [Route] {
        &[]
    }

    /// A document sent to `route` (one of [`Adapter::routes`]), `params`
    /// the values of its path parameters in order -> canonical requests, or
    /// every bad element. Never panics, whatever the bytes.
    fn inbound_route(
        &self,
        route: &Route,
        params: &[String],
        document: &[u8],
    ) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
        let _ = params;
        self.inbound(route.path, document)
    }

    /// The answer to a document posted to `path` (a path or a route's
    /// pattern) that the hub took whole.
    fn answer(&self, path: &str, receipts: &[Receipt]) -> Document {
        let _ = path;
        Receipt::hub_answer(receipts)
    }

    /// How `element` of the `index`-th (from 0) request a document posted
    /// to `path` held is named, when the document held several (a batch).
    fn item_element(&self, path: &str, index: usize, element: &str) -> String {
        let _ = path;
        format!("item {}: {element}", index + 1)
    }
}

/// Every adapter the hub serves, one per sector.
pub struct Adapters {
    adapters: Vec<Box<dyn Adapter>>,
}

impl Adapters {
    /// The adapters built into the hub, with their default code tables.
    pub fn builtin() -> Result<Self, codes::CodeTableError> {
        Self::builtin_with(health::HealthAdapter::new()?)
    }

    /// The built-in adapters, HEALTH's as the deployment configured it (its
    /// own ConceptMap for foreign codings).
    pub fn builtin_with(health: health::HealthAdapter) -> Result<Self, codes::CodeTableError> {
        Ok(Self {
            adapters: vec![
                Box::new(health),
                Box::new(social_welfare::SocialWelfareAdapter::new()?),
                Box::new(education::EducationAdapter::new()?),
                Box::new(police::PoliceAdapter::new()?),
                Box::new(justice::JusticeAdapter::new()?),
            ],
        })
    }

    /// The adapter for `sector`'s systems.
    pub fn for_sector(&self, sector: Sector) -> Option<&dyn Adapter> {
        self.adapters.iter().find(|a| a.sector() == sector).map(|a| a.as_ref())
    }

    /// The adapter that accepts documents on `path`: one of its paths, or a
    /// path that one of its routes' patterns matches (or the pattern itself).
    pub fn for_path(&self, path: &str) -> Option<&dyn Adapter> {
        self.adapters
            .iter()
            .find(|a| a.paths().contains(&path) || a.routes().iter().any(|r| Route::matches(r.path, path).is_some()))
            .map(|a| a.as_ref())
    }

    /// Every adapter.
    pub fn iter(&self) -> impl Iterator<Item = &dyn Adapter> {
        self.adapters.iter().map(|a| a.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sector_but_other_has_one_adapter_and_paths_are_unique() {
        let adapters = Adapters::builtin().expect("the built-in code tables load");
        for sector in [Sector::Health, Sector::SocialWelfare, Sector::Education, Sector::Police, Sector::Justice] {
            assert_eq!(adapters.for_sector(sector).map(|a| a.sector()), Some(sector));
        }
        assert!(adapters.for_sector(Sector::Other).is_none());
        let mut paths: Vec<_> = adapters.iter().flat_map(|a| a.paths().iter().copied()).collect();
        let count = paths.len();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), count, "no path is served by two adapters");
        assert_eq!(adapters.for_path("/fhir/r4/Bundle").map(|a| a.sector()), Some(Sector::Health));
    }
}
