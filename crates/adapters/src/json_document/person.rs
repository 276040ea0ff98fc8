//! The child and caregiver elements, both ways. The two adapters name the
//! child's object differently (`pupil`, `child`) but give it the same
//! elements, so a receiver that speaks both reads one shape.

use referral_hub_domain::wire::{Caregiver, CaregiverExclusion, ChildDetails, ChildRef, Message, SeparatedChildAlert};
use serde_json::{Map, Value, json};

use super::envelope::{enum_to_native, put};
use super::fields::{Object, Problems};
use crate::{CodeMap, Unmapped};

/// Elements of the child's object, besides a sector's own.
pub(crate) const CHILD_ELEMENTS: [&str; 11] = [
    "local_id",
    "link_key",
    "national_id",
    "given_name",
    "family_name",
    "sex",
    "date_of_birth",
    "age",
    "languages",
    "nationality",
    "displacement_status",
];

/// Elements of the caregiver's object.
pub(crate) const CAREGIVER_ELEMENTS: [&str; 5] = ["relationship", "name", "phone", "address", "exclusion"];

/// The hub's validation bounds the age (0-17) and names the element; here
/// only that the number fits the canonical field.
const AGE_MAX: u64 = u32::MAX as u64;

/// The child's reference and details from the child's object; elements in
/// `extra` are the sector's own and read by the caller.
pub(crate) fn read_child(
    child: &Object<'_>,
    extra: &[&str],
    codes: &CodeMap,
    problems: &mut Problems,
) -> (ChildRef, ChildDetails) {
    let known: Vec<&str> = CHILD_ELEMENTS.iter().chain(extra).copied().collect();
    child.only(&known, problems);
    let reference = ChildRef {
        local_id: child.required("local_id", problems),
        link_key: child.text("link_key", problems),
        national_id: child.text("national_id", problems),
    };
    let details = ChildDetails {
        given_name: child.text("given_name", problems),
        family_name: child.text("family_name", problems),
        sex: child.code("sex", codes, "sex", problems),
        date_of_birth: child.text("date_of_birth", problems),
        estimated_age_years: child.number("age", AGE_MAX, problems).map(|n| n as u32),
        languages: child.texts("languages", problems),
        disability: String::new(),
        displacement_status: child.code("displacement_status", codes, "displacement", problems),
        nationality: child.text("nationality", problems),
    };
    (reference, details)
}

/// Writes the child's object as `element` (`pupil`, `child`) when the
/// message still names a child after disclosure.
pub(crate) fn put_child(
    doc: &mut Map<String, Value>,
    element: &str,
    message: &Message,
    details: Option<&ChildDetails>,
    codes: &CodeMap,
) -> Result<(), Unmapped> {
    if message.child.is_some() || details.is_some() {
        let details = details.cloned().unwrap_or_default();
        doc.insert(element.into(), Value::Object(write_child(message.child.as_ref(), &details, codes)?));
    }
    Ok(())
}

/// The child's object: the reference the receiver may see and the details
/// that survived disclosure (disability is HEALTH, which neither JSON sector
/// sees, so the document has no element for it).
pub(crate) fn write_child(
    reference: Option<&ChildRef>,
    details: &ChildDetails,
    codes: &CodeMap,
) -> Result<Map<String, Value>, Unmapped> {
    let mut child = Map::new();
    if let Some(reference) = reference {
        put(&mut child, "local_id", &reference.local_id);
        put(&mut child, "link_key", &reference.link_key);
    }
    put(&mut child, "given_name", &details.given_name);
    put(&mut child, "family_name", &details.family_name);
    if !details.sex.is_empty() {
        put(&mut child, "sex", codes.to_native("sex", &details.sex)?);
    }
    put(&mut child, "date_of_birth", &details.date_of_birth);
    if let Some(age) = details.estimated_age_years {
        child.insert("age".into(), json!(age));
    }
    if !details.languages.is_empty() {
        child.insert("languages".into(), json!(details.languages));
    }
    put(&mut child, "nationality", &details.nationality);
    if !details.displacement_status.is_empty() {
        put(&mut child, "displacement_status", codes.to_native("displacement", &details.displacement_status)?);
    }
    Ok(child)
}

/// The caregiver from the caregiver's object.
pub(crate) fn read_caregiver(caregiver: &Object<'_>, codes: &CodeMap, problems: &mut Problems) -> Caregiver {
    caregiver.only(&CAREGIVER_ELEMENTS, problems);
    Caregiver {
        relationship: caregiver.text("relationship", problems),
        name: caregiver.text("name", problems),
        phone: caregiver.text("phone", problems),
        address: caregiver.text("address", problems),
        exclusion: caregiver.enumerated(
            "exclusion",
            codes,
            "caregiver_exclusion",
            |hub| CaregiverExclusion::from_str_name(hub).map(|e| e as i32),
            problems,
        ),
    }
}

/// The caregiver's object, with what survived disclosure.
pub(crate) fn write_caregiver(caregiver: &Caregiver, codes: &CodeMap) -> Result<Map<String, Value>, Unmapped> {
    let mut object = Map::new();
    put(&mut object, "relationship", &caregiver.relationship);
    put(&mut object, "name", &caregiver.name);
    put(&mut object, "phone", &caregiver.phone);
    put(&mut object, "address", &caregiver.address);
    if caregiver.exclusion != 0 {
        let hub = CaregiverExclusion::try_from(caregiver.exclusion).ok().map(|e| e.as_str_name());
        put(&mut object, "exclusion", enum_to_native(codes, "caregiver_exclusion", hub, caregiver.exclusion)?);
    }
    Ok(object)
}

/// A found child's other names and identifying features (IDENTITY), added to
/// the child's object of an alert so the receiver can recognise the child.
pub(crate) fn put_alert_identity(child: &mut Map<String, Value>, alert: &SeparatedChildAlert) {
    if !alert.nicknames.is_empty() {
        child.insert("nicknames".into(), json!(alert.nicknames));
    }
    put(child, "identifying_features", &alert.identifying_features);
}

/// The current carer of a found child as a caregiver contact: name, phone
/// and address (CONTACT) only, the relationship being FAMILY.
pub(crate) fn carer_contact(alert: &SeparatedChildAlert) -> Option<Caregiver> {
    alert.current_carer.as_ref().map(|c| Caregiver {
        name: c.name.clone(),
        phone: c.phone.clone(),
        address: c.address.clone(),
        ..Caregiver::default()
    })
}
