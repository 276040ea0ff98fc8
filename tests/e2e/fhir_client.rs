//! Issue 27's "done when" for FHIR: an unmodified FHIR client library
//! (fhir-kit-client from npm, installed by ./scripts/test) drives a real hub
//! through `scripts/fhir-client.mjs`: it reads `/metadata`, posts transactions
//! and reads the `transaction-response`, updates a Task with `If-Match`, and
//! polls a Task search page by page. Any failed check fails this test.
//! Every kind of answer the face gives also passes the FHIR R4 JSON schema
//! validator the adapters' tests use.

use referral_hub_e2e::{Backend, HEALTH_ORG, SOCIAL_WELFARE_ORG, TestHub};
use serde_json::{Value, json};

fn example_path() -> String {
    format!("{}/../docs/examples/health-referral-bundle.json", env!("CARGO_MANIFEST_DIR"))
}

fn tool(variable: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| {
        panic!("{variable} is not set: run the tests through ./scripts/test, which installs the FHIR tools")
    })
}

async fn a_stock_fhir_client_library_refers_updates_and_polls(backend: Backend) {
    let script = tool("REFERRAL_HUB_FHIR_CLIENT");
    let hub = TestHub::start(backend).await;
    let bundle = example_path();
    let mut node = std::process::Command::new("node");
    node.arg(script)
        .env("FHIR_BASE", format!("http://{}/fhir/r4", hub.address))
        .env("SENDER_TOKEN", hub.token(HEALTH_ORG, &["referrer"]))
        .env("RECEIVER_TOKEN", hub.token(SOCIAL_WELFARE_ORG, &["receiver"]))
        .env("RECEIVER_ORG", SOCIAL_WELFARE_ORG)
        .env("BUNDLE", bundle);
    let output = tokio::task::spawn_blocking(move || node.output()).await.expect("joined").expect("node runs");
    assert!(
        output.status.success(),
        "the FHIR client's checks failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("all checks passed"), "the script ran to its end");
}

/// One request to the face as `org`; the answer's body as JSON.
async fn fhir(hub: &TestHub, org: &str, method: &str, path: &str, body: Option<&Value>) -> Value {
    let url = format!("http://{}/fhir/r4{path}", hub.address);
    let mut request = reqwest::Client::new()
        .request(method.parse().expect("a method"), url)
        .bearer_auth(hub.token(org, &["referrer", "receiver"]));
    if let Some(body) = body {
        request = request.header("content-type", "application/fhir+json").body(body.to_string());
    }
    let text = request.send().await.expect("the hub answers").text().await.expect("a body");
    serde_json::from_str(&text).expect("a FHIR resource")
}

async fn every_answer_of_the_face_passes_the_fhir_r4_schema(backend: Backend) {
    let validator = tool("REFERRAL_HUB_FHIR_VALIDATOR");
    let hub = TestHub::start(backend).await;
    let bundle: Value = serde_json::from_slice(&std::fs::read(example_path()).expect("example")).expect("JSON");
    let mut answers = vec![];
    let mut statement = fhir(&hub, HEALTH_ORG, "GET", "/metadata", None).await;
    // R4's technical correction 4.0.1 is the version systems speak; the schema the
    // validator ships is the 4.0.0 one, whose fhirVersion list stops at 4.0.0.
    assert_eq!(statement["fhirVersion"], "4.0.1");
    statement["fhirVersion"] = "4.0.0".into();
    answers.push(statement);
    let response = fhir(&hub, HEALTH_ORG, "POST", "", Some(&bundle)).await;
    let location = response["entry"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|e| e["response"]["location"].as_str().filter(|l| l.starts_with("ServiceRequest/")));
    let id = location.expect("a ServiceRequest").split('/').nth(1).unwrap().to_owned();
    answers.push(response);
    let mut task = fhir(&hub, SOCIAL_WELFARE_ORG, "GET", &format!("/Task/{id}"), None).await;
    answers.push(task.clone());
    task["status"] = "received".into();
    task["note"] = json!([{"text": "Seen"}]);
    answers.push(fhir(&hub, SOCIAL_WELFARE_ORG, "PUT", &format!("/Task/{id}"), Some(&task)).await);
    answers.push(
        fhir(
            &hub,
            SOCIAL_WELFARE_ORG,
            "PUT",
            &format!("/Task/{id}"),
            Some(&json!({"resourceType": "Task", "id": "x"})),
        )
        .await,
    );
    answers.push(fhir(&hub, SOCIAL_WELFARE_ORG, "GET", &format!("/ServiceRequest/{id}"), None).await);
    let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": task, "request": {"method": "PUT", "url": format!("Task/{id}"), "ifMatch": "W/\"1\""}},
        {"request": {"method": "GET", "url": "Patient"}},
    ]});
    answers.push(fhir(&hub, SOCIAL_WELFARE_ORG, "POST", "", Some(&batch)).await);
    answers.push(
        fhir(&hub, HEALTH_ORG, "GET", &format!("/Task?owner=Organization/{SOCIAL_WELFARE_ORG}&_count=1"), None).await,
    );
    answers.push(fhir(&hub, HEALTH_ORG, "GET", "/Task?_lastUpdated=gt2100-01-01", None).await);
    answers.push(fhir(&hub, HEALTH_ORG, "GET", "/Task?_count=0", None).await);
    let mut message = bundle.clone();
    message["type"] = "message".into();
    message["identifier"]["value"] = "schema-message".into();
    let header = json!({"resource": {"resourceType": "MessageHeader", "id": "h1",
        "eventCoding": {"system": "https://referral-hub.org/fhir/CodeSystem/message-event", "code": "service-referral"},
        "source": {"endpoint": "https://his.example.org"}}});
    message["entry"].as_array_mut().unwrap().insert(0, header);
    answers.push(fhir(&hub, HEALTH_ORG, "POST", "/$process-message", Some(&message)).await);
    answers.push(fhir(&hub, HEALTH_ORG, "POST", "/$process-message", Some(&bundle)).await);

    let dir = tempfile::tempdir().expect("a temporary directory");
    let files: Vec<_> = answers
        .iter()
        .enumerate()
        .map(|(n, answer)| {
            let path = dir.path().join(format!("{n}-{}.json", answer["resourceType"].as_str().unwrap_or("none")));
            std::fs::write(&path, answer.to_string()).expect("written");
            path
        })
        .collect();
    let output = std::process::Command::new("node").arg(validator).args(&files).output().expect("node runs");
    assert!(
        output.status.success(),
        "answers the FHIR R4 schema refuses:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

referral_hub_e2e::on_both_backends!(
    a_stock_fhir_client_library_refers_updates_and_polls,
    every_answer_of_the_face_passes_the_fhir_r4_schema,
);
