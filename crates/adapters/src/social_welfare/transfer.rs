//! Case transfers <-> Primero cases with a transfer transition, both ways.
//!
//! Primero transfers a case with `POST /api/v2/cases/:id/transfers`
//! (`data.{transitioned_to, transitioned_to_agency, notes, …}`); the hub's
//! paths are exact strings, so the hub takes the case and its transition in
//! one body at `/primero/v2/transfers`, and delivers transfers the same way:
//! `{"data": {<case members, as a referral's>, "transfer": {…}}}`.
//!
//! | transfer field | Primero element |
//! |---|---|
//! | `request_id` | `transfer.id` (required) |
//! | `recipient_org_id` | `transfer.transitioned_to_agency` (required) |
//! | `reason` | `transfer.notes` (required: why the case moves) |
//! | `case_summary` | `transfer.hub_case_summary` |
//! | `justice` | `transfer.hub_justice_handling` ([`super::justice_block`]) |
//! | everything else | the case members of a referral ([`super`] table) |
//!
//! Loop rule: a posted transfer carrying `hub_message_id` whose `transfer.id`
//! is the one the hub wrote (`<hub_message_id>:transfer`) is the hub's own
//! delivery coming back: it is no new transfer, and reads as no request.

use referral_hub_domain::wire::{
    CaseTransfer, Message, ServiceReferral, SubmitMessageRequest, submit_message_request::Payload,
};
use serde_json::{Map, Value};

use super::case_in::{child_ref, refuse_withheld_consent, shared};
use super::case_out::{self, Shared, echo_id, put};
use super::justice_block;
use super::native_json::{Naming, Reader, parse};
use crate::{CodeMap, Inbound, NativeViolation, Unmapped};

/// The suffix of the transfer id the hub writes after its message id.
const ECHO: &str = "transfer";

/// Writes `transfer` into `case` (which holds the hub's envelope members).
pub(super) fn transfer_out(
    codes: &CodeMap,
    case: &mut Map<String, Value>,
    message: &Message,
    t: &CaseTransfer,
) -> Result<(), Unmapped> {
    if let Some(child) = &t.child {
        case_out::child_details(codes, case, child)?;
    }
    let shared = Shared {
        protection_concerns: &t.protection_concerns,
        risk_level: t.risk_level,
        caregiver: t.caregiver.as_ref(),
        current_location: t.current_location.as_ref(),
        safety_concerns: &t.safety_concerns,
        child_informed: t.child_informed,
        child_views: &t.child_views,
        attachments: &t.attachments,
    };
    case_out::shared(codes, case, &shared)?;
    let mut transition = Map::new();
    transition.insert("id".into(), echo_id(&message.id, ECHO).into());
    put(&mut transition, "transitioned_to_agency", &message.recipient_org_id);
    put(&mut transition, "notes", &t.reason);
    put(&mut transition, "hub_case_summary", &t.case_summary);
    if let Some(justice) = &t.justice {
        transition.insert("hub_justice_handling".into(), justice_block::out(codes, justice)?);
    }
    case.insert("transfer".into(), transition.into());
    Ok(())
}

/// A transfer posted by a Primero instance -> one CASE_TRANSFER (none when
/// it is the hub's own delivery posted back).
pub(super) fn transfer_in(codes: &CodeMap, document: &[u8]) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
    let value = parse(document, "body")?;
    let mut r = Reader::new(Naming::Dotted, codes);
    let Some(case) = r.object(&value, "body").and_then(|root| r.member_object(root, "data", "")) else {
        return r.finish(Vec::new());
    };
    let Some(transition) = r.member_object(case, "transfer", "") else {
        return r.finish(Vec::new());
    };
    let request_id = r.string(transition, "id", "transfer", true);
    let hub_message_id = r.string(case, "hub_message_id", "", false);
    if !hub_message_id.is_empty() && request_id == echo_id(&hub_message_id, ECHO) {
        return r.finish(Vec::new());
    }
    refuse_withheld_consent(&mut r, case);
    let child = child_ref(&mut r, case);
    let ServiceReferral {
        protection_concerns,
        risk_level,
        child: details,
        caregiver,
        current_location,
        safety_concerns,
        child_informed,
        child_views,
        attachments,
        ..
    } = shared(&mut r, case);
    let justice_at = r.at("transfer", "hub_justice_handling");
    let justice = match transition.get("hub_justice_handling") {
        None | Some(Value::Null) => None,
        Some(block) => r.object(block, &justice_at).map(|o| justice_block::read(&mut r, o, &justice_at)),
    };
    let transfer = CaseTransfer {
        justice,
        protection_concerns,
        risk_level,
        reason: r.string(transition, "notes", "transfer", true),
        child: details,
        caregiver,
        current_location,
        case_summary: r.string(transition, "hub_case_summary", "transfer", false),
        safety_concerns,
        child_informed,
        child_views,
        attachments,
    };
    let request = SubmitMessageRequest {
        request_id,
        recipient_org_id: r.string(transition, "transitioned_to_agency", "transfer", true),
        child: Some(child),
        // As for referrals: Primero's flags are no consent record.
        consent: None,
        payload: Some(Payload::CaseTransfer(transfer)),
        ..SubmitMessageRequest::default()
    };
    r.finish(vec![Inbound::Submit(request)])
}

/// Where each transfer field the hub may refuse comes from in a transfer
/// document (the case members are a referral's: [`super::CASE_ELEMENTS`]).
pub(super) const ELEMENTS: &[(&str, &str)] = &[
    ("request_id", "transfer.id"),
    ("recipient_org_id", "transfer.transitioned_to_agency"),
    ("case_transfer.reason", "transfer.notes"),
    ("case_transfer.case_summary", "transfer.hub_case_summary"),
    ("case_transfer.justice", "transfer.hub_justice_handling"),
];
