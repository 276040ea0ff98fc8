//! Every sector's HTTP endpoint over a real socket, with the example
//! documents the README shows (docs/examples/): each becomes messages through
//! the same path as gRPC (token, role, validation, consent, audit), and
//! refusals come back in the sector's own error format.

use referral_hub_domain::sample;
use referral_hub_e2e::{Backend, COURT_ORG, HEALTH_ORG, SOCIAL_WELFARE_ORG, TestHub, submitted};
use referral_hub_proto::v1::{ChildRef, GetMessageRequest, MessageStatus, RecordConsentRequest};
use serde_json::Value;

const SCHOOL: &str = "demo-school-hlaing";
const POLICE: &str = "demo-police-hlaing";

fn example(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../docs/examples/{name}", env!("CARGO_MANIFEST_DIR"))).expect("example document")
}

fn accepted(status: u16, body: &str) -> Vec<Value> {
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(body).expect("a receipt")["accepted"].as_array().expect("accepted list").clone()
}

/// Records `org`'s consent (the sample's terms) for each of its children.
async fn consent_for(hub: &TestHub, org: &str, children: &[&str]) {
    let mut consents = hub.consents(org, &["referrer"]).await;
    for child in children {
        let mut terms = sample::consent();
        terms.child = Some(ChildRef { local_id: (*child).into(), ..ChildRef::default() });
        let request =
            RecordConsentRequest { request_id: format!("consent-{child}"), terms: Some(terms), ..Default::default() };
        consents.record_consent(request).await.expect("consent recorded");
    }
}

async fn every_sector_joins_in_its_own_format(backend: Backend) {
    let hub = TestHub::start(backend).await;

    // HEALTH: a FHIR Bundle with its own Consent resource.
    let (status, body) =
        hub.post_document("/fhir/r4/Bundle", HEALTH_ORG, &["referrer"], example("health-referral-bundle.json")).await;
    assert_eq!(accepted(status, &body).len(), 1);

    // POLICE: a mandatory report under a legal basis (role supervisor).
    let incident = example("police-incident.json");
    let (status, body) = hub.post_document("/police/incidents", POLICE, &["referrer"], incident.clone()).await;
    assert_eq!(status, 403, "a legal basis needs a supervisor: {body}");
    let (status, body) = hub.post_document("/police/incidents", POLICE, &["referrer", "supervisor"], incident).await;
    assert_eq!(accepted(status, &body).len(), 1);

    // EDUCATION: a CSV batch; without the pupils' consent every row is refused, by row.
    let batch = example("education-concerns.csv");
    let (status, body) = hub.post_document("/education/concerns.csv", SCHOOL, &["referrer"], batch.clone()).await;
    assert_eq!(status, 422);
    let problem: Value = serde_json::from_str(&body).expect("a problem document");
    let elements: Vec<_> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["element"].as_str().unwrap()).collect();
    assert_eq!(elements, ["row 2, consent", "row 3, consent", "row 4, consent"]);
    consent_for(&hub, SCHOOL, &["BEHS4-P-0907", "BEHS4-P-1240", "BEHS4-P-1301"]).await;
    let (status, body) = hub.post_document("/education/concerns.csv", SCHOOL, &["referrer"], batch).await;
    assert_eq!(accepted(status, &body).len(), 3);

    // SOCIAL_WELFARE: a Primero case whose services go to two other agencies.
    consent_for(&hub, SOCIAL_WELFARE_ORG, &["CP-YGN-2026-0318"]).await;
    let case = example("primero-case.json");
    let (status, body) = hub.post_document("/primero/v2/cases", SOCIAL_WELFARE_ORG, &["referrer"], case).await;
    let referrals = accepted(status, &body);
    assert_eq!(referrals.len(), 2, "one referral per implementing agency: {body}");

    // JUSTICE: the court acknowledges a case transfer in its own event format.
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let transfer = submitted(&mut health, sample::submit_transfer("to-court", COURT_ORG)).await;
    let event = serde_json::json!({"j:CourtEvent": {
        "nc:ActivityIdentification": {"nc:IdentificationID": "JUV-YGN-2026-0412/EV-1"},
        "j:CourtEventCase": {"nc:CaseTrackingID": transfer.id},
        "nc:ActivityCategoryText": "receipt-acknowledged"}});
    let (status, body) =
        hub.post_document("/justice/v1/case-events", COURT_ORG, &["receiver"], event.to_string().into()).await;
    assert_eq!(accepted(status, &body).len(), 1);
    let seen = health.get_message(GetMessageRequest { message_id: transfer.id }).await.unwrap().into_inner();
    assert_eq!(seen.message.unwrap().status(), MessageStatus::Acknowledged);
}

async fn refusals_come_back_in_the_sector_s_format(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let response = reqwest::Client::new()
        .post(format!("http://{}/fhir/r4/Bundle", hub.address))
        .body(example("health-referral-bundle.json"))
        .send()
        .await
        .expect("the hub answers");
    assert_eq!(response.status().as_u16(), 401, "no token");
    let outcome: Value = serde_json::from_str(&response.text().await.expect("a body")).expect("an OperationOutcome");
    assert_eq!(outcome["resourceType"], "OperationOutcome");

    let mut bundle: Value = serde_json::from_slice(&example("health-referral-bundle.json")).unwrap();
    let patient =
        bundle["entry"].as_array_mut().unwrap().iter_mut().find(|e| e["resource"]["resourceType"] == "Patient");
    patient.expect("a Patient")["resource"]["gender"] = "robot".into();
    let (status, body) =
        hub.post_document("/fhir/r4/Bundle", HEALTH_ORG, &["referrer"], bundle.to_string().into()).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("robot") && body.contains("gender"), "the bad code and element are named: {body}");
}

referral_hub_e2e::on_both_backends!(every_sector_joins_in_its_own_format, refusals_come_back_in_the_sector_s_format);
