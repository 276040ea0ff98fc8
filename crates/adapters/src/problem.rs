//! The refusal document of the adapters that speak the hub's JSON document
//! ([`crate::json_document`]: EDUCATION, POLICE): an RFC 9457 problem document
//! with every bad element. An element named `row N, column C` (a cell of the
//! EDUCATION CSV batch) also gets `row` and `column` members, so a school's
//! tool can point at the cell; that is the per-row report of the CSV path.
//!
//! ```json
//! {"type": "urn:referral-hub:problem:invalid-document",
//!  "title": "The document has invalid elements", "status": 422,
//!  "errors": [{"element": "/pupil/sex", "problem": "..."},
//!             {"element": "row 3, column grade", "row": 3, "column": "grade", "problem": "..."}]}
//! ```

use serde_json::{Map, Value, json};

use crate::json_document::envelope::document;
use crate::{Document, NativeViolation};

/// Media type of a problem document (RFC 9457).
const PROBLEM_JSON: &str = "application/problem+json";

/// Every violation in one problem document.
pub(crate) fn problem_document(violations: &[NativeViolation]) -> Document {
    let errors: Vec<Value> = violations
        .iter()
        .map(|v| {
            let mut error = Map::new();
            error.insert("element".into(), json!(v.element));
            if let Some((row, column)) = cell(&v.element) {
                error.insert("row".into(), json!(row));
                if let Some(column) = column {
                    error.insert("column".into(), json!(column));
                }
            }
            error.insert("problem".into(), json!(v.description));
            Value::Object(error)
        })
        .collect();
    let body = json!({
        "type": "urn:referral-hub:problem:invalid-document",
        "title": "The document has invalid elements",
        "status": 422,
        "errors": errors,
    });
    Document { content_type: PROBLEM_JSON, ..document(&body) }
}

/// The row and column of a CSV cell element (`row 3, column grade` or `row 3`).
fn cell(element: &str) -> Option<(u64, Option<&str>)> {
    let rest = element.strip_prefix("row ")?;
    let (row, column) = match rest.split_once(", column ") {
        Some((row, column)) => (row, Some(column)),
        None => (rest, None),
    };
    Some((row.parse().ok()?, column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_get_row_and_column_members() {
        let doc = problem_document(&[
            NativeViolation { element: "/pupil/sex".into(), description: "a".into() },
            NativeViolation { element: "row 3, column grade".into(), description: "b".into() },
            NativeViolation { element: "row 4".into(), description: "c".into() },
        ]);
        assert_eq!(doc.content_type, "application/problem+json");
        let body: Value = serde_json::from_slice(&doc.body).unwrap();
        assert_eq!(body["status"], 422);
        assert_eq!(body["errors"][0], json!({"element": "/pupil/sex", "problem": "a"}));
        assert_eq!(
            body["errors"][1],
            json!({"element": "row 3, column grade", "row": 3, "column": "grade", "problem": "b"})
        );
        assert_eq!(body["errors"][2], json!({"element": "row 4", "row": 4, "problem": "c"}));
    }
}
