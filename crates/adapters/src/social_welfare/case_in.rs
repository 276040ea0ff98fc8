//! A Primero case posted to the hub -> one referral per receiving agency.
//!
//! Primero keeps referrals as `services_section` entries of the case; an
//! entry with a `service_implementing_agency` (a hub organisation id) asks
//! that agency for a service. Entries for the same agency become one referral
//! asking for all their services, since the hub's referral carries a list of
//! services; entries without an agency are the case's own services, not
//! referrals, and are ignored. Case-level fields (child, concerns, risk) are
//! shared by every referral of the case, and read the same way for transfers
//! ([`super::case_members_in`]). A case flagged `hub_alert` is an alert
//! instead ([`super::family_tracing`]); the loop rule is at [`groups`].

use referral_hub_domain::wire::{
    ChildRef, Priority, RiskLevel, ServiceReferral, SubmitMessageRequest, submit_message_request::Payload,
};
use serde_json::{Map, Value};

use super::case_members_in::{child_ref, refuse_withheld_consent, shared};
use super::family_tracing;
use super::primero_in::{data, read_route};
use super::primero_out::{Subform, entry_id};
use crate::native_json::{Naming, Reader, parse};
use crate::{CodeMap, Inbound, NativeViolation};

/// The services asked of one agency.
struct Group {
    agency: String,
    request_id: String,
    services: Vec<String>,
    reasons: Vec<String>,
    notes: Vec<String>,
    priority: i32,
}

/// The requests of a case document: one alert when the case is flagged
/// `hub_alert` (and is not the hub's own delivery), else the referrals, in
/// the order their agencies first appear.
pub(super) fn requests(codes: &CodeMap, document: &[u8]) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
    let value = parse(document, "body")?;
    let mut r = Reader::new(Naming::Dotted, codes);
    let Some(case) = data(&mut r, &value) else {
        return r.finish(Vec::new());
    };
    let echo = r.string(case, "hub_message_id", "", false);
    // A delivered alert posted back is the hub's own alert, not a new one:
    // honouring its flag would send it round the lead agencies for ever.
    if echo.is_empty() && r.boolean(case, "hub_alert", "") == Some(true) {
        let alert = family_tracing::alert_in(&mut r, case);
        return r.finish(vec![alert]);
    }
    refuse_withheld_consent(&mut r, case);
    let child = child_ref(&mut r, case, None);
    let shared = shared(&mut r, case);
    let echo = Echo::of(&mut r, case);
    let groups = groups(&mut r, case, &echo, shared.risk_level);
    let requests = groups.into_iter().map(|g| referral(&child, &shared, g)).collect();
    r.finish(requests)
}

/// A referral posted to Primero's `POST /api/v2/cases/{id}/referrals`:
/// `data` holds Primero's referral members (`transitioned_to_agency`, the
/// hub organisation id; `service` from lookup-service-type, or
/// `service_record_id` naming the case's services_section entry; `notes`;
/// `consent_overridden`; `transitioned_to`, `remote`, `type_of_export` …
/// ignored) and the case in `data.record`, as Primero renders a transition
/// with its record. The request id is the `service_record_id`, else
/// `referral:<case id>:<agency>:<service>`, so a retry is one referral.
pub(super) fn referral_route(
    codes: &CodeMap,
    case_id: &str,
    document: &[u8],
) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
    read_route(codes, document, |r, data, case| {
        if r.boolean(data, "consent_overridden", "data") != Some(true) {
            refuse_withheld_consent(r, case);
        }
        let child = child_ref(r, case, Some(case_id));
        let shared = shared(r, case);
        let group = route_group(r, data, case, case_id, shared.risk_level);
        referral(&child, &shared, group)
    })
}

/// The one group a referral on Primero's route asks for.
fn route_group(
    r: &mut Reader<'_>,
    data: &Map<String, Value>,
    case: &Map<String, Value>,
    case_id: &str,
    risk: i32,
) -> Group {
    let agency = r.string(data, "transitioned_to_agency", "data", true);
    let record_id = r.string(data, "service_record_id", "data", false);
    let entries = r.array(case, "services_section", "data.record");
    let entry = entries.iter().find(|(_, e)| e.get("unique_id").and_then(Value::as_str) == Some(record_id.as_str()));
    let (service, priority, reason) = match entry.and_then(|(at, e)| e.as_object().map(|e| (at, e))) {
        Some((at, e)) if !record_id.is_empty() => (
            r.code_member("service_type", e, "service_type", at, true),
            timeframe(r, e, at),
            r.string(e, "service_referral_notes", at, false),
        ),
        _ => (r.code_member("service_type", data, "service", "data", true), 0, String::new()),
    };
    let notes = r.string(data, "notes", "data", false);
    let request_id =
        if record_id.is_empty() { format!("referral:{case_id}:{agency}:{service}") } else { record_id.clone() };
    let reasons: Vec<String> = [reason, notes].into_iter().filter(|s| !s.is_empty()).collect();
    let priority = if priority == 0 { default_priority(risk) } else { priority };
    Group { agency, request_id, services: vec![service], reasons, notes: vec![], priority }
}

/// The referral asking `group` of its agency for `child`.
fn referral(child: &ChildRef, shared: &ServiceReferral, g: Group) -> Inbound {
    Inbound::Submit(SubmitMessageRequest {
        request_id: g.request_id,
        recipient_org_id: g.agency,
        child: Some(child.clone()),
        // The Primero flags are not a consent record (no consenters, age,
        // expiry, method): the hub decides on the records it holds.
        consent: None,
        payload: Some(Payload::Referral(ServiceReferral {
            requested_services: g.services,
            reason: g.reasons.join("\n\n"),
            priority: g.priority,
            notes: g.notes.join("\n\n"),
            ..shared.clone()
        })),
        ..SubmitMessageRequest::default()
    })
}

/// The priority of a service entry without a time frame (Primero does not
/// require one): as urgent as the case's risk, so no high-risk referral
/// waits for a routine deadline.
fn default_priority(risk: i32) -> i32 {
    let priority = match RiskLevel::try_from(risk) {
        Ok(RiskLevel::High) => Priority::Emergency,
        Ok(RiskLevel::Medium) => Priority::Urgent,
        _ => Priority::Routine,
    };
    priority as i32
}

fn timeframe(r: &mut Reader<'_>, entry: &Map<String, Value>, at: &str) -> i32 {
    r.enum_member("service_response_timeframe", entry, "service_response_timeframe", at, false, |n| {
        Priority::from_str_name(n).map(|v| v as i32)
    })
}

/// How the hub's own service entries in a case posted back are known: the
/// case's `id` is the hub message id the hub gave it, and its entries' ids
/// are derived from it ([`entry_id`]); an earlier delivery carried
/// `hub_message_id` and entry ids `<hub_message_id>:<n>`.
struct Echo {
    ids: Vec<String>,
    legacy_prefix: Option<String>,
    /// Whether any subform entry is one the hub wrote: a case the hub
    /// delivered, which asks nothing by itself (a transfer or an alert
    /// posted back has no service entry of its own).
    delivered: bool,
}

impl Echo {
    fn of(r: &mut Reader<'_>, case: &Map<String, Value>) -> Self {
        let id = r.string(case, "id", "", false);
        let legacy = r.string(case, "hub_message_id", "", false);
        let written = |key: &str, subform: Subform| -> Vec<String> {
            let count = case.get(key).and_then(Value::as_array).map_or(0, Vec::len);
            if id.is_empty() { vec![] } else { (0..count).map(|n| entry_id(&id, subform, n)).collect() }
        };
        let ids = written("services_section", Subform::Services);
        let delivered = [
            ("notes_section", Subform::Notes),
            ("transitions", Subform::Transitions),
            ("family_details_section", Subform::Family),
            ("care_arrangements_section", Subform::Care),
        ]
        .into_iter()
        .any(|(key, subform)| {
            let own = written(key, subform);
            let entries = case.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            entries
                .iter()
                .any(|e| e.get("unique_id").and_then(Value::as_str).is_some_and(|u| own.iter().any(|o| o == u)))
        });
        Echo { ids, legacy_prefix: (!legacy.is_empty()).then(|| format!("{legacy}:")), delivered }
    }

    fn is_echo(&self, entry_id: &str) -> bool {
        self.ids.iter().any(|id| id == entry_id) || self.legacy_prefix.as_ref().is_some_and(|p| entry_id.starts_with(p))
    }
}

/// The services_section entries addressed to agencies, grouped by agency.
///
/// Loop rule: in a case the hub delivered and the receiver posts back (e.g.
/// to refer onward), the entries the hub wrote ([`Echo`]) are addressed to
/// the poster itself and were already delivered: they are skipped, never
/// turned into new referrals. Entries the agency added still are referrals.
/// An entry without a time frame takes the case's risk ([`default_priority`]).
fn groups(r: &mut Reader<'_>, case: &Map<String, Value>, echo: &Echo, risk: i32) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut echoes = 0;
    let entries = r.array(case, "services_section", "");
    for (at, entry) in &entries {
        let Some(entry) = r.object(entry, at) else { continue };
        let agency = r.string(entry, "service_implementing_agency", at, false);
        if agency.is_empty() {
            continue;
        }
        let request_id = r.string(entry, "unique_id", at, true);
        if echo.is_echo(&request_id) {
            echoes += 1;
            continue;
        }
        let service = r.code_member("service_type", entry, "service_type", at, true);
        let priority = match timeframe(r, entry, at) {
            0 => default_priority(risk),
            given => given,
        };
        let reason = r.string(entry, "service_referral_notes", at, false);
        let notes = r.string(entry, "service_notes", at, false);
        let index = match groups.iter().position(|g| g.agency == agency) {
            Some(i) => i,
            None => {
                let fresh = Group { agency, request_id, services: vec![], reasons: vec![], notes: vec![], priority };
                groups.push(fresh);
                groups.len() - 1
            }
        };
        let group = &mut groups[index];
        group.services.push(service);
        group.reasons.extend(Some(reason).filter(|s| !s.is_empty()));
        group.notes.extend(Some(notes).filter(|s| !s.is_empty()));
        // Entries to one agency with different time frames: the most urgent wins (EMERGENCY > URGENT > ROUTINE).
        group.priority = group.priority.max(priority);
    }
    if groups.is_empty() && echoes == 0 && !echo.delivered && entries.iter().all(|(_, e)| e.is_object()) {
        r.fail("services_section", "no entry names a service_implementing_agency to refer to");
    }
    groups
}
