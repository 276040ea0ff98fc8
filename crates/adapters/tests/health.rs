//! The HEALTH (FHIR R4) adapter's tests: golden files, round trip, refusals,
//! fuzzing, and validation of every outbound document by a third-party FHIR
//! R4 schema validator.

use std::{path::PathBuf, process::Command};

use proptest::prelude::*;
use serde_json::{Value, json};

use referral_hub_adapters::{Adapter, Inbound, Outbound, health::HealthAdapter};
use referral_hub_domain::{
    consent::{ConsentPolicy, cut_payload},
    sample,
    wire::{
        ConsentRefusal, FollowUp, FollowUpAction, Message, MessageKind, MessageStatus, MessageWithheld, RiskLevel,
        Sector, SubmitMessageRequest, message, submit_message_request,
    },
};

const BUNDLE: &str = "/fhir/r4/Bundle";
const TASK: &str = "/fhir/r4/Task";
const MESSAGE_ID: &str = "01936f4e-6f1a-7c2b-9d3e-4f5a6b7c8d9e";

fn adapter() -> HealthAdapter {
    HealthAdapter::new().expect("the default code tables load")
}

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/health").join(name)
}

/// The fixture's text; with `REFERRAL_HUB_BLESS=1`, `actual` is written first (to review with git diff).
fn golden(name: &str, actual: &str) -> String {
    let path = fixture_path(name);
    if std::env::var_os("REFERRAL_HUB_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("missing fixture {name}"))
}

/// Proto JSON of a canonical message, as grpcurl prints it.
fn proto_json<M: prost::Message>(message: &M, name: &str) -> String {
    let pool = prost_reflect::DescriptorPool::decode(referral_hub_proto::FILE_DESCRIPTOR_SET).unwrap();
    let descriptor = pool.get_message_by_name(&format!("referralhub.v1.{name}")).unwrap();
    let dynamic = prost_reflect::DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice()).unwrap();
    let value = serde_json::to_value(&dynamic).unwrap();
    serde_json::to_string_pretty(&value).unwrap() + "\n"
}

fn inbound_one(path: &str, body: &[u8]) -> Inbound {
    let mut all = adapter().inbound(path, body).unwrap_or_else(|v| panic!("refused: {v:#?}"));
    assert_eq!(all.len(), 1);
    all.remove(0)
}

/// The message the hub delivers to a HEALTH receiver for `request`: payload cut by disclosure.
fn delivered(request: &SubmitMessageRequest) -> Message {
    let payload = referral_hub_domain::payload::from_submit(request.payload.clone().unwrap());
    let cut = cut_payload(&payload, &ConsentPolicy::default().needs(Sector::Health)).payload;
    let kind = match &cut {
        message::Payload::Referral(_) => MessageKind::ServiceReferral,
        message::Payload::CaseTransfer(_) => MessageKind::CaseTransfer,
        message::Payload::SeparatedChildAlert(_) => MessageKind::SeparatedChildAlert,
    };
    Message {
        id: MESSAGE_ID.into(),
        request_id: request.request_id.clone(),
        kind: kind as i32,
        sender_org_id: "demo-health-ygn".into(),
        sender_subject: "nurse-1".into(),
        recipient_org_id: if request.recipient_org_id.is_empty() {
            "demo-sw-hlaing".into()
        } else {
            request.recipient_org_id.clone()
        },
        status: MessageStatus::Submitted as i32,
        created_at: Some(prost_types::Timestamp { seconds: 1_795_000_000, nanos: 0 }),
        acknowledge_by: Some(prost_types::Timestamp { seconds: 1_795_003_600, nanos: 0 }),
        respond_by: Some(prost_types::Timestamp { seconds: 1_795_086_400, nanos: 0 }),
        child: request.child.clone(),
        payload: Some(cut),
        ..Message::default()
    }
}

fn body(document: &referral_hub_adapters::Document) -> String {
    assert_eq!(document.content_type, "application/fhir+json");
    String::from_utf8(document.body.clone()).unwrap() + "\n"
}

#[test]
fn health_golden_referral_bundle_in() {
    let text = std::fs::read(fixture_path("referral-bundle.json")).unwrap();
    let Inbound::Submit(request) = inbound_one(BUNDLE, &text) else { panic!("not a submit") };
    let json = proto_json(&request, "SubmitMessageRequest");
    assert_eq!(json, golden("referral-bundle.canonical.json", &json));
}

#[test]
fn health_golden_alert_bundle_in() {
    let text = std::fs::read(fixture_path("alert-bundle.json")).unwrap();
    let Inbound::Submit(request) = inbound_one(BUNDLE, &text) else { panic!("not a submit") };
    let json = proto_json(&request, "SubmitMessageRequest");
    assert_eq!(json, golden("alert-bundle.canonical.json", &json));
}

#[test]
fn health_golden_task_update_in() {
    let text = std::fs::read(fixture_path("task-update.json")).unwrap();
    let Inbound::FollowUp(request) = inbound_one(TASK, &text) else { panic!("not a follow-up") };
    let json = proto_json(&request, "PostFollowUpRequest");
    assert_eq!(json, golden("task-update.canonical.json", &json));
}

#[test]
fn health_golden_outbound_documents() {
    let health = adapter();
    for (name, document) in outbound_documents(&health) {
        let text = body(&document);
        assert_eq!(text, golden(&format!("out-{name}.json"), &text), "{name}");
    }
}

/// Every kind of outbound document: a referral, a case transfer, an alert,
/// a follow-up of each action, a withheld message.
fn outbound_documents(health: &HealthAdapter) -> Vec<(String, referral_hub_adapters::Document)> {
    let mut documents = vec![];
    for (name, request) in [
        ("referral", sample::submit("req-1", "demo-health-ygh")),
        ("transfer", sample::submit_transfer("req-3", "demo-health-ygh")),
        ("alert", sample::submit_alert("req-2")),
    ] {
        documents.push((name.to_owned(), health.outbound(Outbound::Message(&delivered(&request))).unwrap()));
    }
    for action in 1..=12 {
        let action = FollowUpAction::try_from(action).unwrap();
        let follow_up = FollowUp {
            id: "01936f4f-0000-7000-8000-000000000001".into(),
            message_id: MESSAGE_ID.into(),
            request_id: "fu-1".into(),
            author_org_id: "demo-health-ygh".into(),
            author_subject: "doctor-2".into(),
            action: action as i32,
            status_after: MessageStatus::Accepted as i32,
            created_at: Some(prost_types::Timestamp { seconds: 1_795_010_000, nanos: 0 }),
            reason: "Outside our catchment area.".into(),
            note: "Seen by the paediatrician.".into(),
            outcome: "Treated; follow-up visit booked.".into(),
            appointment_at: Some(prost_types::Timestamp { seconds: 1_795_100_000, nanos: 0 }),
            next_review_date: "2026-12-15".into(),
            shared_with_sender: true,
        };
        let name = format!("follow-up-{}", action.as_str_name().trim_start_matches("FOLLOW_UP_ACTION_").to_lowercase());
        documents.push((name, health.outbound(Outbound::FollowUp(&follow_up)).unwrap()));
    }
    let withheld = MessageWithheld {
        message_id: MESSAGE_ID.into(),
        reasons: vec![ConsentRefusal::Expired as i32, ConsentRefusal::WrongPurpose as i32],
    };
    documents.push(("withheld".into(), health.outbound(Outbound::Withheld(&withheld)).unwrap()));
    documents
}

#[test]
fn health_outbound_documents_pass_the_fhir_r4_schema_validator() {
    let script = std::env::var("REFERRAL_HUB_FHIR_VALIDATOR").unwrap_or_else(|_| {
        panic!("REFERRAL_HUB_FHIR_VALIDATOR is not set: run the tests through ./scripts/test, which installs the FHIR validator")
    });
    let dir = std::env::temp_dir().join(format!("referral-hub-health-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let health = adapter();
    let mut files = vec![];
    for (name, document) in outbound_documents(&health) {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, &document.body).unwrap();
        files.push(path);
    }
    // What the hub accepts and ships should be valid FHIR too.
    for name in ["referral-bundle.json", "alert-bundle.json", "task-update.json"] {
        files.push(fixture_path(name));
    }
    let map = dir.join("snomed-ct.conceptmap.json");
    std::fs::write(&map, referral_hub_adapters::health::DEFAULT_CONCEPT_MAP).unwrap();
    files.push(map);
    let violations =
        [referral_hub_adapters::NativeViolation { element: "Bundle.type".into(), description: "required".into() }];
    let errors = dir.join("operation-outcome.json");
    std::fs::write(&errors, health.errors(&violations).body).unwrap();
    files.push(errors);
    let run = |files: &[PathBuf]| Command::new("node").arg(&script).args(files).output().expect("node runs");
    let output = run(&files);
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // The validator is strict: a Task with a status outside the required value set fails.
    let bogus = dir.join("bogus-task.json");
    std::fs::write(&bogus, r#"{"resourceType":"Task","status":"bogus","intent":"order"}"#).unwrap();
    let output = run(&[bogus]);
    assert!(!output.status.success(), "the validator accepted Task.status `bogus`");
    assert!(String::from_utf8_lossy(&output.stderr).contains(".status"));
    // medplum finds what the schema cannot: a Task without its required intent ...
    let no_intent = dir.join("no-intent.json");
    std::fs::write(&no_intent, r#"{"resourceType":"Task","status":"requested"}"#).unwrap();
    let output = run(&[no_intent]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("medplum: Task.intent"), "{output:?}");
    // ... and a urn:uuid reference to an entry of the wrong type fails (the script's own check).
    let (_, referral) = outbound_documents(&health).into_iter().next().unwrap();
    let mut bundle: Value = serde_json::from_slice(&referral.body).unwrap();
    let patient_url = bundle["entry"][2]["fullUrl"].clone();
    assert_eq!(bundle["entry"][2]["resource"]["resourceType"], "Patient");
    bundle["entry"][0]["resource"]["sender"]["reference"] = patient_url;
    let wrong = dir.join("sender-is-a-patient.json");
    std::fs::write(&wrong, bundle.to_string()).unwrap();
    let output = run(&[wrong]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("medplum: Bundle.entry[0].resource.sender"), "{output:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn health_outbound_follow_ups_come_back_as_the_same_follow_up() {
    let health = adapter();
    for (name, document) in outbound_documents(&health).into_iter().filter(|(n, _)| n.starts_with("follow-up")) {
        let Inbound::FollowUp(back) = inbound_one(TASK, &document.body) else { panic!("{name}") };
        assert_eq!(back.message_id, MESSAGE_ID, "{name}");
        assert_eq!(back.request_id, format!("Task/{MESSAGE_ID}/_history/01936f4f-0000-7000-8000-000000000001"));
        assert_eq!(
            (back.reason.as_str(), back.note.as_str()),
            ("Outside our catchment area.", "Seen by the paediatrician.")
        );
        assert_eq!(back.outcome, "Treated; follow-up visit booked.");
        assert_eq!(back.appointment_at.unwrap().seconds, 1_795_100_000);
        assert!(back.share_with_sender);
        assert_eq!(
            format!(
                "follow-up-{}",
                FollowUpAction::try_from(back.action)
                    .unwrap()
                    .as_str_name()
                    .trim_start_matches("FOLLOW_UP_ACTION_")
                    .to_lowercase()
            ),
            name
        );
    }
}

/// Canonical -> FHIR -> canonical for one request, compared on what HEALTH may see.
/// Excluded: the envelope the hub sets (consent, consent_id, legal basis,
/// re_referral_of, which travel in no HEALTH document) and, for alerts,
/// recipient_org_id (the hub routes alerts; the sender leaves it empty).
fn round_trip(request: &SubmitMessageRequest) -> Result<(), TestCaseError> {
    let health = adapter();
    let message = delivered(request);
    let document = health.outbound(Outbound::Message(&message)).unwrap();
    let back = match health.inbound(BUNDLE, &document.body) {
        Ok(mut all) => match all.remove(0) {
            Inbound::Submit(back) => back,
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        },
        Err(violations) => return Err(TestCaseError::fail(format!("{violations:#?}"))),
    };
    let expected = SubmitMessageRequest {
        request_id: request.request_id.clone(),
        recipient_org_id: if let Some(message::Payload::SeparatedChildAlert(_)) = &message.payload {
            String::new()
        } else {
            request.recipient_org_id.clone()
        },
        child: request.child.clone(),
        payload: Some(match message.payload.unwrap() {
            message::Payload::Referral(r) => submit_message_request::Payload::Referral(r),
            message::Payload::CaseTransfer(t) => submit_message_request::Payload::CaseTransfer(t),
            message::Payload::SeparatedChildAlert(a) => submit_message_request::Payload::SeparatedChildAlert(a),
        }),
        ..SubmitMessageRequest::default()
    };
    prop_assert_eq!(back, expected);
    Ok(())
}

const CONCERNS: &[&str] =
    &["physical_violence", "sexual_violence", "neglect", "trafficking", "fgm", "mhpss_need", "other"];
const SERVICES: &[&str] = &["health_care", "mhpss", "family_tracing", "legal_aid", "shelter", "case_management"];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[A-Za-z][A-Za-z0-9 ,.'éá-]{0,40}[a-z.]"]
}

prop_compose! {
    fn referral_request()(
        request_id in "[a-z0-9-]{1,40}",
        local_id in "[A-Z0-9-]{1,20}",
        concerns in proptest::sample::subsequence(CONCERNS, 1..4),
        services in proptest::sample::subsequence(SERVICES, 1..4),
        risk in 1..=3i32, priority in 1..=3i32,
        reason in "[A-Za-z][A-Za-z ]{0,60}[a-z]",
        notes in text(), safety in text(), views in text(), informed in any::<bool>(),
        given in text(), family in text(), sex in proptest::sample::select(vec!["female", "male", "other", "unknown"]),
        dob in proptest::option::of("20(1[0-9]|2[0-5])-0[1-9]-[12][0-8]"),
        languages in proptest::sample::subsequence(vec!["my", "en", "fr", "shn"], 0..3),
        caregiver in any::<bool>(), exclusion in 1..=4i32, phone in text(),
        location in proptest::option::of(("[A-Z]{2}/[A-Za-z]{2,8}", text())),
        attachments in 0..3usize,
    ) -> SubmitMessageRequest {
        let mut request = sample::submit(&request_id, "demo-health-ygh");
        request.child.as_mut().unwrap().local_id = local_id;
        let Some(submit_message_request::Payload::Referral(r)) = &mut request.payload else { unreachable!() };
        r.protection_concerns = concerns.iter().map(|c| c.to_string()).collect();
        r.requested_services = services.iter().map(|s| s.to_string()).collect();
        (r.risk_level, r.priority, r.reason, r.notes, r.safety_concerns, r.child_views, r.child_informed) =
            (risk, priority, reason, notes, safety, views, informed);
        let child = r.child.as_mut().unwrap();
        (child.given_name, child.family_name, child.sex) = (given, family, sex.into());
        child.estimated_age_years = if dob.is_some() { None } else { Some(5) };
        child.date_of_birth = dob.unwrap_or_default();
        child.languages = languages.iter().map(|l| l.to_string()).collect();
        if caregiver {
            let c = r.caregiver.as_mut().unwrap();
            (c.exclusion, c.phone) = (exclusion, phone);
        } else {
            r.caregiver = None;
        }
        r.current_location = location.map(|(area, description)| referral_hub_domain::wire::Location { area_code: area, description });
        r.attachments.truncate(attachments);
        request
    }
}

prop_compose! {
    fn alert_request()(
        request_id in "[a-z0-9-]{1,40}",
        risk in 1..=3i32, features in text(), needs in text(), wishes in text(),
        nicknames in proptest::collection::vec("[A-Za-z][A-Za-z ]{0,10}[a-z]", 0..3),
        found_by in text(), siblings in 0..3usize, age in proptest::option::of(0..30u32),
        carer in any::<bool>(), carer_phone in text(),
    ) -> SubmitMessageRequest {
        let mut request = sample::submit_alert(&request_id);
        let Some(submit_message_request::Payload::SeparatedChildAlert(a)) = &mut request.payload else { unreachable!() };
        (a.risk_level, a.identifying_features, a.urgent_medical_needs, a.child_wishes, a.nicknames, a.found_by) =
            (risk, features, needs, wishes, nicknames, found_by);
        let sibling = a.siblings_with_child[0].clone();
        a.siblings_with_child = (0..siblings).map(|_| referral_hub_domain::wire::Sibling { age_years: age, ..sibling.clone() }).collect();
        if carer { a.current_carer.as_mut().unwrap().phone = carer_phone } else { a.current_carer = None }
        request
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn health_round_trip_referrals(request in referral_request()) {
        round_trip(&request)?;
    }

    #[test]
    fn health_round_trip_alerts(request in alert_request()) {
        round_trip(&request)?;
    }
}

#[test]
fn health_round_trip_keeps_what_disclosure_cut_absent() {
    let message = delivered(&sample::submit_alert("req-2"));
    let document = body(&adapter().outbound(Outbound::Message(&message)).unwrap());
    // FAMILY is not HEALTH's to see: separation, siblings, family members, tracing consent never appear.
    for absent in ["Daw Khin", "Ma Ma", "Bus station", "tracing-consent", "separation-status", "nurse\""] {
        assert!(!document.contains(absent), "{absent} leaked");
    }
}

fn refused(path: &str, body: &str) -> Vec<(String, String)> {
    match adapter().inbound(path, body.as_bytes()) {
        Ok(ok) => panic!("accepted: {ok:?}"),
        Err(violations) => violations.into_iter().map(|v| (v.element, v.description)).collect(),
    }
}

fn names(violations: &[(String, String)]) -> Vec<&str> {
    violations.iter().map(|(e, _)| e.as_str()).collect()
}

#[test]
fn health_refuses_wrong_types_naming_each_element() {
    let mut bundle: Value =
        serde_json::from_slice(&std::fs::read(fixture_path("referral-bundle.json")).unwrap()).unwrap();
    let entries = bundle["entry"].as_array_mut().unwrap();
    let index = |kind: &str| entries.iter().position(|e| e["resource"]["resourceType"] == kind).unwrap();
    let (patient, request) = (index("Patient"), index("ServiceRequest"));
    entries[patient]["resource"]["gender"] = 7.into();
    entries[patient]["resource"]["name"] = "Aye".into();
    entries[request]["resource"]["reasonCode"][1]["coding"] = Value::Bool(true);
    let violations = refused(BUNDLE, &bundle.to_string());
    let names = names(&violations);
    for element in [
        format!("Bundle.entry[{patient}].resource.gender"),
        format!("Bundle.entry[{patient}].resource.name"),
        format!("Bundle.entry[{request}].resource.reasonCode[1].coding"),
    ] {
        assert!(names.contains(&element.as_str()), "{element} not named in {names:?}");
    }
    assert_eq!(refused(TASK, "[1, 2]"), vec![("Task".to_owned(), "must be a JSON object".to_owned())]);
    assert_eq!(refused(BUNDLE, "{\"resourceType\": ")[0].0, "Bundle");
}

#[test]
fn health_refuses_missing_elements_and_unknown_codes() {
    let mut bundle: Value =
        serde_json::from_slice(&std::fs::read(fixture_path("referral-bundle.json")).unwrap()).unwrap();
    let entries = bundle["entry"].as_array_mut().unwrap();
    let index = |kind: &str| entries.iter().position(|e| e["resource"]["resourceType"] == kind).unwrap();
    let (patient, request) = (index("Patient"), index("ServiceRequest"));
    entries[patient]["resource"].as_object_mut().unwrap().remove("gender");
    entries[request]["resource"].as_object_mut().unwrap().remove("performer");
    entries[request]["resource"]["priority"] = "whenever".into();
    entries[request]["resource"]["reasonCode"][0]["coding"][0]["code"] = "bogus_concern".into();
    let violations = refused(BUNDLE, &bundle.to_string());
    let names = names(&violations);
    for element in [
        format!("Bundle.entry[{patient}].resource.gender"),
        format!("Bundle.entry[{request}].resource.performer"),
        format!("Bundle.entry[{request}].resource.priority"),
        format!("Bundle.entry[{request}].resource.reasonCode[0].coding[0].code"),
    ] {
        assert!(names.contains(&element.as_str()), "{element} not named in {names:?}");
    }
    let priority = violations.iter().find(|(e, _)| e.ends_with(".priority")).unwrap();
    assert!(priority.1.contains("`whenever`") && priority.1.contains("routine"), "{}", priority.1);

    // Task.status: a non-FHIR code, and FHIR codes with no follow-up action.
    let task = std::fs::read_to_string(fixture_path("task-update.json")).unwrap();
    let mut task: Value = serde_json::from_str(&task).unwrap();
    task.as_object_mut().unwrap().remove("businessStatus");
    for status in ["bogus", "draft", "requested", "ready", "on-hold", "failed", "entered-in-error"] {
        task["status"] = status.into();
        let violations = refused(TASK, &task.to_string());
        assert!(
            violations.iter().any(|(e, d)| e == "Task.status" && d.contains(&format!("`{status}`"))),
            "{violations:?}"
        );
    }
    task.as_object_mut().unwrap().remove("focus");
    task.as_object_mut().unwrap().remove("meta");
    let names: Vec<String> = refused(TASK, &task.to_string()).into_iter().map(|(e, _)| e).collect();
    assert!(names.contains(&"Task.focus".to_owned()) && names.contains(&"Task.meta.versionId".to_owned()), "{names:?}");
}

#[test]
fn health_maps_task_statuses_to_follow_up_actions() {
    let task: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture_path("task-update.json")).unwrap()).unwrap();
    for (status, action) in [
        ("received", FollowUpAction::Acknowledge),
        ("accepted", FollowUpAction::Accept),
        ("rejected", FollowUpAction::Decline),
        ("in-progress", FollowUpAction::StartService),
        ("completed", FollowUpAction::Complete),
        ("cancelled", FollowUpAction::Withdraw),
    ] {
        let mut task = task.clone();
        task.as_object_mut().unwrap().remove("businessStatus");
        task["status"] = status.into();
        let Inbound::FollowUp(request) = inbound_one(TASK, task.to_string().as_bytes()) else { panic!() };
        assert_eq!(request.action, action as i32, "{status}");
    }
}

const BSER: &str = "http://hl7.org/fhir/us/bser/CodeSystem/TaskBusinessStatusCS";

#[test]
fn health_maps_bser_business_statuses_to_follow_up_actions() {
    let task: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture_path("task-update.json")).unwrap()).unwrap();
    let with_bser = |code: &str| {
        let mut task = task.clone();
        task["status"] = "in-progress".into();
        task["businessStatus"]["coding"] = json!([{"system": BSER, "code": code, "display": "BSeR"}]);
        task.to_string()
    };
    for (code, action) in [
        ("3.0", FollowUpAction::Accept),
        ("4.0", FollowUpAction::Decline),
        ("5.1.1", FollowUpAction::ScheduleAppointment),
        ("5.1.2", FollowUpAction::DidNotAttend),
        ("5.2", FollowUpAction::Withdraw),
        ("7.0", FollowUpAction::Complete),
    ] {
        let Inbound::FollowUp(request) = inbound_one(TASK, with_bser(code).as_bytes()) else { panic!() };
        assert_eq!(request.action, action as i32, "BSeR {code} wins over Task.status in-progress");
    }
    for code in ["2.0", "5.1.3", "5.1.4", "6.0", "bogus"] {
        let violations = refused(TASK, &with_bser(code));
        assert!(
            violations.iter().any(|(e, d)| e == "Task.businessStatus.coding[0].code"
                && d.contains(&format!("`{code}`"))
                && d.contains("bser_business_status")),
            "{code}: {violations:?}"
        );
    }
    // The hub's own coding, when there too, is the one read.
    let mut both: Value = serde_json::from_str(&with_bser("6.0")).unwrap();
    both["businessStatus"]["coding"].as_array_mut().unwrap().push(json!({
        "system": "https://referral-hub.org/fhir/CodeSystem/follow-up-action", "code": "note"
    }));
    let Inbound::FollowUp(request) = inbound_one(TASK, both.to_string().as_bytes()) else { panic!() };
    assert_eq!(request.action, FollowUpAction::Note as i32);
}

#[test]
fn health_outbound_follow_ups_carry_the_bser_business_status_where_it_has_one() {
    let health = adapter();
    let documents = outbound_documents(&health);
    let coding = |name: &str| {
        let (_, document) = documents.iter().find(|(n, _)| n == name).unwrap();
        let task: Value = serde_json::from_slice(&document.body).unwrap();
        task["businessStatus"]["coding"].as_array().unwrap().clone()
    };
    let accept = coding("follow-up-accept");
    assert_eq!((accept[0]["system"].as_str(), accept[0]["code"].as_str()), (Some(BSER), Some("3.0")));
    assert_eq!(accept[1]["code"], "accept", "the hub's coding follows");
    let note = coding("follow-up-note");
    assert_eq!(note.len(), 1, "BSeR has no code for a note: {note:?}");
    assert_eq!(note[0]["code"], "note");
}

#[test]
fn health_refuses_oversize_documents_and_names_errors_in_an_operation_outcome() {
    let big = vec![b' '; referral_hub_adapters::MAX_DOCUMENT_BYTES + 1];
    let violations = adapter().inbound(BUNDLE, &big).unwrap_err();
    assert_eq!(violations[0].element, "Bundle");
    assert!(violations[0].description.contains("bytes"));
    let outcome: Value = serde_json::from_slice(&adapter().errors(&violations).body).unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["expression"][0], "Bundle");
    assert_eq!(outcome["issue"][0]["severity"], "error");
    let unknown = referral_hub_adapters::NativeViolation {
        element: "Task.status".into(),
        description: "code `x` has no mapping in table `task_status`".into(),
    };
    let outcome: Value = serde_json::from_slice(&adapter().errors(&[unknown]).body).unwrap();
    assert_eq!(outcome["issue"][0]["code"], "code-invalid");
}

#[test]
fn health_names_native_elements_of_canonical_fields() {
    let health = adapter();
    assert_eq!(health.native_element(BUNDLE, "referral.child.sex"), "Bundle.entry.resource.ofType(Patient).gender");
    assert_eq!(
        health.native_element(BUNDLE, "referral.protection_concerns[1]"),
        "Bundle.entry.resource.ofType(ServiceRequest).reasonCode[1]"
    );
    assert_eq!(
        health.native_element(BUNDLE, "recipient_org_id"),
        "Bundle.entry.resource.ofType(ServiceRequest).performer"
    );
    assert_eq!(
        health.native_element(BUNDLE, "referral.child.languages[0]"),
        "Bundle.entry.resource.ofType(Patient).communication[0].language"
    );
    assert_eq!(health.native_element(TASK, "outcome"), "Task.output");
    assert_eq!(health.native_element(BUNDLE, "no.such.field"), "no.such.field");
}

#[test]
fn health_code_tables_are_required_and_replaceable() {
    assert!(HealthAdapter::with_codes("[priority]\nRISK_LEVEL_HIGH = \"stat\"").is_err());
    let custom = include_str!("../src/health/codes.toml")
        .replace("RISK_LEVEL_LOW = \"routine\"", "RISK_LEVEL_LOW = \"urgent\"")
        .replace("RISK_LEVEL_MEDIUM = \"urgent\"", "RISK_LEVEL_MEDIUM = \"routine\"");
    let health = HealthAdapter::with_codes(&custom).unwrap();
    let mut request = sample::submit("req-1", "demo-health-ygh");
    let Some(submit_message_request::Payload::Referral(r)) = &mut request.payload else { unreachable!() };
    r.risk_level = RiskLevel::Low as i32;
    let document = body(&health.outbound(Outbound::Message(&delivered(&request))).unwrap());
    let bundle: Value = serde_json::from_str(&document).unwrap();
    let request =
        bundle["entry"].as_array().unwrap().iter().find(|e| e["resource"]["resourceType"] == "ServiceRequest").unwrap();
    assert_eq!(request["resource"]["priority"], "urgent");
}

#[test]
fn health_fuzz_inbound_never_panics() {
    let health = adapter();
    bolero::check!().with_iterations(3000).for_each(|bytes: &[u8]| {
        let _ = health.inbound(BUNDLE, bytes);
        let _ = health.inbound(TASK, bytes);
    });
}

#[test]
fn health_fuzz_mutated_fixtures_never_panic() {
    let health = adapter();
    let fixtures: Vec<Vec<u8>> = ["referral-bundle.json", "alert-bundle.json", "task-update.json"]
        .iter()
        .map(|n| std::fs::read(fixture_path(n)).unwrap())
        .collect();
    bolero::check!().with_iterations(3000).with_type::<(u8, u32, u8, Vec<u8>)>().for_each(|(which, at, op, bytes)| {
        let mut document = fixtures[usize::from(*which) % fixtures.len()].clone();
        let at = *at as usize % document.len();
        match op % 3 {
            0 => document.splice(at..at, bytes.iter().copied()).for_each(drop),
            1 => document.truncate(at),
            _ => document.iter_mut().skip(at).zip(bytes).for_each(|(b, new)| *b = *new),
        }
        let _ = health.inbound(BUNDLE, &document);
        let _ = health.inbound(TASK, &document);
    });
}

#[test]
fn health_fuzz_structured_json_never_panics() {
    // Well-formed JSON with wrong types in every position reaches the element readers, not just the parser.
    let health = adapter();
    let fixture: Value = serde_json::from_slice(&std::fs::read(fixture_path("referral-bundle.json")).unwrap()).unwrap();
    let replacements = [Value::Null, Value::Bool(true), 3.into(), "x".into(), Value::Array(vec![]), json!({})];
    let mut paths = vec![];
    collect_paths(&fixture, &mut vec![], &mut paths);
    for path in &paths {
        for replacement in &replacements {
            let mut mutated = fixture.clone();
            if let Some(slot) = path.iter().try_fold(&mut mutated, |v, k| match k {
                Ok(i) => v.get_mut(*i),
                Err(key) => v.get_mut(key.as_str()),
            }) {
                *slot = replacement.clone();
            }
            let _ = health.inbound(BUNDLE, mutated.to_string().as_bytes());
        }
    }
    assert!(paths.len() > 100);
}

type JsonPath = Vec<Result<usize, String>>;

fn collect_paths(value: &Value, at: &mut JsonPath, paths: &mut Vec<JsonPath>) {
    paths.push(at.clone());
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            at.push(Err(k.clone()));
            collect_paths(v, at, paths);
            at.pop();
        }),
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| {
            at.push(Ok(i));
            collect_paths(v, at, paths);
            at.pop();
        }),
        _ => {}
    }
}

#[test]
fn health_refuses_case_transfers_it_is_sent_when_posted_back() {
    let bundle = std::fs::read_to_string(fixture_path("out-transfer.json")).unwrap();
    let violations = refused(BUNDLE, &bundle);
    assert!(names(&violations).iter().any(|n| n.contains("eventCoding")), "{:?}", names(&violations));
}

// ---- FHIR R4 as real systems write it (issue 27) ----

fn referral_bundle() -> Value {
    serde_json::from_slice(&std::fs::read(fixture_path("referral-bundle.json")).unwrap()).unwrap()
}

/// The resource of the first entry of `kind`.
fn resource<'v>(bundle: &'v mut Value, kind: &str) -> &'v mut Value {
    let entries = bundle["entry"].as_array_mut().unwrap();
    &mut entries.iter_mut().find(|e| e["resource"]["resourceType"] == kind).unwrap()["resource"]
}

fn submitted(bundle: &Value) -> SubmitMessageRequest {
    match inbound_one(BUNDLE, bundle.to_string().as_bytes()) {
        Inbound::Submit(request) => request,
        other => panic!("not a submit: {other:?}"),
    }
}

fn referral_of(request: &SubmitMessageRequest) -> &referral_hub_domain::wire::ServiceReferral {
    match &request.payload {
        Some(submit_message_request::Payload::Referral(r)) => r,
        other => panic!("not a referral: {other:?}"),
    }
}

fn seconds(rfc3339: &str) -> i64 {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339).unwrap().unix_timestamp()
}

#[test]
fn health_reads_a_year_or_month_birth_date_as_the_youngest_age_then() {
    // authoredOn is 2026-11-18: born in 2017 means 8 at least, in March 2017 9.
    for (birth, age) in [("2017", 8), ("2017-03", 9), ("2017-12", 8), ("2026", 0)] {
        let mut bundle = referral_bundle();
        resource(&mut bundle, "Patient")["birthDate"] = birth.into();
        let request = submitted(&bundle);
        let child = referral_of(&request).child.clone().unwrap();
        assert_eq!((child.date_of_birth.as_str(), child.estimated_age_years), ("", Some(age)), "{birth}");
        let consent = request.consent.unwrap();
        assert_eq!(consent.child_age_years, age, "{birth}: the age at the consent (2026-11-18) too");
    }
    // Without authoredOn, Bundle.timestamp is the day; without either, the birthDate is named.
    let mut bundle = referral_bundle();
    resource(&mut bundle, "Patient")["birthDate"] = "2010-06".into();
    resource(&mut bundle, "ServiceRequest").as_object_mut().unwrap().remove("authoredOn");
    bundle["timestamp"] = "2026-06-01".into();
    assert_eq!(referral_of(&submitted(&bundle)).child.as_ref().unwrap().estimated_age_years, Some(15));
    bundle.as_object_mut().unwrap().remove("timestamp");
    let violations = refused(BUNDLE, &bundle.to_string());
    let patient = bundle["entry"].as_array().unwrap().iter().position(|e| e["resource"]["resourceType"] == "Patient");
    let at = format!("Bundle.entry[{}].resource.birthDate", patient.unwrap());
    assert!(violations.iter().any(|(e, d)| *e == at && d.contains("authoredOn")), "{violations:?}");
    // The estimated-age extension, when sent, is the age.
    let mut bundle = referral_bundle();
    let patient = resource(&mut bundle, "Patient");
    patient["birthDate"] = "2017".into();
    patient["extension"] = json!([{"url": "https://referral-hub.org/fhir/StructureDefinition/estimated-age",
        "valueAge": {"value": 9, "unit": "years", "system": "http://unitsofmeasure.org", "code": "a"}}]);
    assert_eq!(referral_of(&submitted(&bundle)).child.as_ref().unwrap().estimated_age_years, Some(9));
}

#[test]
fn health_reads_dates_at_every_precision_r4_allows() {
    let mut bundle = referral_bundle();
    let consent = resource(&mut bundle, "Consent");
    consent["dateTime"] = "2026-11".into();
    consent["provision"]["period"] = json!({"start": "2026-11-20", "end": "2027-05"});
    let terms = submitted(&bundle).consent.unwrap();
    assert_eq!(terms.child_age_years, 9, "born 2017-03-14, decided in November 2026");
    assert_eq!(terms.valid_from.unwrap().seconds, seconds("2026-11-20T00:00:00Z"), "a lower bound: the start");
    assert_eq!(terms.expires_at.unwrap().seconds, seconds("2027-06-01T00:00:00Z"), "an upper bound: the end of May");

    let mut task: Value = serde_json::from_slice(&std::fs::read(fixture_path("task-update.json")).unwrap()).unwrap();
    task["executionPeriod"] = json!({"start": "2026-12-10"});
    let Inbound::FollowUp(update) = inbound_one(TASK, task.to_string().as_bytes()) else { panic!() };
    assert_eq!(update.appointment_at.unwrap().seconds, seconds("2026-12-10T00:00:00Z"));
    task["executionPeriod"] = json!({"start": "2026-12-10T09:30"});
    let violations = refused(TASK, &task.to_string());
    assert!(
        violations.iter().any(|(e, d)| e == "Task.executionPeriod.start" && d.contains("YYYY-MM")),
        "R4 needs seconds and a zone with a time: {violations:?}"
    );
    let mut bundle = referral_bundle();
    resource(&mut bundle, "Patient")["birthDate"] = "2017-3".into();
    let violations = refused(BUNDLE, &bundle.to_string());
    assert!(violations.iter().any(|(e, _)| e.ends_with(".birthDate")), "{violations:?}");
}

#[test]
fn health_post_entries_need_no_id_and_the_request_id_comes_from_the_sender_s_keys() {
    let mut bundle = referral_bundle();
    for entry in bundle["entry"].as_array().unwrap() {
        assert!(entry["resource"].get("id").is_none() && entry["request"]["method"] == "POST");
    }
    assert_eq!(submitted(&bundle).request_id, "ygh-ref-2026-0042-1", "Bundle.identifier first");
    bundle.as_object_mut().unwrap().remove("identifier");
    assert_eq!(submitted(&bundle).request_id, "REF-2026-0042", "then the ServiceRequest's identifier");
    resource(&mut bundle, "ServiceRequest")["identifier"].as_array_mut().unwrap().push(json!({
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PLAC"}]},
        "system": "https://his.ygh.example.org/placer", "value": "PLAC-77"}));
    assert_eq!(submitted(&bundle).request_id, "PLAC-77", "BSeR's placer identifier before others");
    resource(&mut bundle, "ServiceRequest").as_object_mut().unwrap().remove("identifier");
    let first = submitted(&bundle).request_id;
    assert_eq!(first, "urn:uuid:2f1c0a7e-5b7d-4c1e-9a61-0c3e8f1b2a03", "then the entry's fullUrl");
    assert_eq!(submitted(&bundle).request_id, first, "the same document, the same key: a retry is a retry");
    let entries = bundle["entry"].as_array_mut().unwrap();
    entries.iter_mut().for_each(|e| drop(e.as_object_mut().unwrap().remove("fullUrl")));
    let violations = refused(BUNDLE, &bundle.to_string());
    assert!(violations.iter().any(|(e, d)| e == "Bundle.identifier" && d.contains("fullUrl")), "{violations:?}");
}

#[test]
fn health_resolves_entries_by_urn_and_organisations_by_entry_or_identifier() {
    let mut bundle = referral_bundle();
    assert!(resource(&mut bundle, "ServiceRequest")["subject"]["reference"].as_str().unwrap().starts_with("urn:uuid:"));
    let hub_org = |id: &str| json!({"system": "https://referral-hub.org/fhir/sid/organisation", "value": id});
    bundle["entry"].as_array_mut().unwrap().push(json!({
        "fullUrl": "urn:uuid:6b0d7a52-1d44-4e0b-8f7c-1d7f0a3c9e10",
        "resource": {"resourceType": "Organization", "identifier": [hub_org("demo-sw-hlaing")], "name": "DSW Hlaing"},
        "request": {"method": "POST", "url": "Organization"}}));
    resource(&mut bundle, "ServiceRequest")["performer"] =
        json!([{"reference": "urn:uuid:6b0d7a52-1d44-4e0b-8f7c-1d7f0a3c9e10"}]);
    assert_eq!(submitted(&bundle).recipient_org_id, "demo-sw-hlaing", "an Organization entry");
    resource(&mut bundle, "ServiceRequest")["performer"] = json!([{"identifier": hub_org("demo-sw-insein")}]);
    assert_eq!(submitted(&bundle).recipient_org_id, "demo-sw-insein", "a logical reference");
    resource(&mut bundle, "ServiceRequest")["subject"] =
        json!({"reference": "urn:uuid:00000000-0000-4000-8000-000000000000"});
    let violations = refused(BUNDLE, &bundle.to_string());
    assert!(violations.iter().any(|(e, _)| e.ends_with("resource.subject")), "an unresolved urn: {violations:?}");
}

/// Every `reference` string anywhere under `value`.
fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("reference") {
                found.push(r.clone());
            }
            map.values().for_each(|v| references(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, found)),
        _ => {}
    }
}

#[test]
fn health_outbound_bundles_name_every_entry_and_resolve_every_reference_inside() {
    let health = adapter();
    for (name, document) in outbound_documents(&health).into_iter().filter(|(n, _)| !n.starts_with("follow-up")) {
        let bundle: Value = serde_json::from_slice(&document.body).unwrap();
        if bundle["resourceType"] != "Bundle" {
            continue;
        }
        let entries = bundle["entry"].as_array().unwrap();
        let urls: Vec<&str> =
            entries.iter().map(|e| e["fullUrl"].as_str().expect("a fullUrl on every entry")).collect();
        let mut unique = urls.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), urls.len(), "{name}: fullUrls are unique");
        let mut found = vec![];
        references(&bundle, &mut found);
        assert!(found.len() > 5, "{name}");
        for reference in found {
            assert!(urls.contains(&reference.as_str()), "{name}: {reference} does not resolve inside the Bundle");
        }
    }
}

#[test]
fn health_outbound_referrals_carry_the_bser_elements() {
    let mut request = sample::submit("req-1", "demo-health-ygh");
    let Some(submit_message_request::Payload::Referral(r)) = &mut request.payload else { unreachable!() };
    let sent = (referral_hub_domain::wire::Priority::Emergency as i32, RiskLevel::Low as i32);
    (r.priority, r.risk_level) = sent;
    let document = adapter().outbound(Outbound::Message(&delivered(&request))).unwrap();
    let mut bundle: Value = serde_json::from_slice(&document.body).unwrap();
    let url_of = |bundle: &Value, kind: &str| {
        let entry = bundle["entry"].as_array().unwrap().iter().find(|e| e["resource"]["resourceType"] == kind);
        entry.unwrap()["fullUrl"].as_str().unwrap().to_owned()
    };
    let (task_url, request_url) = (url_of(&bundle, "Task"), url_of(&bundle, "ServiceRequest"));
    let header = resource(&mut bundle, "MessageHeader").clone();
    assert_eq!(header["eventCoding"]["system"], "http://terminology.hl7.org/CodeSystem/v2-0003");
    assert_eq!(header["eventCoding"]["code"], "I12");
    assert_eq!(header["focus"], json!([{"reference": task_url}]), "one focus: the Task");
    let task = resource(&mut bundle, "Task").clone();
    assert_eq!(
        task["code"]["coding"][0],
        json!({"system": "http://hl7.org/fhir/CodeSystem/task-code",
        "code": "fulfill", "display": "Fulfill the focal request"})
    );
    assert_eq!(task["focus"]["reference"], request_url.as_str());
    assert_eq!(task["priority"], "stat");
    let service_request = resource(&mut bundle, "ServiceRequest").clone();
    assert_eq!(service_request["priority"], "stat", "how soon");
    assert_eq!(
        service_request["extension"][0],
        json!({"url": "https://referral-hub.org/fhir/StructureDefinition/risk-level", "valueCode": "low"}),
        "how grave"
    );
    let placer = &service_request["identifier"][0];
    assert_eq!((placer["type"]["coding"][0]["code"].as_str(), placer["value"].as_str()), (Some("PLAC"), Some("req-1")));
    assert_eq!(service_request["reasonCode"][0]["text"], "Physical violence");
    // Back in, the urgency and the risk are what went out.
    let back = submitted(&bundle);
    assert_eq!((referral_of(&back).priority, referral_of(&back).risk_level), sent);
}

fn follow_up_by(author: &str) -> FollowUp {
    FollowUp {
        id: "01936f4f-0000-7000-8000-000000000002".into(),
        message_id: MESSAGE_ID.into(),
        author_org_id: author.into(),
        action: FollowUpAction::Note as i32,
        status_after: MessageStatus::Accepted as i32,
        note: "Called the aunt.".into(),
        ..FollowUp::default()
    }
}

#[test]
fn health_follow_up_tasks_keep_requester_and_owner_whoever_posted_the_update() {
    let health = adapter();
    let parties =
        referral_hub_adapters::MessageParties { sender_org_id: "demo-health-ygn", recipient_org_id: "demo-sw-hlaing" };
    for author in ["demo-health-ygn", "demo-sw-hlaing"] {
        let document = health.outbound_follow_up(&follow_up_by(author), parties).unwrap();
        let task: Value = serde_json::from_slice(&document.body).unwrap();
        assert_eq!(task["requester"]["reference"], "Organization/demo-health-ygn", "{author}");
        assert_eq!(task["owner"]["reference"], "Organization/demo-sw-hlaing", "{author}");
        let updated_by = &task["extension"][0];
        assert_eq!(updated_by["url"], "https://referral-hub.org/fhir/StructureDefinition/updated-by");
        assert_eq!(updated_by["valueReference"]["reference"], format!("Organization/{author}"));
    }
    // Without the message, the author is not passed off as the requester.
    let document = health.outbound(Outbound::FollowUp(&follow_up_by("demo-sw-hlaing"))).unwrap();
    let task: Value = serde_json::from_slice(&document.body).unwrap();
    assert!(task.get("requester").is_none() && task.get("owner").is_none(), "{task}");
}

const SNOMED: &str = "http://snomed.info/sct";

#[test]
fn health_reads_snomed_ct_codings_through_the_concept_map_and_names_unmapped_ones() {
    let mut bundle = referral_bundle();
    let request = resource(&mut bundle, "ServiceRequest");
    request["reasonCode"] = json!([
        {"coding": [{"system": SNOMED, "code": "95922009", "display": "Child sex abuse"}]},
        {"coding": [{"system": SNOMED, "code": "213004004"}]},
    ]);
    request["code"] = json!({"coding": [{"system": SNOMED, "code": "409063005", "display": "Counselling"}]});
    let read = submitted(&bundle);
    assert_eq!(referral_of(&read).protection_concerns, ["sexual_violence", "neglect"]);
    assert_eq!(referral_of(&read).requested_services, ["mhpss"]);
    // A hub coding beside a SNOMED one is the one read (codings are alternatives).
    resource(&mut bundle, "ServiceRequest")["reasonCode"][0]["coding"]
        .as_array_mut()
        .unwrap()
        .push(json!({"system": "https://referral-hub.org/fhir/CodeSystem/protection-concern", "code": "trafficking"}));
    assert_eq!(referral_of(&submitted(&bundle)).protection_concerns, ["trafficking", "neglect"]);
    // An unmapped code is refused by name, its system and the map named.
    resource(&mut bundle, "ServiceRequest")["reasonCode"][1]["coding"][0]["code"] = "22298006".into();
    let violations = refused(BUNDLE, &bundle.to_string());
    let (_, description) = violations
        .iter()
        .find(|(e, _)| e.ends_with("reasonCode[1].coding[0].code"))
        .unwrap_or_else(|| panic!("{violations:?}"));
    assert!(description.contains("`22298006`") && description.contains(SNOMED) && description.contains("ConceptMap"));
}

#[test]
fn health_takes_a_deployment_s_own_concept_map_and_refuses_an_unusable_one() {
    let local = "https://moh.example.org/fhir/CodeSystem/referral-reasons";
    let map = |target: &str, code: &str, equivalence: &str| {
        json!({"resourceType": "ConceptMap", "url": "https://moh.example.org/fhir/ConceptMap/reasons", "status": "active",
            "group": [{"source": local, "target": target,
                "element": [{"code": "R-07", "target": [{"code": code, "equivalence": equivalence}]}]}]})
        .to_string()
    };
    let concern = "https://referral-hub.org/fhir/CodeSystem/protection-concern";
    let health = adapter().with_concept_map(&map(concern, "child_marriage", "equivalent")).unwrap();
    let mut bundle = referral_bundle();
    resource(&mut bundle, "ServiceRequest")["reasonCode"] = json!([{"coding": [{"system": local, "code": "R-07"}]}]);
    let Ok(read) = health.inbound(BUNDLE, bundle.to_string().as_bytes()) else { panic!("refused") };
    let Inbound::Submit(read) = &read[0] else { panic!() };
    assert_eq!(referral_of(read).protection_concerns, ["child_marriage"]);
    // The default map is replaced, not added to; `unmatched` maps nothing.
    let none = adapter().with_concept_map(&map(concern, "", "unmatched")).unwrap();
    assert!(none.inbound(BUNDLE, bundle.to_string().as_bytes()).is_err());
    for (text, at) in [
        (map(concern, "no_such_concern", "equivalent"), "ConceptMap.group[0].element[0].target[0].code"),
        (map("http://snomed.info/sct", "neglect", "equivalent"), "ConceptMap.group[0].target"),
        (map(concern, "neglect", "same"), "ConceptMap.group[0].element[0].target[0].equivalence"),
    ] {
        let error = adapter().with_concept_map(&text).err().expect("refused").to_string();
        assert!(error.contains(at), "{error}");
    }
}
