//! Who may act hub-wide (docs/security.md "The operator"). The operator's
//! organisations (`--operator-org`) are the only ones whose `admin` manages
//! the whole directory and routes unrouted alerts; `oversight` is honoured only
//! for organisations granted it (`--oversight-org`, and the operator's own).
//! Configuration decides, never a token claim, so no agency can make itself
//! the operator or its own overseer, whatever its identity provider signs.

use std::collections::BTreeSet;

use referral_hub_domain::roles::Role;

use crate::auth::Caller;

/// The organisations trusted hub-wide, from configuration.
#[derive(Debug, Clone, Default)]
pub struct Authority {
    operators: BTreeSet<String>,
    oversight: BTreeSet<String>,
}

impl Authority {
    /// `operators` run the hub; `oversight` may read every organisation's
    /// audit metadata and statistics (operators may too).
    pub fn new(operators: impl IntoIterator<Item = String>, oversight: impl IntoIterator<Item = String>) -> Self {
        Authority { operators: operators.into_iter().collect(), oversight: oversight.into_iter().collect() }
    }

    /// Whether `org` is one of the operator's organisations.
    pub fn is_operator_org(&self, org: &str) -> bool {
        self.operators.contains(org)
    }

    /// `caller` as this hub honours it: `operator` set for an operator
    /// organisation's `admin`, and `oversight` dropped unless its organisation
    /// was granted it.
    pub fn apply(&self, mut caller: Caller) -> Caller {
        let granted = self.oversight.contains(caller.org.as_str()) || self.is_operator_org(&caller.org);
        if !granted {
            caller.roles.remove(&Role::Oversight);
        }
        caller.operator = caller.has(Role::Admin) && self.is_operator_org(&caller.org);
        caller
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::CallFacts;
    use referral_hub_domain::wire::Sector;

    fn caller(org: &str, roles: &[Role]) -> Caller {
        Caller {
            org: org.into(),
            subject: "worker".into(),
            roles: roles.iter().copied().collect(),
            facts: CallFacts::default(),
            sector: Sector::Other,
            operator: false,
        }
    }

    fn authority() -> Authority {
        Authority::new(["ministry-it".to_owned()], ["ombudsperson".to_owned()])
    }

    #[test]
    fn only_an_operator_organisations_admin_is_the_operator() {
        let a = authority();
        assert!(a.apply(caller("ministry-it", &[Role::Admin])).operator);
        assert!(!a.apply(caller("ministry-it", &[Role::Auditor])).operator);
        assert!(!a.apply(caller("school", &[Role::Admin])).operator);
        assert!(!a.apply(caller("ombudsperson", &[Role::Admin, Role::Oversight])).operator);
    }

    #[test]
    fn oversight_is_honoured_only_where_granted() {
        let a = authority();
        let school = a.apply(caller("school", &[Role::Oversight, Role::Auditor]));
        assert!(!school.has(Role::Oversight));
        assert!(school.has(Role::Auditor));
        assert!(a.apply(caller("ombudsperson", &[Role::Oversight])).has(Role::Oversight));
        assert!(a.apply(caller("ministry-it", &[Role::Oversight])).has(Role::Oversight));
    }

    #[test]
    fn a_hub_without_operators_has_none() {
        let a = Authority::default();
        let admin = a.apply(caller("school", &[Role::Admin, Role::Oversight]));
        assert!(!admin.operator);
        assert!(!admin.has(Role::Oversight));
    }
}
