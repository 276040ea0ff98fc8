//! Primero's own referral routes over a real socket: a stock Primero client
//! refers a case (`POST /api/v2/cases/:id/referrals`), the receiver moves
//! it through Primero's statuses (`PATCH …/referrals/:rid` with
//! `{"data": {"status"}}`), and the referrer revokes another (`DELETE`). Each
//! is the same core path as gRPC; the answers are Primero's transition JSON.

use referral_hub_domain::sample;
use referral_hub_e2e::{Backend, OVERSIGHT_ORG, SOCIAL_WELFARE_ORG, TestHub};
use referral_hub_proto::v1::{ChildRef, GetMessageRequest, MessageStatus, RecordConsentRequest};
use reqwest::Method;
use serde_json::{Value, json};

const CASE: &str = "3d7c0e0a-1b2c-4d5e-8f90-a1b2c3d4e5f6";
/// The receiving agency (any registered organisation with a receiver).
const RECEIVER: &str = OVERSIGHT_ORG;

/// A referral as a Primero client sends it, with its case as `data.record`.
fn referral(service: &str) -> Vec<u8> {
    json!({"data": {
        "transitioned_to_agency": RECEIVER, "transitioned_to": "caseworker2", "service": service,
        "notes": "Needs support after the flood.", "remote": true,
        "record": {"sex": "female", "date_of_birth": "2015-02-01", "risk_level": "medium",
            "protection_concerns": ["statelessness", "child_mother"], "displacement_status": "stateless_person",
            "family_details_section": [{"unique_id": "4f1c2a9e-8b7d-4c3a-9e2f-1a2b3c4d5e6f", "relation": "mother",
                "relation_name": "Daw Aye", "relation_is_caregiver": true}]}}})
    .to_string()
    .into_bytes()
}

fn transition(status: u16, body: &str) -> Value {
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(body).expect("JSON")["data"].clone()
}

async fn status_of(hub: &TestHub, message_id: &str) -> MessageStatus {
    let mut reader = hub.messages(SOCIAL_WELFARE_ORG, &["referrer"]).await;
    let got = reader.get_message(GetMessageRequest { message_id: message_id.into() }).await.expect("readable");
    got.into_inner().message.expect("a message").status()
}

async fn a_stock_primero_client_refers_updates_and_revokes(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut consents = hub.consents(SOCIAL_WELFARE_ORG, &["referrer"]).await;
    let mut terms = sample::consent();
    terms.child = Some(ChildRef { local_id: CASE.into(), ..ChildRef::default() });
    let request =
        RecordConsentRequest { request_id: "consent-primero".into(), terms: Some(terms), ..Default::default() };
    consents.record_consent(request).await.expect("consent recorded");
    let referrals = format!("/api/v2/cases/{CASE}/referrals");

    let (code, body) =
        hub.post_document(&referrals, SOCIAL_WELFARE_ORG, &["referrer"], referral("psychosocial_service")).await;
    let made = transition(code, &body);
    assert_eq!(made["status"], "in_progress");
    let id = made["id"].as_str().expect("the referral id is the hub message id").to_owned();
    let (code, body) =
        hub.post_document(&referrals, SOCIAL_WELFARE_ORG, &["referrer"], referral("psychosocial_service")).await;
    assert_eq!(transition(code, &body)["id"], id.as_str(), "a retry is the same referral");

    let update = format!("{referrals}/{id}");
    for (status, body) in [
        ("in_progress", json!({"data": {"status": "in_progress"}})),
        ("accepted", json!({"data": {"status": "accepted"}})),
        ("done", json!({"data": {"status": "done", "rejection_note": "Counselling completed."}})),
    ] {
        let (code, answer) =
            hub.send_document(Method::PATCH, &update, RECEIVER, &["receiver"], body.to_string().into()).await;
        assert_eq!(transition(code, &answer)["status"], status);
    }
    assert_eq!(status_of(&hub, &id).await, MessageStatus::Completed);

    // A second referral, revoked by its referrer with Primero's DELETE (no body).
    let (code, body) = hub.post_document(&referrals, SOCIAL_WELFARE_ORG, &["referrer"], referral("food_service")).await;
    let other = transition(code, &body)["id"].as_str().expect("an id").to_owned();
    assert_ne!(other, id);
    let (code, body) = hub
        .send_document(Method::DELETE, &format!("{referrals}/{other}"), SOCIAL_WELFARE_ORG, &["referrer"], vec![])
        .await;
    assert_eq!(transition(code, &body)["status"], "revoked");
    assert_eq!(status_of(&hub, &other).await, MessageStatus::Withdrawn);

    // Someone else's referral is not found, in Primero's error shape.
    let (code, body) =
        hub.send_document(Method::DELETE, &format!("{referrals}/{id}"), RECEIVER, &["referrer"], vec![]).await;
    assert!(matches!(code, 403 | 404 | 409), "{code} {body}");
    assert!(serde_json::from_str::<Value>(&body).expect("JSON")["errors"].is_array(), "{body}");
}

referral_hub_e2e::on_both_backends!(a_stock_primero_client_refers_updates_and_revokes);
