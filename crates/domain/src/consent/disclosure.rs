//! Need-to-know disclosure: cutting a payload down to the categories a
//! receiver may see, driven by the per-field categories declared once in the
//! proto files (`referral_hub_proto::PAYLOAD_FIELDS`), so a new field is cut
//! correctly the moment it is tagged.

use std::{collections::BTreeSet, sync::OnceLock};

use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, Value};

use crate::wire::{DataCategory, message::Payload};

/// Every data category, for overrides (which still obey need-to-know) and tests.
pub const ALL_CATEGORIES: [DataCategory; 9] = [
    DataCategory::Identity,
    DataCategory::Contact,
    DataCategory::Location,
    DataCategory::ProtectionConcern,
    DataCategory::Health,
    DataCategory::Legal,
    DataCategory::Education,
    DataCategory::Family,
    DataCategory::Demographic,
];

/// A payload cut for one receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct Cut {
    /// What the receiver gets.
    pub payload: Payload,
    /// Categories that had data and were removed.
    pub withheld: BTreeSet<DataCategory>,
    /// Categories that had data and were kept.
    pub disclosed: BTreeSet<DataCategory>,
}

/// Keeps only the fields of `payload` whose category is in `allowed`
/// (routing fields always stay).
pub fn cut_payload(payload: &Payload, allowed: &BTreeSet<DataCategory>) -> Cut {
    let (name, encoded) = match payload {
        Payload::Referral(p) => ("referralhub.v1.ServiceReferral", p.encode_to_vec()),
        Payload::CaseTransfer(p) => ("referralhub.v1.CaseTransfer", p.encode_to_vec()),
        Payload::SeparatedChildAlert(p) => ("referralhub.v1.SeparatedChildAlert", p.encode_to_vec()),
    };
    let descriptor = descriptors().get_message_by_name(name).expect("every payload is in the descriptor set");
    // A typed message always decodes as its own descriptor.
    let mut message = DynamicMessage::decode(descriptor.clone(), encoded.as_slice())
        .unwrap_or_else(|_| DynamicMessage::new(descriptor));
    let mut withheld = BTreeSet::new();
    let mut disclosed = BTreeSet::new();
    for field in referral_hub_proto::PAYLOAD_FIELDS.iter().filter(|f| f.payload == name) {
        let Some(category) = field.category else { continue };
        let segments: Vec<&str> = field.path.split('.').collect();
        let keep = allowed.contains(&category);
        if visit(&mut message, &segments, !keep) {
            if keep {
                disclosed.insert(category)
            } else {
                withheld.insert(category)
            };
        }
    }
    prune(&mut message);
    let bytes = message.encode_to_vec();
    let payload = match payload {
        Payload::Referral(_) => Payload::Referral(decode(&bytes)),
        Payload::CaseTransfer(_) => Payload::CaseTransfer(decode(&bytes)),
        Payload::SeparatedChildAlert(_) => Payload::SeparatedChildAlert(decode(&bytes)),
    };
    Cut { payload, withheld, disclosed }
}

/// The categories of `payload` that carry data.
pub fn present_categories(payload: &Payload) -> BTreeSet<DataCategory> {
    cut_payload(payload, &BTreeSet::new()).withheld
}

/// Whether the field at `path` holds data anywhere below `message`; clears it if `clear`.
fn visit(message: &mut DynamicMessage, path: &[&str], clear: bool) -> bool {
    let Some((name, rest)) = path.split_first() else {
        return false;
    };
    if !message.has_field_by_name(name) {
        return false;
    }
    if rest.is_empty() {
        if clear {
            message.clear_field_by_name(name);
        }
        return true;
    }
    let mut found = false;
    match message.get_field_by_name_mut(name) {
        Some(Value::Message(inner)) => found = visit(inner, rest, clear),
        Some(Value::List(items)) => {
            for item in items.iter_mut() {
                if let Value::Message(inner) = item {
                    found |= visit(inner, rest, clear);
                }
            }
        }
        _ => {}
    }
    found
}

/// Drops nested messages the cut left empty (and empty list items), so that
/// not even the shape of withheld data, such as how many attachments there
/// are, reaches the receiver.
fn prune(message: &mut DynamicMessage) {
    let mut emptied = Vec::new();
    for (field, value) in message.fields_mut() {
        match value {
            Value::Message(inner) => {
                prune(inner);
                if inner.fields().next().is_none() {
                    emptied.push(field);
                }
            }
            Value::List(items) => {
                for item in items.iter_mut() {
                    if let Value::Message(inner) = item {
                        prune(inner);
                    }
                }
                items.retain(|item| !matches!(item, Value::Message(inner) if inner.fields().next().is_none()));
                if items.is_empty() {
                    emptied.push(field);
                }
            }
            _ => {}
        }
    }
    for field in emptied {
        message.clear_field(&field);
    }
}

/// A cut message back in typed form (it was encoded from the same descriptor).
fn decode<M: prost::Message + Default>(bytes: &[u8]) -> M {
    M::decode(bytes).unwrap_or_default()
}

fn descriptors() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(referral_hub_proto::FILE_DESCRIPTOR_SET)
            .expect("the compiled-in descriptor set is valid")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{consent::ConsentPolicy, sample};

    fn subsets() -> impl Iterator<Item = BTreeSet<DataCategory>> {
        (0u32..512).map(|mask| {
            ALL_CATEGORIES.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, c)| *c).collect()
        })
    }

    fn samples() -> [Payload; 3] {
        [
            Payload::Referral(sample::referral()),
            Payload::CaseTransfer(sample::transfer()),
            Payload::SeparatedChildAlert(sample::alert()),
        ]
    }

    #[test]
    fn a_cut_keeps_exactly_the_allowed_categories() {
        let full = sample::referral();
        let payload = Payload::Referral(full.clone());
        assert_eq!(present_categories(&payload).len(), 7, "the sample has no LEGAL or EDUCATION field");
        let only_identity = cut_payload(&payload, &BTreeSet::from([DataCategory::Identity]));
        let Payload::Referral(cut) = &only_identity.payload else { panic!("a referral stays a referral") };
        let child = cut.child.clone().unwrap();
        assert_eq!((child.given_name.as_str(), child.date_of_birth.as_str()), ("Aye", "2017-03-14"));
        assert_eq!(child.sex, "", "DEMOGRAPHIC cut");
        assert_eq!(cut.reason, "", "PROTECTION_CONCERN cut");
        assert!(cut.caregiver.is_none(), "CONTACT, FAMILY and PROTECTION_CONCERN cut: nothing of the caregiver left");
        assert!(cut.attachments.is_empty(), "not even how many attachments there are");
        assert!(cut.current_location.is_none(), "no empty shell of a withheld location");
        assert_eq!(cut.requested_services, full.requested_services, "routing stays");
        assert_eq!(cut.priority, full.priority);
        assert_eq!(only_identity.disclosed, BTreeSet::from([DataCategory::Identity]));
        assert_eq!(only_identity.withheld.len(), 6);
        let everything = cut_payload(&payload, &ALL_CATEGORIES.into_iter().collect());
        assert_eq!(everything.payload, payload);
        assert!(everything.withheld.is_empty());
    }

    #[test]
    fn a_court_gets_the_justice_block_but_no_health_and_no_family() {
        let policy = ConsentPolicy::default();
        let transfer = Payload::CaseTransfer(sample::transfer());
        let cut = cut_payload(&transfer, &policy.needs(crate::wire::Sector::Justice));
        let Payload::CaseTransfer(seen) = &cut.payload else { panic!("a transfer stays a transfer") };
        let justice = seen.justice.as_ref().expect("LEGAL is disclosed to JUSTICE");
        assert_eq!(justice.medical_examination_reference, "YGH-FORENSIC-2026-0311");
        assert!(justice.do_not_reinterview);
        assert_eq!(seen.child.as_ref().unwrap().disability, "", "HEALTH is withheld from JUSTICE");
        assert!(cut.withheld.contains(&DataCategory::Health));
        let alert = Payload::SeparatedChildAlert(sample::alert());
        let for_school = cut_payload(&alert, &policy.needs(crate::wire::Sector::Education));
        let Payload::SeparatedChildAlert(seen) = &for_school.payload else { panic!("an alert stays an alert") };
        assert!(seen.family_members.iter().all(|m| m.name.is_empty()), "FAMILY is withheld from EDUCATION");
        assert_eq!(seen.nicknames, vec!["Lay Lay".to_owned()], "IDENTITY is disclosed");
    }

    /// Property, checked over its whole domain: for every payload kind, every
    /// consent (all 512 category subsets) and every receiving sector, what is disclosed lies
    /// inside both the consent and the need-to-know table, nothing allowed is
    /// lost, and the cut payload carries no other category.
    #[test]
    fn disclosure_never_leaves_consent_and_need_to_know() {
        let policy = ConsentPolicy::default();
        for full in samples() {
            let present = present_categories(&full);
            for permitted in subsets() {
                for sector in sample::SECTORS {
                    let allowed: BTreeSet<_> = permitted.intersection(&policy.needs(sector)).copied().collect();
                    let cut = cut_payload(&full, &allowed);
                    assert!(cut.disclosed.is_subset(&allowed), "{sector:?} {permitted:?}");
                    assert_eq!(present_categories(&cut.payload), cut.disclosed);
                    assert_eq!(cut.disclosed, present.intersection(&allowed).copied().collect());
                    assert_eq!(cut.withheld, present.difference(&allowed).copied().collect());
                }
            }
        }
    }
}
