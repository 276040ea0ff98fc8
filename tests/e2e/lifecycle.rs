//! Every (state, action, party) of the life cycle over real gRPC, checked
//! against the domain's table: legal moves land, illegal ones are
//! `FAILED_PRECONDITION` naming the current state or the party that owns the move.

use referral_hub_domain::{
    ids::{MessageId, OrgId},
    lifecycle::{self, Party},
    sample,
};
use referral_hub_e2e::{Backend, HEALTH_ORG, MessageClient, SOCIAL_WELFARE_ORG, TestHub, follow_up, precondition};
use referral_hub_proto::v1::{
    AckDeliveryRequest, FollowUpAction as A, MessageStatus as S, WithdrawConsentRequest,
    consent_service_client::ConsentServiceClient,
};
use tonic::{service::interceptor::InterceptedService, transport::Channel};

type ConsentClient = ConsentServiceClient<InterceptedService<Channel, referral_hub_e2e::Bearer>>;

/// One step on the way to a state.
#[derive(Clone, Copy)]
enum Step {
    /// The receiver's system acknowledges delivery.
    DeliveryAck,
    /// A follow-up by one party.
    FollowUp(Party, A),
    /// The sender withdraws the consent the message relies on.
    WithdrawConsent,
}

/// How to reach each state from SUBMITTED.
fn path_to(state: S) -> Vec<Step> {
    use Party::{Receiver as R, Sender as Se};
    use Step::FollowUp as F;
    match state {
        S::Submitted => vec![],
        S::Delivered => vec![Step::DeliveryAck],
        S::Acknowledged => vec![F(R, A::Acknowledge)],
        S::Accepted => vec![F(R, A::Acknowledge), F(R, A::Accept)],
        S::Declined => vec![F(R, A::Acknowledge), F(R, A::Decline)],
        S::InProgress => vec![F(R, A::Acknowledge), F(R, A::Accept), F(R, A::StartService)],
        S::Completed => vec![F(R, A::Acknowledge), F(R, A::Accept), F(R, A::Complete)],
        S::Closed => vec![F(R, A::Acknowledge), F(R, A::Decline), F(Se, A::Close)],
        S::Withdrawn => vec![F(Se, A::Withdraw)],
        S::Held => vec![Step::WithdrawConsent],
        S::Unspecified => unreachable!(),
    }
}

struct Parties {
    sender: MessageClient,
    receiver: MessageClient,
    consents: ConsentClient,
    counter: usize,
}

impl Parties {
    fn next_id(&mut self) -> String {
        self.counter += 1;
        format!("req-{}", self.counter)
    }

    /// A new message driven to `state`.
    async fn message_in(&mut self, hub: &TestHub, state: S) -> String {
        let request_id = self.next_id();
        let sent = self.sender.submit_message(sample::submit(&request_id, SOCIAL_WELFARE_ORG)).await.unwrap();
        let message = sent.into_inner().message.unwrap();
        let id = message.id;
        for step in path_to(state) {
            match step {
                Step::DeliveryAck => {
                    let inbox = hub.db.store.inbox_after(&OrgId::new(SOCIAL_WELFARE_ORG), 0, 10_000).await.unwrap();
                    let position = inbox.iter().find(|e| e.message().is_some_and(|m| m.id == id)).unwrap().position;
                    self.receiver.ack_delivery(AckDeliveryRequest { position }).await.unwrap();
                }
                Step::FollowUp(party, action) => {
                    let request = follow_up(&id, action, &self.next_id());
                    let client = if party == Party::Sender { &mut self.sender } else { &mut self.receiver };
                    client.post_follow_up(request).await.unwrap();
                }
                Step::WithdrawConsent => {
                    let request = WithdrawConsentRequest {
                        request_id: self.next_id(),
                        consent_id: message.consent_id.clone(),
                        reason: "The aunt withdrew consent.".into(),
                    };
                    let withdrawn = self.consents.withdraw_consent(request).await.unwrap().into_inner();
                    assert_eq!(withdrawn.held_message_ids, vec![id.clone()]);
                }
            }
        }
        id
    }
}

async fn every_transition_matches_the_domain_table(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut parties = Parties {
        sender: hub.messages(HEALTH_ORG, &["referrer"]).await,
        receiver: hub.messages(SOCIAL_WELFARE_ORG, &["receiver"]).await,
        consents: hub.consents(HEALTH_ORG, &["referrer"]).await,
        counter: 0,
    };
    let (mut legal, mut illegal) = (0, 0);
    for state in lifecycle::STATES {
        // Illegal moves change nothing, so one message per state serves them all.
        let shared = parties.message_in(&hub, state).await;
        for action in lifecycle::ACTIONS {
            for party in [Party::Sender, Party::Receiver] {
                let expected = lifecycle::apply(state, action, party, Party::Sender);
                let id = if expected.is_ok() { parties.message_in(&hub, state).await } else { shared.clone() };
                let request = follow_up(&id, action, &parties.next_id());
                let client = if party == Party::Sender { &mut parties.sender } else { &mut parties.receiver };
                let result = client.post_follow_up(request).await;
                match expected {
                    Ok(after) => {
                        let response = result.unwrap_or_else(|e| panic!("{state:?} {action:?} {party:?}: {e:?}"));
                        assert_eq!(response.into_inner().message.unwrap().status(), after);
                        legal += 1;
                    }
                    Err(error) => {
                        let status = result.expect_err("an illegal move must be refused");
                        let violations = precondition(&status);
                        assert_eq!(violations, vec![("ILLEGAL_TRANSITION".to_owned(), error.to_string())]);
                        illegal += 1;
                    }
                }
            }
        }
        let stored = hub.db.store.message(&MessageId::new(&shared)).await.unwrap().unwrap();
        assert_eq!(stored.status, state, "illegal moves left {state:?} unchanged");
    }
    assert_eq!((legal, illegal), (37, 163));
}

referral_hub_e2e::on_both_backends!(every_transition_matches_the_domain_table);
