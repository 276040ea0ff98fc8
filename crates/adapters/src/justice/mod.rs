//! JUSTICE adapter: a case-transfer document in NIEM 5.2 JSON (`hs:`
//! Human Services, `nc:` NIEM Core, `j:` Justice, and the hub's `rh:`
//! extension, all declared in an `@context`: see [`crate::niem`] and
//! [`document`]), so a court or legal-aid system reads a child-friendly
//! case transfer with the handling block first.
//!
//! - Outbound: every message kind as a case document (referrals, case
//!   transfers, separated-child alerts: `nc:CaseCategoryText` from table
//!   `message_kind`), follow-ups as case events, a withheld message as a
//!   notice with the id and reasons.
//! - Inbound (POST `/justice/v1/case-events`): acknowledgement, acceptance,
//!   hearing dates, disposition, decline, as case events ([`events`]) ->
//!   follow-ups. A justice agency only reports on what it received here: it
//!   does not submit messages through this adapter.
//! - Errors: an RFC 9457 problem document whose `errors` list names each
//!   bad element by JSON pointer.

mod document;
mod events;

#[cfg(test)]
mod tests;

use referral_hub_domain::wire::Sector;
use serde_json::{Value, json};

use crate::native_json::{self, Naming};
use crate::{Adapter, CodeMap, Document, Inbound, NativeViolation, Outbound, Unmapped, codes::CodeTableError};

const CODES: &str = include_str!("codes.toml");

const TABLES: &[&str] = &["case_type", "risk_level", "priority", "sex", "caregiver_exclusion", "event", "message_kind"];

const EVENTS: &str = "/justice/v1/case-events";

/// Translates between justice agencies' case documents and the hub's
/// canonical messages, so courts receive child-friendly transfers and report
/// hearings and outcomes back without a new system.
#[derive(Debug, Clone)]
pub struct JusticeAdapter {
    codes: CodeMap,
}

impl JusticeAdapter {
    /// The adapter with the built-in code tables.
    pub fn new() -> Result<Self, CodeTableError> {
        Self::with_codes(CODES)
    }

    /// The adapter with a deployment's own code tables, which must define
    /// every table the built-in file does.
    pub fn with_codes(text: &str) -> Result<Self, CodeTableError> {
        Ok(Self { codes: CodeMap::from_toml(text, TABLES)? })
    }
}

impl Adapter for JusticeAdapter {
    fn sector(&self) -> Sector {
        Sector::Justice
    }

    fn paths(&self) -> &'static [&'static str] {
        &[EVENTS]
    }

    fn answer_path(&self) -> &'static str {
        EVENTS
    }

    fn inbound(&self, path: &str, document: &[u8]) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
        if path == EVENTS {
            events::follow_up(&self.codes, document)
        } else {
            Err(vec![NativeViolation {
                element: String::new(),
                description: "no justice resource at this path".into(),
            }])
        }
    }

    fn outbound(&self, delivery: Outbound<'_>) -> Result<Document, Unmapped> {
        Ok(match delivery {
            Outbound::Message(message) => {
                native_json::document("application/json", &document::case_document(&self.codes, message)?)
            }
            Outbound::FollowUp(follow_up) => {
                native_json::document("application/json", &events::event(&self.codes, follow_up)?)
            }
            Outbound::Withheld(withheld) => native_json::document("application/json", &events::withheld(withheld)),
        })
    }

    fn errors(&self, violations: &[NativeViolation]) -> Document {
        let errors: Vec<Value> =
            violations.iter().map(|v| json!({ "pointer": v.element, "detail": v.description })).collect();
        let problem = json!({
            "type": "about:blank",
            "title": "The document has invalid elements",
            "status": 422,
            "detail": format!("{} invalid element(s)", violations.len()),
            "errors": errors,
        });
        native_json::document("application/problem+json", &problem)
    }

    fn native_element(&self, _path: &str, canonical_field: &str) -> String {
        native_json::native_element(events::ELEMENTS, Naming::Pointer, canonical_field)
    }
}
