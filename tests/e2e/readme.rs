//! The README's API tour works as printed: every SubmitMessage body in it,
//! read as grpcurl reads proto JSON, is accepted by a real hub with the demo
//! directory, as the health centre that the tour's `$HEALTH_TOKEN` stands for.

use referral_hub_e2e::{Backend, HEALTH_ORG, TestHub, submit_from_json};
use referral_hub_proto::v1::MessageKind;

const README: &str = include_str!("../../README.md");

/// The `-d '…'` bodies of the README's SubmitMessage commands.
fn submit_bodies() -> Vec<&'static str> {
    README
        .split("grpcurl ")
        .filter(|command| command.contains("MessageService/SubmitMessage"))
        .filter_map(|command| command.split(" -d '").nth(1)?.split('\'').next())
        .collect()
}

async fn every_message_kind_in_the_tour_is_accepted(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer", "receiver"]).await;
    let mut kinds = Vec::new();
    for body in submit_bodies() {
        let sent = health.submit_message(submit_from_json(body)).await;
        let message = sent.unwrap_or_else(|e| panic!("README body refused: {e:?}\n{body}")).into_inner().message;
        kinds.push(message.unwrap().kind());
    }
    let expected = [MessageKind::ServiceReferral, MessageKind::CaseTransfer, MessageKind::SeparatedChildAlert];
    assert_eq!(kinds, expected, "the tour shows one message of each kind");
}

referral_hub_e2e::on_both_backends!(every_message_kind_in_the_tour_is_accepted);
