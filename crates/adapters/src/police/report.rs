//! The incident notification (module doc of `police`) -> a SubmitMessage request.

use referral_hub_domain::wire::{
    Attachment, LegalBasisClaim, Location, ServiceReferral, SubmitMessageRequest, submit_message_request::Payload,
};

use super::incident;
use crate::CodeMap;
use crate::json_document::fields::{Object, Problems};
use crate::json_document::person::{read_caregiver, read_child};

/// Top-level elements of an incident notification.
const ELEMENTS: [&str; 18] = [
    "request_id",
    "recipient_org_id",
    "consent_id",
    "legal_basis",
    "incident",
    "child",
    "current_location",
    "caregiver",
    "concern_codes",
    "risk",
    "priority",
    "requested_services",
    "narrative",
    "safety_concerns",
    "child_informed",
    "child_views",
    "notes",
    "attachments",
];

/// The hub's field paths -> this document's elements, for `native_element`.
pub(super) const ELEMENT_TABLE: &[(&str, &str)] = &[
    ("request_id", "/request_id"),
    ("recipient_org_id", "/recipient_org_id"),
    ("consent_id", "/consent_id"),
    ("legal_basis", "/legal_basis"),
    ("child", "/child"),
    ("referral.child", "/child"),
    ("referral.child.estimated_age_years", "/child/age"),
    ("referral.protection_concerns", "/concern_codes"),
    ("referral.risk_level", "/risk"),
    ("referral.requested_services", "/requested_services"),
    ("referral.reason", "/narrative"),
    ("referral.priority", "/priority"),
    ("referral.caregiver", "/caregiver"),
    ("referral.current_location", "/current_location"),
    ("referral.safety_concerns", "/safety_concerns"),
    ("referral.child_informed", "/child_informed"),
    ("referral.child_views", "/child_views"),
    ("referral.notes", "/notes"),
    ("referral.attachments", "/attachments"),
];

/// An incident notification -> a SubmitMessage request, or `None` with the problems recorded.
pub(super) fn inbound(root: &Object<'_>, codes: &CodeMap, problems: &mut Problems) -> Option<SubmitMessageRequest> {
    root.only(&ELEMENTS, problems);
    let request_id = root.required("request_id", problems);
    let recipient_org_id = root.required("recipient_org_id", problems);
    let consent_id = root.text("consent_id", problems);
    let legal_basis = root.object("legal_basis", problems).map(|claim| {
        claim.only(&["basis", "justification"], problems);
        if !claim.has("basis") {
            problems.add(claim.pointer("basis"), "required");
        }
        LegalBasisClaim {
            basis: claim.code("basis", codes, "legal_basis", problems),
            justification: claim.text("justification", problems),
        }
    });
    if !root.has("child") {
        problems.add(root.pointer("child"), "required");
    }
    let (child, details) = match root.object("child", problems) {
        Some(child) => {
            let (reference, details) = read_child(&child, &[], codes, problems);
            (Some(reference), Some(details))
        }
        None => (None, None),
    };
    let referral = ServiceReferral {
        protection_concerns: root.codes("concern_codes", codes, "concerns", problems),
        risk_level: root.risk(codes, problems),
        requested_services: root.codes("requested_services", codes, "services", problems),
        reason: root.text("narrative", problems),
        priority: root.priority(codes, problems),
        child: details,
        caregiver: root.object("caregiver", problems).map(|c| read_caregiver(&c, codes, problems)),
        current_location: root.object("current_location", problems).map(|l| location(&l, problems)),
        safety_concerns: root.text("safety_concerns", problems),
        child_informed: root.flag("child_informed", problems),
        child_views: root.text("child_views", problems),
        notes: incident::to_notes(
            root.object("incident", problems).as_ref(),
            &root.text("notes", problems),
            codes,
            problems,
        ),
        attachments: root.objects("attachments", problems).iter().map(|a| attachment(a, problems)).collect(),
    };
    problems.is_empty().then(|| SubmitMessageRequest {
        request_id,
        recipient_org_id,
        child,
        consent_id,
        legal_basis,
        payload: Some(Payload::Referral(referral)),
        ..SubmitMessageRequest::default()
    })
}

fn location(object: &Object<'_>, problems: &mut Problems) -> Location {
    object.only(&["area_code", "description"], problems);
    Location { area_code: object.text("area_code", problems), description: object.text("description", problems) }
}

fn attachment(object: &Object<'_>, problems: &mut Problems) -> Attachment {
    object.only(&["uri", "media_type", "size_bytes", "description"], problems);
    Attachment {
        uri: object.text("uri", problems),
        media_type: object.text("media_type", problems),
        size_bytes: object.number("size_bytes", u64::MAX, problems).unwrap_or_default(),
        description: object.text("description", problems),
    }
}
