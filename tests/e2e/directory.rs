//! The directory, and what load balancers and grpcurl need: health and reflection.

use referral_hub_domain::ids::OrgId;
use referral_hub_e2e::{Backend, HEALTH_ORG, OPERATOR_ORG, POLICE_ORG, SOCIAL_WELFARE_ORG, TestHub, bad_fields};
use referral_hub_proto::v1::{GetOrganisationRequest, OrganisationStatus, SearchOrganisationsRequest, Sector};
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

fn ids(response: referral_hub_proto::v1::SearchOrganisationsResponse) -> Vec<String> {
    response.organisations.into_iter().map(|o| o.id).collect()
}

async fn search_by_service_area_and_sector(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut directory = hub.directory(HEALTH_ORG, &["referrer"]).await;
    let search = |service: &str, area: &str, sector: Sector| SearchOrganisationsRequest {
        service: service.into(),
        area: area.into(),
        sector: sector as i32,
        ..Default::default()
    };
    // An organisation covering MM/YGN covers the township below it; one covering
    // the township does not cover the region, nor a sibling township.
    let found = directory.search_organisations(search("mhpss", "MM/YGN/Hlaing", Sector::Unspecified)).await.unwrap();
    assert_eq!(ids(found.into_inner()), vec![HEALTH_ORG, SOCIAL_WELFARE_ORG]);
    let found = directory.search_organisations(search("mhpss", "MM/YGN", Sector::Unspecified)).await.unwrap();
    assert_eq!(ids(found.into_inner()), vec![SOCIAL_WELFARE_ORG]);
    let found = directory.search_organisations(search("", "MM/YGN/Hlaingthaya", Sector::Unspecified)).await.unwrap();
    assert_eq!(ids(found.into_inner()), vec!["demo-court-yangon", OPERATOR_ORG, SOCIAL_WELFARE_ORG]);
    let found = directory.search_organisations(search("", "", Sector::Police)).await.unwrap();
    assert_eq!(ids(found.into_inner()), vec![POLICE_ORG]);

    // Paging by id, and suspended organisations disappear from searches.
    let page = SearchOrganisationsRequest { page_size: 4, ..Default::default() };
    let first = directory.search_organisations(page.clone()).await.unwrap().into_inner();
    assert_eq!(first.organisations.len(), 4);
    let rest = SearchOrganisationsRequest { page_token: first.next_page_token.clone(), ..page };
    let second = directory.search_organisations(rest).await.unwrap().into_inner();
    assert_eq!((second.organisations.len(), second.next_page_token.as_str()), (3, ""));
    let mut police = hub.db.store.organisation(&OrgId::new(POLICE_ORG)).await.unwrap().unwrap();
    police.status = OrganisationStatus::Suspended as i32;
    hub.db.store.upsert_organisation(&police).await.unwrap();
    let found = directory.search_organisations(search("", "", Sector::Police)).await.unwrap();
    assert!(found.into_inner().organisations.is_empty());

    let bad = directory.search_organisations(search("", "MM//YGN", Sector::Unspecified)).await.unwrap_err();
    assert_eq!(bad_fields(&bad), vec!["area"]);
    let got = directory.get_organisation(GetOrganisationRequest { organisation_id: SOCIAL_WELFARE_ORG.into() }).await;
    let org = got.unwrap().into_inner().organisation.unwrap();
    assert_eq!((org.sector(), org.lead_agency_areas), (Sector::SocialWelfare, vec!["MM/YGN".to_owned()]));
    let missing = directory.get_organisation(GetOrganisationRequest { organisation_id: "nope".into() }).await;
    assert_eq!(missing.unwrap_err().code(), Code::NotFound);
}

async fn health_and_reflection_answer_without_a_token(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = HealthClient::new(hub.channel().await);
    for service in
        ["", "referralhub.v1.MessageService", "referralhub.v1.DirectoryService", "referralhub.v1.AuditService"]
    {
        let request = HealthCheckRequest { service: service.into() };
        let response = health.check(request).await.unwrap().into_inner();
        assert_eq!(response.status(), ServingStatus::Serving, "{service:?}");
    }

    let mut reflection = ServerReflectionClient::new(hub.channel().await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection.server_reflection_info(tokio_stream::iter([request])).await.unwrap().into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("expected a service list")
    };
    let mut names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "referralhub.v1.AuditService",
            "referralhub.v1.ConsentService",
            "referralhub.v1.DiagnosticsService",
            "referralhub.v1.DirectoryService",
            "referralhub.v1.MessageService",
            "referralhub.v1.StatsService",
        ]
    );
}

referral_hub_e2e::on_both_backends!(search_by_service_area_and_sector, health_and_reflection_answer_without_a_token);
