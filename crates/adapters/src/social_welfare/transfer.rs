//! Case transfers <-> Primero cases and transfer transitions, both ways.
//!
//! In: Primero's own `POST /api/v2/cases/{id}/transfers`, whose `data` holds
//! Primero's transfer members (`transitioned_to_agency`: the hub organisation
//! id; `notes`: why the case moves; `consent_overridden`, `transitioned_to`,
//! `remote`, `type_of_export` … read or ignored) and, because the hub keeps no
//! cases, the case itself in `data.record` (as Primero renders a transition
//! with its record). The request id is `transfer:<case id>:<agency>`, so a
//! retry is one transfer. The hub's earlier `/primero/v2/transfers` body
//! (`data` the case, `data.transfer` the transition with `id`) is still read.
//!
//! Out: the case ([`super::case_out`]) with the transfer as an entry of
//! Primero's `transitions` subform (`type: transfer`, `to_user_agency`,
//! `transitioned_by` the sending agency, `notes` the reason); the case
//! summary and a justice handling block, which Primero has no field for,
//! are notes.
//!
//! | transfer field | Primero element (route) | Primero element (`/primero/v2/transfers`) |
//! |---|---|---|
//! | `request_id` | `transfer:<id>:<agency>` | `transfer.id` (required) |
//! | `recipient_org_id` | `data.transitioned_to_agency` | `transfer.transitioned_to_agency` |
//! | `reason` | `data.notes` | `transfer.notes` |
//! | `case_summary` | `data.hub_case_summary` (hub addition) | `transfer.hub_case_summary` |
//! | `justice` | (none) | `transfer.hub_justice_handling` ([`super::justice_block`]) |
//! | everything else | the case members of a referral, in `data.record` | in `data` |
//!
//! Loop rule: a transfer posted at `/primero/v2/transfers` carrying
//! `hub_message_id` whose `transfer.id` is `<hub_message_id>:transfer` is the
//! hub's own earlier delivery coming back, and reads as no request.

use referral_hub_domain::wire::{
    CaseTransfer, JusticeHandling, Message, ServiceReferral, SubmitMessageRequest, submit_message_request::Payload,
};
use serde_json::{Map, Value, json};

use super::case_members_in::{child_ref, refuse_withheld_consent, shared};
use super::case_members_out::{self, Shared};
use super::justice_block;
use super::primero_in::{data, read_route};
use super::primero_out::{Notes, Subform, entry_id, put};
use crate::native_json::{Naming, Reader, parse, rfc3339};
use crate::{CodeMap, Inbound, NativeViolation, Unmapped};

/// Writes `transfer` into `case` (which holds the envelope members).
pub(super) fn transfer_out(
    codes: &CodeMap,
    case: &mut Map<String, Value>,
    notes: &mut Notes,
    message: &Message,
    t: &CaseTransfer,
) -> Result<(), Unmapped> {
    if let Some(child) = &t.child {
        case_members_out::child_details(codes, case, notes, child);
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
    case_members_out::shared(codes, case, notes, message, &shared)?;
    notes.add("Case summary", &t.case_summary);
    if let Some(justice) = &t.justice {
        notes.add("Justice handling", &justice_block::out(codes, justice)?.to_string());
    }
    let mut transition = Map::new();
    transition.insert("unique_id".into(), entry_id(&message.id, Subform::Transitions, 0).into());
    transition.insert("type".into(), "transfer".into());
    put(&mut transition, "to_user_agency", &message.recipient_org_id);
    put(&mut transition, "transitioned_by", &message.sender_org_id);
    put(&mut transition, "notes", &t.reason);
    transition.insert("is_remote".into(), true.into());
    transition.insert("to_user_local_status".into(), "in_progress".into());
    if let Some(at) = &message.created_at {
        transition.insert("created_at".into(), rfc3339(at)?.into());
    }
    case.insert("transitions".into(), json!([transition]));
    Ok(())
}

/// What a transfer asks besides the case members.
struct Asked {
    request_id: String,
    recipient: String,
    reason: String,
    case_summary: String,
    justice: Option<JusticeHandling>,
}

/// A transfer posted to Primero's `POST /api/v2/cases/{id}/transfers`.
pub(super) fn transfer_route(
    codes: &CodeMap,
    case_id: &str,
    document: &[u8],
) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
    read_route(codes, document, |r, data, case| {
        let recipient = r.string(data, "transitioned_to_agency", "data", true);
        let asked = Asked {
            request_id: format!("transfer:{case_id}:{recipient}"),
            recipient,
            reason: r.string(data, "notes", "data", true),
            case_summary: r.string(data, "hub_case_summary", "data", false),
            justice: None,
        };
        let overridden = r.boolean(data, "consent_overridden", "data") == Some(true);
        Inbound::Submit(submit(r, case, Some(case_id), overridden, asked))
    })
}

/// A transfer posted to the hub's earlier `/primero/v2/transfers` -> one
/// CASE_TRANSFER (none when it is the hub's own delivery posted back).
pub(super) fn transfer_in(codes: &CodeMap, document: &[u8]) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
    let value = parse(document, "body")?;
    let mut r = Reader::new(Naming::Dotted, codes);
    let Some(case) = data(&mut r, &value) else {
        return r.finish(Vec::new());
    };
    let Some(transition) = r.member_object(case, "transfer", "") else {
        return r.finish(Vec::new());
    };
    let request_id = r.string(transition, "id", "transfer", true);
    let hub_message_id = r.string(case, "hub_message_id", "", false);
    if !hub_message_id.is_empty() && request_id == format!("{hub_message_id}:transfer") {
        return r.finish(Vec::new());
    }
    let justice_at = r.at("transfer", "hub_justice_handling");
    let justice = match transition.get("hub_justice_handling") {
        None | Some(Value::Null) => None,
        Some(block) => r.object(block, &justice_at).map(|o| justice_block::read(&mut r, o, &justice_at)),
    };
    let asked = Asked {
        request_id,
        recipient: r.string(transition, "transitioned_to_agency", "transfer", true),
        reason: r.string(transition, "notes", "transfer", true),
        case_summary: r.string(transition, "hub_case_summary", "transfer", false),
        justice,
    };
    let request = submit(&mut r, case, None, false, asked);
    r.finish(vec![Inbound::Submit(request)])
}

/// The CASE_TRANSFER of `case` as `asked`; `case_id` is the route's case id
/// (the child's local id when the case has no `case_id`).
fn submit(
    r: &mut Reader<'_>,
    case: &Map<String, Value>,
    case_id: Option<&str>,
    consent_overridden: bool,
    asked: Asked,
) -> SubmitMessageRequest {
    if !consent_overridden {
        refuse_withheld_consent(r, case);
    }
    let child = child_ref(r, case, case_id);
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
    } = shared(r, case);
    let transfer = CaseTransfer {
        justice: asked.justice,
        protection_concerns,
        risk_level,
        reason: asked.reason,
        child: details,
        caregiver,
        current_location,
        case_summary: asked.case_summary,
        safety_concerns,
        child_informed,
        child_views,
        attachments,
    };
    SubmitMessageRequest {
        request_id: asked.request_id,
        recipient_org_id: asked.recipient,
        child: Some(child),
        // As for referrals: Primero's flags are no consent record.
        consent: None,
        payload: Some(Payload::CaseTransfer(transfer)),
        ..SubmitMessageRequest::default()
    }
}

/// Where each transfer field the hub may refuse comes from in a transfer
/// document at `/primero/v2/transfers` (the case members are a referral's:
/// [`super::CASE_ELEMENTS`]).
pub(super) const ELEMENTS: &[(&str, &str)] = &[
    ("request_id", "transfer.id"),
    ("recipient_org_id", "transfer.transitioned_to_agency"),
    ("case_transfer.reason", "transfer.notes"),
    ("case_transfer.case_summary", "transfer.hub_case_summary"),
    ("case_transfer.justice", "transfer.hub_justice_handling"),
];
