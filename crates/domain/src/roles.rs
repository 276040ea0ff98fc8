//! Worker roles (docs/security.md "Authorisation"), as carried in the token's `roles` claim.

use std::fmt;

/// What a worker may do. A token carries one or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Sends messages and follows up on its own organisation's sent messages.
    Referrer,
    /// Reads the inbox, acknowledges, follows up on received messages.
    Receiver,
    /// Overrides, best-interests consent, overdue lists.
    Supervisor,
    /// Reads the audit log and statistics, never payloads.
    Auditor,
    /// Manages its own organisation's settings; an operator organisation's
    /// admin manages the whole directory (docs/security.md "The operator").
    Admin,
    /// Reads every organisation's audit metadata and statistics. Honoured only
    /// for organisations the operator granted it to (`--oversight-org`), so no
    /// agency can give it to itself.
    Oversight,
}

impl Role {
    /// Every role, for help texts and tests.
    pub const ALL: [Role; 6] =
        [Role::Referrer, Role::Receiver, Role::Supervisor, Role::Auditor, Role::Admin, Role::Oversight];

    /// The claim value, e.g. `referrer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Referrer => "referrer",
            Role::Receiver => "receiver",
            Role::Supervisor => "supervisor",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
            Role::Oversight => "oversight",
        }
    }

    /// Parses a claim value; `None` for anything unknown.
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_and_unknown_is_none() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Role::parse("Referrer"), None);
    }
}
