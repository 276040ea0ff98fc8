//! Operator authority (docs/security.md "The operator"): only the operator's
//! admins act hub-wide, an organisation's own admin keeps only its name, areas
//! and services current, every change is audited field by field and told to
//! the organisation it touches, and where an organisation receives its data is
//! for the operator and itself to see. The attacks are those of a hostile
//! review, made with the *school's* admin token.

use referral_hub_domain::{ids::OrgId, push_policy::PushPolicy, sample};
use referral_hub_e2e::{
    Backend, HEALTH_ORG, OPERATOR_ORG, POLICE_ORG, SOCIAL_WELFARE_ORG, TestHub, next_entry,
    receiver::{Receiver, signature_verifies},
};
use referral_hub_proto::v1::{
    DeliveryChannel, DirectoryNotice, FieldChange, GetOrganisationRequest, ListAuditEntriesRequest,
    ListUnroutedAlertsRequest, Organisation, OrganisationStatus, RegisterOrganisationRequest, RouteAlertRequest,
    SearchOrganisationsRequest, Sector, StreamInboxRequest, SuspendOrganisationRequest, UpdateOrganisationRequest,
    inbox_entry::Item,
};
use tonic::Code;

const SCHOOL_ORG: &str = "demo-school-hlaing";

/// An endpoint the school controls.
const SCHOOL_ENDPOINT: &str = "https://school.example/hook";

/// A certificate fingerprint (SHA-256 hex).
const FINGERPRINT: &str = "5f2b0c3d4e6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e";

async fn organisation(hub: &TestHub, id: &str) -> Organisation {
    hub.db.store.organisation(&OrgId::new(id)).await.unwrap().unwrap()
}

fn change(field: &str, before: &str, after: &str) -> FieldChange {
    FieldChange { field: field.into(), before: before.into(), after: after.into() }
}

async fn a_non_operator_admin_gets_permission_denied_on_every_hub_wide_act(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut school = hub.directory(SCHOOL_ORG, &["admin"]).await;
    let welfare_before = organisation(&hub, SOCIAL_WELFARE_ORG).await;
    let school_before = organisation(&hub, SCHOOL_ORG).await;

    // A new "lead agency" for the township, to which alerts about separated children would route.
    let impostor = Organisation {
        id: "school-run-welfare".into(),
        name: "Hlaing Welfare Office".into(),
        sector: Sector::SocialWelfare as i32,
        areas: vec!["MM/YGN/Hlaing".into()],
        services: vec!["family_tracing".into()],
        lead_agency_areas: vec!["MM/YGN/Hlaing".into()],
        channel: DeliveryChannel::Pull as i32,
        status: OrganisationStatus::Active as i32,
        ..Organisation::default()
    };
    let denied = school.register_organisation(RegisterOrganisationRequest { organisation: Some(impostor) }).await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);

    // Social welfare's deliveries diverted to the school's endpoint.
    let diverted = Organisation {
        channel: DeliveryChannel::Push as i32,
        push_endpoint: SCHOOL_ENDPOINT.into(),
        ..welfare_before.clone()
    };
    let denied = school.update_organisation(UpdateOrganisationRequest { organisation: Some(diverted) }).await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    // Even a harmless-looking update of another organisation.
    let renamed = Organisation { name: "Renamed by the school".into(), ..welfare_before.clone() };
    let denied = school.update_organisation(UpdateOrganisationRequest { organisation: Some(renamed) }).await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);

    let suspend = SuspendOrganisationRequest { organisation_id: POLICE_ORG.into(), reason: "Prank.".into() };
    assert_eq!(school.suspend_organisation(suspend).await.unwrap_err().code(), Code::PermissionDenied);

    // Its own entry: channel, endpoint, lead areas, certificate, sector and status are the operator's.
    for own in [
        Organisation {
            channel: DeliveryChannel::Push as i32,
            push_endpoint: SCHOOL_ENDPOINT.into(),
            ..school_before.clone()
        },
        Organisation { lead_agency_areas: vec!["MM/YGN/Hlaing".into()], ..school_before.clone() },
        Organisation { client_certificate_sha256: FINGERPRINT.into(), ..school_before.clone() },
        Organisation { sector: Sector::SocialWelfare as i32, ..school_before.clone() },
    ] {
        let status = school.update_organisation(UpdateOrganisationRequest { organisation: Some(own) }).await;
        let status = status.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
        assert!(status.message().starts_with("only the hub operator may change "), "{}", status.message());
    }

    let mut alerts = hub.messages(SCHOOL_ORG, &["admin"]).await;
    let denied = alerts.list_unrouted_alerts(ListUnroutedAlertsRequest::default()).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let route = RouteAlertRequest { alert_id: "any".into(), recipient_org_id: SCHOOL_ORG.into() };
    assert_eq!(alerts.route_alert(route).await.unwrap_err().code(), Code::PermissionDenied);

    // Nothing changed, and every attempt is in the audit log.
    assert_eq!(organisation(&hub, SOCIAL_WELFARE_ORG).await, welfare_before);
    assert_eq!(organisation(&hub, SCHOOL_ORG).await, school_before);
    assert_eq!(organisation(&hub, POLICE_ORG).await.status(), OrganisationStatus::Active);
    assert!(hub.db.store.organisation(&OrgId::new("school-run-welfare")).await.unwrap().is_none());
    let mut auditor = hub.audit(SCHOOL_ORG, &["auditor"]).await;
    let filter = ListAuditEntriesRequest {
        organisation_id: SCHOOL_ORG.into(),
        action: "PERMISSION_DENIED".into(),
        ..Default::default()
    };
    // Counted like every refusal: the first of each RPC in full at once, the
    // six updates' count when the minute closes.
    let details = |entries: Vec<referral_hub_proto::v1::AuditEntry>| -> Vec<serde_json::Value> {
        entries.iter().map(|e| serde_json::from_str(&e.detail).unwrap()).collect()
    };
    let refusals = details(auditor.list_audit_entries(filter.clone()).await.unwrap().into_inner().entries);
    assert_eq!(refusals.len(), 5, "{refusals:?}");
    hub.clock.advance(time::Duration::minutes(1));
    hub.refusals.scan_now().await;
    let refusals = details(auditor.list_audit_entries(filter).await.unwrap().into_inner().entries);
    let counted: Vec<&serde_json::Value> = refusals.iter().filter(|d| d["count"].is_u64()).collect();
    assert_eq!(counted.len(), 1, "{refusals:?}");
    assert_eq!(counted[0]["count"], 6);
    assert!(counted[0]["reason"].as_str().unwrap().ends_with("UpdateOrganisation: not the hub operator"));

    // What is its own to keep current, it may.
    let kept_current = Organisation { name: "Hlaing High School No. 1".into(), services: vec![], ..school_before };
    school.update_organisation(UpdateOrganisationRequest { organisation: Some(kept_current.clone()) }).await.unwrap();
    assert_eq!(organisation(&hub, SCHOOL_ORG).await, kept_current);
}

async fn the_owner_is_told_in_its_inbox_of_every_change_to_its_entry(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["receiver"]).await;
    let mut inbox = welfare.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();
    let before = organisation(&hub, SOCIAL_WELFARE_ORG).await;

    let mut operator = hub.directory(OPERATOR_ORG, &["admin"]).await;
    let switched = Organisation {
        channel: DeliveryChannel::Push as i32,
        push_endpoint: "https://welfare.example/hub".into(),
        ..before.clone()
    };
    operator.update_organisation(UpdateOrganisationRequest { organisation: Some(switched) }).await.unwrap();

    let Some(Item::DirectoryNotice(notice)) = next_entry(&mut inbox).await.item else { panic!("a directory notice") };
    let DirectoryNotice { changed_by_org_id, change: rpc, changes, .. } = notice;
    assert_eq!((changed_by_org_id.as_str(), rpc.as_str()), (OPERATOR_ORG, "UpdateOrganisation"));
    assert_eq!(
        changes,
        [
            change("channel", "DELIVERY_CHANNEL_PULL", "DELIVERY_CHANNEL_PUSH"),
            change("push_endpoint", "", "https://welfare.example/hub"),
        ]
    );

    // The audit entry names the same fields with their before and after.
    let mut auditor = hub.audit(OPERATOR_ORG, &["auditor"]).await;
    let filter = ListAuditEntriesRequest { action: "ADMIN_CHANGE".into(), ..Default::default() };
    let entries = auditor.list_audit_entries(filter).await.unwrap().into_inner().entries;
    assert_eq!(entries.len(), 1);
    let detail: serde_json::Value = serde_json::from_str(&entries[0].detail).unwrap();
    assert_eq!(detail["organisation_id"], SOCIAL_WELFARE_ORG);
    assert_eq!(
        detail["changes"],
        serde_json::json!([
            {"field": "channel", "before": "DELIVERY_CHANNEL_PULL", "after": "DELIVERY_CHANNEL_PUSH"},
            {"field": "push_endpoint", "before": "", "after": "https://welfare.example/hub"},
        ])
    );

    // A suspension is told too, with its reason; the notice comes after the
    // referral that was already on its way, in the same ordered inbox.
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let sent = referral_hub_e2e::submitted(&mut health, sample::submit("before-suspension", SOCIAL_WELFARE_ORG)).await;
    let suspend =
        SuspendOrganisationRequest { organisation_id: SOCIAL_WELFARE_ORG.into(), reason: "Audit pending.".into() };
    operator.suspend_organisation(suspend).await.unwrap();
    let Some(Item::Message(first)) = next_entry(&mut inbox).await.item else { panic!("the referral first") };
    assert_eq!(first.id, sent.id);
    let Some(Item::DirectoryNotice(notice)) = next_entry(&mut inbox).await.item else { panic!("then the notice") };
    assert_eq!(notice.changes, [change("status", "ORGANISATION_STATUS_ACTIVE", "ORGANISATION_STATUS_SUSPENDED")]);
    assert_eq!(notice.reason, "Audit pending.");
}

async fn endpoints_and_certificates_are_seen_only_by_the_operator_and_the_owner(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let welfare = organisation(&hub, SOCIAL_WELFARE_ORG).await;
    let pushed = Organisation {
        channel: DeliveryChannel::Push as i32,
        push_endpoint: "https://welfare.example/hub".into(),
        ..welfare
    };
    let mut operator = hub.directory(OPERATOR_ORG, &["admin"]).await;
    operator.update_organisation(UpdateOrganisationRequest { organisation: Some(pushed.clone()) }).await.unwrap();
    let get = GetOrganisationRequest { organisation_id: SOCIAL_WELFARE_ORG.into() };
    // The organisation itself sees its own entry whole (any role).
    let mut own = hub.directory(SOCIAL_WELFARE_ORG, &["receiver"]).await;
    let got = own.get_organisation(get.clone()).await.unwrap().into_inner().organisation.unwrap();
    assert_eq!(got, pushed);

    // Bound to a certificate (from now on its tokens need it), seen by nobody else.
    let bound = Organisation { client_certificate_sha256: FINGERPRINT.into(), ..pushed };
    operator.update_organisation(UpdateOrganisationRequest { organisation: Some(bound) }).await.unwrap();
    let search = SearchOrganisationsRequest { service: "family_tracing".into(), ..Default::default() };
    for (org, roles, sees) in [
        (HEALTH_ORG, &["referrer", "admin"][..], false),
        (SCHOOL_ORG, &["admin"][..], false),
        (OPERATOR_ORG, &["admin"][..], true),
        (OPERATOR_ORG, &["auditor"][..], false),
    ] {
        let mut directory = hub.directory(org, roles).await;
        let found = directory.search_organisations(search.clone()).await.unwrap().into_inner().organisations;
        let got = directory.get_organisation(get.clone()).await.unwrap().into_inner().organisation.unwrap();
        for seen in [&found[0], &got] {
            assert_eq!(seen.id, SOCIAL_WELFARE_ORG);
            assert_eq!(seen.push_endpoint.is_empty(), !sees, "{org} {roles:?}");
            assert_eq!(seen.client_certificate_sha256.is_empty(), !sees, "{org} {roles:?}");
        }
    }
}

async fn a_push_organisation_is_told_by_a_signed_post(backend: Backend) {
    let hub = TestHub::start_with_push(backend, PushPolicy::dev()).await;
    let sink = Receiver::start(&[]).await;
    let secret = hub.push_organisation("dsw-push", Sector::SocialWelfare, "MM/YGN/Hlaing", &sink.url).await;
    let before = organisation(&hub, "dsw-push").await;
    let mut operator = hub.directory(OPERATOR_ORG, &["admin"]).await;
    let led = Organisation { lead_agency_areas: vec!["MM/YGN/Hlaing".into()], ..before };
    operator.update_organisation(UpdateOrganisationRequest { organisation: Some(led) }).await.unwrap();

    hub.push.scan_now().await;
    let pushed = sink.received();
    assert_eq!(pushed.len(), 1);
    assert!(signature_verifies(&secret, &pushed[0]), "signed like every delivery");
    let notice: serde_json::Value = serde_json::from_slice(&pushed[0].body).unwrap();
    assert_eq!(notice["type"], "referralhub.v1.DirectoryNotice");
    assert_eq!(notice["id"], pushed[0].id.as_str(), "the webhook id is the notice's");
    assert_eq!(notice["changed_by_org_id"], OPERATOR_ORG);
    assert_eq!(
        notice["changes"],
        serde_json::json!([{"field": "lead_agency_areas", "before": "", "after": "MM/YGN/Hlaing"}])
    );
    // Delivered once: the cursor moved past it.
    hub.push.scan_now().await;
    assert_eq!(sink.received().len(), 1);
}

referral_hub_e2e::on_both_backends!(
    a_push_organisation_is_told_by_a_signed_post,
    a_non_operator_admin_gets_permission_denied_on_every_hub_wide_act,
    the_owner_is_told_in_its_inbox_of_every_change_to_its_entry,
    endpoints_and_certificates_are_seen_only_by_the_operator_and_the_owner,
);
