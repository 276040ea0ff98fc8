//! Separated-child alerts: the sender names no receiver; the hub finds the
//! family-tracing service of the social welfare lead agency for the area where
//! the child was found, walking up the area path, and keeps an alert it cannot
//! route for an admin instead of dropping it.

use referral_hub_domain::{sample, wire::submit_message_request::Payload};
use referral_hub_e2e::{
    Backend, HEALTH_ORG, OPERATOR_ORG, OVERSIGHT_ORG, SOCIAL_WELFARE_ORG, TestHub, next_entry, precondition, submitted,
};
use referral_hub_proto::v1::{
    DeliveryChannel, ListAuditEntriesRequest, ListUnroutedAlertsRequest, MessageKind, Organisation, OrganisationStatus,
    RiskLevel, RouteAlertRequest, Sector, StreamInboxRequest, SubmitMessageRequest, inbox_entry::Item,
    message::Payload as Shown,
};

/// A social welfare office leading `area`, with or without family tracing.
fn welfare_office(id: &str, area: &str, tracing: bool) -> Organisation {
    let services =
        if tracing { vec!["family_tracing".into(), "case_management".into()] } else { vec!["shelter".into()] };
    Organisation {
        id: id.into(),
        name: format!("Social welfare office {id}"),
        sector: Sector::SocialWelfare as i32,
        areas: vec![area.into()],
        services,
        lead_agency_areas: vec![area.into()],
        channel: DeliveryChannel::Pull as i32,
        status: OrganisationStatus::Active as i32,
        push_endpoint: String::new(),
        client_certificate_sha256: String::new(),
    }
}

fn alert_found_in(request_id: &str, area: &str) -> SubmitMessageRequest {
    let mut request = sample::submit_alert(request_id);
    let Some(Payload::SeparatedChildAlert(alert)) = request.payload.as_mut() else { unreachable!() };
    alert.found_at.as_mut().unwrap().area_code = area.into();
    alert.risk_level = RiskLevel::Low as i32;
    request
}

async fn an_alert_reaches_the_nearest_lead_agency_with_family_tracing(backend: Backend) {
    let hub = TestHub::start(backend).await;
    // Hlaing township has its own lead agency; Insein's leads but does no tracing.
    hub.db.store.upsert_organisation(&welfare_office("dsw-hlaing", "MM/YGN/Hlaing", true)).await.unwrap();
    hub.db.store.upsert_organisation(&welfare_office("dsw-insein", "MM/YGN/Insein", false)).await.unwrap();
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;

    // Nested: found in a ward of Hlaing, routed to Hlaing's office.
    let nested = submitted(&mut health, alert_found_in("alert-ward", "MM/YGN/Hlaing/Ward4")).await;
    assert_eq!((nested.kind(), nested.recipient_org_id.as_str()), (MessageKind::SeparatedChildAlert, "dsw-hlaing"));
    let deadline = nested.acknowledge_by.unwrap().seconds - nested.created_at.unwrap().seconds;
    assert_eq!(deadline, 3600, "HIGH deadlines for every alert, whatever its risk level");

    // No direct lead with tracing: walks up to Yangon region's lead agency.
    let walked = submitted(&mut health, alert_found_in("alert-insein", "MM/YGN/Insein/Ward2")).await;
    assert_eq!(walked.recipient_org_id, SOCIAL_WELFARE_ORG);

    let mut hlaing = hub.messages("dsw-hlaing", &["receiver"]).await;
    let mut inbox = hlaing.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();
    let Some(Item::Message(received)) = next_entry(&mut inbox).await.item else { panic!("the alert") };
    assert_eq!(received.id, nested.id);
    let Some(Shown::SeparatedChildAlert(alert)) = received.payload else { panic!("an alert payload") };
    assert_eq!(alert.family_members[0].name, "Daw Khin", "social welfare sees FAMILY");
    assert_eq!(alert.nicknames, vec!["Lay Lay".to_owned()]);
}

async fn an_alert_no_lead_agency_covers_is_kept_for_the_operator(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let request = alert_found_in("alert-abroad", "TH/BKK/Bang_Rak");

    let refused = health.submit_message(request.clone()).await.unwrap_err();
    let (kind, description) = precondition(&refused).remove(0);
    assert_eq!(kind, "NO_LEAD_AGENCY");
    let retried = health.submit_message(request.clone()).await.unwrap_err();
    assert_eq!(precondition(&retried)[0].1, description, "a retry is told the same, nothing kept twice");

    let mut admin = hub.messages(OPERATOR_ORG, &["admin"]).await;
    let waiting = admin.list_unrouted_alerts(ListUnroutedAlertsRequest::default()).await.unwrap().into_inner().alerts;
    assert_eq!(waiting.len(), 1);
    let kept = &waiting[0];
    assert!(description.contains(&kept.alert_id), "{description}");
    assert_eq!((kept.sender_org_id.as_str(), kept.area.as_str()), (HEALTH_ORG, "TH/BKK/Bang_Rak"));
    let mut referrer = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let denied = referrer.list_unrouted_alerts(ListUnroutedAlertsRequest::default()).await.unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);

    let route = RouteAlertRequest { alert_id: kept.alert_id.clone(), recipient_org_id: SOCIAL_WELFARE_ORG.into() };
    let routed = admin.route_alert(route.clone()).await.unwrap().into_inner().message.unwrap();
    assert_eq!((routed.sender_org_id.as_str(), routed.recipient_org_id.as_str()), (HEALTH_ORG, SOCIAL_WELFARE_ORG));
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["receiver"]).await;
    let mut inbox = welfare.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();
    let Some(Item::Message(received)) = next_entry(&mut inbox).await.item else { panic!("the routed alert") };
    assert_eq!(received.id, routed.id);

    // Routed once: the list is empty, and the sender's retry is answered with the message.
    let waiting = admin.list_unrouted_alerts(ListUnroutedAlertsRequest::default()).await.unwrap().into_inner().alerts;
    assert!(waiting.is_empty());
    let replay = health.submit_message(request).await.unwrap().into_inner();
    assert!(replay.replayed);
    assert_eq!(replay.message.unwrap().id, routed.id);
    let again = admin.route_alert(route.clone()).await.unwrap().into_inner().message.unwrap();
    assert_eq!(again.id, routed.id, "routing twice makes no second message");
    let elsewhere = RouteAlertRequest { recipient_org_id: "demo-community-hlaing".into(), ..route };
    assert_eq!(precondition(&admin.route_alert(elsewhere).await.unwrap_err())[0].0, "ALERT_ALREADY_ROUTED");

    let mut auditor = hub.audit(OVERSIGHT_ORG, &["auditor", "oversight"]).await;
    let entries = auditor.list_audit_entries(ListAuditEntriesRequest::default()).await.unwrap().into_inner().entries;
    let actions: Vec<_> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "ALERT_UNROUTED").count(), 1, "{actions:?}");
    assert!(actions.contains(&"ALERT_ROUTED"), "{actions:?}");
}

referral_hub_e2e::on_both_backends!(
    an_alert_reaches_the_nearest_lead_agency_with_family_tracing,
    an_alert_no_lead_agency_covers_is_kept_for_the_operator,
);
