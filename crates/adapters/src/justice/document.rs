//! The case document delivered to a court or other justice agency: a case
//! transfer (or a referral) in NIEM 5.2 JSON. Structs, not maps, so that the
//! member order is the declaration order: the child-friendly handling block
//! is first, and a court clerk reads the handling needs before anything else.
//!
//! Naming ([`crate::niem`]): `hs:JuvenileCase` (Human Services) for the case,
//! `nc:` (NIEM Core) for people, places, dates and documents, `j:` (Justice)
//! for the initiating party and the child's sex code, and the hub's `rh:`
//! extension for the handling block and the hub's own codes, which NIEM has
//! no element for. Dates are `nc:DateType` objects (`{"nc:DateTime": …}`).

use referral_hub_domain::wire::{
    Attachment, Caregiver, CaregiverExclusion, CaseTransfer, ChildDetails, ChildRef, JusticeHandling, Location,
    Message, Priority, RiskLevel, SeparatedChildAlert, ServiceReferral, message::Payload,
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::native_json::{native, native_enum, rfc3339};
use crate::niem::handling::{Handling, handling};
use crate::niem::{Identification, context, date, date_time, empty, full_name, none};
use crate::{CodeMap, Unmapped};

/// A message to a justice agency. Inside the handling block, the needs that
/// change how the court first meets the child (role, age, interviews,
/// interpreter, protective measures) come before the rest.
#[derive(Serialize)]
pub(super) struct CaseDocument<'a> {
    #[serde(rename = "@context")]
    context: Value,
    #[serde(rename = "rh:ChildHandling", skip_serializing_if = "Option::is_none")]
    handling: Option<Handling<'a>>,
    #[serde(rename = "hs:JuvenileCase")]
    case: Case<'a>,
    #[serde(rename = "nc:Person", skip_serializing_if = "Option::is_none")]
    child: Option<Person<'a>>,
    #[serde(rename = "rh:Caregiver", skip_serializing_if = "Option::is_none")]
    caregiver: Option<CaregiverElement<'a>>,
    #[serde(rename = "nc:Location", skip_serializing_if = "Option::is_none")]
    location: Option<LocationElement<'a>>,
    #[serde(rename = "nc:Document", skip_serializing_if = "Vec::is_empty")]
    documents: Vec<DocumentElement<'a>>,
}

fn no(b: &bool) -> bool {
    !*b
}

/// The case: `hs:JuvenileCase` (an `nc:CaseType`), the sender as the
/// initiating party, the receiver as the agency the case is referred to.
#[derive(Serialize)]
struct Case<'a> {
    #[serde(rename = "nc:CaseTrackingID")]
    message_id: &'a str,
    #[serde(rename = "nc:CaseCategoryText")]
    kind: String,
    #[serde(rename = "j:CaseAugmentation")]
    sender: Value,
    #[serde(rename = "hs:CaseReferredAgency")]
    recipient: Value,
    #[serde(rename = "nc:ActivityDate", skip_serializing_if = "Option::is_none")]
    created_at: Option<Value>,
    #[serde(rename = "rh:AcknowledgeByDateTime", skip_serializing_if = "Option::is_none")]
    acknowledge_by: Option<String>,
    #[serde(rename = "nc:ActivityDueDate", skip_serializing_if = "Option::is_none")]
    respond_by: Option<Value>,
    #[serde(rename = "rh:RequestedServiceCode", skip_serializing_if = "none")]
    services: &'a [String],
    #[serde(rename = "rh:PriorityCode", skip_serializing_if = "Option::is_none")]
    priority: Option<String>,
    #[serde(rename = "rh:RiskLevelCode", skip_serializing_if = "Option::is_none")]
    risk_level: Option<String>,
    #[serde(rename = "rh:ProtectionConcernCode", skip_serializing_if = "none")]
    concerns: &'a [String],
    #[serde(rename = "hs:ReferralReasonText", skip_serializing_if = "empty")]
    reason: &'a str,
    #[serde(rename = "nc:ActivityDescriptionText", skip_serializing_if = "empty")]
    case_summary: &'a str,
    #[serde(rename = "rh:SafetyConcernText", skip_serializing_if = "empty")]
    safety_concerns: &'a str,
    #[serde(rename = "rh:ChildInformedIndicator", skip_serializing_if = "no")]
    child_informed: bool,
    #[serde(rename = "rh:ChildViewsText", skip_serializing_if = "empty")]
    child_views: &'a str,
    #[serde(rename = "nc:ActivityComment", skip_serializing_if = "Option::is_none")]
    notes: Option<Value>,
}

/// An organisation by its hub id: `nc:OrganizationIdentification`.
fn organization(id: &str) -> Value {
    json!({ "nc:OrganizationIdentification": Identification { id } })
}

#[derive(Serialize)]
struct Person<'a> {
    #[serde(rename = "nc:PersonOtherIdentification", skip_serializing_if = "Option::is_none")]
    local_id: Option<Identification<'a>>,
    #[serde(rename = "rh:PersonLinkKeyID", skip_serializing_if = "empty")]
    link_key: &'a str,
    #[serde(rename = "nc:PersonName", skip_serializing_if = "Option::is_none")]
    name: Option<PersonName<'a>>,
    #[serde(rename = "rh:PersonNicknameText", skip_serializing_if = "none")]
    nicknames: &'a [String],
    #[serde(rename = "nc:PersonPhysicalFeature", skip_serializing_if = "Option::is_none")]
    identifying_features: Option<Value>,
    #[serde(rename = "j:PersonSexCode", skip_serializing_if = "Option::is_none")]
    sex: Option<String>,
    #[serde(rename = "nc:PersonBirthDate", skip_serializing_if = "Option::is_none")]
    date_of_birth: Option<Value>,
    #[serde(rename = "nc:PersonAgeMeasure", skip_serializing_if = "Option::is_none")]
    estimated_age: Option<Value>,
    #[serde(rename = "rh:PersonLanguageCode", skip_serializing_if = "none")]
    languages: &'a [String],
    #[serde(rename = "rh:PersonDisabilityText", skip_serializing_if = "empty")]
    disability: &'a str,
    #[serde(rename = "rh:DisplacementStatusCode", skip_serializing_if = "empty")]
    displacement_status: &'a str,
    #[serde(rename = "nc:PersonCitizenship", skip_serializing_if = "Option::is_none")]
    nationality: Option<Value>,
}

#[derive(Serialize)]
struct PersonName<'a> {
    #[serde(rename = "nc:PersonGivenName", skip_serializing_if = "empty")]
    given: &'a str,
    #[serde(rename = "nc:PersonSurName", skip_serializing_if = "empty")]
    family: &'a str,
}

/// The caregiver: an `nc:PersonType` with its contact information.
#[derive(Serialize)]
struct CaregiverElement<'a> {
    #[serde(rename = "nc:PersonName", skip_serializing_if = "Option::is_none")]
    name: Option<Value>,
    #[serde(rename = "rh:PersonRelationshipText", skip_serializing_if = "empty")]
    relationship: &'a str,
    #[serde(rename = "nc:PersonContactInformation", skip_serializing_if = "Option::is_none")]
    contact: Option<Value>,
    #[serde(rename = "rh:CaregiverExclusionCode", skip_serializing_if = "Option::is_none")]
    exclusion: Option<String>,
}

/// `nc:ContactInformationType` with a full telephone number and a full
/// address; none when both are empty.
fn contact(phone: &str, address: &str) -> Option<Value> {
    let mut contact = serde_json::Map::new();
    if !phone.is_empty() {
        contact.insert(
            "nc:ContactTelephoneNumber".into(),
            json!({ "nc:FullTelephoneNumber": { "nc:TelephoneNumberFullID": phone } }),
        );
    }
    if !address.is_empty() {
        contact.insert("nc:ContactMailingAddress".into(), json!({ "nc:AddressFullText": address }));
    }
    (!contact.is_empty()).then_some(Value::Object(contact))
}

#[derive(Serialize)]
struct LocationElement<'a> {
    #[serde(rename = "rh:LocationAreaCode", skip_serializing_if = "empty")]
    area_code: &'a str,
    #[serde(rename = "nc:LocationDescriptionText", skip_serializing_if = "empty")]
    description: &'a str,
}

/// An attachment: `nc:DocumentType`, the file itself as `nc:DocumentBinary`.
#[derive(Serialize)]
struct DocumentElement<'a> {
    #[serde(rename = "nc:DocumentDescriptionText", skip_serializing_if = "empty")]
    description: &'a str,
    #[serde(rename = "nc:DocumentFormatText", skip_serializing_if = "empty")]
    media_type: &'a str,
    #[serde(rename = "nc:DocumentBinary")]
    binary: Binary<'a>,
}

#[derive(Serialize)]
struct Binary<'a> {
    #[serde(rename = "nc:BinaryURI")]
    uri: &'a str,
    #[serde(rename = "nc:BinarySizeValue")]
    size_bytes: u64,
}

/// The document of a referral, case transfer or separated-child alert. The
/// hub routes alerts to social welfare, but a justice agency that is party
/// to the child's case may be sent one: where, when and by whom the child
/// was found (LOCATION) and the separation and family (FAMILY) are not
/// JUSTICE's, so what remains is the child (with nicknames and identifying
/// features), the current carer's contact, the risk and the child's wishes.
/// Urgent medical needs stay out: JUSTICE's HEALTH is examination
/// references only (docs/consent.md "Need to know"), and an alert has none.
pub(super) fn case_document<'a>(codes: &CodeMap, message: &'a Message) -> Result<CaseDocument<'a>, Unmapped> {
    let mut case = envelope(codes, message)?;
    let parts = match &message.payload {
        Some(Payload::Referral(r)) => Parts::referral(codes, r)?,
        Some(Payload::CaseTransfer(t)) => Parts::transfer(codes, t)?,
        Some(Payload::SeparatedChildAlert(a)) => Parts::alert(a),
        None => return Err(Unmapped { table: "message_kind".into(), code: message.kind().as_str_name().into() }),
    };
    case.services = parts.services;
    case.priority = parts.priority;
    case.notes = parts.notes;
    case.risk_level =
        code(codes, "risk_level", parts.risk_level, |v| RiskLevel::try_from(v).ok().map(|r| r.as_str_name()))?;
    case.concerns = parts.concerns;
    case.reason = parts.reason;
    case.case_summary = parts.case_summary;
    case.safety_concerns = parts.safety_concerns;
    case.child_informed = parts.child_informed;
    case.child_views = parts.child_views;
    Ok(CaseDocument {
        context: context(),
        handling: parts.handling.map(|h| handling(codes, h)).transpose()?,
        case,
        child: person(codes, message.child.as_ref(), parts.child, parts.alert)?,
        caregiver: parts.caregiver,
        location: parts
            .location
            .filter(|l| !l.area_code.is_empty() || !l.description.is_empty())
            .map(|l| LocationElement { area_code: &l.area_code, description: &l.description }),
        documents: parts.attachments.iter().map(document).collect(),
    })
}

/// The case's members every kind has: the message, its parties, kind and
/// dates; the payload's members are left empty.
fn envelope<'a>(codes: &CodeMap, message: &'a Message) -> Result<Case<'a>, Unmapped> {
    let kind = native_enum(codes, "message_kind", Some(message.kind().as_str_name()))?;
    let timestamp = |at: &Option<prost_types::Timestamp>| at.as_ref().map(rfc3339).transpose();
    Ok(Case {
        message_id: &message.id,
        kind,
        sender: json!({ "j:CaseInitiatingParty": { "nc:EntityOrganization": organization(&message.sender_org_id) } }),
        recipient: organization(&message.recipient_org_id),
        created_at: timestamp(&message.created_at)?.map(date_time),
        acknowledge_by: timestamp(&message.acknowledge_by)?,
        respond_by: timestamp(&message.respond_by)?.map(date_time),
        services: &[],
        priority: None,
        risk_level: None,
        concerns: &[],
        reason: "",
        case_summary: "",
        safety_concerns: "",
        child_informed: false,
        child_views: "",
        notes: None,
    })
}

/// What referrals, transfers and alerts have in common.
struct Parts<'a> {
    /// A referral's requested services, priority and notes.
    services: &'a [String],
    priority: Option<String>,
    notes: Option<Value>,
    handling: Option<&'a JusticeHandling>,
    risk_level: i32,
    concerns: &'a [String],
    reason: &'a str,
    case_summary: &'a str,
    safety_concerns: &'a str,
    child_informed: bool,
    child_views: &'a str,
    child: Option<&'a ChildDetails>,
    /// An alert, for the names and features it adds to the child.
    alert: Option<&'a SeparatedChildAlert>,
    caregiver: Option<CaregiverElement<'a>>,
    location: Option<&'a Location>,
    attachments: &'a [Attachment],
}

impl<'a> Parts<'a> {
    fn referral(codes: &CodeMap, r: &'a ServiceReferral) -> Result<Self, Unmapped> {
        Ok(Parts {
            services: &r.requested_services,
            priority: code(codes, "priority", r.priority, |v| Priority::try_from(v).ok().map(|p| p.as_str_name()))?,
            notes: (!r.notes.is_empty()).then(|| json!({ "nc:CommentText": r.notes })),
            handling: None,
            risk_level: r.risk_level,
            concerns: &r.protection_concerns,
            reason: &r.reason,
            case_summary: "",
            safety_concerns: &r.safety_concerns,
            child_informed: r.child_informed,
            child_views: &r.child_views,
            child: r.child.as_ref(),
            alert: None,
            caregiver: r.caregiver.as_ref().map(|c| caregiver(codes, c)).transpose()?,
            location: r.current_location.as_ref(),
            attachments: &r.attachments,
        })
    }

    fn transfer(codes: &CodeMap, t: &'a CaseTransfer) -> Result<Self, Unmapped> {
        Ok(Parts {
            services: &[],
            priority: None,
            notes: None,
            handling: t.justice.as_ref(),
            risk_level: t.risk_level,
            concerns: &t.protection_concerns,
            reason: &t.reason,
            case_summary: &t.case_summary,
            safety_concerns: &t.safety_concerns,
            child_informed: t.child_informed,
            child_views: &t.child_views,
            child: t.child.as_ref(),
            alert: None,
            caregiver: t.caregiver.as_ref().map(|c| caregiver(codes, c)).transpose()?,
            location: t.current_location.as_ref(),
            attachments: &t.attachments,
        })
    }

    fn alert(a: &'a SeparatedChildAlert) -> Self {
        Parts {
            services: &[],
            priority: None,
            notes: None,
            handling: None,
            risk_level: a.risk_level,
            concerns: &[],
            reason: "",
            case_summary: "",
            safety_concerns: "",
            child_informed: false,
            child_views: &a.child_wishes,
            child: a.child.as_ref(),
            alert: Some(a),
            caregiver: a.current_carer.as_ref().map(|c| CaregiverElement {
                name: full_name(&c.name),
                relationship: &c.relationship,
                contact: contact(&c.phone, &c.address),
                exclusion: None,
            }),
            location: a.found_at.as_ref(),
            attachments: &[],
        }
    }
}

/// The native code of an enum value; none when unset (a field disclosure cut).
fn code(
    codes: &CodeMap,
    table: &str,
    value: i32,
    name: fn(i32) -> Option<&'static str>,
) -> Result<Option<String>, Unmapped> {
    if value == 0 { Ok(None) } else { native_enum(codes, table, name(value)).map(Some) }
}

fn person<'a>(
    codes: &CodeMap,
    reference: Option<&'a ChildRef>,
    details: Option<&'a ChildDetails>,
    alert: Option<&'a SeparatedChildAlert>,
) -> Result<Option<Person<'a>>, Unmapped> {
    if reference.is_none() && details.is_none() && alert.is_none() {
        return Ok(None);
    }
    let sex = match details.map(|d| d.sex.as_str()).filter(|s| !s.is_empty()) {
        Some(sex) => Some(native(codes, "sex", sex)?),
        None => None,
    };
    let date_of_birth = details.map_or("", |d| &d.date_of_birth);
    let given = details.map_or("", |d| d.given_name.as_str());
    let family = details.map_or("", |d| d.family_name.as_str());
    let features = alert.map_or("", |a| &a.identifying_features);
    let nationality = details.map_or("", |d| &d.nationality);
    let local_id = reference.map_or("", |r| &r.local_id);
    Ok(Some(Person {
        local_id: (!local_id.is_empty()).then_some(Identification { id: local_id }),
        link_key: reference.map_or("", |r| &r.link_key),
        name: (!given.is_empty() || !family.is_empty()).then_some(PersonName { given, family }),
        nicknames: alert.map_or(&[], |a| &a.nicknames),
        identifying_features: (!features.is_empty()).then(|| json!({ "nc:PhysicalFeatureDescriptionText": features })),
        sex,
        date_of_birth: (!date_of_birth.is_empty()).then(|| date(date_of_birth)),
        estimated_age: details
            .and_then(|d| d.estimated_age_years)
            .map(|years| json!({ "nc:MeasureIntegerValue": years, "nc:MeasureEstimatedIndicator": true })),
        languages: details.map_or(&[], |d| &d.languages),
        disability: details.map_or("", |d| &d.disability),
        displacement_status: details.map_or("", |d| &d.displacement_status),
        nationality: (!nationality.is_empty())
            .then(|| json!({ "nc:PersonCitizenshipCountry": { "nc:CountryCode": nationality } })),
    }))
}

fn caregiver<'a>(codes: &CodeMap, c: &'a Caregiver) -> Result<CaregiverElement<'a>, Unmapped> {
    let exclusion = code(codes, "caregiver_exclusion", c.exclusion, |v| {
        CaregiverExclusion::try_from(v).ok().map(|e| e.as_str_name())
    })?;
    Ok(CaregiverElement {
        name: full_name(&c.name),
        relationship: &c.relationship,
        contact: contact(&c.phone, &c.address),
        exclusion,
    })
}

fn document(a: &Attachment) -> DocumentElement<'_> {
    DocumentElement {
        description: &a.description,
        media_type: &a.media_type,
        binary: Binary { uri: &a.uri, size_bytes: a.size_bytes },
    }
}
