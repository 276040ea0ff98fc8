//! The CSV batch (`/education/concerns.csv`) for schools with only a
//! spreadsheet, as spreadsheets save it (module `csv_text`): UTF-8 with or
//! without a byte-order mark, UTF-16 with one, or Windows-1252; separated
//! by `,`, `;` or tab, whichever the header row uses; a header row naming
//! the columns (any order, each at most once), one concern per row. A list
//! cell (`;`-separated) in a `;`-separated file is quoted, as spreadsheets
//! write it. Columns and the concern report element each fills:
//!
//! | column | element | column | element |
//! |---|---|---|---|
//! | `request_id`* | `request_id` | `attendance` | `attendance` |
//! | `recipient_org_id`* | `recipient_org_id` | `observed_signs` | `observed_signs` |
//! | `consent_id` | `consent_id` | `concern_codes` | `concern_codes` (`;`-separated) |
//! | `school_id` | `school_id` | `risk` | `risk` |
//! | `pupil_local_id`* | `pupil.local_id` | `priority` | `priority` |
//! | `pupil_national_id` | `pupil.national_id` | `requested_services` | `requested_services` (`;`-separated) |
//! | `given_name` | `pupil.given_name` | `caregiver_relationship` | `caregiver.relationship` |
//! | `family_name` | `pupil.family_name` | `caregiver_name` | `caregiver.name` |
//! | `sex` | `pupil.sex` | `caregiver_phone` | `caregiver.phone` |
//! | `date_of_birth` | `pupil.date_of_birth` | `caregiver_address` | `caregiver.address` |
//! | `age` | `pupil.age` (whole number) | `caregiver_exclusion` | `caregiver.exclusion` |
//! | `grade` | `pupil.grade` | `notes` | `notes` |
//! | `languages` | `pupil.languages` (`;`-separated) | `nationality` | `pupil.nationality` |
//! | `displacement_status` | `pupil.displacement_status` | | |
//!
//! (* required column.) An empty cell is an absent element; the caregiver
//! is absent when all its cells are empty. Each row then translates exactly
//! as a JSON concern report (module `report`); cells are trimmed of
//! surrounding spaces.
//!
//! Rows are numbered as a spreadsheet shows them: the header is row 1, the
//! first concern row 2. A batch is all or nothing: one bad row refuses the
//! batch, with every bad cell named `row N, column C` (or `row N` for a row
//! with the wrong number of cells, `row 1, column C` for a header problem),
//! so the school fixes its sheet and sends it again. Two rows with the same
//! `request_id` are refused: the hub would treat the second as a retry of the
//! first and drop it.

use std::collections::BTreeMap;

use referral_hub_domain::wire::SubmitMessageRequest;
use serde_json::{Map, Value};

use super::csv_text::{decode, separator};
use super::report;
use crate::json_document::fields::{DOCUMENT, Object, Problems};
use crate::{CodeMap, Inbound, MAX_DOCUMENT_BYTES, NativeViolation};

/// How a cell becomes a JSON value.
#[derive(Clone, Copy, PartialEq)]
enum Cell {
    Text,
    /// `;`-separated, each item trimmed.
    List,
    /// A whole number; anything else stays text, so the report names it.
    Number,
}

/// Column -> (JSON pointer of the report element, cell kind).
const COLUMNS: [(&str, &str, Cell); 27] = [
    ("request_id", "/request_id", Cell::Text),
    ("recipient_org_id", "/recipient_org_id", Cell::Text),
    ("consent_id", "/consent_id", Cell::Text),
    ("school_id", "/school_id", Cell::Text),
    ("pupil_local_id", "/pupil/local_id", Cell::Text),
    ("pupil_national_id", "/pupil/national_id", Cell::Text),
    ("given_name", "/pupil/given_name", Cell::Text),
    ("family_name", "/pupil/family_name", Cell::Text),
    ("sex", "/pupil/sex", Cell::Text),
    ("date_of_birth", "/pupil/date_of_birth", Cell::Text),
    ("age", "/pupil/age", Cell::Number),
    ("grade", "/pupil/grade", Cell::Text),
    ("languages", "/pupil/languages", Cell::List),
    ("nationality", "/pupil/nationality", Cell::Text),
    ("displacement_status", "/pupil/displacement_status", Cell::Text),
    ("attendance", "/attendance", Cell::Text),
    ("observed_signs", "/observed_signs", Cell::Text),
    ("concern_codes", "/concern_codes", Cell::List),
    ("risk", "/risk", Cell::Text),
    ("priority", "/priority", Cell::Text),
    ("requested_services", "/requested_services", Cell::List),
    ("caregiver_relationship", "/caregiver/relationship", Cell::Text),
    ("caregiver_name", "/caregiver/name", Cell::Text),
    ("caregiver_phone", "/caregiver/phone", Cell::Text),
    ("caregiver_address", "/caregiver/address", Cell::Text),
    ("caregiver_exclusion", "/caregiver/exclusion", Cell::Text),
    ("notes", "/notes", Cell::Text),
];

/// Columns a batch must have: without them no row can be translated.
const REQUIRED: [&str; 3] = ["request_id", "recipient_org_id", "pupil_local_id"];

/// The column that fills the element at `pointer` (or an element inside it).
pub(super) fn column_of(pointer: &str) -> Option<&'static str> {
    COLUMNS
        .iter()
        .filter(|(_, at, _)| pointer == *at || pointer.strip_prefix(at).is_some_and(|rest| rest.starts_with('/')))
        .map(|(column, _, _)| *column)
        .next()
        .or_else(|| {
            // A whole object (e.g. `/pupil`) is named by its first column.
            COLUMNS
                .iter()
                .find(|(_, at, _)| at.starts_with(pointer) && at[pointer.len()..].starts_with('/'))
                .map(|c| c.0)
        })
}

/// A CSV batch -> one Submit per row, or every bad cell.
pub(super) fn inbound(document: &[u8], codes: &CodeMap) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
    let mut problems = Problems::default();
    if document.len() > MAX_DOCUMENT_BYTES {
        problems.add(DOCUMENT, format!("larger than {MAX_DOCUMENT_BYTES} bytes"));
        return Err(problems.0);
    }
    let text = match decode(document) {
        Ok(text) => text,
        Err(error) => {
            problems.add(DOCUMENT, error.to_string());
            return Err(problems.0);
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(separator(&text))
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(header)) => header,
        _ => {
            problems.add("row 1", "a header row naming the columns is required");
            return Err(problems.0);
        }
    };
    let header = read_header(&header, &mut problems);
    let mut inbound = Vec::new();
    let mut request_rows: BTreeMap<String, usize> = BTreeMap::new();
    for (index, record) in records.enumerate() {
        let row = index + 2;
        let Ok(record) = record else {
            problems.add(format!("row {row}"), "not a readable CSV row");
            break;
        };
        if record.len() != header.len() {
            problems.add(format!("row {row}"), format!("has {} cells, the header has {}", record.len(), header.len()));
            continue;
        }
        if let Some(request) = read_row(&header, &record, row, codes, &mut problems) {
            if let Some(first) = request_rows.insert(request.request_id.clone(), row) {
                problems.add(format!("row {row}, column request_id"), format!("the same request_id as row {first}"));
            }
            inbound.push(Inbound::Submit(request));
        }
    }
    if inbound.is_empty() && problems.is_empty() {
        problems.add("row 2", "no concern rows after the header");
    }
    if problems.is_empty() { Ok(inbound) } else { Err(problems.0) }
}

/// Row `row`'s concern report, its problems named by row and column.
fn read_row(
    header: &[Option<(&'static str, Cell)>],
    record: &csv::StringRecord,
    row: usize,
    codes: &CodeMap,
    problems: &mut Problems,
) -> Option<SubmitMessageRequest> {
    let mut row_problems = Problems::default();
    let value = row_value(header, record);
    let root = Object::root(&value, &mut row_problems);
    let request = root.and_then(|root| report::inbound(&root, codes, &mut row_problems));
    for violation in row_problems.0 {
        let element = match column_of(&violation.element) {
            Some(column) => format!("row {row}, column {column}"),
            None => format!("row {row}"),
        };
        problems.add(element, violation.description);
    }
    request
}

/// The header's columns, each with its pointer and kind (`None` for a bad one).
fn read_header(header: &csv::StringRecord, problems: &mut Problems) -> Vec<Option<(&'static str, Cell)>> {
    let mut seen = Vec::new();
    let header: Vec<_> = header
        .iter()
        .map(|name| {
            let name = name.trim();
            let known = COLUMNS.iter().find(|(column, _, _)| *column == name);
            match known {
                Some((column, at, cell)) if !seen.contains(column) => {
                    seen.push(*column);
                    Some((*at, *cell))
                }
                Some((column, _, _)) => {
                    problems.add(format!("row 1, column {column}"), "the column appears twice");
                    None
                }
                None => {
                    let name: String = name.chars().take(64).collect();
                    problems.add(format!("row 1, column {name}"), "unknown column");
                    None
                }
            }
        })
        .collect();
    for column in REQUIRED.iter().filter(|c| !seen.contains(c)) {
        problems.add(format!("row 1, column {column}"), "required column missing");
    }
    header
}

/// One row as the JSON concern report it stands for.
fn row_value(header: &[Option<(&'static str, Cell)>], record: &csv::StringRecord) -> Value {
    let mut root = Map::new();
    for (slot, text) in header.iter().zip(record.iter()) {
        let Some((at, cell)) = slot else { continue };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let value = match cell {
            Cell::Text => Value::String(text.into()),
            Cell::List => Value::Array(text.split(';').map(|s| Value::String(s.trim().into())).collect()),
            Cell::Number => text.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::String(text.into())),
        };
        // Pointers are one or two levels deep (`/risk`, `/pupil/sex`).
        let path = at.trim_start_matches('/');
        match path.split_once('/') {
            Some((parent, leaf)) => {
                if let Value::Object(inner) = root.entry(parent).or_insert_with(|| Value::Object(Map::new())) {
                    inner.insert(leaf.into(), value);
                }
            }
            None => {
                root.insert(path.into(), value);
            }
        }
    }
    Value::Object(root)
}
