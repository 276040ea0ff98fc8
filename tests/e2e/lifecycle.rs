//! Every (state, action, party) of the life cycle over real gRPC, checked
//! against the domain's table: legal moves land, illegal ones are
//! `FAILED_PRECONDITION` naming the current state or the party that owns the move.

use referral_hub_domain::{
    lifecycle::{self, Party},
    sample,
};
use referral_hub_e2e::{Backend, HEALTH_ORG, MessageClient, SOCIAL_WELFARE_ORG, TestHub, follow_up, precondition};
use referral_hub_proto::v1::{AckDeliveryRequest, FollowUpAction as A, MessageStatus as S};

/// How to reach each state from SUBMITTED (None: a delivery ack, not a follow-up).
fn path_to(state: S) -> Vec<(Party, Option<A>)> {
    use Party::{Receiver as R, Sender as Se};
    match state {
        S::Submitted => vec![],
        S::Delivered => vec![(R, None)],
        S::Acknowledged => vec![(R, Some(A::Acknowledge))],
        S::Accepted => vec![(R, Some(A::Acknowledge)), (R, Some(A::Accept))],
        S::Declined => vec![(R, Some(A::Acknowledge)), (R, Some(A::Decline))],
        S::InProgress => vec![
            (R, Some(A::Acknowledge)),
            (R, Some(A::Accept)),
            (R, Some(A::StartService)),
        ],
        S::Completed => vec![(R, Some(A::Acknowledge)), (R, Some(A::Accept)), (R, Some(A::Complete))],
        S::Closed => vec![(R, Some(A::Acknowledge)), (R, Some(A::Decline)), (Se, Some(A::Close))],
        S::Withdrawn => vec![(Se, Some(A::Withdraw))],
        S::Unspecified => unreachable!(),
    }
}

struct Parties {
    sender: MessageClient,
    receiver: MessageClient,
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
        let sent = self
            .sender
            .submit_message(sample::submit(&request_id, SOCIAL_WELFARE_ORG))
            .await
            .unwrap();
        let id = sent.into_inner().message.unwrap().id;
        for (party, action) in path_to(state) {
            match action {
                None => {
                    let inbox = hub.db.store.inbox_after(SOCIAL_WELFARE_ORG, 0, 10_000).await.unwrap();
                    let position = inbox.iter().find(|e| e.message.id == id).unwrap().position;
                    self.receiver
                        .ack_delivery(AckDeliveryRequest { position })
                        .await
                        .unwrap();
                }
                Some(action) => {
                    let request = follow_up(&id, action, &self.next_id());
                    let client = if party == Party::Sender {
                        &mut self.sender
                    } else {
                        &mut self.receiver
                    };
                    client.post_follow_up(request).await.unwrap();
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
        counter: 0,
    };
    let (mut legal, mut illegal) = (0, 0);
    for state in lifecycle::STATES {
        // Illegal moves change nothing, so one message per state serves them all.
        let shared = parties.message_in(&hub, state).await;
        for action in lifecycle::ACTIONS {
            for party in [Party::Sender, Party::Receiver] {
                let expected = lifecycle::apply(state, action, party);
                let id = if expected.is_ok() {
                    parties.message_in(&hub, state).await
                } else {
                    shared.clone()
                };
                let request = follow_up(&id, action, &parties.next_id());
                let client = if party == Party::Sender {
                    &mut parties.sender
                } else {
                    &mut parties.receiver
                };
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
        let stored = hub.db.store.message(&shared).await.unwrap().unwrap();
        assert_eq!(stored.status, state, "illegal moves left {state:?} unchanged");
    }
    assert_eq!((legal, illegal), (32, 148));
}

referral_hub_e2e::on_both_backends!(every_transition_matches_the_domain_table);
