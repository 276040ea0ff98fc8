//! What the hub reads from a payload, whatever its kind: the kind itself, the
//! risk level, the child's details, where the child is, and the concerns. One
//! place knows how each payload spells these, so submit, deadlines, routing and
//! statistics never match on payload kinds themselves.

use crate::wire::{
    ChildDetails, Location, MessageKind, RiskLevel, message, submit_message_request::Payload as SubmitPayload,
};

/// The routing facts of a payload.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// Which kind of message carries it.
    pub kind: MessageKind,
    /// Its risk level (UNSPECIFIED when missing; validation refuses that).
    pub risk: RiskLevel,
    /// The child's details, when given.
    pub child: Option<&'a ChildDetails>,
    /// Where the child is (for alerts: where found), an area code path or empty.
    pub area: &'a str,
    /// Protection concern codes (an alert's concern is separation itself: none listed).
    pub concerns: &'a [String],
}

/// The facts of a stored or submitted payload.
pub fn facts(payload: &message::Payload) -> Facts<'_> {
    let risk = |value: i32| RiskLevel::try_from(value).unwrap_or(RiskLevel::Unspecified);
    match payload {
        message::Payload::Referral(r) => Facts {
            kind: MessageKind::ServiceReferral,
            risk: risk(r.risk_level),
            child: r.child.as_ref(),
            area: area(&r.current_location),
            concerns: &r.protection_concerns,
        },
        message::Payload::CaseTransfer(t) => Facts {
            kind: MessageKind::CaseTransfer,
            risk: risk(t.risk_level),
            child: t.child.as_ref(),
            area: area(&t.current_location),
            concerns: &t.protection_concerns,
        },
        message::Payload::SeparatedChildAlert(a) => Facts {
            kind: MessageKind::SeparatedChildAlert,
            risk: risk(a.risk_level),
            child: a.child.as_ref(),
            area: area(&a.found_at),
            concerns: &[],
        },
    }
}

fn area(location: &Option<Location>) -> &str {
    location.as_ref().map(|l| l.area_code.as_str()).unwrap_or_default()
}

/// A submitted payload as messages carry it (the two oneofs hold the same types).
pub fn from_submit(payload: SubmitPayload) -> message::Payload {
    match payload {
        SubmitPayload::Referral(r) => message::Payload::Referral(r),
        SubmitPayload::CaseTransfer(t) => message::Payload::CaseTransfer(t),
        SubmitPayload::SeparatedChildAlert(a) => message::Payload::SeparatedChildAlert(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample;

    #[test]
    fn facts_come_from_each_kind_s_own_fields() {
        let referral = from_submit(SubmitPayload::Referral(sample::referral()));
        let f = facts(&referral);
        assert_eq!((f.kind, f.risk, f.area), (MessageKind::ServiceReferral, RiskLevel::Medium, "MM/YGN/Hlaing"));
        assert_eq!(f.concerns.len(), 2);
        let transfer = message::Payload::CaseTransfer(sample::transfer());
        let f = facts(&transfer);
        assert_eq!((f.kind, f.risk), (MessageKind::CaseTransfer, RiskLevel::High));
        assert_eq!(f.child.map(|c| c.sex.as_str()), Some("female"));
        let alert = message::Payload::SeparatedChildAlert(sample::alert());
        let f = facts(&alert);
        assert_eq!((f.kind, f.area), (MessageKind::SeparatedChildAlert, "MM/YGN/Hlaing/Ward4"));
        assert!(f.concerns.is_empty());
    }
}
