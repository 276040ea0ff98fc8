//! The data category of each payload field, read from the `data_category` and
//! `routing` options in `proto/` (the one place where categories are written).

use crate::v1::DataCategory;

/// One leaf field of a payload message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadField {
    /// Full name of the payload message, e.g. `referralhub.v1.ServiceReferral`.
    pub payload: &'static str,
    /// Dotted path of the field inside the payload, e.g. `child.given_name`.
    pub path: &'static str,
    /// Its data category; `None` for routing fields that say nothing about the child.
    pub category: Option<DataCategory>,
}

include!(concat!(env!("OUT_DIR"), "/payload_fields.rs"));

/// The data category of a payload field, `None` for routing fields and unknown paths.
pub fn category_of(payload: &str, path: &str) -> Option<DataCategory> {
    PAYLOAD_FIELDS.iter().find(|f| f.payload == payload && f.path == path).and_then(|f| f.category)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_referral_leaf_field_is_classified() {
        let referral: Vec<_> =
            PAYLOAD_FIELDS.iter().filter(|f| f.payload == "referralhub.v1.ServiceReferral").collect();
        assert!(referral.len() >= 29, "only {} fields", referral.len());
        assert_eq!(category_of("referralhub.v1.ServiceReferral", "child.given_name"), Some(DataCategory::Identity));
        assert_eq!(category_of("referralhub.v1.ServiceReferral", "caregiver.phone"), Some(DataCategory::Contact));
        assert_eq!(category_of("referralhub.v1.ServiceReferral", "requested_services"), None);
    }
}
