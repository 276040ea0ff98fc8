//! Need-to-know disclosure: cutting a payload down to the categories a
//! receiver may see, driven by the per-field categories declared once in the
//! proto files (`referral_hub_proto::PAYLOAD_FIELDS`), so a new field is cut
//! correctly the moment it is tagged.

use std::{collections::BTreeSet, sync::OnceLock};

use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, Value};

use crate::wire::{DataCategory, ServiceReferral};

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

const REFERRAL: &str = "referralhub.v1.ServiceReferral";

/// A payload cut for one receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct Cut {
    /// What the receiver gets.
    pub referral: ServiceReferral,
    /// Categories that had data and were removed.
    pub withheld: BTreeSet<DataCategory>,
    /// Categories that had data and were kept.
    pub disclosed: BTreeSet<DataCategory>,
}

/// Keeps only the fields of `referral` whose category is in `allowed`
/// (routing fields always stay).
pub fn cut_referral(referral: &ServiceReferral, allowed: &BTreeSet<DataCategory>) -> Cut {
    let mut message = dynamic(referral);
    let mut withheld = BTreeSet::new();
    let mut disclosed = BTreeSet::new();
    for field in referral_hub_proto::PAYLOAD_FIELDS.iter().filter(|f| f.payload == REFERRAL) {
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
    let referral = ServiceReferral::decode(message.encode_to_vec().as_slice()).unwrap_or_default();
    Cut { referral, withheld, disclosed }
}

/// The categories of `referral` that carry data.
pub fn present_categories(referral: &ServiceReferral) -> BTreeSet<DataCategory> {
    cut_referral(referral, &BTreeSet::new()).withheld
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

fn dynamic(referral: &ServiceReferral) -> DynamicMessage {
    let descriptor = referral_descriptor();
    // A typed message always decodes as its own descriptor.
    DynamicMessage::decode(descriptor.clone(), referral.encode_to_vec().as_slice())
        .unwrap_or_else(|_| DynamicMessage::new(descriptor))
}

fn referral_descriptor() -> MessageDescriptor {
    static DESCRIPTOR: OnceLock<MessageDescriptor> = OnceLock::new();
    DESCRIPTOR
        .get_or_init(|| {
            let pool = DescriptorPool::decode(referral_hub_proto::FILE_DESCRIPTOR_SET)
                .expect("the compiled-in descriptor set is valid");
            pool.get_message_by_name(REFERRAL).expect("ServiceReferral is in the descriptor set")
        })
        .clone()
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

    #[test]
    fn a_cut_keeps_exactly_the_allowed_categories() {
        let full = sample::referral();
        assert_eq!(present_categories(&full).len(), 7, "the sample has no LEGAL or EDUCATION field");
        let only_identity = cut_referral(&full, &BTreeSet::from([DataCategory::Identity]));
        let child = only_identity.referral.child.clone().unwrap();
        assert_eq!((child.given_name.as_str(), child.date_of_birth.as_str()), ("Aye", "2017-03-14"));
        assert_eq!(child.sex, "", "DEMOGRAPHIC cut");
        assert_eq!(only_identity.referral.reason, "", "PROTECTION_CONCERN cut");
        assert_eq!(only_identity.referral.caregiver.as_ref().unwrap().phone, "", "CONTACT cut");
        assert!(only_identity.referral.attachments.iter().all(|a| a.uri.is_empty()));
        assert_eq!(only_identity.referral.requested_services, full.requested_services, "routing stays");
        assert_eq!(only_identity.referral.priority, full.priority);
        assert_eq!(only_identity.disclosed, BTreeSet::from([DataCategory::Identity]));
        assert_eq!(only_identity.withheld.len(), 6);
        let everything = cut_referral(&full, &ALL_CATEGORIES.into_iter().collect());
        assert_eq!(everything.referral, full);
        assert!(everything.withheld.is_empty());
    }

    /// Property, checked over its whole domain: for every consent (all 512
    /// category subsets) and every receiving sector, what is disclosed lies
    /// inside both the consent and the need-to-know table, nothing allowed is
    /// lost, and the cut payload carries no other category.
    #[test]
    fn disclosure_never_leaves_consent_and_need_to_know() {
        let policy = ConsentPolicy::default();
        let full = sample::referral();
        let present = present_categories(&full);
        for permitted in subsets() {
            for sector in sample::SECTORS {
                let allowed: BTreeSet<_> = permitted.intersection(&policy.needs(sector)).copied().collect();
                let cut = cut_referral(&full, &allowed);
                assert!(cut.disclosed.is_subset(&allowed), "{sector:?} {permitted:?}");
                assert_eq!(present_categories(&cut.referral), cut.disclosed);
                assert_eq!(cut.disclosed, present.intersection(&allowed).copied().collect());
                assert_eq!(cut.withheld, present.difference(&allowed).copied().collect());
            }
        }
    }
}
