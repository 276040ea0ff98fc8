//! Consent end to end: nothing names a child on its way out unless consent or
//! a legal basis allows it, and each receiver gets only what it may see.

use std::collections::BTreeSet;

use referral_hub_domain::{
    audit::child_key_hash,
    ids::OrgId,
    sample,
    wire::{ConsentTerms, DataCategory as C, LegalBasisClaim, Sector, submit_message_request::Payload},
};
use referral_hub_e2e::{
    Backend, HEALTH_ORG, OVERSIGHT_ORG, POLICE_ORG, SOCIAL_WELFARE_ORG, TestHub, follow_up, next_entry, precondition,
    submitted,
};
use referral_hub_proto::v1::{
    AckDeliveryRequest, ChildRef, ConsentRefusal, FollowUpAction as A, GetMessageRequest, ListAuditEntriesRequest,
    ListConsentsRequest, ListMessagesRequest, ListOverridesRequest, Mailbox, MessageStatus, PreviewMessageRequest,
    RecordConsentRequest, StreamInboxRequest, SubmitMessageRequest, WithdrawConsentRequest, inbox_entry::Item,
    message::Payload as Shown,
};
use referral_hub_store::AuditFilter;
use tonic::Code;

const SCHOOL_ORG: &str = "demo-school-hlaing";

fn without_consent(request_id: &str, recipient: &str) -> SubmitMessageRequest {
    SubmitMessageRequest { consent: None, ..sample::submit(request_id, recipient) }
}

fn categories(values: &[i32]) -> BTreeSet<C> {
    values.iter().map(|v| C::try_from(*v).unwrap()).collect()
}

async fn a_message_without_consent_is_refused_and_only_audited(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let status = health.submit_message(without_consent("r1", SOCIAL_WELFARE_ORG)).await.unwrap_err();
    assert_eq!(precondition(&status), vec![("NO_CONSENT".into(), "no active consent record for this child".into())]);

    // A consent that is wrong in several ways names every reason.
    let mut consents = hub.consents(HEALTH_ORG, &["referrer"]).await;
    let narrow = ConsentTerms {
        recipient_sectors: vec![Sector::Police as i32],
        purposes: vec![referral_hub_proto::v1::Purpose::FamilyTracing as i32],
        consenters: vec![sample::consent().consenters[0]],
        ..sample::consent()
    };
    let request = RecordConsentRequest { request_id: "c1".into(), terms: Some(narrow), supersedes_id: String::new() };
    consents.record_consent(request).await.unwrap();
    let status = health.submit_message(without_consent("r2", SOCIAL_WELFARE_ORG)).await.unwrap_err();
    let kinds: Vec<String> = precondition(&status).into_iter().map(|(kind, _)| kind).collect();
    assert_eq!(kinds, vec!["WRONG_RECIPIENT", "WRONG_PURPOSE", "ASSENT_REQUIRED"]);

    let sent = ListMessagesRequest { mailbox: Mailbox::Sent as i32, ..Default::default() };
    assert!(health.list_messages(sent).await.unwrap().into_inner().messages.is_empty());
    assert!(hub.db.store.inbox_after(&OrgId::new(SOCIAL_WELFARE_ORG), 0, 10).await.unwrap().is_empty());
    let mut auditor = hub.audit(OVERSIGHT_ORG, &["auditor", "oversight"]).await;
    let filter = ListAuditEntriesRequest { action: "MESSAGE_REFUSED".into(), ..Default::default() };
    let refused = auditor.list_audit_entries(filter).await.unwrap().into_inner().entries;
    assert_eq!(refused.len(), 2);
    assert!(refused[1].detail.contains("WRONG_RECIPIENT, WRONG_PURPOSE, ASSENT_REQUIRED"), "{}", refused[1].detail);
}

async fn health_and_education_receivers_see_different_fields(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["referrer"]).await;
    let to_health = submitted(&mut welfare, sample::submit("h", HEALTH_ORG)).await;
    let mut to_school = sample::submit("s", SCHOOL_ORG);
    to_school.consent = None;
    to_school.consent_id = to_health.consent_id.clone();
    let to_school = submitted(&mut welfare, to_school).await;
    assert_eq!(to_school.consent_id, to_health.consent_id, "one consent serves both");

    let mut health = hub.messages(HEALTH_ORG, &["receiver"]).await;
    let mut school = hub.messages(SCHOOL_ORG, &["receiver"]).await;
    let get = |id: &str| GetMessageRequest { message_id: id.into() };
    let seen_by_health = health.get_message(get(&to_health.id)).await.unwrap().into_inner().message.unwrap();
    let seen_by_school = school.get_message(get(&to_school.id)).await.unwrap().into_inner().message.unwrap();
    let (Some(Shown::Referral(h)), Some(Shown::Referral(s))) = (&seen_by_health.payload, &seen_by_school.payload)
    else {
        panic!("both see a referral")
    };
    let full = sample::referral();
    assert_eq!(h.reason, full.reason, "HEALTH needs the concern narrative");
    assert_eq!(h.child.as_ref().unwrap().disability, full.child.as_ref().unwrap().disability, "and HEALTH details");
    assert_eq!(s.reason, "", "EDUCATION gets no concern narrative");
    assert_eq!(s.child.as_ref().unwrap().disability, "", "nor health details");
    assert_eq!(s.child.as_ref().unwrap().given_name, "Aye", "but knows who the child is");
    assert_eq!(s.requested_services, full.requested_services, "routing fields always travel");
    assert_eq!(categories(&seen_by_health.withheld_categories), BTreeSet::from([C::Family]));
    assert_eq!(
        categories(&seen_by_school.withheld_categories),
        BTreeSet::from([C::Location, C::ProtectionConcern, C::Health, C::Family])
    );
    // The sender always sees its own message whole.
    let own = welfare.get_message(get(&to_school.id)).await.unwrap().into_inner().message.unwrap();
    assert_eq!(own.payload, Some(Shown::Referral(full)));

    // The stream cuts the same way, and the audit records categories, never values.
    let mut inbox = school.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();
    let Some(Item::Message(streamed)) = next_entry(&mut inbox).await.item else { panic!("a message") };
    assert_eq!(streamed.payload, seen_by_school.payload);
    let mut auditor = hub.audit(OVERSIGHT_ORG, &["auditor", "oversight"]).await;
    let filter = ListAuditEntriesRequest {
        message_id: to_school.id.clone(),
        action: "DELIVERY_ATTEMPTED".into(),
        ..Default::default()
    };
    let delivered = auditor.list_audit_entries(filter).await.unwrap().into_inner().entries;
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        delivered[0].detail,
        r#"{"disclosed":["IDENTITY","CONTACT","DEMOGRAPHIC"],"withheld":["LOCATION","PROTECTION_CONCERN","HEALTH","FAMILY"]}"#
    );
    assert_eq!(delivered[0].consent_id, to_school.consent_id);
}

async fn the_preview_matches_what_is_delivered(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["referrer"]).await;
    let mut narrow = sample::submit("p", HEALTH_ORG);
    narrow.consent.as_mut().unwrap().recipient_sectors = vec![Sector::Health as i32, Sector::Education as i32];
    let preview = PreviewMessageRequest {
        message: Some(narrow.clone()),
        candidate_org_ids: vec![HEALTH_ORG.into(), SCHOOL_ORG.into(), POLICE_ORG.into()],
    };
    let previews = welfare.preview_message(preview).await.unwrap().into_inner().previews;
    assert_eq!(previews.iter().map(|p| p.allowed).collect::<Vec<_>>(), vec![true, true, false]);
    assert_eq!(previews[2].refusals, vec![ConsentRefusal::WrongRecipient as i32]);
    assert!(
        hub.db.store.inbox_after(&OrgId::new(HEALTH_ORG), 0, 10).await.unwrap().is_empty(),
        "a preview sends nothing"
    );

    let sent = submitted(&mut welfare, narrow).await;
    let mut health = hub.messages(HEALTH_ORG, &["receiver"]).await;
    let mut inbox = health.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();
    let Some(Item::Message(delivered)) = next_entry(&mut inbox).await.item else { panic!("a message") };
    assert_eq!(delivered.id, sent.id);
    assert_eq!(categories(&delivered.withheld_categories), categories(&previews[0].withheld));
    let payload = delivered.payload.expect("a payload");
    assert!(matches!(payload, Shown::Referral(_)), "a referral");
    assert_eq!(referral_hub_domain::consent::present_categories(&payload), categories(&previews[0].disclosed));
    assert_eq!(previews[0].consent_id, "", "an inline consent has no id before it is stored");
}

async fn withdrawal_holds_undelivered_messages_and_notifies_receivers(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut sender = hub.messages(SOCIAL_WELFARE_ORG, &["referrer"]).await;
    let mut consents = hub.consents(SOCIAL_WELFARE_ORG, &["referrer"]).await;
    let delivered = submitted(&mut sender, sample::submit("d", HEALTH_ORG)).await;
    let mut to_school = sample::submit("u", SCHOOL_ORG);
    to_school.consent = None;
    let undelivered = submitted(&mut sender, to_school).await;
    assert_eq!(undelivered.consent_id, delivered.consent_id);

    let mut health = hub.messages(HEALTH_ORG, &["receiver"]).await;
    health.ack_delivery(AckDeliveryRequest { position: 1 }).await.unwrap();
    health.post_follow_up(follow_up(&delivered.id, A::Acknowledge, "k")).await.unwrap();

    let withdraw = WithdrawConsentRequest {
        request_id: "w1".into(),
        consent_id: delivered.consent_id.clone(),
        reason: "The aunt withdrew her consent.".into(),
    };
    let result = consents.withdraw_consent(withdraw.clone()).await.unwrap().into_inner();
    assert_eq!(result.held_message_ids, vec![undelivered.id.clone()]);
    assert_eq!(result.notified_message_ids, vec![delivered.id.clone()]);
    let retry = consents.withdraw_consent(withdraw).await.unwrap().into_inner();
    assert_eq!(retry.withdrawal, result.withdrawal, "a retried withdrawal changes nothing");
    // A retry of a submit accepted before the withdrawal is answered from the
    // stored message: not refused, and no refusal audited.
    let replay = sender.submit_message(SubmitMessageRequest { consent: None, ..sample::submit("u", SCHOOL_ORG) });
    let replay = replay.await.unwrap().into_inner();
    assert!(replay.replayed);
    assert_eq!(replay.message.unwrap().id, undelivered.id);
    let refusals = AuditFilter { action: Some("MESSAGE_REFUSED".into()), limit: 10, ..AuditFilter::default() };
    assert_eq!(hub.db.store.query_audit(&refusals).await.unwrap(), vec![]);
    let fresh = sender.submit_message(SubmitMessageRequest { consent: None, ..sample::submit("u2", SCHOOL_ORG) });
    assert_eq!(precondition(&fresh.await.unwrap_err())[0].0, "NO_CONSENT", "a new request is refused");

    // The sender sees the hold and why.
    let get = |id: &str| GetMessageRequest { message_id: id.into() };
    let held = sender.get_message(get(&undelivered.id)).await.unwrap().into_inner().message.unwrap();
    assert_eq!((held.status(), held.hold_reason.as_str()), (MessageStatus::Held, "CONSENT_WITHDRAWN"));
    // The school's stream says a message is withheld, and nothing about the child.
    let mut school = hub.messages(SCHOOL_ORG, &["receiver"]).await;
    let mut inbox = school.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();
    let Some(Item::Withheld(withheld)) = next_entry(&mut inbox).await.item else { panic!("withheld") };
    assert_eq!(
        (withheld.message_id.as_str(), withheld.reasons.as_slice()),
        (undelivered.id.as_str(), &[ConsentRefusal::NoConsent as i32][..])
    );
    let read = school.get_message(get(&undelivered.id)).await.unwrap().into_inner().message.unwrap();
    assert_eq!((read.payload, read.child), (None, None));
    // The health centre, which has the data, gets the notice on its stream.
    let mut inbox = health.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();
    let Some(Item::FollowUp(notice)) = next_entry(&mut inbox).await.item else { panic!("a notice") };
    assert_eq!((notice.action(), notice.message_id.as_str()), (A::ConsentWithdrawn, delivered.id.as_str()));
    // The sender may withdraw the held message; nothing else moves it.
    let withdrawn = sender.post_follow_up(follow_up(&undelivered.id, A::Withdraw, "x")).await.unwrap().into_inner();
    assert_eq!(withdrawn.message.unwrap().status(), MessageStatus::Withdrawn);

    let list = consents.list_consents(ListConsentsRequest { child: Some(sample::child()) }).await.unwrap().into_inner();
    assert_eq!(list.records.len(), 2, "the withdrawal and the grant, newest first");
    assert!(!list.records[1].active);
    let again =
        WithdrawConsentRequest { request_id: "w2".into(), consent_id: delivered.consent_id, reason: "again".into() };
    assert_eq!(precondition(&consents.withdraw_consent(again).await.unwrap_err())[0].0, "CONSENT_NOT_IN_FORCE");
}

async fn consent_is_checked_again_at_delivery(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut sender = hub.messages(SOCIAL_WELFARE_ORG, &["referrer"]).await;
    let mut request = sample::submit("e", HEALTH_ORG);
    let in_two_days = (hub.clock_now_seconds() + 2 * 86_400) as i64;
    request.consent.as_mut().unwrap().expires_at = Some(prost_types::Timestamp { seconds: in_two_days, nanos: 0 });
    let sent = submitted(&mut sender, request).await;
    hub.clock.advance(time::Duration::days(3));
    let mut health = hub.messages(HEALTH_ORG, &["receiver"]).await;
    let mut inbox = health.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();
    let Some(Item::Withheld(withheld)) = next_entry(&mut inbox).await.item else { panic!("withheld") };
    assert_eq!((withheld.message_id, withheld.reasons), (sent.id.clone(), vec![ConsentRefusal::Expired as i32]));
    let mut auditor = hub.audit(OVERSIGHT_ORG, &["auditor", "oversight"]).await;
    let filter = ListAuditEntriesRequest { action: "DELIVERY_REFUSED".into(), ..Default::default() };
    let refused = auditor.list_audit_entries(filter).await.unwrap().into_inner().entries;
    assert_eq!((refused.len(), refused[0].message_id.as_str()), (1, sent.id.as_str()));
}

async fn overrides_need_a_supervisor_and_still_obey_need_to_know(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let claim = LegalBasisClaim {
        basis: "MANDATORY_REPORT".into(),
        justification: "Injuries consistent with abuse; reporting is mandatory.".into(),
    };
    let request = SubmitMessageRequest { legal_basis: Some(claim), ..without_consent("o", SCHOOL_ORG) };
    let mut worker = hub.messages(HEALTH_ORG, &["referrer"]).await;
    assert_eq!(worker.submit_message(request.clone()).await.unwrap_err().code(), Code::PermissionDenied);
    assert!(hub.db.store.inbox_after(&OrgId::new(SCHOOL_ORG), 0, 10).await.unwrap().is_empty());

    let mut supervisor = hub.messages(HEALTH_ORG, &["referrer", "supervisor"]).await;
    let sent = submitted(&mut supervisor, request).await;
    assert_eq!((sent.legal_basis.as_str(), sent.consent_id.as_str()), ("MANDATORY_REPORT", ""));
    let mut school = hub.messages(SCHOOL_ORG, &["receiver"]).await;
    let seen = school.get_message(GetMessageRequest { message_id: sent.id.clone() }).await.unwrap().into_inner();
    let Some(Shown::Referral(referral)) = seen.message.unwrap().payload else { panic!("a referral") };
    assert_eq!(referral.reason, "", "need-to-know still applies to overrides");

    let mut auditor = hub.audit(OVERSIGHT_ORG, &["auditor", "oversight"]).await;
    let filter = ListAuditEntriesRequest { action: "OVERRIDE_USED".into(), ..Default::default() };
    let used = auditor.list_audit_entries(filter).await.unwrap().into_inner().entries;
    assert_eq!((used.len(), used[0].severity.as_str(), used[0].legal_basis.as_str()), (1, "HIGH", "MANDATORY_REPORT"));

    let mut oversight = hub.consents(OVERSIGHT_ORG, &["auditor", "oversight"]).await;
    let listed = oversight.list_overrides(ListOverridesRequest::default()).await.unwrap().into_inner().overrides;
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].message_id.as_str(), listed[0].sender_org_id.as_str()), (sent.id.as_str(), HEALTH_ORG));
    assert!(listed[0].justification.starts_with("Injuries"));
    let mut other_supervisor = hub.consents(SOCIAL_WELFARE_ORG, &["supervisor"]).await;
    let theirs = other_supervisor.list_overrides(ListOverridesRequest::default()).await.unwrap().into_inner();
    assert!(theirs.overrides.is_empty(), "a supervisor sees its own organisation's overrides");
    let mut other_auditor = hub.consents(POLICE_ORG, &["auditor"]).await;
    let theirs = other_auditor.list_overrides(ListOverridesRequest::default()).await.unwrap().into_inner();
    assert!(theirs.overrides.is_empty(), "so does an auditor without oversight");
    let mut not_allowed = hub.consents(HEALTH_ORG, &["referrer"]).await;
    assert_eq!(
        not_allowed.list_overrides(ListOverridesRequest::default()).await.unwrap_err().code(),
        Code::PermissionDenied
    );
}

async fn link_keys_join_agencies_without_keeping_the_identifier(backend: Backend) {
    let hub = TestHub::start(backend).await;
    const NATIONAL_ID: &str = "12/HLAING(N)045678";
    let with_id = |request_id: &str, recipient: &str| {
        let mut request = sample::submit(request_id, recipient);
        let child = ChildRef { national_id: NATIONAL_ID.into(), ..sample::child() };
        request.child = Some(child.clone());
        request.consent.as_mut().unwrap().child = Some(child);
        request
    };
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let mut police = hub.messages(POLICE_ORG, &["referrer"]).await;
    let a = submitted(&mut health, with_id("a", SOCIAL_WELFARE_ORG)).await;
    let mut formatted = with_id("b", SOCIAL_WELFARE_ORG);
    formatted.child.as_mut().unwrap().national_id = "12 hlaing n 045678".into();
    formatted.consent.as_mut().unwrap().child.as_mut().unwrap().national_id = "12-hlaing-n-045678".into();
    let b = submitted(&mut police, formatted).await;
    let (key_a, key_b) = (a.child.unwrap().link_key, b.child.unwrap().link_key);
    assert_eq!(key_a, key_b, "the same child at two agencies");
    assert_eq!(key_a.len(), 64);
    // Health's record matches the child by local id and by link key: listed once.
    let mut consents = hub.consents(HEALTH_ORG, &["referrer"]).await;
    let child = ChildRef { national_id: NATIONAL_ID.into(), ..sample::child() };
    let listed = consents.list_consents(ListConsentsRequest { child: Some(child) }).await.unwrap().into_inner();
    assert_eq!(listed.records.len(), 1);

    let mut auditor = hub.audit(SOCIAL_WELFARE_ORG, &["auditor"]).await;
    let by_child = ListAuditEntriesRequest {
        child_link_key: key_a.clone(),
        action: "MESSAGE_SUBMITTED".into(),
        ..Default::default()
    };
    let entries = auditor.list_audit_entries(by_child).await.unwrap().into_inner().entries;
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].child_key_hash, child_key_hash(&key_a));

    // Nowhere in the database: not in messages, consents or the audit log.
    for table in ["messages", "consent_records", "audit_log", "follow_ups"] {
        let rows: Vec<Vec<u8>> = dump(&hub, table).await;
        assert!(rows.iter().all(|row| !contains(row, b"045678")), "the identifier leaked into {table}");
    }
    let Some(Payload::Referral(_)) = with_id("c", HEALTH_ORG).payload else { unreachable!() };
}

async fn dump(hub: &TestHub, table: &str) -> Vec<Vec<u8>> {
    let pool = sqlx::AnyPool::connect(&hub.db.url).await.unwrap();
    let text_columns = match table {
        "messages" => "id || request_id || coalesce(child_link_key, '')",
        "consent_records" => "id || child_local_id || child_link_key",
        "audit_log" => "detail || child_key_hash",
        _ => "id",
    };
    let blobs: Vec<(String, Vec<u8>)> = sqlx::query_as(&format!(
        "SELECT {text_columns}, {} FROM {table}",
        if table == "audit_log" { "hash" } else { "body" }
    ))
    .fetch_all(&pool)
    .await
    .unwrap();
    blobs.into_iter().map(|(text, blob)| [text.into_bytes(), blob].concat()).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn recording_consent_and_best_interests(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut worker = hub.consents(HEALTH_ORG, &["referrer"]).await;
    let best_interests = ConsentTerms {
        consenters: vec![
            referral_hub_proto::v1::Consenter {
                role: referral_hub_proto::v1::ConsenterRole::BestInterestsDecision as i32,
                kind: referral_hub_proto::v1::AgreementKind::Consent as i32,
            },
            sample::consent().consenters[1],
        ],
        caregiver_not_asked: referral_hub_proto::v1::CaregiverNotAsked::AllegedPerpetrator as i32,
        ..sample::consent()
    };
    let request =
        RecordConsentRequest { request_id: "bi".into(), terms: Some(best_interests), supersedes_id: String::new() };
    assert_eq!(worker.record_consent(request.clone()).await.unwrap_err().code(), Code::PermissionDenied);
    let mut supervisor = hub.consents(HEALTH_ORG, &["supervisor"]).await;
    let first = supervisor.record_consent(request.clone()).await.unwrap().into_inner();
    assert!(first.record.as_ref().unwrap().active && !first.replayed);
    let retry = supervisor.record_consent(request).await.unwrap().into_inner();
    assert!(retry.replayed);
    assert_eq!(retry.record.as_ref().unwrap().id, first.record.as_ref().unwrap().id);

    // A change is a new record superseding the old one; the old one is kept.
    let id = first.record.unwrap().id;
    let change = RecordConsentRequest {
        request_id: "bi-2".into(),
        terms: Some(ConsentTerms { categories: vec![C::Identity as i32], ..sample::consent() }),
        supersedes_id: id.clone(),
    };
    let second = worker.record_consent(change.clone()).await.unwrap().into_inner().record.unwrap();
    assert_eq!(second.supersedes_id, id);
    let twice = RecordConsentRequest { request_id: "bi-3".into(), ..change };
    assert_eq!(precondition(&worker.record_consent(twice).await.unwrap_err())[0].0, "CONSENT_NOT_IN_FORCE");
    let list = worker.list_consents(ListConsentsRequest { child: Some(sample::child()) }).await.unwrap().into_inner();
    assert_eq!(list.records.iter().map(|r| r.active).collect::<Vec<_>>(), vec![true, false]);
    let mut other = hub.consents(POLICE_ORG, &["referrer"]).await;
    let theirs = other.list_consents(ListConsentsRequest { child: Some(sample::child()) }).await.unwrap().into_inner();
    assert!(theirs.records.is_empty(), "an organisation sees only its own records");
}

referral_hub_e2e::on_both_backends!(
    a_message_without_consent_is_refused_and_only_audited,
    health_and_education_receivers_see_different_fields,
    the_preview_matches_what_is_delivered,
    withdrawal_holds_undelivered_messages_and_notifies_receivers,
    consent_is_checked_again_at_delivery,
    overrides_need_a_supervisor_and_still_obey_need_to_know,
    link_keys_join_agencies_without_keeping_the_identifier,
    recording_consent_and_best_interests,
);
