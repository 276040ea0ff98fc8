//! Case transfers to justice: the handling block is required, checked and
//! completed by the hub, a court clerk reads it first, and once the court
//! accepts, the case is the court's: the sender sees only what it shares back.

use prost::Message as _;
use referral_hub_domain::{ids::OrgId, sample, wire::submit_message_request::Payload};
use referral_hub_e2e::{
    Backend, COURT_ORG, HEALTH_ORG, TestHub, bad_fields, follow_up, next_entry, precondition, submitted,
};
use referral_hub_proto::v1::{
    DataCategory, FollowUpAction as A, GetMessageRequest, MessageKind, MessageStatus as S, StreamInboxRequest,
    inbox_entry::Item, message::Payload as Shown,
};

async fn a_court_accepts_a_transfer_and_the_case_becomes_its_own(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer", "receiver"]).await;
    let mut court = hub.messages(COURT_ORG, &["receiver"]).await;
    let mut court_inbox = court.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();
    let mut health_inbox = health.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();

    let sent = submitted(&mut health, sample::submit_transfer("transfer-1", COURT_ORG)).await;
    assert_eq!((sent.kind(), sent.owner_org_id.as_str()), (MessageKind::CaseTransfer, HEALTH_ORG));

    // The clerk's system gets the handling block, completed by the hub, as the payload's first field.
    let Some(Item::Message(received)) = next_entry(&mut court_inbox).await.item else { panic!("a message") };
    let Some(Shown::CaseTransfer(transfer)) = received.payload else { panic!("a case transfer") };
    assert_eq!(transfer.encode_to_vec()[0], 1 << 3 | 2, "field 1, the justice block, comes first on the wire");
    let justice = transfer.justice.clone().expect("LEGAL is the court's to see");
    assert!(justice.below_minimum_age_of_criminal_responsibility, "9 at the events, under the default 14");
    assert!(justice.do_not_reinterview);
    assert_eq!(justice.medical_examination_reference, "YGH-FORENSIC-2026-0311");
    assert_eq!(transfer.child.unwrap().disability, "", "no HEALTH details for JUSTICE");
    assert!(received.withheld_categories.contains(&(DataCategory::Health as i32)));

    // Acceptance moves the case; the sender hears of it.
    for (i, action) in [A::Acknowledge, A::Accept].into_iter().enumerate() {
        court.post_follow_up(follow_up(&sent.id, action, &format!("court-{i}"))).await.unwrap();
        let Some(Item::FollowUp(seen)) = next_entry(&mut health_inbox).await.item else { panic!("a follow-up") };
        assert_eq!(seen.action(), action);
    }
    let get = || GetMessageRequest { message_id: sent.id.clone() };
    let owned = court.get_message(get()).await.unwrap().into_inner().message.unwrap();
    assert_eq!((owned.status(), owned.owner_org_id.as_str()), (S::Accepted, COURT_ORG));

    // Later follow-ups stay with the court unless it shares them back.
    court.post_follow_up(follow_up(&sent.id, A::StartService, "court-start")).await.unwrap();
    let mut shared = follow_up(&sent.id, A::Note, "court-note");
    shared.share_with_sender = true;
    court.post_follow_up(shared).await.unwrap();
    court.post_follow_up(follow_up(&sent.id, A::Complete, "court-complete")).await.unwrap();
    let entry = next_entry(&mut health_inbox).await;
    assert_eq!(entry.position, 3, "the unshared START_SERVICE never reached the sender");
    let Some(Item::FollowUp(note)) = entry.item else { panic!("the shared note") };
    assert!(note.shared_with_sender && note.action() == A::Note);

    let sender_view = health.get_message(get()).await.unwrap().into_inner();
    let actions: Vec<_> = sender_view.follow_ups.iter().map(|f| f.action()).collect();
    assert_eq!(actions, vec![A::Acknowledge, A::Accept, A::Note]);
    assert_eq!(sender_view.message.unwrap().status(), S::InProgress, "as of the last shared follow-up");
    let court_view = court.get_message(get()).await.unwrap().into_inner();
    assert_eq!(court_view.follow_ups.len(), 5);
    assert_eq!(court_view.message.unwrap().status(), S::Completed);

    // The sender can no longer move the case; the court closes it.
    let refused = health.post_follow_up(follow_up(&sent.id, A::Withdraw, "h-withdraw")).await.unwrap_err();
    assert_eq!(precondition(&refused)[0].0, "ILLEGAL_TRANSITION");
    assert!(refused.message().contains("transferred"), "{}", refused.message());
    let mut sharing = follow_up(&sent.id, A::Note, "h-share");
    sharing.share_with_sender = true;
    assert_eq!(bad_fields(&health.post_follow_up(sharing).await.unwrap_err()), vec!["share_with_sender"]);
    health.post_follow_up(follow_up(&sent.id, A::Note, "h-note")).await.expect("notes are still welcome");
    let closed = court.post_follow_up(follow_up(&sent.id, A::Close, "court-close")).await.unwrap().into_inner();
    assert_eq!(closed.message.unwrap().status(), S::Closed);
}

async fn a_transfer_to_justice_without_the_handling_block_is_refused(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let mut request = sample::submit_transfer("no-block", COURT_ORG);
    let Some(Payload::CaseTransfer(transfer)) = request.payload.as_mut() else { unreachable!() };
    transfer.justice = None;
    let refused = health.submit_message(request.clone()).await.unwrap_err();
    assert_eq!(bad_fields(&refused), vec!["case_transfer.justice"]);
    let Some(Payload::CaseTransfer(transfer)) = request.payload.as_mut() else { unreachable!() };
    transfer.justice = sample::transfer().justice;
    transfer.justice.as_mut().unwrap().below_minimum_age_of_criminal_responsibility = true;
    let refused = health.submit_message(request).await.unwrap_err();
    assert_eq!(bad_fields(&refused), vec!["case_transfer.justice.below_minimum_age_of_criminal_responsibility"]);
    assert!(
        hub.db.store.message_by_request(&OrgId::new(HEALTH_ORG), &"no-block".into()).await.unwrap().is_none(),
        "nothing stored"
    );
}

referral_hub_e2e::on_both_backends!(
    a_court_accepts_a_transfer_and_the_case_becomes_its_own,
    a_transfer_to_justice_without_the_handling_block_is_refused,
);
