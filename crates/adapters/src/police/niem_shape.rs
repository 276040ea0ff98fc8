//! The police documents in NIEM 5.2 JSON, as a table from the adapter's
//! working shape (the element names `report`, `incident` and the
//! status-update module read and write) to NIEM names. One table serves both ways
//! and names refusals: inbound a NIEM document is rewritten to the working
//! shape (an element the table lacks is refused by its NIEM pointer),
//! outbound the working shape is rewritten to NIEM, and a refusal found in
//! the working shape is named by its NIEM pointer.
//!
//! Each row is (working pointer, NIEM pointer); `[]` stands for an array
//! item; the first row of a working pointer is the one written (a date is
//! written in its precision: `nc:Date`, `nc:YearMonthDate`, `nc:YearDate`). A row for an object (`/child`) names it for refusals and carries
//! whatever lies under it that has no row of its own (the justice handling
//! block, already in NIEM naming).

use serde_json::{Map, Value};

use crate::json_document::fields::Problems;
use crate::niem::{context, date};

/// The incident notification, and the message documents police receive.
pub(super) const INCIDENT: &[(&str, &str)] = &[
    ("/request_id", "/nc:DocumentIdentification/nc:IdentificationID"),
    ("/recipient_org_id", "/hs:CaseReferredAgency/nc:OrganizationIdentification/nc:IdentificationID"),
    ("/consent_id", "/rh:ConsentID"),
    ("/legal_basis", "/rh:LegalBasis"),
    ("/legal_basis/basis", "/rh:LegalBasis/rh:LegalBasisCode"),
    ("/legal_basis/justification", "/rh:LegalBasis/rh:LegalBasisJustificationText"),
    ("/incident", "/nc:Incident"),
    ("/incident/date", "/nc:Incident/nc:ActivityDate/nc:Date"),
    ("/incident/place", "/nc:Incident/nc:ActivityLocation"),
    ("/incident/place/area_code", "/nc:Incident/nc:ActivityLocation/rh:LocationAreaCode"),
    ("/incident/place/description", "/nc:Incident/nc:ActivityLocation/nc:LocationDescriptionText"),
    ("/incident/offence_category", "/nc:Incident/j:OffenseCategoryText"),
    ("/incident/officer", "/nc:Incident/j:IncidentReportingOfficial"),
    (
        "/incident/officer/name",
        "/nc:Incident/j:IncidentReportingOfficial/nc:RoleOfPerson/nc:PersonName/nc:PersonFullName",
    ),
    (
        "/incident/officer/badge_number",
        "/nc:Incident/j:IncidentReportingOfficial/j:EnforcementOfficialBadgeIdentification/nc:IdentificationID",
    ),
    (
        "/incident/officer/unit",
        "/nc:Incident/j:IncidentReportingOfficial/j:EnforcementOfficialUnit/j:EnforcementUnitName",
    ),
    ("/incident/protective_action", "/nc:Incident/rh:ProtectiveActionText"),
    ("/child", "/nc:Person"),
    ("/child/local_id", "/nc:Person/nc:PersonOtherIdentification/nc:IdentificationID"),
    ("/child/link_key", "/nc:Person/rh:PersonLinkKeyID"),
    ("/child/national_id", "/nc:Person/rh:PersonNationalID"),
    ("/child/given_name", "/nc:Person/nc:PersonName/nc:PersonGivenName"),
    ("/child/family_name", "/nc:Person/nc:PersonName/nc:PersonSurName"),
    ("/child/nicknames", "/nc:Person/rh:PersonNicknameText"),
    ("/child/identifying_features", "/nc:Person/nc:PersonPhysicalFeature/nc:PhysicalFeatureDescriptionText"),
    ("/child/sex", "/nc:Person/j:PersonSexCode"),
    ("/child/date_of_birth", "/nc:Person/nc:PersonBirthDate/nc:Date"),
    ("/child/date_of_birth", "/nc:Person/nc:PersonBirthDate/nc:YearMonthDate"),
    ("/child/date_of_birth", "/nc:Person/nc:PersonBirthDate/nc:YearDate"),
    ("/child/age", "/nc:Person/nc:PersonAgeMeasure/nc:MeasureIntegerValue"),
    ("/child/languages", "/nc:Person/rh:PersonLanguageCode"),
    ("/child/nationality", "/nc:Person/nc:PersonCitizenship/nc:PersonCitizenshipCountry/nc:CountryCode"),
    ("/child/displacement_status", "/nc:Person/rh:DisplacementStatusCode"),
    ("/current_location", "/nc:Location"),
    ("/current_location/area_code", "/nc:Location/rh:LocationAreaCode"),
    ("/current_location/description", "/nc:Location/nc:LocationDescriptionText"),
    ("/caregiver", "/rh:Caregiver"),
    ("/caregiver/relationship", "/rh:Caregiver/rh:PersonRelationshipText"),
    ("/caregiver/name", "/rh:Caregiver/nc:PersonName/nc:PersonFullName"),
    (
        "/caregiver/phone",
        "/rh:Caregiver/nc:PersonContactInformation/nc:ContactTelephoneNumber/nc:FullTelephoneNumber/nc:TelephoneNumberFullID",
    ),
    ("/caregiver/address", "/rh:Caregiver/nc:PersonContactInformation/nc:ContactMailingAddress/nc:AddressFullText"),
    ("/caregiver/exclusion", "/rh:Caregiver/rh:CaregiverExclusionCode"),
    ("/concern_codes", "/rh:ProtectionConcernCode"),
    ("/risk", "/rh:RiskLevelCode"),
    ("/priority", "/rh:PriorityCode"),
    ("/requested_services", "/rh:RequestedServiceCode"),
    ("/narrative", "/hs:ReferralReasonText"),
    ("/case_summary", "/nc:Case/nc:ActivityDescriptionText"),
    ("/safety_concerns", "/rh:SafetyConcernText"),
    ("/child_informed", "/rh:ChildInformedIndicator"),
    ("/child_views", "/rh:ChildViewsText"),
    ("/notes", "/nc:Comment/nc:CommentText"),
    ("/attachments", "/nc:Document"),
    ("/attachments/[]", "/nc:Document/[]"),
    ("/attachments/[]/uri", "/nc:Document/[]/nc:DocumentBinary/nc:BinaryURI"),
    ("/attachments/[]/media_type", "/nc:Document/[]/nc:DocumentFormatText"),
    ("/attachments/[]/size_bytes", "/nc:Document/[]/nc:DocumentBinary/nc:BinarySizeValue"),
    ("/attachments/[]/description", "/nc:Document/[]/nc:DocumentDescriptionText"),
    ("/justice", "/rh:ChildHandling"),
    ("/found", "/rh:ChildFound"),
    ("/found/area_code", "/rh:ChildFound/nc:ActivityLocation/rh:LocationAreaCode"),
    ("/found/description", "/rh:ChildFound/nc:ActivityLocation/nc:LocationDescriptionText"),
    ("/found/date", "/rh:ChildFound/nc:ActivityDate/nc:Date"),
    ("/found/by", "/rh:ChildFound/rh:FoundByText"),
    HUB,
    ("/hub/document", "/rh:HubMetadata/rh:DocumentCategoryCode"),
    ("/hub/message_id", "/rh:HubMetadata/nc:CaseTrackingID"),
    ("/hub/sender_org_id", "/rh:HubMetadata/rh:SenderOrganizationID"),
    ("/hub/sender_subject", "/rh:HubMetadata/rh:SenderSubjectID"),
    ("/hub/owner_org_id", "/rh:HubMetadata/rh:OwnerOrganizationID"),
    ("/hub/status", "/rh:HubMetadata/rh:MessageStatusCode"),
    ("/hub/created_at", "/rh:HubMetadata/rh:CreatedDateTime"),
    ("/hub/updated_at", "/rh:HubMetadata/rh:UpdatedDateTime"),
    ("/hub/acknowledge_by", "/rh:HubMetadata/rh:AcknowledgeByDateTime"),
    ("/hub/respond_by", "/rh:HubMetadata/rh:RespondByDateTime"),
    ("/hub/consent_id", "/rh:HubMetadata/rh:ConsentID"),
    ("/hub/legal_basis", "/rh:HubMetadata/rh:LegalBasisCode"),
    ("/hub/hold_reason", "/rh:HubMetadata/rh:HoldReasonText"),
    ("/hub/withheld_categories", "/rh:HubMetadata/rh:WithheldCategoryCode"),
    ("/hub/rerouted_from_id", "/rh:HubMetadata/rh:ReroutedFromMessageID"),
    ("/hub/re_referral_of_id", "/rh:HubMetadata/rh:ReReferralOfMessageID"),
    ("/hub/reasons", "/rh:HubMetadata/rh:WithheldReasonCode"),
];

/// The status update, both ways (and the withheld notice's `hub`).
pub(super) const STATUS: &[(&str, &str)] = &[
    ("/request_id", "/nc:Activity/nc:ActivityIdentification/nc:IdentificationID"),
    ("/message_id", "/nc:Activity/nc:Case/nc:CaseTrackingID"),
    ("/status", "/nc:Activity/nc:ActivityCategoryText"),
    ("/reason", "/nc:Activity/nc:ActivityReasonText"),
    ("/note", "/nc:Activity/nc:ActivityDescriptionText"),
    ("/outcome", "/nc:Activity/nc:ActivityDisposition/nc:DispositionDescriptionText"),
    ("/appointment_at", "/nc:Activity/nc:ActivityScheduledDate/nc:DateTime"),
    ("/next_review_date", "/nc:Activity/j:CaseReviewDueDate/nc:Date"),
    ("/share_with_sender", "/nc:Activity/rh:ShareWithSenderIndicator"),
    HUB,
    ("/hub/document", "/rh:HubMetadata/rh:DocumentCategoryCode"),
    ("/hub/message_id", "/rh:HubMetadata/nc:CaseTrackingID"),
    ("/hub/reasons", "/rh:HubMetadata/rh:WithheldReasonCode"),
    ("/hub/follow_up_id", "/rh:HubMetadata/rh:FollowUpID"),
    ("/hub/author_org_id", "/rh:HubMetadata/rh:EventOrganizationID"),
    ("/hub/author_subject", "/rh:HubMetadata/rh:AuthorSubjectID"),
    ("/hub/status_after", "/rh:HubMetadata/rh:MessageStatusAfterCode"),
    ("/hub/created_at", "/rh:HubMetadata/rh:CreatedDateTime"),
    ("/hub/shared_with_sender", "/rh:HubMetadata/rh:ShareWithSenderIndicator"),
];

/// The read-only `hub` element: what the hub set, for the receiver's bookkeeping.
const HUB: (&str, &str) = ("/hub", "/rh:HubMetadata");

/// A working-shape document -> the NIEM document, with its `@context`.
pub(super) fn to_niem(working: &Value, table: &[(&str, &str)]) -> Value {
    let mut niem = Value::Object(Map::new());
    for (path, value) in leaves(working, "") {
        let target = translate(&path, table, Direction::ToNiem).unwrap_or(path);
        match (target.strip_suffix("/nc:Date"), value.as_str()) {
            // A date in the precision it has: a birth year alone is nc:YearDate.
            (Some(parent), Some(text)) => set(&mut niem, parent, date(text)),
            _ => set(&mut niem, &target, value.clone()),
        }
    }
    if let Value::Object(root) = &mut niem {
        root.insert("@context".into(), context());
    }
    niem
}

/// A NIEM document -> the working shape; an element the table lacks is
/// recorded in `problems` by its NIEM pointer and left out. `@context` is
/// optional (the names are fixed).
pub(super) fn from_niem(niem: &Value, table: &[(&str, &str)], problems: &mut Problems) -> Value {
    let mut working = Value::Object(Map::new());
    for (path, value) in leaves(niem, "") {
        if path == "/@context" || path.starts_with("/@context/") {
            continue;
        }
        match exact(&path, table, Direction::FromNiem) {
            Some(target) => set(&mut working, &target, value.clone()),
            None if table.iter().any(|(_, niem)| under(&normalise(&path), niem)) => {
                problems.add(path, "expected an object");
            }
            None => problems.add(path, "not an element of this document (see docs/connect/police.md)"),
        }
    }
    working
}

/// A pointer into the working shape (a refusal) -> the NIEM pointer.
pub(super) fn niem_pointer(working: &str, table: &[(&str, &str)]) -> String {
    translate(working, table, Direction::ToNiem).unwrap_or_else(|| working.to_owned())
}

#[derive(Clone, Copy)]
enum Direction {
    ToNiem,
    FromNiem,
}

fn row<'t>(entry: &'t (&'t str, &'t str), direction: Direction) -> (&'t str, &'t str) {
    match direction {
        Direction::ToNiem => (entry.0, entry.1),
        Direction::FromNiem => (entry.1, entry.0),
    }
}

/// The pointer with every array index as `[]`.
fn normalise(path: &str) -> String {
    path.split('/')
        .map(|segment| if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) { "[]" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether `niem` lies strictly under the object at `path`.
fn under(path: &str, niem: &str) -> bool {
    niem.len() > path.len() && niem.starts_with(path) && niem.as_bytes()[path.len()] == b'/'
}

/// The indexes of `path`, in order, filled into the `[]`s of `pattern`.
fn fill(pattern: &str, path: &str) -> String {
    let mut indexes = path.split('/').filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    pattern
        .split('/')
        .map(|segment| if segment == "[]" { indexes.next().unwrap_or("0") } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

/// The row for exactly `path`.
fn exact(path: &str, table: &[(&str, &str)], direction: Direction) -> Option<String> {
    let normal = normalise(path);
    table.iter().map(|e| row(e, direction)).find(|(from, _)| *from == normal).map(|(_, to)| fill(to, path))
}

/// The row for `path` or for the nearest object above it, the rest appended.
fn translate(path: &str, table: &[(&str, &str)], direction: Direction) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    (1..=segments.len()).rev().find_map(|k| {
        let head = segments[..k].join("/");
        exact(&head, table, direction)
            .map(|to| [to.as_str()].into_iter().chain(segments[k..].iter().copied()).collect::<Vec<_>>().join("/"))
    })
}

/// Every leaf of `value` with its pointer: scalars, arrays of anything but
/// objects, and empty objects; arrays of objects are walked item by item.
fn leaves<'v>(value: &'v Value, at: &str) -> Vec<(String, &'v Value)> {
    match value {
        Value::Object(map) if !map.is_empty() => {
            map.iter().flat_map(|(key, v)| leaves(v, &format!("{at}/{}", escape(key)))).collect()
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
            items.iter().enumerate().flat_map(|(i, v)| leaves(v, &format!("{at}/{i}"))).collect()
        }
        _ => vec![(at.to_owned(), value)],
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Sets `value` at `pointer`, making the objects and arrays on the way.
fn set(root: &mut Value, pointer: &str, value: Value) {
    let mut here = root;
    for segment in pointer.split('/').skip(1) {
        let index = segment.parse::<usize>().ok().filter(|_| segment.bytes().all(|b| b.is_ascii_digit()));
        here = match index {
            Some(i) => {
                if !here.is_array() {
                    *here = Value::Array(Vec::new());
                }
                let items = here.as_array_mut().expect("made an array above");
                if items.len() <= i {
                    items.resize(i + 1, Value::Object(Map::new()));
                }
                &mut items[i]
            }
            None => {
                if !here.is_object() {
                    *here = Value::Object(Map::new());
                }
                here.as_object_mut().expect("made an object above").entry(unescape(segment)).or_insert(Value::Null)
            }
        };
    }
    *here = value;
}
