//! What a change to an organisation's directory entry changes, field by field,
//! and whose change it is to make (docs/security.md "The operator"). The audit
//! entry records each changed field's before and after, the organisation is
//! told in its inbox, and the fields that decide where children's data goes
//! (channel, endpoint, lead areas, client certificate, sector, status) are the
//! operator's alone: an organisation's own admin may keep its name, areas and
//! services current, nothing else.

use crate::wire::{FieldChange, Organisation};

/// Who may change a field of a directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Steward {
    /// The organisation's own admin (and the operator).
    Organisation,
    /// Only the hub operator: the field decides where data goes or who may see it.
    Operator,
}

/// One field of a directory entry: who may change it and how it reads in a change.
struct Field {
    name: &'static str,
    steward: Steward,
    read: fn(&Organisation) -> String,
}

/// Every field of a directory entry but its id.
const FIELDS: &[Field] = &[
    Field { name: "name", steward: Steward::Organisation, read: |o| o.name.clone() },
    Field { name: "areas", steward: Steward::Organisation, read: |o| o.areas.join(",") },
    Field { name: "services", steward: Steward::Organisation, read: |o| o.services.join(",") },
    Field { name: "sector", steward: Steward::Operator, read: |o| o.sector().as_str_name().to_owned() },
    Field { name: "lead_agency_areas", steward: Steward::Operator, read: |o| o.lead_agency_areas.join(",") },
    Field { name: "channel", steward: Steward::Operator, read: |o| o.channel().as_str_name().to_owned() },
    Field { name: "status", steward: Steward::Operator, read: |o| o.status().as_str_name().to_owned() },
    Field { name: "push_endpoint", steward: Steward::Operator, read: |o| o.push_endpoint.clone() },
    Field {
        name: "client_certificate_sha256",
        steward: Steward::Operator,
        read: |o| o.client_certificate_sha256.clone(),
    },
];

/// Every field that differs between `before` (`None`: a new registration,
/// whose every set field is a change) and `after`, in a fixed order.
pub fn changes(before: Option<&Organisation>, after: &Organisation) -> Vec<FieldChange> {
    FIELDS
        .iter()
        .map(|field| FieldChange {
            field: field.name.to_owned(),
            before: before.map(field.read).unwrap_or_default(),
            after: (field.read)(after),
        })
        .filter(|change| change.before != change.after)
        .collect()
}

/// Who may change `field`; an unknown name is the operator's.
pub fn steward(field: &str) -> Steward {
    FIELDS.iter().find(|f| f.name == field).map_or(Steward::Operator, |f| f.steward)
}

/// The fields among `changes` that only the operator may change.
pub fn operators_fields(changes: &[FieldChange]) -> Vec<&str> {
    changes.iter().filter(|c| steward(&c.field) == Steward::Operator).map(|c| c.field.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{DeliveryChannel, OrganisationStatus, Sector};

    fn welfare() -> Organisation {
        Organisation {
            id: "welfare".into(),
            name: "Social Welfare".into(),
            sector: Sector::SocialWelfare as i32,
            areas: vec!["MM/YGN".into()],
            services: vec!["case_management".into(), "family_tracing".into()],
            lead_agency_areas: vec!["MM/YGN".into()],
            channel: DeliveryChannel::Pull as i32,
            status: OrganisationStatus::Active as i32,
            push_endpoint: String::new(),
            client_certificate_sha256: String::new(),
        }
    }

    #[test]
    fn an_unchanged_entry_has_no_changes() {
        assert!(changes(Some(&welfare()), &welfare()).is_empty());
    }

    #[test]
    fn a_diverted_channel_names_both_fields_with_before_and_after() {
        let diverted = Organisation {
            channel: DeliveryChannel::Push as i32,
            push_endpoint: "https://school.example/hook".into(),
            ..welfare()
        };
        let found = changes(Some(&welfare()), &diverted);
        let expected = [
            ("channel", "DELIVERY_CHANNEL_PULL", "DELIVERY_CHANNEL_PUSH"),
            ("push_endpoint", "", "https://school.example/hook"),
        ];
        let found: Vec<(&str, &str, &str)> =
            found.iter().map(|c| (c.field.as_str(), c.before.as_str(), c.after.as_str())).collect();
        assert_eq!(found, expected);
        assert_eq!(operators_fields(&changes(Some(&welfare()), &diverted)), ["channel", "push_endpoint"]);
    }

    #[test]
    fn a_registration_lists_every_set_field_from_empty() {
        let found = changes(None, &welfare());
        assert!(found.iter().all(|c| c.before.is_empty()));
        let names: Vec<&str> = found.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(names, ["name", "areas", "services", "sector", "lead_agency_areas", "channel", "status"]);
    }

    #[test]
    fn only_name_areas_and_services_are_the_organisations_own() {
        let own: Vec<&str> = FIELDS.iter().filter(|f| f.steward == Steward::Organisation).map(|f| f.name).collect();
        assert_eq!(own, ["name", "areas", "services"]);
        assert_eq!(steward("no_such_field"), Steward::Operator);
        let renamed = Organisation { name: "Department of Social Welfare".into(), ..welfare() };
        assert!(operators_fields(&changes(Some(&welfare()), &renamed)).is_empty());
    }

    #[test]
    fn every_field_of_the_wire_type_is_listed() {
        // A new Organisation field must get a steward here, or a change to it
        // would be neither audited nor told; the proto descriptor says which exist.
        let pool = prost_reflect::DescriptorPool::decode(referral_hub_proto::FILE_DESCRIPTOR_SET).unwrap();
        let message = pool.get_message_by_name("referralhub.v1.Organisation").unwrap();
        let mut wire: Vec<String> = message.fields().map(|f| f.name().to_owned()).filter(|n| n != "id").collect();
        let mut listed: Vec<String> = FIELDS.iter().map(|f| f.name.to_owned()).collect();
        wire.sort();
        listed.sort();
        assert_eq!(wire, listed);
    }
}
