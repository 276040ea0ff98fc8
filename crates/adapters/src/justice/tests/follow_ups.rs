//! Generated follow-ups and the requests they read back as, for the round
//! trip of a follow-up through a case event.

use proptest::{option, prelude::*};
use referral_hub_domain::wire::{FollowUp, FollowUpAction, PostFollowUpRequest};

/// Follow-ups a party may post, with what their action requires.
pub(super) fn follow_up() -> impl Strategy<Value = FollowUp> {
    let actions: Vec<FollowUpAction> = (1..=10).filter_map(|n| FollowUpAction::try_from(n).ok()).collect();
    (
        prop::sample::select(actions),
        ("[0-9a-f-]{36}", "[0-9a-f-]{36}", "\\PC{1,30}", "\\PC{1,30}", "\\PC{1,30}"),
        (option::of((0i64..4_000_000_000, 0i32..1_000_000_000)), "(20[0-9]{2}-0[1-9]-1[0-9])?", any::<bool>()),
    )
        .prop_map(|(action, (id, message_id, reason, note, outcome), (at, next_review_date, shared))| FollowUp {
            id,
            message_id,
            author_org_id: "court-ygn".into(),
            action: action as i32,
            reason,
            note,
            outcome,
            // An appointment needs its date (the hub and JUSTICE's inbound require it).
            appointment_at: at
                .or((action == FollowUpAction::ScheduleAppointment).then_some((1_796_266_800, 0)))
                .map(|(seconds, nanos)| prost_types::Timestamp { seconds, nanos }),
            next_review_date,
            shared_with_sender: shared,
            ..FollowUp::default()
        })
}

/// The request a follow-up reads back as.
pub(super) fn expected(f: &FollowUp) -> PostFollowUpRequest {
    PostFollowUpRequest {
        request_id: f.id.clone(),
        message_id: f.message_id.clone(),
        action: f.action,
        reason: f.reason.clone(),
        note: f.note.clone(),
        outcome: f.outcome.clone(),
        appointment_at: f.appointment_at,
        next_review_date: f.next_review_date.clone(),
        share_with_sender: f.shared_with_sender,
    }
}
