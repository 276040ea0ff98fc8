//! Bad input over gRPC: `INVALID_ARGUMENT` naming every bad field, and nothing stored.

use referral_hub_domain::{ids::OrgId, sample, wire::submit_message_request::Payload};
use referral_hub_e2e::{Backend, HEALTH_ORG, SOCIAL_WELFARE_ORG, TestHub, bad_fields};
use referral_hub_proto::v1::{
    ListMessagesRequest, Mailbox, OrganisationStatus, PostFollowUpRequest, StreamInboxRequest,
};

async fn every_bad_field_is_named_and_nothing_is_stored(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let mut request = sample::submit("bad-1", "no-such-org");
    let Some(Payload::Referral(referral)) = request.payload.as_mut() else { unreachable!() };
    referral.protection_concerns = vec!["aliens".into()];
    referral.child.as_mut().unwrap().date_of_birth = "2001-01-01".into();
    referral.caregiver.as_mut().unwrap().exclusion = 0;
    let status = health.submit_message(request).await.unwrap_err();
    assert_eq!(
        bad_fields(&status),
        vec![
            "referral.protection_concerns[0]",
            "referral.child.date_of_birth",
            "referral.caregiver.exclusion",
            "recipient_org_id",
        ]
    );
    use tonic_types::StatusExt;
    let details = status.get_details_bad_request().unwrap();
    assert!(details.field_violations[0].description.contains("allowed: physical_violence, sexual_violence"));
    assert_eq!(details.field_violations[3].description, "no organisation with this id in the directory");

    let sent = health
        .list_messages(ListMessagesRequest { mailbox: Mailbox::Sent as i32, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert!(sent.messages.is_empty(), "a refused message must leave nothing behind");
    assert_eq!(hub.db.store.inbox_after(&OrgId::new("no-such-org"), 0, 10).await.unwrap(), vec![]);
}

async fn recipient_must_be_another_active_organisation(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let own = health.submit_message(sample::submit("self", HEALTH_ORG)).await.unwrap_err();
    assert_eq!(bad_fields(&own), vec!["recipient_org_id"]);

    let mut welfare_org = hub.db.store.organisation(&OrgId::new(SOCIAL_WELFARE_ORG)).await.unwrap().unwrap();
    welfare_org.status = OrganisationStatus::Suspended as i32;
    hub.db.store.upsert_organisation(&welfare_org).await.unwrap();
    let suspended = health.submit_message(sample::submit("s", SOCIAL_WELFARE_ORG)).await.unwrap_err();
    assert_eq!(bad_fields(&suspended), vec!["recipient_org_id"]);
}

async fn follow_up_and_list_inputs_are_checked(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["receiver", "referrer"]).await;
    let status = welfare.post_follow_up(PostFollowUpRequest::default()).await.unwrap_err();
    assert_eq!(bad_fields(&status), vec!["request_id", "message_id", "action"]);
    let status = welfare.list_messages(ListMessagesRequest::default()).await.unwrap_err();
    assert_eq!(bad_fields(&status), vec!["mailbox"]);
    let status = welfare
        .list_messages(ListMessagesRequest {
            mailbox: Mailbox::Received as i32,
            statuses: vec![99],
            page_token: "not-a-token".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&status), vec!["statuses[0]", "page_token"]);
    // A stream request has nothing to get wrong but is still served.
    welfare.stream_inbox(StreamInboxRequest::default()).await.unwrap();
}

referral_hub_e2e::on_both_backends!(
    every_bad_field_is_named_and_nothing_is_stored,
    recipient_must_be_another_active_organisation,
    follow_up_and_list_inputs_are_checked,
);
