//! The consent decision (docs/consent.md "Decision"): for a message to a receiver for a
//! purpose, which records are in force, whether one of them allows it, and if
//! not, every reason why not.

use std::collections::{BTreeSet, HashSet};

use crate::{
    consent::ConsentPolicy,
    timestamps::micros_of,
    wire::{
        AgreementKind, CaregiverNotAsked, ConsentDecision, ConsentRecord, ConsentRecordKind, ConsentRefusal,
        ConsentTerms, ConsenterRole, DataCategory, Purpose, Sector,
    },
};

/// What the consent decision allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed by a record; `categories` are those the records permit (before need-to-know).
    Permitted {
        /// The newest permitting record.
        consent_id: String,
        /// Union of the categories every permitting record allows.
        categories: BTreeSet<DataCategory>,
    },
    /// Refused, with every reason.
    Refused(BTreeSet<ConsentRefusal>),
}

/// The grants in force: not superseded (replaced or withdrawn) by another record.
pub fn active(records: &[ConsentRecord]) -> Vec<&ConsentRecord> {
    let superseded: HashSet<&str> =
        records.iter().map(|r| r.supersedes_id.as_str()).filter(|id| !id.is_empty()).collect();
    records.iter().filter(|r| r.kind() == ConsentRecordKind::Grant && !superseded.contains(r.id.as_str())).collect()
}

/// One question the consent decision answers: may a message about a child,
/// whose `records` these are, go to `receiver_org` (of `receiver_sector`) for
/// `purpose` at `now`? One value, so the server's two askers (submit and every
/// release) and the tests name each part instead of passing seven in a row.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    /// Every record held for the child, in force or not (superseded ones are skipped).
    pub records: &'a [ConsentRecord],
    /// The record the sender named; only it may permit (a deny still refuses).
    pub pinned: Option<&'a str>,
    /// The organisation that would receive the message.
    pub receiver_org: &'a str,
    /// That organisation's sector, which a record may name instead of the organisation.
    pub receiver_sector: Sector,
    /// What the message is for.
    pub purpose: Purpose,
    /// The moment of the decision, µs since the epoch.
    pub now: i64,
    /// Who must agree at which age.
    pub policy: &'a ConsentPolicy,
}

/// Decides `question`. With a pinned record, only that record may permit;
/// any applicable deny still refuses (a deny beats a permit).
pub fn decide(question: Question<'_>) -> Decision {
    let Question { records, pinned, receiver_org, receiver_sector, purpose, now, policy } = question;
    let active = active(records);
    let mut reasons = BTreeSet::new();
    let mut denied = false;
    let mut permits: Vec<&ConsentRecord> = Vec::new();
    for record in &active {
        let Some(terms) = record.terms.as_ref() else { continue };
        let mut failures = scope_failures(terms, receiver_org, receiver_sector, purpose, now);
        if terms.decision() == ConsentDecision::Deny {
            denied |= failures.is_empty();
            continue;
        }
        if pinned.is_some_and(|id| id != record.id) {
            continue;
        }
        failures.extend(age_policy_failures(terms, policy));
        if failures.is_empty() {
            permits.push(record);
        } else {
            reasons.extend(failures);
        }
    }
    if denied {
        return Decision::Refused(BTreeSet::from([ConsentRefusal::Denied]));
    }
    if let Some(newest) = permits.iter().max_by_key(|r| (r.recorded_at.as_ref().map(micros_of), r.id.clone())) {
        let categories = permits
            .iter()
            .flat_map(|r| r.terms.iter().flat_map(|t| t.categories().filter(|c| *c != DataCategory::Unspecified)))
            .collect();
        return Decision::Permitted { consent_id: newest.id.clone(), categories };
    }
    if reasons.is_empty() {
        reasons.insert(ConsentRefusal::NoConsent);
    }
    Decision::Refused(reasons)
}

/// Whether the record's terms cover this receiver, purpose and moment.
fn scope_failures(terms: &ConsentTerms, org: &str, sector: Sector, purpose: Purpose, now: i64) -> Vec<ConsentRefusal> {
    let mut failures = Vec::new();
    let covers = terms.recipient_org_ids.iter().any(|id| id == org) || terms.recipient_sectors().any(|s| s == sector);
    if !covers {
        failures.push(ConsentRefusal::WrongRecipient);
    }
    if !terms.purposes().any(|p| p == purpose) {
        failures.push(ConsentRefusal::WrongPurpose);
    }
    if terms.valid_from.as_ref().is_some_and(|from| now < micros_of(from)) {
        failures.push(ConsentRefusal::NotYetValid);
    }
    if terms.expires_at.as_ref().is_none_or(|until| now >= micros_of(until)) {
        failures.push(ConsentRefusal::Expired);
    }
    failures
}

/// Whether the people who agreed are those the age policy asks for.
fn age_policy_failures(terms: &ConsentTerms, policy: &ConsentPolicy) -> Vec<ConsentRefusal> {
    let agreed = |roles: &[ConsenterRole], kinds: &[AgreementKind]| {
        terms.consenters.iter().any(|c| roles.contains(&c.role()) && kinds.contains(&c.kind()))
    };
    let consent = [AgreementKind::Consent];
    let caregiver = agreed(&[ConsenterRole::Caregiver, ConsenterRole::LegalGuardian], &consent)
        || (terms.caregiver_not_asked() != CaregiverNotAsked::Unspecified
            && agreed(&[ConsenterRole::BestInterestsDecision], &consent));
    let child_consent = agreed(&[ConsenterRole::Child], &consent);
    let child_assent = child_consent || agreed(&[ConsenterRole::Child], &[AgreementKind::Assent]);
    let Some(band) = policy.band(terms.child_age_years) else {
        return vec![ConsentRefusal::ChildConsentRequired];
    };
    let mut failures = Vec::new();
    if band.caregiver_consent && !caregiver {
        failures.push(ConsentRefusal::CaregiverConsentRequired);
    }
    if band.child_assent && !child_assent {
        failures.push(ConsentRefusal::AssentRequired);
    }
    if band.child_consent && !child_consent {
        failures.push(ConsentRefusal::ChildConsentRequired);
    }
    failures
}

#[cfg(test)]
mod tests;
