//! What a FHIR client may send: JSON only (`application/fhir+json` or
//! `application/json`, any parameters), one resource of the type the
//! interaction takes. FHIR http.html: 415 for a media type the server does not
//! take, 400 for a body that cannot be parsed.

use axum::http::{HeaderMap, StatusCode, header::CONTENT_TYPE};
use serde_json::Value;

use super::outcome::{Issue, Refusal};

/// The media types read as JSON (the second is DSTU2's, still sent by older clients).
const JSON_TYPES: [&str; 3] = ["application/fhir+json", "application/json", "application/json+fhir"];

/// `body` as the JSON resource of type `root` it must be, or why not.
/// A request without a `Content-Type` is read as JSON (curl's `--data`
/// sends a form type, which is refused).
pub fn resource(headers: &HeaderMap, body: &[u8], root: &str) -> Result<Value, Refusal> {
    if let Some(value) = headers.get(CONTENT_TYPE) {
        let essence = value.to_str().unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if !JSON_TYPES.contains(&essence.as_str()) {
            let text = format!("this server reads {} only", JSON_TYPES[..2].join(" and "));
            return Err(Refusal::one(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Issue::whole("not-supported", "UNSUPPORTED_MEDIA_TYPE", text),
            ));
        }
    }
    let unparseable =
        |text: String| Refusal::one(StatusCode::BAD_REQUEST, Issue::at("structure", "NOT_JSON", root, text));
    let value: Value = match serde_json::from_slice(body) {
        Ok(value @ Value::Object(_)) => value,
        Ok(_) => return Err(unparseable("must be a JSON object".into())),
        Err(e) => return Err(unparseable(format!("not JSON (line {}, column {})", e.line(), e.column()))),
    };
    if value.get("resourceType").and_then(Value::as_str) != Some(root) {
        let issue = Issue::at("structure", "WRONG_RESOURCE_TYPE", root, format!("resourceType must be {root}"));
        return Err(Refusal::one(StatusCode::BAD_REQUEST, issue));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_type(media: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, media.parse().unwrap());
        headers
    }

    #[test]
    fn json_with_parameters_is_read_and_xml_is_415() {
        let task = br#"{"resourceType":"Task"}"#;
        assert!(resource(&with_type("application/fhir+json; charset=utf-8"), task, "Task").is_ok());
        assert!(resource(&with_type("Application/JSON;charset=UTF-8"), task, "Task").is_ok());
        assert!(resource(&HeaderMap::new(), task, "Task").is_ok());
        let refused = resource(&with_type("application/fhir+xml"), b"<Task/>", "Task").unwrap_err();
        assert_eq!(refused.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    #[test]
    fn unparseable_json_and_another_resource_are_400() {
        let refused = resource(&with_type("application/fhir+json"), b"{\"resourceType\":", "Task").unwrap_err();
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(refused.issues[0].expression.as_deref(), Some("Task"));
        let refused = resource(&HeaderMap::new(), br#"{"resourceType":"Patient"}"#, "Task").unwrap_err();
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    }
}
