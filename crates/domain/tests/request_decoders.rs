//! Fuzzing the gRPC request decoders (docs/security.md "Bad input"): every RPC's
//! request type is decoded from arbitrary bytes, and from valid requests with
//! bytes overwritten, and whatever decodes goes through every pure check the
//! hub runs on it (validation, hub-derived fields, consent decision, cutting
//! for each receiver, life cycle). Zero panics, for a fixed number of
//! executions per run (bolero on stable: random inputs; `cargo bolero test`
//! can drive the same targets with a fuzzing engine).

use std::collections::BTreeSet;

use prost::Message;
use referral_hub_domain::{
    consent::{ALL_CATEGORIES, ConsentPolicy, Question, cut_payload, decide},
    lifecycle::{Party, apply},
    payload::{facts, from_submit},
    sample,
    validation::{
        Rules, derive_hub_fields, validate_consent, validate_follow_up, validate_for_receiver, validate_organisation,
        validate_submit,
    },
    wire::{self, ConsentRecord, ConsentRecordKind, MessageStatus, Purpose},
};

/// Executions per target and run; the figure in `docs/reliability.md`.
const ITERATIONS: usize = 30_000;

/// The day the checks run on.
const TODAY: time::Date = time::macros::date!(2026 - 11 - 23);

/// Every RPC's request type, by full name, with what the hub does to it once decoded.
const DECODERS: &[(&str, Target)] = &[
    ("referralhub.v1.SubmitMessageRequest", |b| decoded::<wire::SubmitMessageRequest>(b).map_or((), submit)),
    ("referralhub.v1.PreviewMessageRequest", |b| {
        decoded::<wire::PreviewMessageRequest>(b).and_then(|r| r.message).map_or((), submit)
    }),
    ("referralhub.v1.PostFollowUpRequest", |b| decoded::<wire::PostFollowUpRequest>(b).map_or((), follow_up)),
    ("referralhub.v1.RecordConsentRequest", |b| {
        decoded::<wire::RecordConsentRequest>(b).map_or((), |r| consent(&r.request_id, r.terms))
    }),
    ("referralhub.v1.RegisterOrganisationRequest", |b| {
        decoded::<wire::RegisterOrganisationRequest>(b).and_then(|r| r.organisation).map_or((), organisation)
    }),
    ("referralhub.v1.UpdateOrganisationRequest", |b| {
        decoded::<wire::UpdateOrganisationRequest>(b).and_then(|r| r.organisation).map_or((), organisation)
    }),
    ("referralhub.v1.GetMessageRequest", decode_only::<wire::GetMessageRequest>),
    ("referralhub.v1.ListMessagesRequest", decode_only::<wire::ListMessagesRequest>),
    ("referralhub.v1.StreamInboxRequest", decode_only::<wire::StreamInboxRequest>),
    ("referralhub.v1.AckDeliveryRequest", decode_only::<wire::AckDeliveryRequest>),
    ("referralhub.v1.ListOverdueRequest", decode_only::<wire::ListOverdueRequest>),
    ("referralhub.v1.RerouteMessageRequest", decode_only::<wire::RerouteMessageRequest>),
    ("referralhub.v1.ListUnroutedAlertsRequest", decode_only::<wire::ListUnroutedAlertsRequest>),
    ("referralhub.v1.RouteAlertRequest", decode_only::<wire::RouteAlertRequest>),
    ("referralhub.v1.WithdrawConsentRequest", decode_only::<wire::WithdrawConsentRequest>),
    ("referralhub.v1.ListConsentsRequest", decode_only::<wire::ListConsentsRequest>),
    ("referralhub.v1.ListOverridesRequest", decode_only::<wire::ListOverridesRequest>),
    ("referralhub.v1.ListAuditEntriesRequest", decode_only::<wire::ListAuditEntriesRequest>),
    ("referralhub.v1.VerifyAuditChainRequest", decode_only::<wire::VerifyAuditChainRequest>),
    ("referralhub.v1.GetTreeHeadRequest", decode_only::<wire::GetTreeHeadRequest>),
    ("referralhub.v1.GetInclusionProofRequest", decode_only::<wire::GetInclusionProofRequest>),
    ("referralhub.v1.GetConsistencyProofRequest", decode_only::<wire::GetConsistencyProofRequest>),
    ("referralhub.v1.ListSigningKeysRequest", decode_only::<wire::ListSigningKeysRequest>),
    ("referralhub.v1.SearchOrganisationsRequest", decode_only::<wire::SearchOrganisationsRequest>),
    ("referralhub.v1.GetOrganisationRequest", decode_only::<wire::GetOrganisationRequest>),
    ("referralhub.v1.SuspendOrganisationRequest", decode_only::<wire::SuspendOrganisationRequest>),
    ("referralhub.v1.ListTaxonomiesRequest", decode_only::<wire::ListTaxonomiesRequest>),
    ("referralhub.v1.GetStatisticsRequest", decode_only::<wire::GetStatisticsRequest>),
    ("referralhub.v1.EchoRequest", decode_only::<wire::EchoRequest>),
];

/// Decodes a request and runs the hub's pure checks on it.
type Target = fn(&[u8]);

/// For requests the hub only reads ids and filters from.
fn decode_only<M: Message + Default>(bytes: &[u8]) {
    let _ = M::decode(bytes);
}

fn decoded<M: Message + Default>(bytes: &[u8]) -> Option<M> {
    M::decode(bytes).ok()
}

/// What the hub does with a submitted message before storing and delivering it.
fn submit(mut request: wire::SubmitMessageRequest) {
    let rules = Rules::default();
    let _ = validate_submit(&request, &rules, TODAY);
    derive_hub_fields(&mut request, &rules);
    for sector in sample::SECTORS {
        let _ = validate_for_receiver(&request, sector);
    }
    if let Some(terms) = request.consent.clone() {
        let record = ConsentRecord {
            id: "c".into(),
            kind: ConsentRecordKind::Grant as i32,
            terms: Some(terms),
            ..ConsentRecord::default()
        };
        for sector in sample::SECTORS {
            let _ = decide(Question {
                records: std::slice::from_ref(&record),
                pinned: None,
                receiver_org: "org",
                receiver_sector: sector,
                purpose: Purpose::ServiceProvision,
                now: 0,
                policy: &ConsentPolicy::default(),
            });
        }
    }
    if let Some(payload) = request.payload {
        let payload = from_submit(payload);
        let _ = facts(&payload);
        let everything: BTreeSet<_> = ALL_CATEGORIES.into_iter().collect();
        let half: BTreeSet<_> = ALL_CATEGORIES.into_iter().step_by(2).collect();
        for allowed in [everything, half, BTreeSet::new()] {
            let _ = cut_payload(&payload, &allowed);
        }
    }
}

fn follow_up(request: wire::PostFollowUpRequest) {
    let _ = validate_follow_up(&request);
    for status in (0..=12).filter_map(|s| MessageStatus::try_from(s).ok()) {
        for (party, owner) in [
            (Party::Sender, Party::Sender),
            (Party::Receiver, Party::Sender),
            (Party::Sender, Party::Receiver),
            (Party::Receiver, Party::Receiver),
        ] {
            let _ = apply(status, request.action(), party, owner);
        }
    }
}

fn consent(request_id: &str, terms: Option<wire::ConsentTerms>) {
    let _ = validate_consent(request_id, terms.as_ref(), TODAY);
}

fn organisation(org: wire::Organisation) {
    let _ = validate_organisation(&org, &Rules::default());
}

#[test]
fn every_rpc_request_type_has_a_decoder_target() {
    let set = prost_types::FileDescriptorSet::decode(referral_hub_proto::FILE_DESCRIPTOR_SET).unwrap();
    let inputs: BTreeSet<String> = set
        .file
        .iter()
        .flat_map(|file| file.service.iter().flat_map(|s| s.method.iter()))
        .map(|method| method.input_type().trim_start_matches('.').to_owned())
        .collect();
    let targets: BTreeSet<String> = DECODERS.iter().map(|(name, _)| (*name).to_owned()).collect();
    assert_eq!(inputs, targets, "each RPC's request type is fuzzed, and only those");
}

#[test]
fn any_bytes_decode_into_every_request_type_without_panicking() {
    bolero::check!().with_iterations(ITERATIONS).for_each(|bytes: &[u8]| {
        for (_, target) in DECODERS {
            target(bytes);
        }
    });
}

/// Valid requests with bytes overwritten: mostly well-formed protobuf, so the
/// checks behind the decoder get deep inputs rather than decode errors.
#[test]
fn mutated_valid_requests_go_through_every_check_without_panicking() {
    let seeds: Vec<(usize, Vec<u8>)> = vec![
        (0, sample::submit("r", "org").encode_to_vec()),
        (0, sample::submit_transfer("t", "org").encode_to_vec()),
        (0, sample::submit_alert("a").encode_to_vec()),
        (
            2,
            wire::PostFollowUpRequest {
                request_id: "f".into(),
                message_id: "m".into(),
                action: 3,
                note: "n".into(),
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        (
            3,
            wire::RecordConsentRequest {
                request_id: "c".into(),
                terms: Some(sample::consent()),
                supersedes_id: String::new(),
            }
            .encode_to_vec(),
        ),
    ];
    bolero::check!().with_iterations(ITERATIONS).with_type::<(u8, Vec<(u16, u8)>)>().for_each(|(which, edits)| {
        let (target, seed) = &seeds[*which as usize % seeds.len()];
        let mut bytes = seed.clone();
        for (at, value) in edits {
            let at = *at as usize % bytes.len();
            bytes[at] = *value;
        }
        (DECODERS[*target].1)(&bytes);
    });
}
