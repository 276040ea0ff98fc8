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
