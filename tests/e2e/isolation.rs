//! The isolation matrix (docs/security.md "Authorisation"), generated from the
//! service descriptors: every RPC the hub serves is called by an organisation
//! that is neither sender nor receiver of a message, and by a caller of the
//! sender's organisation lacking the RPC's roles. An RPC without an entry in
//! [`matrix`] fails the test, so a new RPC cannot ship unexamined.
//!
//! Calls go through a raw-bytes codec to the path the descriptor names, so the
//! test reaches exactly what a hostile client could.

use std::str::FromStr;

use prost::{
    Message as _,
    bytes::{Buf, BufMut},
};
use referral_hub_domain::{ids::MessageId, sample};
use referral_hub_e2e::{Backend, HEALTH_ORG, POLICE_ORG, SOCIAL_WELFARE_ORG, TestHub, follow_up, submitted};
use referral_hub_proto::v1::{
    self as wire, FollowUpAction, Mailbox, Organisation, RecordConsentRequest, submit_message_request::Payload,
};
use referral_hub_store::AuditFilter;
use tonic::{
    Code, Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    codegen::http::uri::PathAndQuery,
    metadata::MetadataValue,
    transport::Channel,
};

/// Every role there is.
const ALL_ROLES: [&str; 6] = ["referrer", "receiver", "supervisor", "auditor", "admin", "oversight"];

/// What an organisation that is neither sender nor receiver may get.
#[derive(Debug, Clone, Copy)]
enum Outsider {
    /// Answered with this code (a preview answers OK, listing the refusal),
    /// and the answer about the real message (or
    /// consent) is the answer about an id that does not exist, word for word:
    /// probing reveals nothing.
    SameAsUnknown(Code),
    /// Answered, but only with the caller's own data: nothing of the message.
    OwnDataOnly,
    /// Answered across organisations by design (why), but never with child data.
    HubWide(&'static str),
    /// The hub operator's act: `PERMISSION_DENIED` for any other organisation,
    /// even with every role (`admin` included).
    OperatorOnly,
}

/// The ids a request is about.
struct Ids {
    message: String,
    consent: String,
    /// An audit entry about the message (its `MESSAGE_SUBMITTED`).
    audit_entry: u64,
}

/// One RPC's row of the matrix.
struct Rule {
    /// Roles that admit the call; empty when no token is needed.
    roles: &'static [&'static str],
    outsider: Outsider,
    /// The encoded request, about `Ids`.
    request: fn(&Ids) -> Vec<u8>,
}

fn rule(roles: &'static [&'static str], outsider: Outsider, request: fn(&Ids) -> Vec<u8>) -> Rule {
    Rule { roles, outsider, request }
}

/// The probe organisation the directory admin RPCs act on.
const PROBE_ORG: &str = "isolation-probe-org";

fn probe_org() -> Organisation {
    Organisation {
        id: PROBE_ORG.into(),
        name: "Isolation probe".into(),
        sector: wire::Sector::Other as i32,
        areas: vec!["MM/YGN/Hlaing".into()],
        services: vec!["case_management".into()],
        channel: wire::DeliveryChannel::Pull as i32,
        status: wire::OrganisationStatus::Active as i32,
        ..Organisation::default()
    }
}

/// The matrix: every RPC of every service, by full name.
fn matrix() -> Vec<(&'static str, Rule)> {
    use Outsider::*;
    const PARTY: &[&str] = &["referrer", "receiver"];
    const DIRECTORY: &str = "the directory is public to every registered organisation";
    // Another organisation's consent record counts as no consent at all.
    const NO_CONSENT: Code = Code::FailedPrecondition;
    const OVERSIGHT: &str = "auditors are oversight bodies; audit entries hold ids and categories, never payloads";
    vec![
        (
            "referralhub.v1.MessageService.SubmitMessage",
            rule(&["referrer"], SameAsUnknown(NO_CONSENT), |ids| {
                wire::SubmitMessageRequest {
                    consent_id: ids.consent.clone(),
                    consent: None,
                    ..sample::submit("isolation-submit", SOCIAL_WELFARE_ORG)
                }
                .encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.MessageService.PreviewMessage",
            rule(&["referrer"], SameAsUnknown(Code::Ok), |ids| {
                let message = wire::SubmitMessageRequest {
                    consent_id: ids.consent.clone(),
                    consent: None,
                    ..sample::submit("isolation-preview", SOCIAL_WELFARE_ORG)
                };
                wire::PreviewMessageRequest { message: Some(message), candidate_org_ids: vec![] }.encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.MessageService.GetMessage",
            rule(PARTY, SameAsUnknown(Code::NotFound), |ids| {
                wire::GetMessageRequest { message_id: ids.message.clone() }.encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.MessageService.ListMessages",
            rule(PARTY, OwnDataOnly, |_| {
                wire::ListMessagesRequest { mailbox: Mailbox::Received as i32, ..Default::default() }.encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.MessageService.PostFollowUp",
            rule(PARTY, SameAsUnknown(Code::NotFound), |ids| {
                follow_up(&ids.message, FollowUpAction::Note, "isolation-note").encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.MessageService.StreamInbox",
            rule(PARTY, OwnDataOnly, |_| wire::StreamInboxRequest { after_position: Some(0) }.encode_to_vec()),
        ),
        (
            "referralhub.v1.MessageService.AckDelivery",
            rule(PARTY, OwnDataOnly, |_| wire::AckDeliveryRequest { position: 1 }.encode_to_vec()),
        ),
        (
            "referralhub.v1.MessageService.ListOverdue",
            rule(&["supervisor"], OwnDataOnly, |_| wire::ListOverdueRequest::default().encode_to_vec()),
        ),
        (
            "referralhub.v1.MessageService.RerouteMessage",
            rule(&["supervisor"], SameAsUnknown(Code::NotFound), |ids| {
                let reason = "Closer to the child.".into();
                wire::RerouteMessageRequest {
                    message_id: ids.message.clone(),
                    new_recipient_org_id: POLICE_ORG.into(),
                    reason,
                }
                .encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.MessageService.ListUnroutedAlerts",
            rule(&["admin"], OperatorOnly, |_| wire::ListUnroutedAlertsRequest::default().encode_to_vec()),
        ),
        (
            "referralhub.v1.MessageService.RouteAlert",
            rule(&["admin"], OperatorOnly, |ids| {
                wire::RouteAlertRequest { alert_id: ids.message.clone(), recipient_org_id: SOCIAL_WELFARE_ORG.into() }
                    .encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.ConsentService.RecordConsent",
            rule(&["referrer", "supervisor"], SameAsUnknown(Code::NotFound), |ids| {
                RecordConsentRequest {
                    request_id: "isolation-consent".into(),
                    terms: Some(sample::consent()),
                    supersedes_id: ids.consent.clone(),
                }
                .encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.ConsentService.WithdrawConsent",
            rule(&["referrer", "supervisor"], SameAsUnknown(Code::NotFound), |ids| {
                wire::WithdrawConsentRequest {
                    request_id: "isolation-withdraw".into(),
                    consent_id: ids.consent.clone(),
                    reason: "Caregiver asked.".into(),
                }
                .encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.ConsentService.ListConsents",
            rule(&["referrer", "supervisor"], OwnDataOnly, |_| {
                wire::ListConsentsRequest { child: Some(sample::child()) }.encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.ConsentService.ListOverrides",
            rule(&["supervisor", "auditor"], OwnDataOnly, |_| wire::ListOverridesRequest::default().encode_to_vec()),
        ),
        (
            "referralhub.v1.AuditService.ListAuditEntries",
            rule(&["auditor"], HubWide(OVERSIGHT), |_| {
                wire::ListAuditEntriesRequest { page_size: 1000, ..Default::default() }.encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.AuditService.VerifyAuditChain",
            rule(&["auditor", "admin"], HubWide(OVERSIGHT), |_| {
                wire::VerifyAuditChainRequest::default().encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.AuditService.GetTreeHead",
            rule(&["auditor", "oversight", "admin"], HubWide("every organisation receives every tree head"), |_| {
                wire::GetTreeHeadRequest::default().encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.AuditService.GetInclusionProof",
            rule(&["auditor", "oversight", "admin"], SameAsUnknown(Code::NotFound), |ids| {
                wire::GetInclusionProofRequest { seq: ids.audit_entry, tree_size: 0 }.encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.AuditService.GetConsistencyProof",
            rule(&["auditor", "oversight", "admin"], HubWide("a consistency proof is hashes only"), |_| {
                wire::GetConsistencyProofRequest { first_size: 1, second_size: 0 }.encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.AuditService.ListSigningKeys",
            rule(&["auditor", "oversight", "admin"], HubWide("public keys, published anyway"), |_| {
                wire::ListSigningKeysRequest::default().encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.DirectoryService.SearchOrganisations",
            rule(&ALL_ROLES, HubWide(DIRECTORY), |_| {
                wire::SearchOrganisationsRequest { area: "MM".into(), ..Default::default() }.encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.DirectoryService.GetOrganisation",
            rule(&ALL_ROLES, HubWide(DIRECTORY), |_| {
                wire::GetOrganisationRequest { organisation_id: HEALTH_ORG.into() }.encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.DirectoryService.RegisterOrganisation",
            rule(&["admin"], OperatorOnly, |_| {
                wire::RegisterOrganisationRequest { organisation: Some(probe_org()) }.encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.DirectoryService.UpdateOrganisation",
            rule(&["admin"], OperatorOnly, |_| {
                wire::UpdateOrganisationRequest {
                    organisation: Some(Organisation { name: "Renamed probe".into(), ..probe_org() }),
                }
                .encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.DirectoryService.SuspendOrganisation",
            rule(&["admin"], OperatorOnly, |_| {
                wire::SuspendOrganisationRequest { organisation_id: PROBE_ORG.into(), reason: "Probe done.".into() }
                    .encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.DirectoryService.ListTaxonomies",
            rule(&ALL_ROLES, HubWide(DIRECTORY), |_| wire::ListTaxonomiesRequest::default().encode_to_vec()),
        ),
        (
            "referralhub.v1.StatsService.GetStatistics",
            rule(&["auditor"], OwnDataOnly, |_| {
                wire::GetStatisticsRequest {
                    area: "MM".into(),
                    from: Some(prost_types::Timestamp { seconds: 1_577_836_800, nanos: 0 }),
                    group_by: vec![wire::Dimension::SectorPair as i32],
                    period: wire::Period::Month as i32,
                    ..Default::default()
                }
                .encode_to_vec()
            }),
        ),
        (
            "referralhub.v1.DiagnosticsService.Echo",
            rule(&[], HubWide("it returns the caller's own bytes"), |_| {
                wire::EchoRequest { payload: b"ping".to_vec() }.encode_to_vec()
            }),
        ),
    ]
}

/// A referral from HEALTH to SOCIAL_WELFARE under a recorded consent, acknowledged,
/// whose child details are secrets; and a message to the outsider of its own.
struct Fixture {
    ids: Ids,
    secrets: [&'static str; 3],
}

impl Fixture {
    async fn new(hub: &TestHub) -> Fixture {
        let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
        submitted(&mut health, sample::submit("outsider-own", POLICE_ORG)).await;
        let mut consents = hub.consents(HEALTH_ORG, &["referrer"]).await;
        let record = RecordConsentRequest {
            request_id: "fixture-consent".into(),
            terms: Some(sample::consent()),
            supersedes_id: String::new(),
        };
        let consent = consents.record_consent(record).await.unwrap().into_inner().record.unwrap().id;
        let secrets = ["Isolationgiven", "Isolationfamily", "Isolation canary reason"];
        let mut request = sample::submit("fixture", SOCIAL_WELFARE_ORG);
        (request.consent, request.consent_id) = (None, consent.clone());
        let Some(Payload::Referral(referral)) = request.payload.as_mut() else { unreachable!("a referral") };
        let child = referral.child.as_mut().unwrap();
        (child.given_name, child.family_name) = (secrets[0].into(), secrets[1].into());
        referral.reason = secrets[2].into();
        let message = submitted(&mut health, request).await.id;
        let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["receiver"]).await;
        welfare.post_follow_up(follow_up(&message, FollowUpAction::Acknowledge, "fixture-ack")).await.unwrap();
        let filter = AuditFilter { message_id: Some(message.clone()), limit: 1, ..AuditFilter::default() };
        let audit_entry = hub.db.store.query_audit(&filter).await.unwrap()[0].entry.seq;
        Fixture { ids: Ids { message, consent, audit_entry }, secrets }
    }
}

/// What one call answered: its code and everything a client could read.
#[derive(Debug)]
struct Answer {
    code: Code,
    message: String,
    details: Vec<u8>,
    body: Vec<u8>,
}

impl Answer {
    fn of(status: Status) -> Answer {
        Answer {
            code: status.code(),
            message: status.message().into(),
            details: status.details().to_vec(),
            body: vec![],
        }
    }

    /// Whether `text` appears anywhere in the answer.
    fn shows(&self, text: &str) -> bool {
        let bytes = |b: &[u8]| b.windows(text.len()).any(|w| w == text.as_bytes());
        self.message.contains(text) || bytes(&self.details) || bytes(&self.body)
    }

    /// The answer, with the ids it was about replaced, to compare with an unknown id's.
    fn about(&self, ids: &Ids) -> (Code, String, String, String) {
        let blind =
            |text: &[u8]| String::from_utf8_lossy(text).replace(&ids.message, "{id}").replace(&ids.consent, "{id}");
        (self.code, blind(self.message.as_bytes()), blind(&self.details), blind(&self.body))
    }
}

/// Calls `path` with `request` as is, carrying `token` when given; for a
/// server-streaming RPC the first item is the body.
async fn call(channel: &Channel, path: &str, token: Option<&str>, request: Vec<u8>, streaming: bool) -> Answer {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.expect("channel ready");
    let mut request = tonic::Request::new(request);
    if let Some(token) = token {
        request.metadata_mut().insert("authorization", MetadataValue::try_from(format!("Bearer {token}")).unwrap());
    }
    let path = PathAndQuery::from_str(path).expect("a path");
    let answered = if streaming {
        match grpc.server_streaming(request, path, RawBytes).await {
            Ok(response) => {
                let mut stream = response.into_inner();
                let first = tokio::time::timeout(std::time::Duration::from_secs(10), stream.message());
                first.await.expect("a first item within 10 s").map(|item| item.unwrap_or_default())
            }
            Err(status) => Err(status),
        }
    } else {
        grpc.unary(request, path, RawBytes).await.map(tonic::Response::into_inner)
    };
    match answered {
        Ok(body) => Answer { code: Code::Ok, message: String::new(), details: vec![], body },
        Err(status) => Answer::of(status),
    }
}

async fn every_rpc_keeps_to_its_organisation(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let fixture = Fixture::new(&hub).await;
    let unknown = Ids {
        message: uuid::Uuid::now_v7().to_string(),
        consent: uuid::Uuid::now_v7().to_string(),
        audit_entry: 1 << 40,
    };
    let pool = prost_reflect::DescriptorPool::decode(referral_hub_proto::FILE_DESCRIPTOR_SET).unwrap();
    let mut rules: std::collections::HashMap<_, _> = matrix().into_iter().collect();
    let channel = hub.channel().await;
    let outsider = hub.token(POLICE_ORG, &ALL_ROLES);
    let mut calls = 0;
    for service in pool.services() {
        for method in service.methods() {
            let name = method.full_name().to_owned();
            let rule = rules.remove(name.as_str()).unwrap_or_else(|| panic!("{name} has no isolation matrix entry"));
            let path = format!("/{}/{}", service.full_name(), method.name());
            let streaming = method.is_server_streaming();
            let request = (rule.request)(&fixture.ids);
            let keeps_secrets = |answer: &Answer, who: &str| {
                for secret in fixture.secrets {
                    assert!(!answer.shows(secret), "{name} showed {who} a child's data: {answer:?}");
                }
            };

            if !rule.roles.is_empty() {
                let lacking: Vec<&str> = ALL_ROLES.into_iter().filter(|r| !rule.roles.contains(r)).collect();
                let token = hub.token(HEALTH_ORG, &lacking);
                let answer = call(&channel, &path, Some(&token), request.clone(), streaming).await;
                assert_eq!(answer.code, Code::PermissionDenied, "{name} with only {lacking:?}: {answer:?}");
                keeps_secrets(&answer, "a caller without the role");
                calls += 1;
            }

            let answer = call(&channel, &path, Some(&outsider), request, streaming).await;
            keeps_secrets(&answer, "another organisation");
            match rule.outsider {
                Outsider::SameAsUnknown(code) => {
                    let probe = call(&channel, &path, Some(&outsider), (rule.request)(&unknown), streaming).await;
                    assert_eq!(answer.code, code, "{name}: {answer:?}");
                    assert_eq!(answer.about(&fixture.ids), probe.about(&unknown), "{name}: probing reveals");
                    calls += 1;
                }
                Outsider::OwnDataOnly => {
                    assert_eq!(answer.code, Code::Ok, "{name}: {answer:?}");
                    assert!(!answer.shows(&fixture.ids.message), "{name} showed another organisation the message");
                    assert!(!answer.shows(&fixture.ids.consent), "{name} showed another organisation the consent");
                }
                Outsider::OperatorOnly => {
                    assert_eq!(answer.code, Code::PermissionDenied, "{name}: {answer:?}");
                }
                Outsider::HubWide(why) => {
                    assert!(!matches!(answer.code, Code::Internal | Code::Unknown), "{name} ({why}): {answer:?}");
                }
            }
            calls += 1;
        }
    }
    assert!(rules.is_empty(), "matrix entries for RPCs the hub does not serve: {:?}", rules.keys());
    assert!(calls >= 2 * 25, "{calls} calls");

    // Nothing the refused callers tried changed the message.
    let follow_ups = hub.db.store.follow_ups(&MessageId::new(&fixture.ids.message)).await.unwrap();
    assert_eq!(follow_ups.len(), 1, "only the receiver's acknowledgement");
}

/// Sends and receives raw protobuf bytes, so any request can go to any path.
#[derive(Debug, Clone, Copy, Default)]
struct RawBytes;

impl Codec for RawBytes {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawBytes;
    type Decoder = RawBytes;

    fn encoder(&mut self) -> Self::Encoder {
        RawBytes
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawBytes
    }
}

impl Encoder for RawBytes {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawBytes {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

referral_hub_e2e::on_both_backends!(every_rpc_keeps_to_its_organisation);
