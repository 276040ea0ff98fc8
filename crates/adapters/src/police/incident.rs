//! The `incident` element, which the canonical referral has no fields for:
//! inbound its values become the notes block titled `Police incident
//! notification` ([`crate::json_document::notes`]), keys in this order:
//! `incident_date`, `incident_area_code`, `incident_place`,
//! `offence_category` (the hub-side code of the `offence_categories` table),
//! `officer_name`, `officer_badge_number`, `officer_unit`,
//! `protective_action`. Outbound, a referral whose notes start with that
//! block gets its `incident` element back and the rest as `notes`.

use referral_hub_domain::validation::parse_date;
use serde_json::{Map, Value};

use crate::json_document::envelope::put;
use crate::json_document::fields::{Object, Problems};
use crate::json_document::notes;
use crate::{CodeMap, Unmapped};

/// Title of the notes block.
pub(super) const NOTES_TITLE: &str = "Police incident notification";

/// Notes-block keys, in order.
pub(super) const KEYS: [&str; 8] = [
    "incident_date",
    "incident_area_code",
    "incident_place",
    "offence_category",
    "officer_name",
    "officer_badge_number",
    "officer_unit",
    "protective_action",
];

/// The incident element (if any) and the free notes -> the referral's notes.
pub(super) fn to_notes(incident: Option<&Object<'_>>, free: &str, codes: &CodeMap, problems: &mut Problems) -> String {
    let Some(incident) = incident else { return notes::compose(NOTES_TITLE, &[], free) };
    incident.only(&["date", "place", "offence_category", "officer", "protective_action"], problems);
    let date = incident.text("date", problems);
    if !date.is_empty() && parse_date(&date).is_none() {
        problems.add(incident.pointer("date"), "expected a date YYYY-MM-DD");
    }
    let place = incident.object("place", problems);
    if let Some(place) = &place {
        place.only(&["area_code", "description"], problems);
    }
    let officer = incident.object("officer", problems);
    if let Some(officer) = &officer {
        officer.only(&["name", "badge_number", "unit"], problems);
    }
    let pairs = [
        ("incident_date", date),
        ("incident_area_code", text(&place, "area_code", problems)),
        ("incident_place", text(&place, "description", problems)),
        ("offence_category", incident.code("offence_category", codes, "offence_categories", problems)),
        ("officer_name", text(&officer, "name", problems)),
        ("officer_badge_number", text(&officer, "badge_number", problems)),
        ("officer_unit", text(&officer, "unit", problems)),
        ("protective_action", incident.text("protective_action", problems)),
    ];
    notes::compose(NOTES_TITLE, &pairs, free)
}

/// A string element of an optional object.
fn text(object: &Option<Object<'_>>, name: &str, problems: &mut Problems) -> String {
    object.as_ref().map(|o| o.text(name, problems)).unwrap_or_default()
}

/// A referral's notes -> the incident element (when the notes start with
/// its block) and the free notes.
pub(super) fn from_notes(text: &str, codes: &CodeMap) -> Result<(Option<Value>, String), Unmapped> {
    let Some((values, free)) = notes::parse(NOTES_TITLE, &KEYS, text) else {
        return Ok((None, text.to_owned()));
    };
    let [date, area_code, place, offence, officer_name, badge, unit, action] =
        <[String; 8]>::try_from(values).unwrap_or_default();
    let mut incident = Map::new();
    put(&mut incident, "date", &date);
    let mut where_ = Map::new();
    put(&mut where_, "area_code", &area_code);
    put(&mut where_, "description", &place);
    if !where_.is_empty() {
        incident.insert("place".into(), Value::Object(where_));
    }
    if !offence.is_empty() {
        put(&mut incident, "offence_category", codes.to_native("offence_categories", &offence)?);
    }
    let mut officer = Map::new();
    put(&mut officer, "name", &officer_name);
    put(&mut officer, "badge_number", &badge);
    put(&mut officer, "unit", &unit);
    if !officer.is_empty() {
        incident.insert("officer".into(), Value::Object(officer));
    }
    put(&mut incident, "protective_action", &action);
    Ok((Some(Value::Object(incident)), free))
}
