//! The JSON concern report (module doc of `education`) -> a SubmitMessage
//! request. The CSV batch builds the same JSON shape per row and comes here,
//! so both paths translate one way.

use referral_hub_domain::wire::{ServiceReferral, SubmitMessageRequest, submit_message_request::Payload};

use crate::CodeMap;
use crate::json_document::fields::{Object, Problems};
use crate::json_document::notes;
use crate::json_document::person::{read_caregiver, read_child};

/// Top-level elements of a concern report.
const ELEMENTS: [&str; 13] = [
    "request_id",
    "recipient_org_id",
    "consent_id",
    "school_id",
    "pupil",
    "attendance",
    "observed_signs",
    "concern_codes",
    "risk",
    "priority",
    "requested_services",
    "caregiver",
    "notes",
];

/// Title of the notes block that carries the school's own fields.
pub(super) const NOTES_TITLE: &str = "School concern report";

/// The hub's field paths -> this document's elements, for `native_element`.
pub(super) const ELEMENT_TABLE: &[(&str, &str)] = &[
    ("request_id", "/request_id"),
    ("recipient_org_id", "/recipient_org_id"),
    ("consent_id", "/consent_id"),
    ("child", "/pupil"),
    ("referral.child", "/pupil"),
    ("referral.child.estimated_age_years", "/pupil/age"),
    ("referral.protection_concerns", "/concern_codes"),
    ("referral.risk_level", "/risk"),
    ("referral.requested_services", "/requested_services"),
    ("referral.reason", "/observed_signs"),
    ("referral.priority", "/priority"),
    ("referral.caregiver", "/caregiver"),
    ("referral.notes", "/notes"),
];

/// A concern report -> a SubmitMessage request, or `None` with the problems recorded.
pub(super) fn inbound(root: &Object<'_>, codes: &CodeMap, problems: &mut Problems) -> Option<SubmitMessageRequest> {
    root.only(&ELEMENTS, problems);
    let request_id = root.required("request_id", problems);
    let recipient_org_id = root.required("recipient_org_id", problems);
    let consent_id = root.text("consent_id", problems);
    let pupil = root.object("pupil", problems);
    if !root.has("pupil") {
        problems.add(root.pointer("pupil"), "required");
    }
    let (child, details, grade) = match &pupil {
        Some(pupil) => {
            let (child, details) = read_child(pupil, &["grade"], codes, problems);
            (Some(child), Some(details), pupil.text("grade", problems))
        }
        None => (None, None, String::new()),
    };
    let school_values = [
        ("school_id", root.text("school_id", problems)),
        ("grade", grade),
        ("attendance", root.text("attendance", problems)),
    ];
    let referral = ServiceReferral {
        protection_concerns: root.codes("concern_codes", codes, "concerns", problems),
        risk_level: root.risk(codes, problems),
        requested_services: root.codes("requested_services", codes, "services", problems),
        reason: root.text("observed_signs", problems),
        priority: root.priority(codes, problems),
        child: details,
        caregiver: root.object("caregiver", problems).map(|c| read_caregiver(&c, codes, problems)),
        notes: notes::compose(NOTES_TITLE, &school_values, &root.text("notes", problems)),
        ..ServiceReferral::default()
    };
    problems.is_empty().then(|| SubmitMessageRequest {
        request_id,
        recipient_org_id,
        child,
        consent_id,
        payload: Some(Payload::Referral(referral)),
        ..SubmitMessageRequest::default()
    })
}
