//! The FHIR R4 face (`/fhir/r4`) over a real socket, as a FHIR client uses
//! it: CapabilityStatement, transaction and `$process-message`, Task read,
//! update with `If-Match` and search, ServiceRequest read; each status code
//! FHIR http.html prescribes, always `application/fhir+json` with an
//! OperationOutcome whose expression is FHIRPath and whose details carry the
//! hub's code.

use referral_hub_e2e::{Backend, HEALTH_ORG, SOCIAL_WELFARE_ORG, TestHub};
use serde_json::{Value, json};

const SCHOOL: &str = "demo-school-hlaing";
const HUB_ERRORS: &str = "https://referral-hub.org/fhir/CodeSystem/hub-error";

/// The README's referral Bundle (health -> social welfare), under its own request id.
fn referral(request_id: &str) -> Value {
    let path = format!("{}/../docs/examples/health-referral-bundle.json", env!("CARGO_MANIFEST_DIR"));
    let mut bundle: Value = serde_json::from_slice(&std::fs::read(path).expect("example")).expect("JSON");
    bundle["identifier"]["value"] = request_id.into();
    bundle
}

/// An answer: status, headers, body as JSON (Null when it is not JSON).
struct Answer {
    status: u16,
    content_type: String,
    etag: Option<String>,
    body: Value,
}

impl Answer {
    /// The first issue's hub code and expression.
    fn issue(&self) -> (String, Value) {
        assert_eq!(self.body["resourceType"], "OperationOutcome", "{}", self.body);
        let issue = &self.body["issue"][0];
        assert_eq!(issue["details"]["coding"][0]["system"], HUB_ERRORS, "{issue}");
        (issue["details"]["coding"][0]["code"].as_str().unwrap_or_default().to_owned(), issue["expression"].clone())
    }
}

/// A FHIR client of `hub` for one organisation with both roles.
struct Fhir<'a> {
    hub: &'a TestHub,
    token: Option<String>,
}

impl<'a> Fhir<'a> {
    fn of(hub: &'a TestHub, org: &str) -> Self {
        Fhir { hub, token: Some(hub.token(org, &["referrer", "receiver"])) }
    }

    async fn send(&self, method: &str, path: &str, body: Option<(&str, Vec<u8>)>, headers: &[(&str, &str)]) -> Answer {
        let url = format!("http://{}/fhir/r4{path}", self.hub.address);
        let mut request = reqwest::Client::new().request(method.parse().expect("a method"), url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some((media, bytes)) = body {
            request = request.header("content-type", media).body(bytes);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the hub answers");
        let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        let (status, content_type, etag) =
            (response.status().as_u16(), header("content-type").unwrap_or_default(), header("etag"));
        let text = response.text().await.expect("a body");
        Answer { status, content_type, etag, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send("GET", path, None, &[]).await
    }

    async fn post(&self, path: &str, resource: &Value) -> Answer {
        self.send("POST", path, Some(("application/fhir+json", resource.to_string().into())), &[]).await
    }

    async fn put(&self, path: &str, resource: &Value, if_match: Option<&str>) -> Answer {
        let headers: Vec<(&str, &str)> = if_match.map(|tag| ("if-match", tag)).into_iter().collect();
        self.send("PUT", path, Some(("application/fhir+json; charset=utf-8", resource.to_string().into())), &headers)
            .await
    }

    /// Submits `referral(request_id)`; the message (Task) id.
    async fn refer(&self, request_id: &str) -> String {
        let answer = self.post("", &referral(request_id)).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let location = answer.body["entry"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|e| e["response"]["location"].as_str().filter(|l| l.starts_with("ServiceRequest/")))
            .expect("the ServiceRequest's location")
            .to_owned();
        location.trim_start_matches("ServiceRequest/").trim_end_matches("/_history/1").to_owned()
    }
}

async fn a_transaction_is_answered_entry_by_entry_and_read_back(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let (health, welfare, school) =
        (Fhir::of(&hub, HEALTH_ORG), Fhir::of(&hub, SOCIAL_WELFARE_ORG), Fhir::of(&hub, SCHOOL));

    // Read before any token, as FHIR (and SMART) clients do.
    let metadata = Fhir { hub: &hub, token: None }.get("/metadata").await;
    assert_eq!((metadata.status, metadata.content_type.as_str()), (200, "application/fhir+json"));
    assert_eq!(metadata.body["resourceType"], "CapabilityStatement");
    assert_eq!(metadata.body["fhirVersion"], "4.0.1");

    let bundle = referral("fhir-face-1");
    let answer = health.post("", &bundle).await;
    assert_eq!((answer.status, answer.content_type.as_str()), (200, "application/fhir+json"), "{}", answer.body);
    assert_eq!(answer.body["type"], "transaction-response");
    let entries = answer.body["entry"].as_array().unwrap();
    assert_eq!(entries.len(), bundle["entry"].as_array().unwrap().len(), "one response per entry");
    assert!(entries.iter().all(|e| e["response"]["status"] == "201 Created"), "{}", answer.body);
    let id = health.refer("fhir-face-1").await;
    let again = health.post("", &bundle).await;
    assert!(again.body["entry"].as_array().unwrap().iter().all(|e| e["response"]["status"] == "200 OK"), "a retry");

    let task = welfare.get(&format!("/Task/{id}")).await;
    assert_eq!(task.status, 200, "{}", task.body);
    assert_eq!(task.etag.as_deref(), Some("W/\"1\""));
    assert_eq!((&task.body["status"], &task.body["meta"]["versionId"]), (&json!("requested"), &json!("1")));
    assert_eq!(task.body["owner"]["reference"], format!("Organization/{SOCIAL_WELFARE_ORG}"));
    for reader in [&health, &welfare] {
        let request = reader.get(&format!("/ServiceRequest/{id}")).await;
        assert_eq!(request.status, 200, "{}", request.body);
        assert_eq!(request.body["resourceType"], "ServiceRequest");
    }
    // Another organisation cannot tell the referral exists.
    for path in
        [format!("/Task/{id}"), format!("/ServiceRequest/{id}"), "/Task/0193f1a2-0000-7000-8000-000000000000".into()]
    {
        let answer = school.get(&path).await;
        assert_eq!((answer.status, answer.issue().0.as_str()), (404, "NOT_FOUND"));
    }

    // $process-message takes what /fhir/r4/Bundle takes: a message Bundle.
    let mut message = referral("fhir-face-message");
    message["type"] = "message".into();
    let header = json!({"fullUrl": "urn:uuid:6f1c0a7e-5b7d-4c1e-9a61-0c3e8f1b2a99", "resource": {
        "resourceType": "MessageHeader", "id": "ygh-msg-1",
        "eventCoding": {"system": "https://referral-hub.org/fhir/CodeSystem/message-event", "code": "service-referral"},
        "source": {"endpoint": "https://his.ygh.example.org"}}});
    message["entry"].as_array_mut().unwrap().insert(0, header);
    let answer = health.post("/$process-message", &message).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let response = &answer.body["entry"][0]["resource"];
    assert_eq!(
        (&response["response"]["code"], &response["response"]["identifier"]),
        (&json!("ok"), &json!("ygh-msg-1"))
    );
}

async fn a_task_update_needs_the_current_version_and_a_legal_move(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let (health, welfare, school) =
        (Fhir::of(&hub, HEALTH_ORG), Fhir::of(&hub, SOCIAL_WELFARE_ORG), Fhir::of(&hub, SCHOOL));
    let id = health.refer("fhir-face-put").await;
    let path = format!("/Task/{id}");
    let read = welfare.get(&path).await.body;

    let mut received = read.clone();
    received["status"] = "received".into();
    let answer = welfare.put(&path, &received, Some("W/\"1\"")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.etag.as_deref(), Some("W/\"2\""));
    assert_eq!(answer.body["status"], "received");
    assert_eq!(health.get(&path).await.body["status"], "received", "the sender sees the move");

    // The same change made on the old version again: the Task moved since.
    let stale = welfare.put(&path, &received, Some("W/\"1\"")).await;
    assert_eq!(stale.status, 412, "{}", stale.body);
    assert_eq!(stale.issue(), ("VERSION_CONFLICT".into(), json!(["Task.meta.versionId"])));

    // Starting the service before accepting the referral: the life cycle refuses it.
    let mut started = answer.body.clone();
    started["status"] = "in-progress".into();
    let illegal = welfare.put(&path, &started, Some("W/\"2\"")).await;
    assert_eq!(illegal.status, 409, "{}", illegal.body);
    assert_eq!(illegal.issue(), ("ILLEGAL_TRANSITION".into(), json!(["Task.status"])));

    // Declining needs a reason: a business rule, 422, naming the element.
    let mut rejected = answer.body.clone();
    rejected["status"] = "rejected".into();
    let unreasoned = welfare.put(&path, &rejected, None).await;
    assert_eq!(unreasoned.status, 422, "{}", unreasoned.body);
    assert_eq!(unreasoned.issue(), ("INVALID_ARGUMENT".into(), json!(["Task.statusReason"])));

    let mut noted = answer.body.clone();
    noted["note"] = json!([{"text": "first call made"}]);
    let answer = welfare.put(&path, &noted, Some("W/\"2\"")).await;
    assert_eq!((answer.status, answer.etag.as_deref()), (200, Some("W/\"3\"")), "{}", answer.body);
    assert_eq!(answer.body["note"], json!([{"text": "first call made"}]));

    let mut id_mismatch = answer.body.clone();
    id_mismatch["id"] = "another".into();
    assert_eq!(welfare.put(&path, &id_mismatch, None).await.status, 400);
    let theirs = school.put(&path, &answer.body, None).await;
    assert_eq!((theirs.status, theirs.issue().0.as_str()), (404, "NOT_FOUND"), "another agency cannot change it");
}

async fn refusals_carry_the_status_fhir_prescribes(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let health = Fhir::of(&hub, HEALTH_ORG);
    let fhir_json = Some(("application/fhir+json", b"{\"resourceType\": \"Bundle\",".to_vec()));
    let cases: Vec<(Answer, u16, &str)> = vec![
        (health.send("POST", "", fhir_json, &[]).await, 400, "NOT_JSON"),
        (
            health.send("POST", "", Some(("application/fhir+xml", b"<Bundle/>".to_vec())), &[]).await,
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (health.send("DELETE", "/Task/x", None, &[]).await, 405, "METHOD_NOT_ALLOWED"),
        (health.send("DELETE", "/Task", None, &[]).await, 405, "METHOD_NOT_ALLOWED"),
        (health.get("/Bundle").await, 405, "METHOD_NOT_ALLOWED"),
        (health.get("/Patient/x").await, 404, "NOT_FOUND"),
        (health.post("/$process-message", &referral("wrong-type")).await, 422, "WRONG_BUNDLE_TYPE"),
        (health.get("/Task?_lastUpdated=sa2026").await, 400, "INVALID_SEARCH"),
        (Fhir { hub: &hub, token: None }.get("/ServiceRequest/x").await, 401, "UNAUTHENTICATED"),
        (Fhir { hub: &hub, token: None }.get("/Task").await, 401, "UNAUTHENTICATED"),
    ];
    for (answer, status, code) in cases {
        assert_eq!(
            (answer.status, answer.content_type.as_str()),
            (status, "application/fhir+json"),
            "{code}: {}",
            answer.body
        );
        assert_eq!(answer.issue().0, code);
    }

    let mut bundle = referral("bad-gender");
    let patient =
        bundle["entry"].as_array_mut().unwrap().iter_mut().find(|e| e["resource"]["resourceType"] == "Patient");
    patient.expect("a Patient")["resource"]["gender"] = "robot".into();
    let answer = health.post("", &bundle).await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    let (code, expression) = answer.issue();
    assert_eq!(code, "INVALID_ARGUMENT");
    assert!(expression[0].as_str().unwrap().starts_with("Bundle.entry"), "FHIRPath: {expression}");
}

async fn a_system_polls_its_tasks_page_by_page(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let (health, welfare, school) =
        (Fhir::of(&hub, HEALTH_ORG), Fhir::of(&hub, SOCIAL_WELFARE_ORG), Fhir::of(&hub, SCHOOL));
    let mut ids = vec![];
    for n in 0..3 {
        ids.push(health.refer(&format!("fhir-face-poll-{n}")).await);
    }
    ids.reverse(); // newest first

    let owner = format!("/Task?owner=Organization/{SOCIAL_WELFARE_ORG}&_count=2");
    let page = welfare.get(&owner).await;
    assert_eq!((page.status, &page.body["type"]), (200, &json!("searchset")), "{}", page.body);
    let found = |page: &Value| -> Vec<String> {
        page["entry"]
            .as_array()
            .map(|e| e.iter().map(|e| e["resource"]["id"].as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    assert_eq!(found(&page.body), ids[..2]);
    let link = |page: &Value, relation: &str| {
        page["link"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["relation"] == relation)
            .map(|l| l["url"].as_str().unwrap().to_owned())
    };
    assert!(link(&page.body, "self").is_some());
    let next = link(&page.body, "next").expect("a next page");
    let path = next.split("/fhir/r4").nth(1).expect("a FHIR URL").to_owned();
    let second = welfare.get(&path).await.body;
    assert_eq!(found(&second), ids[2..]);

    // The sender polls the same Tasks by requester; statuses and _lastUpdated narrow them.
    let sent = health.get(&format!("/Task?requester=Organization/{HEALTH_ORG}")).await.body;
    assert_eq!(found(&sent), ids);
    let mut received = welfare.get(&format!("/Task/{}", ids[0])).await.body;
    received["status"] = "received".into();
    assert_eq!(welfare.put(&format!("/Task/{}", ids[0]), &received, None).await.status, 200);
    assert_eq!(found(&welfare.get("/Task?status=received").await.body), ids[..1]);
    assert_eq!(found(&welfare.get("/Task?status=requested,completed").await.body), ids[1..]);
    assert!(found(&welfare.get("/Task?_lastUpdated=gt2100-01-01").await.body).is_empty());
    assert_eq!(found(&welfare.get("/Task?_lastUpdated=ge2000-01-01T00:00:00Z").await.body), ids);
    assert!(found(&school.get("/Task").await.body).is_empty(), "another agency sees none of them");
    assert!(found(&school.get(&format!("/Task?owner=Organization/{SOCIAL_WELFARE_ORG}")).await.body).is_empty());
}

async fn a_batch_updates_each_task_on_its_own(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let (health, welfare) = (Fhir::of(&hub, HEALTH_ORG), Fhir::of(&hub, SOCIAL_WELFARE_ORG));
    let (first, second) = (health.refer("fhir-face-batch-1").await, health.refer("fhir-face-batch-2").await);
    let received = |id: &str| {
        json!({"resourceType": "Task", "id": id, "status": "received",
        "focus": {"reference": format!("ServiceRequest/{id}")}})
    };
    let put = |id: &str, if_match: &str| {
        json!({"resource": received(id),
        "request": {"method": "PUT", "url": format!("Task/{id}"), "ifMatch": if_match}})
    };
    let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        put(&first, "W/\"1\""),
        put(&second, "W/\"7\""),
        {"request": {"method": "DELETE", "url": format!("Task/{first}")}},
    ]});
    let answer = welfare.post("", &batch).await;
    assert_eq!((answer.status, &answer.body["type"]), (200, &json!("batch-response")), "{}", answer.body);
    let responses: Vec<&Value> = answer.body["entry"].as_array().unwrap().iter().map(|e| &e["response"]).collect();
    assert_eq!(responses[0]["status"], "200 OK");
    assert_eq!(responses[0]["etag"], "W/\"2\"");
    assert_eq!(responses[1]["status"], "412 Precondition Failed");
    assert_eq!(responses[1]["outcome"]["issue"][0]["details"]["coding"][0]["code"], "VERSION_CONFLICT");
    assert_eq!(responses[2]["status"], "400 Bad Request");
    assert_eq!(welfare.get(&format!("/Task/{first}")).await.body["status"], "received");
    assert_eq!(welfare.get(&format!("/Task/{second}")).await.body["status"], "requested", "refused alone");
}

referral_hub_e2e::on_both_backends!(
    a_batch_updates_each_task_on_its_own,
    a_transaction_is_answered_entry_by_entry_and_read_back,
    a_task_update_needs_the_current_version_and_a_legal_move,
    refusals_carry_the_status_fhir_prescribes,
    a_system_polls_its_tasks_page_by_page,
);
