//! The message life cycle (docs/domain.md "Life cycle"): which follow-up may move a message
//! from which state, and whether the sender or the receiver may post it. Once
//! the receiver accepts a case transfer it owns the case: from then on the
//! sender may only add notes, and the receiver closes the case.
//! (The one move that is not a follow-up, SUBMITTED -> DELIVERED when the
//! receiver's system acknowledges delivery, is made by the store's inbox ack.)
//!
//! The receiver may ACCEPT or DECLINE straight from SUBMITTED or DELIVERED,
//! as HL7 BSeR (Task `requested` -> `accepted`) and Primero (a referral
//! accepted from `in_progress`) do: stock systems have no separate
//! acknowledge step. Such a move is an implied acknowledgement
//! ([`implies_acknowledgement`]): it is recorded so, and the store stamps the
//! acknowledgement time with it, so deadlines and statistics read as if the
//! receiver had acknowledged at that moment.

use crate::wire::{FollowUpAction, MessageStatus};

/// Which side of a message a caller's organisation is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// The organisation that sent the message.
    Sender,
    /// The organisation the message is addressed to.
    Receiver,
}

/// Why a follow-up cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The other party owns this move.
    #[error("only the {allowed} may {action}")]
    WrongParty {
        /// The action attempted, e.g. `ACCEPT`.
        action: &'static str,
        /// `sender` or `receiver`.
        allowed: &'static str,
    },
    /// The move is not allowed from the current state.
    #[error("cannot {action} a message in state {current}")]
    IllegalFromState {
        /// The action attempted.
        action: &'static str,
        /// The message's current state, e.g. `CLOSED`.
        current: &'static str,
    },
    /// The case was transferred, so this move is no longer anyone's to make.
    #[error("the case was transferred to the receiver: {reason}")]
    Transferred {
        /// What the parties may still do.
        reason: &'static str,
    },
    /// The action is UNSPECIFIED or unknown.
    #[error("no action given")]
    NoAction,
}

/// Every state a stored message can be in.
pub const STATES: [MessageStatus; 10] = [
    MessageStatus::Submitted,
    MessageStatus::Delivered,
    MessageStatus::Acknowledged,
    MessageStatus::Accepted,
    MessageStatus::Declined,
    MessageStatus::InProgress,
    MessageStatus::Completed,
    MessageStatus::Closed,
    MessageStatus::Withdrawn,
    MessageStatus::Held,
];

/// Every follow-up action a party can post.
pub const ACTIONS: [FollowUpAction; 10] = [
    FollowUpAction::Acknowledge,
    FollowUpAction::Accept,
    FollowUpAction::Decline,
    FollowUpAction::StartService,
    FollowUpAction::ScheduleAppointment,
    FollowUpAction::DidNotAttend,
    FollowUpAction::Complete,
    FollowUpAction::Close,
    FollowUpAction::Withdraw,
    FollowUpAction::Note,
];

/// The states from which a sender may still withdraw: every open state, and
/// HELD (a message whose consent was withdrawn).
const WITHDRAWABLE: &[MessageStatus] = &[
    MessageStatus::Submitted,
    MessageStatus::Delivered,
    MessageStatus::Acknowledged,
    MessageStatus::Accepted,
    MessageStatus::InProgress,
    MessageStatus::Held,
];

/// The states from which the receiver may accept or decline: acknowledged,
/// or not yet (an implied acknowledgement).
const ANSWERABLE: &[MessageStatus] = &[MessageStatus::Submitted, MessageStatus::Delivered, MessageStatus::Acknowledged];

/// The states in which the service is under way (appointments, non-attendance).
const SERVING: &[MessageStatus] = &[MessageStatus::Accepted, MessageStatus::InProgress];

/// Who may post `action`, from which states, and the state it leads to
/// (`None`: the state does not change).
fn rule(action: FollowUpAction) -> Option<(Option<Party>, &'static [MessageStatus], Option<MessageStatus>)> {
    use MessageStatus as S;
    let receiver = Some(Party::Receiver);
    let sender = Some(Party::Sender);
    Some(match action {
        FollowUpAction::Acknowledge => (receiver, &[S::Submitted, S::Delivered], Some(S::Acknowledged)),
        FollowUpAction::Accept => (receiver, ANSWERABLE, Some(S::Accepted)),
        FollowUpAction::Decline => (receiver, ANSWERABLE, Some(S::Declined)),
        FollowUpAction::StartService => (receiver, &[S::Accepted], Some(S::InProgress)),
        FollowUpAction::ScheduleAppointment => (receiver, SERVING, None),
        FollowUpAction::DidNotAttend => (receiver, SERVING, None),
        FollowUpAction::Complete => (receiver, SERVING, Some(S::Completed)),
        FollowUpAction::Close => (sender, &[S::Completed, S::Declined], Some(S::Closed)),
        FollowUpAction::Withdraw => (sender, WITHDRAWABLE, Some(S::Withdrawn)),
        FollowUpAction::Note => (
            None,
            &[S::Submitted, S::Delivered, S::Acknowledged, S::Accepted, S::Declined, S::InProgress, S::Completed],
            None,
        ),
        // Hub-generated only: no party may post it.
        FollowUpAction::ConsentWithdrawn | FollowUpAction::Overdue | FollowUpAction::Unspecified => return None,
    })
}

/// The state after `party` posts `action` on a message in state `current`,
/// when `case_owner` holds the case (the sender, unless the receiver accepted
/// a case transfer).
pub fn apply(
    current: MessageStatus,
    action: FollowUpAction,
    party: Party,
    case_owner: Party,
) -> Result<MessageStatus, TransitionError> {
    let (owner, from, to) = rule(action).ok_or(TransitionError::NoAction)?;
    let name = short_name(action.as_str_name(), "FOLLOW_UP_ACTION_");
    if case_owner == Party::Receiver {
        match (action, party) {
            (FollowUpAction::Note, _) => {}
            (_, Party::Sender) => return Err(TransitionError::Transferred { reason: "the sender may only add notes" }),
            (FollowUpAction::Withdraw, Party::Receiver) => {
                return Err(TransitionError::Transferred { reason: "it cannot be withdrawn; CLOSE it once completed" });
            }
            (FollowUpAction::Close, Party::Receiver) if current == MessageStatus::Completed => {
                return Ok(MessageStatus::Closed);
            }
            _ => {}
        }
    }
    if let Some(owner) = owner.filter(|o| *o != party) {
        let allowed = match owner {
            Party::Sender => "sender",
            Party::Receiver => "receiver",
        };
        return Err(TransitionError::WrongParty { action: name, allowed });
    }
    if !from.contains(&current) {
        let current = short_name(current.as_str_name(), "MESSAGE_STATUS_");
        return Err(TransitionError::IllegalFromState { action: name, current });
    }
    Ok(to.unwrap_or(current))
}

/// Whether `action` on a message in state `current` also acknowledges it:
/// an ACCEPT or DECLINE before any ACKNOWLEDGE.
pub fn implies_acknowledgement(current: MessageStatus, action: FollowUpAction) -> bool {
    matches!(action, FollowUpAction::Accept | FollowUpAction::Decline)
        && matches!(current, MessageStatus::Submitted | MessageStatus::Delivered)
}

/// `FOLLOW_UP_ACTION_ACCEPT` -> `ACCEPT`.
pub fn short_name(name: &'static str, prefix: &str) -> &'static str {
    name.strip_prefix(prefix).unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use MessageStatus as S;

    /// The complete table of legal moves; every other (state, action, party) is refused.
    fn expected(current: S, action: FollowUpAction, party: Party) -> Option<S> {
        use FollowUpAction as A;
        use Party::*;
        match (action, party, current) {
            (A::Acknowledge, Receiver, S::Submitted | S::Delivered) => Some(S::Acknowledged),
            (A::Accept, Receiver, S::Submitted | S::Delivered | S::Acknowledged) => Some(S::Accepted),
            (A::Decline, Receiver, S::Submitted | S::Delivered | S::Acknowledged) => Some(S::Declined),
            (A::StartService, Receiver, S::Accepted) => Some(S::InProgress),
            (A::ScheduleAppointment | A::DidNotAttend, Receiver, S::Accepted | S::InProgress) => Some(current),
            (A::Complete, Receiver, S::Accepted | S::InProgress) => Some(S::Completed),
            (A::Close, Sender, S::Completed | S::Declined) => Some(S::Closed),
            (
                A::Withdraw,
                Sender,
                S::Submitted | S::Delivered | S::Acknowledged | S::Accepted | S::InProgress | S::Held,
            ) => Some(S::Withdrawn),
            (A::Note, _, S::Closed | S::Withdrawn | S::Held) => None,
            (A::Note, _, _) => Some(current),
            _ => None,
        }
    }

    /// The moves on a case the receiver took over: the receiver's moves, its
    /// CLOSE of a completed case, and notes from either side.
    fn expected_transferred(current: S, action: FollowUpAction, party: Party) -> Option<S> {
        use FollowUpAction as A;
        match (action, party, current) {
            (A::Close, Party::Receiver, S::Completed) => Some(S::Closed),
            (A::Close | A::Withdraw, ..) => None,
            (A::Note, ..) => expected(current, action, party),
            (_, Party::Sender, _) => None,
            _ => expected(current, action, party),
        }
    }

    #[test]
    fn every_state_action_and_party_matches_the_table() {
        let mut legal = [0, 0];
        for current in STATES {
            for action in ACTIONS {
                for party in [Party::Sender, Party::Receiver] {
                    let got = apply(current, action, party, Party::Sender).ok();
                    assert_eq!(got, expected(current, action, party), "{current:?} {action:?} {party:?}");
                    legal[0] += usize::from(got.is_some());
                    let got = apply(current, action, party, Party::Receiver).ok();
                    let want = expected_transferred(current, action, party);
                    assert_eq!(got, want, "transferred: {current:?} {action:?} {party:?}");
                    legal[1] += usize::from(got.is_some());
                }
            }
        }
        assert_eq!(legal, [37, 30]);
    }

    #[test]
    fn only_an_answer_before_any_acknowledgement_implies_one() {
        for current in STATES {
            for action in ACTIONS {
                let implied = implies_acknowledgement(current, action);
                let answer = matches!(action, FollowUpAction::Accept | FollowUpAction::Decline);
                let unacknowledged = matches!(current, S::Submitted | S::Delivered);
                assert_eq!(implied, answer && unacknowledged, "{current:?} {action:?}");
            }
        }
    }

    #[test]
    fn refusals_name_the_current_state_or_the_owner() {
        let sender_owns = Party::Sender;
        let err = apply(S::Closed, FollowUpAction::Accept, Party::Receiver, sender_owns).unwrap_err();
        assert_eq!(err.to_string(), "cannot ACCEPT a message in state CLOSED");
        let err = apply(S::Acknowledged, FollowUpAction::Accept, Party::Sender, sender_owns).unwrap_err();
        assert_eq!(err.to_string(), "only the receiver may ACCEPT");
        let err = apply(S::Completed, FollowUpAction::Close, Party::Receiver, sender_owns).unwrap_err();
        assert_eq!(err.to_string(), "only the sender may CLOSE");
        let err = apply(S::InProgress, FollowUpAction::Withdraw, Party::Sender, Party::Receiver).unwrap_err();
        assert_eq!(err.to_string(), "the case was transferred to the receiver: the sender may only add notes");
        let err = apply(S::Held, FollowUpAction::Accept, Party::Receiver, sender_owns).unwrap_err();
        assert_eq!(err.to_string(), "cannot ACCEPT a message in state HELD");
        let none = apply(S::Submitted, FollowUpAction::Unspecified, Party::Sender, sender_owns);
        assert_eq!(none, Err(TransitionError::NoAction));
    }
}
