//! Directory administration: only the operator's admins change it, every
//! change is audited, bad entries name every bad field, and a suspended
//! organisation is shut out. (What other organisations' admins may not do is
//! `operator.rs`.)

use referral_hub_domain::sample;
use referral_hub_e2e::{
    Backend, HEALTH_ORG, OPERATOR_ORG, OVERSIGHT_ORG, TestHub, bad_fields, precondition, submitted,
};
use referral_hub_proto::v1::{
    DeliveryChannel, GetMessageRequest, ListAuditEntriesRequest, ListTaxonomiesRequest, Organisation,
    OrganisationStatus, RegisterOrganisationRequest, SearchOrganisationsRequest, Sector, SuspendOrganisationRequest,
    UpdateOrganisationRequest,
};
use tonic::Code;

fn shelter() -> Organisation {
    Organisation {
        id: "ngo-safe-haven".into(),
        name: "Safe Haven Children's Shelter".into(),
        sector: Sector::SocialWelfare as i32,
        areas: vec!["MM/YGN/Hlaing".into()],
        services: vec!["shelter".into(), "mhpss".into()],
        lead_agency_areas: vec![],
        channel: DeliveryChannel::Pull as i32,
        status: OrganisationStatus::Active as i32,
        push_endpoint: String::new(),
        client_certificate_sha256: String::new(),
    }
}

async fn the_operator_registers_updates_and_suspends_organisations(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut admin = hub.directory(OPERATOR_ORG, &["admin"]).await;
    let register = RegisterOrganisationRequest { organisation: Some(shelter()) };
    let mut not_admin = hub.directory(OPERATOR_ORG, &["supervisor", "referrer"]).await;
    assert_eq!(not_admin.register_organisation(register.clone()).await.unwrap_err().code(), Code::PermissionDenied);

    admin.register_organisation(register.clone()).await.unwrap();
    assert_eq!(precondition(&admin.register_organisation(register).await.unwrap_err())[0].0, "ORGANISATION_EXISTS");
    let search =
        SearchOrganisationsRequest { service: "shelter".into(), area: "MM/YGN/Hlaing".into(), ..Default::default() };
    let found = admin.search_organisations(search.clone()).await.unwrap().into_inner().organisations;
    assert_eq!(found.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), vec!["ngo-safe-haven"]);

    // Every bad field at once.
    let bad = Organisation {
        id: "has spaces".into(),
        sector: 0,
        areas: vec!["MM//YGN".into()],
        services: vec!["teleportation".into()],
        lead_agency_areas: vec!["TH".into()],
        channel: 0,
        ..shelter()
    };
    let status = admin.update_organisation(UpdateOrganisationRequest { organisation: Some(bad) }).await.unwrap_err();
    assert_eq!(
        bad_fields(&status),
        vec![
            "organisation.id",
            "organisation.sector",
            "organisation.areas[0]",
            "organisation.services[0]",
            "organisation.lead_agency_areas[0]",
            "organisation.channel",
        ]
    );
    let unknown = Organisation { id: "nobody".into(), ..shelter() };
    let status =
        admin.update_organisation(UpdateOrganisationRequest { organisation: Some(unknown) }).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    // The shelter receives, then is suspended: refused as recipient, its tokens refused.
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let sent = submitted(&mut health, sample::submit("to-shelter", "ngo-safe-haven")).await;
    let mut shelter_worker = hub.messages("ngo-safe-haven", &["receiver"]).await;
    shelter_worker.get_message(GetMessageRequest { message_id: sent.id.clone() }).await.unwrap();
    let suspend =
        SuspendOrganisationRequest { organisation_id: "ngo-safe-haven".into(), reason: "Licence revoked".into() };
    let suspended = admin.suspend_organisation(suspend).await.unwrap().into_inner().organisation.unwrap();
    assert_eq!(suspended.status(), OrganisationStatus::Suspended);
    let refused = shelter_worker.get_message(GetMessageRequest { message_id: sent.id }).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    let status = health.submit_message(sample::submit("again", "ngo-safe-haven")).await.unwrap_err();
    assert_eq!(bad_fields(&status), vec!["recipient_org_id"]);
    assert!(admin.search_organisations(search).await.unwrap().into_inner().organisations.is_empty());

    // Reinstated by an update.
    admin.update_organisation(UpdateOrganisationRequest { organisation: Some(shelter()) }).await.unwrap();
    submitted(&mut health, sample::submit("after", "ngo-safe-haven")).await;

    let mut auditor = hub.audit(OVERSIGHT_ORG, &["auditor", "oversight"]).await;
    let filter = ListAuditEntriesRequest { action: "ADMIN_CHANGE".into(), ..Default::default() };
    let changes = auditor.list_audit_entries(filter).await.unwrap().into_inner().entries;
    assert_eq!(changes.len(), 3, "register, suspend, reinstate");
    assert!(changes[1].detail.contains("Licence revoked") && changes[1].detail.contains("SUSPENDED"));
    assert!(changes.iter().all(|c| c.actor_org == OPERATOR_ORG));
}

async fn taxonomies_are_served_with_their_names(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut directory = hub.directory(HEALTH_ORG, &["referrer"]).await;
    let taxonomies = directory.list_taxonomies(ListTaxonomiesRequest {}).await.unwrap().into_inner().taxonomies;
    let names: Vec<_> = taxonomies.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, vec!["protection_concerns", "services", "sex", "displacement"]);
    let neglect = taxonomies[0].codes.iter().find(|c| c.code == "neglect").unwrap();
    assert_eq!((neglect.names["en"].as_str(), neglect.names["fr"].as_str()), ("Neglect", "Négligence"));
}

referral_hub_e2e::on_both_backends!(
    the_operator_registers_updates_and_suspends_organisations,
    taxonomies_are_served_with_their_names
);
