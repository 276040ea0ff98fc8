//! Refusals as FHIR says (http.html): the HTTP status, and an
//! `OperationOutcome` whose `expression` is a FHIRPath into what the client
//! sent and whose `details` carry the hub's own code (CodeSystem
//! `hub-error`), so a system can branch on it without parsing text.

use axum::{
    body::Body,
    http::{HeaderValue, StatusCode, header::CONTENT_TYPE},
    response::Response,
};
use serde_json::{Value, json};

use referral_hub_domain::lifecycle::short_name;

use crate::error::{ApiError, refusal_text};

/// The media type of every answer of the FHIR face.
pub const FHIR_JSON: &str = "application/fhir+json";

/// The hub's CodeSystem of refusal codes, carried in `issue.details`.
pub const HUB_ERRORS: &str = "https://referral-hub.org/fhir/CodeSystem/hub-error";

/// One problem: its FHIR issue type, the hub's code, where (FHIRPath) and what.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// FHIR `IssueType`, e.g. `invalid`, `conflict`, `not-found`.
    pub kind: &'static str,
    /// The hub's code, e.g. `ILLEGAL_TRANSITION`.
    pub code: String,
    /// The element, as FHIRPath; none when the whole request is meant.
    pub expression: Option<String>,
    /// What is wrong, for the sending system's developer.
    pub text: String,
}

impl Issue {
    /// An issue about `expression` (FHIRPath).
    pub fn at(kind: &'static str, code: &str, expression: impl Into<String>, text: impl Into<String>) -> Self {
        Issue { kind, code: code.into(), expression: Some(expression.into()), text: text.into() }
    }

    /// An issue about the request as a whole.
    pub fn whole(kind: &'static str, code: &str, text: impl Into<String>) -> Self {
        Issue { kind, code: code.into(), expression: None, text: text.into() }
    }
}

/// A refused request: the status and every issue.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// The HTTP status FHIR prescribes for it.
    pub status: StatusCode,
    /// At least one issue.
    pub issues: Vec<Issue>,
}

impl Refusal {
    /// A refusal with one issue.
    pub fn one(status: StatusCode, issue: Issue) -> Self {
        Refusal { status, issues: vec![issue] }
    }

    /// The OperationOutcome of this refusal.
    pub fn outcome(&self) -> Value {
        let issues: Vec<Value> = self
            .issues
            .iter()
            .map(|issue| {
                let mut rendered = json!({
                    "severity": "error",
                    "code": issue.kind,
                    "details": {"coding": [{"system": HUB_ERRORS, "code": issue.code}], "text": issue.text},
                });
                if let Some(expression) = &issue.expression {
                    rendered["expression"] = json!([expression]);
                }
                rendered
            })
            .collect();
        json!({"resourceType": "OperationOutcome", "issue": issues})
    }

    /// The answer: the status and the OperationOutcome as `application/fhir+json`.
    pub fn response(&self) -> Response {
        fhir_response(self.status, &self.outcome())
    }

    /// An error of the core path, the request's elements named from `root`
    /// (`Bundle` or `Task`): `element` names a canonical field as FHIRPath
    /// (the adapter's mapping), and anything it cannot name is the root.
    pub fn of(error: ApiError, root: &str, element: impl Fn(&str) -> String) -> Self {
        let fhir_path = |field: &str| {
            let path = element(field);
            if path.starts_with(root) { path } else { root.to_owned() }
        };
        Self::mapped(error, root, fhir_path)
    }

    /// A refusal of the call as a whole (the token, a role, the budget), before any document was read.
    pub fn of_call(error: ApiError) -> Self {
        let mut refusal = Self::mapped(error, "", |_| String::new());
        refusal.issues.iter_mut().for_each(|issue| issue.expression = None);
        refusal
    }

    /// `error` as a status and issues, `fhir_path` naming canonical fields.
    fn mapped(error: ApiError, root: &str, fhir_path: impl Fn(&str) -> String) -> Self {
        let (status, issues) = match error {
            ApiError::InvalidArgument(fields) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                fields
                    .into_iter()
                    .map(|f| {
                        let kind = if f.description.starts_with("required") { "required" } else { "invalid" };
                        Issue::at(kind, "INVALID_ARGUMENT", fhir_path(&f.field), f.description)
                    })
                    .collect(),
            ),
            ApiError::ConsentRefused(reasons) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                reasons
                    .into_iter()
                    .map(|r| {
                        let code = short_name(r.as_str_name(), "CONSENT_REFUSAL_");
                        Issue::at("business-rule", code, fhir_path("consent"), refusal_text(r))
                    })
                    .collect(),
            ),
            ApiError::FailedPrecondition { kind, description, .. } => {
                let (status, issue) = precondition(kind, description, root);
                (status, vec![issue])
            }
            ApiError::Aborted => (StatusCode::CONFLICT, vec![Issue::whole("conflict", "ABORTED", error.to_string())]),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, vec![not_found_issue()]),
            ApiError::PermissionDenied(_) | ApiError::NotTheOperator(_) => {
                (StatusCode::FORBIDDEN, vec![Issue::whole("forbidden", "PERMISSION_DENIED", error.to_string())])
            }
            ApiError::Unauthenticated(reason) => {
                tracing::info!(reason, "request refused: unauthenticated");
                (StatusCode::UNAUTHORIZED, vec![Issue::whole("login", "UNAUTHENTICATED", error.to_string())])
            }
            ApiError::ResourceExhausted { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                vec![Issue::whole("throttled", "RESOURCE_EXHAUSTED", error.to_string())],
            ),
            ApiError::Store(error) => {
                tracing::error!(%error, "store failure");
                let text = "the hub's database is unavailable; retry later";
                (StatusCode::SERVICE_UNAVAILABLE, vec![Issue::whole("transient", "UNAVAILABLE", text)])
            }
        };
        Refusal { status, issues }
    }
}

/// A state of things that refuses the request: a move the life cycle does not
/// allow or a reused idempotency key is a conflict (409), any other business
/// rule 422.
fn precondition(kind: &'static str, description: String, root: &str) -> (StatusCode, Issue) {
    match kind {
        "ILLEGAL_TRANSITION" => {
            (StatusCode::CONFLICT, Issue::at("business-rule", kind, format!("{root}.status"), description))
        }
        "REQUEST_ID_REUSED" => {
            let element = if root == "Task" { "Task.meta.versionId" } else { "Bundle.identifier" };
            (StatusCode::CONFLICT, Issue::at("duplicate", kind, element, description))
        }
        _ => (StatusCode::UNPROCESSABLE_ENTITY, Issue::at("business-rule", kind, root, description)),
    }
}

/// The one answer for "no such resource" and "not yours": they must not differ.
pub fn not_found_issue() -> Issue {
    Issue::whole("not-found", "NOT_FOUND", "no such resource")
}

/// A FHIR resource as the answer, `application/fhir+json`.
pub fn fhir_response(status: StatusCode, resource: &Value) -> Response {
    // Serialising a Value cannot fail.
    let body = serde_json::to_vec(resource).unwrap_or_default();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use referral_hub_domain::{lifecycle::TransitionError, validation::FieldViolation, wire::ConsentRefusal};

    fn first(refusal: &Refusal) -> Value {
        refusal.outcome()["issue"][0].clone()
    }

    #[test]
    fn an_illegal_move_is_a_conflict_on_task_status_with_the_hub_code_in_details() {
        let error = ApiError::from(TransitionError::IllegalFromState { action: "ACCEPT", current: "CLOSED" });
        let refusal = Refusal::of(error, "Task", |f| f.to_owned());
        assert_eq!(refusal.status, StatusCode::CONFLICT);
        let issue = first(&refusal);
        assert_eq!(issue["expression"], json!(["Task.status"]));
        assert_eq!(issue["details"]["coding"][0], json!({"system": HUB_ERRORS, "code": "ILLEGAL_TRANSITION"}));
    }

    #[test]
    fn a_field_the_adapter_cannot_name_is_the_root_never_a_hub_name() {
        let error =
            ApiError::InvalidArgument(vec![FieldViolation { field: "page_token".into(), description: "x".into() }]);
        let refusal = Refusal::of(error, "Bundle", |f| f.to_owned());
        assert_eq!(refusal.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(first(&refusal)["expression"], json!(["Bundle"]));
    }

    #[test]
    fn a_consent_refusal_names_the_consent_and_each_reason() {
        let error = ApiError::ConsentRefused(vec![ConsentRefusal::Expired, ConsentRefusal::WrongPurpose]);
        let refusal = Refusal::of(error, "Bundle", |_| "Bundle.entry.resource.ofType(Consent)".into());
        let codes: Vec<_> = refusal.issues.iter().map(|i| i.code.as_str()).collect();
        assert_eq!(codes, ["EXPIRED", "WRONG_PURPOSE"]);
        assert_eq!(refusal.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn not_found_says_nothing_more() {
        let refusal = Refusal::of(ApiError::NotFound("message"), "Task", |f| f.to_owned());
        assert_eq!(refusal.status, StatusCode::NOT_FOUND);
        assert_eq!(first(&refusal)["details"]["text"], "no such resource");
        assert!(first(&refusal).get("expression").is_none());
    }
}
