//! Deadlines: a referral nobody acts on is flagged once per missed deadline,
//! the sender and the area's lead agency are told, and the lead agency's
//! supervisor sees it on the overdue list. Time moves by the hub's clock.

use referral_hub_domain::{ids::MessageId, sample, wire::submit_message_request::Payload};
use referral_hub_e2e::{
    Backend, HEALTH_ORG, OVERSIGHT_ORG, POLICE_ORG, SOCIAL_WELFARE_ORG, TestHub, follow_up, next_entry, submitted,
};
use referral_hub_proto::v1::{
    FollowUpAction as A, GetMessageRequest, ListAuditEntriesRequest, ListOverdueRequest, MessageStatus,
    RerouteMessageRequest, RiskLevel, StreamInboxRequest, inbox_entry::Item,
};

const SCHOOL_ORG: &str = "demo-school-hlaing";
const COMMUNITY_ORG: &str = "demo-community-hlaing";

async fn an_unanswered_high_referral_is_escalated_once_per_deadline(backend: Backend) {
    let hub = TestHub::start(backend).await;
    // On PostgreSQL a second replica scans the same database at the same moments.
    let replica = if backend == Backend::Postgres { Some(hub.replica().await) } else { None };
    let scan = || async {
        match &replica {
            Some(replica) => {
                tokio::join!(hub.scheduler.scan_now(), replica.scheduler.scan_now());
            }
            None => hub.scheduler.scan_now().await,
        }
    };
    let mut health = hub.messages(HEALTH_ORG, &["referrer", "receiver"]).await;
    let mut request = sample::submit("urgent", SCHOOL_ORG);
    let Some(Payload::Referral(referral)) = request.payload.as_mut() else { unreachable!() };
    referral.risk_level = RiskLevel::High as i32;
    let sent = submitted(&mut health, request).await;
    let mut health_inbox = health.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["receiver", "supervisor"]).await;
    let mut lead_inbox = welfare.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();

    hub.clock.advance(time::Duration::minutes(59));
    scan().await;
    assert!(hub.db.store.follow_ups(&MessageId::new(&sent.id)).await.unwrap().is_empty(), "not due before the hour");

    hub.clock.advance(time::Duration::minutes(2));
    scan().await;
    scan().await;
    let notices = hub.db.store.follow_ups(&MessageId::new(&sent.id)).await.unwrap();
    assert_eq!(notices.len(), 1, "exactly one notice, however many scans and replicas");
    for inbox in [&mut health_inbox, &mut lead_inbox] {
        let Some(Item::FollowUp(notice)) = next_entry(inbox).await.item else { panic!("an overdue notice") };
        assert_eq!((notice.action(), notice.message_id.as_str()), (A::Overdue, sent.id.as_str()));
        assert!(notice.note.contains("did not acknowledge"), "{}", notice.note);
    }

    let overdue = welfare.list_overdue(ListOverdueRequest::default()).await.unwrap().into_inner().messages;
    assert_eq!(overdue.len(), 1);
    assert_eq!((overdue[0].deadline.as_str(), overdue[0].area.as_str()), ("ACKNOWLEDGE", "MM/YGN/Hlaing"));
    assert_eq!(overdue[0].recipient_org_id, SCHOOL_ORG);
    let mut other_supervisor = hub.messages(POLICE_ORG, &["supervisor"]).await;
    let none = other_supervisor.list_overdue(ListOverdueRequest::default()).await.unwrap().into_inner();
    assert!(none.messages.is_empty(), "the police lead no area");

    // Acknowledged late: off the list, and the next deadline (accept or decline within a day) runs.
    let mut school = hub.messages(SCHOOL_ORG, &["receiver"]).await;
    school.post_follow_up(follow_up(&sent.id, A::Acknowledge, "ack")).await.unwrap();
    assert!(welfare.list_overdue(ListOverdueRequest::default()).await.unwrap().into_inner().messages.is_empty());
    hub.clock.advance(time::Duration::hours(22)); // 23 h after submission: the day is not over
    scan().await;
    assert_eq!(hub.db.store.follow_ups(&MessageId::new(&sent.id)).await.unwrap().len(), 2, "the acknowledgement only");
    hub.clock.advance(time::Duration::hours(1));
    scan().await;
    let all = hub.db.store.follow_ups(&MessageId::new(&sent.id)).await.unwrap();
    assert_eq!(all.iter().map(|f| f.action).collect::<Vec<_>>(), vec![A::Overdue, A::Acknowledge, A::Overdue]);

    let mut auditor = hub.audit(OVERSIGHT_ORG, &["auditor", "oversight"]).await;
    let filter = ListAuditEntriesRequest { action: "OVERDUE_FLAGGED".into(), ..Default::default() };
    let flagged = auditor.list_audit_entries(filter).await.unwrap().into_inner().entries;
    assert_eq!(flagged.len(), 2);
    assert!(
        flagged[0].detail.contains(r#""deadline":"ACKNOWLEDGE""#) && flagged[0].detail.contains(SOCIAL_WELFARE_ORG)
    );
    assert!(hub.db.store.verify_audit(1, None).await.unwrap().is_ok());
}

async fn the_lead_agency_reroutes_an_overdue_referral(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer", "receiver"]).await;
    let sent = submitted(&mut health, sample::submit("slow", SCHOOL_ORG)).await;
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["supervisor"]).await;
    let reroute = |message_id: &str| RerouteMessageRequest {
        message_id: message_id.into(),
        new_recipient_org_id: COMMUNITY_ORG.into(),
        reason: "The school has not responded; the community group can act today.".into(),
    };
    let early = welfare.reroute_message(reroute(&sent.id)).await.unwrap_err();
    assert_eq!(early.code(), tonic::Code::NotFound, "only overdue messages are re-routed");

    hub.clock.advance(time::Duration::days(2)); // MEDIUM: acknowledge within a day
    hub.scheduler.scan_now().await;
    let mut police = hub.messages(POLICE_ORG, &["supervisor"]).await;
    let not_lead = police.reroute_message(reroute(&sent.id)).await.unwrap_err();
    assert_eq!(not_lead.code(), tonic::Code::NotFound, "only the area's lead agency");

    let moved = welfare.reroute_message(reroute(&sent.id)).await.unwrap().into_inner();
    assert_eq!(moved.new_recipient_org_id, COMMUNITY_ORG);
    let get = |id: &str| GetMessageRequest { message_id: id.into() };
    let old = health.get_message(get(&sent.id)).await.unwrap().into_inner();
    assert_eq!(old.message.unwrap().status(), MessageStatus::Withdrawn);
    let withdrawal = old.follow_ups.iter().find(|f| f.action() == A::Withdraw).unwrap();
    assert_eq!(withdrawal.author_org_id, SOCIAL_WELFARE_ORG);
    let new = health.get_message(get(&moved.new_message_id)).await.unwrap().into_inner().message.unwrap();
    assert_eq!((new.rerouted_from_id.as_str(), new.sender_org_id.as_str()), (sent.id.as_str(), HEALTH_ORG));
    assert_eq!(new.payload, sent.payload, "the same referral");

    // The new receiver gets it on its stream; the old one hears of the withdrawal.
    let mut community = hub.messages(COMMUNITY_ORG, &["receiver"]).await;
    let mut inbox = community.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();
    let Some(Item::Message(delivered)) = next_entry(&mut inbox).await.item else { panic!("a message") };
    assert_eq!(delivered.id, moved.new_message_id);
    let mut school = hub.messages(SCHOOL_ORG, &["receiver"]).await;
    let mut inbox = school.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();
    next_entry(&mut inbox).await;
    let Some(Item::FollowUp(notice)) = next_entry(&mut inbox).await.item else { panic!("the withdrawal") };
    assert_eq!((notice.action(), notice.reason.as_str()), (A::Withdraw, reroute("").reason.as_str()));

    let again = welfare.reroute_message(reroute(&sent.id)).await.unwrap_err();
    assert_eq!(again.code(), tonic::Code::NotFound, "a withdrawn message is no longer overdue");
    assert!(welfare.list_overdue(ListOverdueRequest::default()).await.unwrap().into_inner().messages.is_empty());
}

/// A stock system (BSeR, Primero) accepts without acknowledging first: the
/// ACCEPT is an implied acknowledgement, stamped and audited as one, and
/// neither deadline is missed afterwards.
async fn accepting_straight_after_delivery_acknowledges_too(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let mut request = sample::submit("straight", SCHOOL_ORG);
    let Some(Payload::Referral(referral)) = request.payload.as_mut() else { unreachable!() };
    referral.risk_level = RiskLevel::High as i32;
    let sent = submitted(&mut health, request).await;
    hub.clock.advance(time::Duration::minutes(10));

    let mut school = hub.messages(SCHOOL_ORG, &["receiver"]).await;
    let accepted = school.post_follow_up(follow_up(&sent.id, A::Accept, "accept")).await.unwrap().into_inner();
    assert_eq!(accepted.message.unwrap().status(), MessageStatus::Accepted);
    let stored = hub.db.store.message(&MessageId::new(&sent.id)).await.unwrap().unwrap();
    assert_eq!(stored.acknowledged_at, stored.accepted_at, "acknowledged at the moment of acceptance");
    assert!(stored.acknowledged_at.is_some());

    hub.clock.advance(time::Duration::days(2)); // past both the hour and the day
    hub.scheduler.scan_now().await;
    let follow_ups = hub.db.store.follow_ups(&MessageId::new(&sent.id)).await.unwrap();
    assert_eq!(follow_ups.iter().map(|f| f.action).collect::<Vec<_>>(), vec![A::Accept], "no overdue notice");

    let mut auditor = hub.audit(OVERSIGHT_ORG, &["auditor", "oversight"]).await;
    let filter = ListAuditEntriesRequest { action: "FOLLOW_UP_POSTED".into(), ..Default::default() };
    let posted = auditor.list_audit_entries(filter).await.unwrap().into_inner().entries;
    let detail: serde_json::Value = serde_json::from_str(&posted.last().unwrap().detail).unwrap();
    assert_eq!(detail["implied_acknowledgement"], true, "{detail}");
    assert_eq!(
        (detail["from"].as_str(), detail["to"].as_str()),
        (Some("MESSAGE_STATUS_SUBMITTED"), Some("MESSAGE_STATUS_ACCEPTED"))
    );
}

referral_hub_e2e::on_both_backends!(
    an_unanswered_high_referral_is_escalated_once_per_deadline,
    the_lead_agency_reroutes_an_overdue_referral,
    accepting_straight_after_delivery_acknowledges_too,
);
