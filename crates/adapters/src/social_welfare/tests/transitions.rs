//! Follow-ups through Primero's statuses and back, Primero's own routes
//! (PATCH with `{"data": {"status", …}}`, DELETE to revoke), and the hub's
//! other steps as case notes.

use referral_hub_domain::wire::{FollowUp, FollowUpAction, PostFollowUpRequest};
use serde_json::Value;

use super::adapter;
use crate::{Adapter, Inbound, Outbound, Route, social_welfare::transition};

const MESSAGE: &str = "0192f1a0-7c3e-7d10-8b2a-5e6f7a8b9c0d";

fn follow_up(action: FollowUpAction) -> FollowUp {
    FollowUp {
        id: "0192f1a0-0000-7000-8000-000000000009".into(),
        message_id: MESSAGE.into(),
        action: action as i32,
        reason: "the reason".into(),
        note: "the note".into(),
        outcome: "the outcome".into(),
        ..FollowUp::default()
    }
}

fn out(action: FollowUpAction) -> Value {
    let document = adapter().outbound(Outbound::FollowUp(&follow_up(action))).expect("every action maps");
    serde_json::from_slice(&document.body).expect("JSON")
}

fn request(status: &str, action: FollowUpAction) -> PostFollowUpRequest {
    PostFollowUpRequest {
        request_id: format!("{status}:{MESSAGE}"),
        message_id: MESSAGE.into(),
        action: action as i32,
        ..PostFollowUpRequest::default()
    }
}

#[test]
fn primero_s_five_statuses_go_out_and_come_back_with_what_primero_carries() {
    let back = |action| {
        let body = serde_json::to_vec(&out(action)).expect("JSON");
        adapter().inbound("/primero/v2/referrals", &body).expect("our own transition is valid")
    };
    let cases = [
        (FollowUpAction::Acknowledge, "in_progress", "", "the reason\n\nthe note\n\nthe outcome", ""),
        (FollowUpAction::Accept, "accepted", "", "the reason\n\nthe note\n\nthe outcome", ""),
        (FollowUpAction::Decline, "rejected", "the reason", "the note", ""),
        (FollowUpAction::Complete, "done", "", "the reason\n\nthe note", "the outcome"),
        (FollowUpAction::Withdraw, "revoked", transition::REVOKED, "the reason\n\nthe note\n\nthe outcome", ""),
    ];
    for (action, status, reason, note, outcome) in cases {
        assert_eq!(out(action)["data"]["status"], status);
        let expected = PostFollowUpRequest {
            reason: reason.into(),
            note: note.into(),
            outcome: outcome.into(),
            ..request(status, action)
        };
        assert_eq!(back(action), vec![Inbound::FollowUp(expected)], "{status}");
    }
    assert_eq!(out(FollowUpAction::Complete)["data"]["rejection_note"], "the outcome");
}

#[test]
fn the_hub_s_other_steps_go_out_as_a_note_on_the_case() {
    let note = out(FollowUpAction::StartService);
    let data = note["data"].as_object().expect("a case update");
    assert_eq!(data.keys().collect::<Vec<_>>(), ["id", "notes_section"]);
    assert_eq!(data["id"], MESSAGE);
    assert_eq!(data["notes_section"][0]["note_subject"], "Referral: service started");
    assert_eq!(data["notes_section"][0]["note_text"], "Reason: the reason\nNote: the note\nOutcome: the outcome");
}

#[test]
fn primero_s_patch_and_delete_are_follow_ups_on_the_referral_in_the_path() {
    let a = adapter();
    let patch = a.routes().iter().find(|r| r.path.ends_with("/referrals/{rid}") && r.method.as_str() == "PATCH");
    let patch: &Route = patch.expect("PATCH …/referrals/{rid}");
    let params = ["case-1".to_owned(), MESSAGE.to_owned()];
    // Primero's spec: {"data": {"status": "done", "rejection_note": …}}; done's note is the outcome.
    let body = br#"{"data": {"status": "done", "rejection_note": "Sample notes from provider"}}"#;
    let expected = PostFollowUpRequest {
        outcome: "Sample notes from provider".into(),
        ..request("done", FollowUpAction::Complete)
    };
    assert_eq!(a.inbound_route(patch, &params, body), Ok(vec![Inbound::FollowUp(expected)]));
    let done = a.inbound_route(patch, &params, br#"{"data": {"status": "done"}}"#).expect("valid");
    let [Inbound::FollowUp(done)] = &done[..] else { panic!("one follow-up") };
    assert_eq!(done.outcome, transition::DONE_WITHOUT_NOTE, "Primero's done needs no note");
    let accepted = a.inbound_route(patch, &params, br#"{"data": {"status": "accepted"}}"#).expect("valid");
    assert_eq!(accepted, vec![Inbound::FollowUp(request("accepted", FollowUpAction::Accept))]);
    // A plain date, as Primero's date field holds it, is that day's midnight UTC.
    let body = br#"{"data": {"status": "appointment_scheduled", "transition_id": "t-1", "service_appointment_date": "2026-12-10"}}"#;
    let scheduled = a.inbound_route(patch, &params, body).expect("a plain date is accepted");
    let [Inbound::FollowUp(scheduled)] = &scheduled[..] else { panic!("one follow-up") };
    assert_eq!(scheduled.appointment_at.map(|t| t.seconds), Some(1_796_860_800));
    let bad = a.inbound_route(
        patch,
        &params,
        br#"{"data": {"status": "note", "transition_id": "t", "service_appointment_date": "2026-13-40"}}"#,
    );
    assert_eq!(bad.unwrap_err()[0].element, "service_appointment_date");
    let delete = a.routes().iter().find(|r| r.method.as_str() == "DELETE").expect("DELETE …/referrals/{rid}");
    let revoked = a.inbound_route(delete, &params, b"").expect("DELETE has no body");
    let expected =
        PostFollowUpRequest { reason: transition::REVOKED.into(), ..request("revoked", FollowUpAction::Withdraw) };
    assert_eq!(revoked, vec![Inbound::FollowUp(expected)]);
}
