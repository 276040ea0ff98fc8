//! The errors of the gRPC layer and their mapping to gRPC status codes with
//! the standard `google.rpc` details. Nothing here carries child data: field
//! violations name paths and rules, never values.

use referral_hub_domain::{
    lifecycle::{TransitionError, short_name},
    roles::Role,
    validation::FieldViolation,
    wire::ConsentRefusal,
};
use referral_hub_store::StoreError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Why an RPC failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Bad input: every bad field, each with what is wrong.
    #[error("the request has {} invalid field(s)", .0.len())]
    InvalidArgument(Vec<FieldViolation>),
    /// The request is well formed but the state of things refuses it.
    #[error("{description}")]
    FailedPrecondition {
        /// Machine-readable type, e.g. `ILLEGAL_TRANSITION`.
        kind: &'static str,
        /// What it applies to, e.g. a message id.
        subject: String,
        /// Human-readable reason.
        description: String,
    },
    /// The consent decision refuses the message, for every listed reason.
    #[error("consent does not allow this message: {}", refusal_names(.0))]
    ConsentRefused(Vec<ConsentRefusal>),
    /// No such thing, or not the caller's to see (indistinguishable on purpose).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller lacks every role that allows this.
    #[error("requires role {}", roles_text(.0))]
    PermissionDenied(Vec<Role>),
    /// A hub-wide act (what it is) by a caller who is not the hub operator.
    #[error("only the hub operator may {0}")]
    NotTheOperator(String),
    /// No valid token; the detail is for the server log only.
    #[error("unauthenticated")]
    Unauthenticated(&'static str),
    /// Overload: the caller should retry after `retry_after`.
    #[error("{reason} is reached; retry later")]
    ResourceExhausted {
        /// Which limit.
        reason: &'static str,
        /// When a retry may succeed (sent as `google.rpc.RetryInfo`).
        retry_after: std::time::Duration,
    },
    /// A concurrent change won; the caller may retry.
    #[error("the message changed concurrently; retry")]
    Aborted,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `CONSENT_REFUSAL_EXPIRED` -> `EXPIRED`, comma-separated.
pub fn refusal_names(reasons: &[ConsentRefusal]) -> String {
    reasons.iter().map(|r| short_name(r.as_str_name(), "CONSENT_REFUSAL_")).collect::<Vec<_>>().join(", ")
}

/// What a consent refusal reason means, for people.
pub fn refusal_text(reason: ConsentRefusal) -> &'static str {
    match reason {
        ConsentRefusal::NoConsent => "no active consent record for this child",
        ConsentRefusal::Expired => "the consent has expired",
        ConsentRefusal::NotYetValid => "the consent is not valid yet",
        ConsentRefusal::WrongRecipient => "the consent does not cover this receiver",
        ConsentRefusal::WrongPurpose => "the consent does not cover this purpose",
        ConsentRefusal::CaregiverConsentRequired => {
            "the age policy requires a caregiver's consent or a best-interests decision"
        }
        ConsentRefusal::AssentRequired => "the age policy requires the child's assent",
        ConsentRefusal::ChildConsentRequired => "the age policy requires the child's own consent",
        ConsentRefusal::Denied => "a consent record denies this sharing",
        ConsentRefusal::Unspecified => "refused",
    }
}

fn roles_text(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" or ")
}

impl From<TransitionError> for ApiError {
    fn from(error: TransitionError) -> Self {
        ApiError::FailedPrecondition {
            kind: "ILLEGAL_TRANSITION",
            subject: "message".into(),
            description: error.to_string(),
        }
    }
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Status {
        let message = error.to_string();
        match error {
            ApiError::InvalidArgument(violations) => {
                let details = ErrorDetails::with_bad_request(
                    violations
                        .into_iter()
                        .map(|v| tonic_types::FieldViolation::new(v.field, v.description))
                        .collect::<Vec<_>>(),
                );
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            ApiError::FailedPrecondition { kind, subject, description } => {
                let details = ErrorDetails::with_precondition_failure(vec![tonic_types::PreconditionViolation::new(
                    kind,
                    subject,
                    description,
                )]);
                Status::with_error_details(Code::FailedPrecondition, message, details)
            }
            ApiError::ConsentRefused(reasons) => {
                let violations = reasons
                    .iter()
                    .map(|r| {
                        let kind = short_name(r.as_str_name(), "CONSENT_REFUSAL_");
                        tonic_types::PreconditionViolation::new(kind, "consent", refusal_text(*r))
                    })
                    .collect::<Vec<_>>();
                let details = ErrorDetails::with_precondition_failure(violations);
                Status::with_error_details(Code::FailedPrecondition, message, details)
            }
            ApiError::NotFound(_) => Status::not_found(message),
            ApiError::PermissionDenied(_) | ApiError::NotTheOperator(_) => Status::permission_denied(message),
            ApiError::Unauthenticated(reason) => {
                tracing::info!(reason, "request refused: unauthenticated");
                Status::unauthenticated(message)
            }
            ApiError::ResourceExhausted { retry_after, .. } => {
                let details = ErrorDetails::with_retry_info(Some(retry_after));
                Status::with_error_details(Code::ResourceExhausted, message, details)
            }
            ApiError::Aborted => Status::aborted(message),
            ApiError::Store(StoreError::Conflict) => Status::aborted("the record changed concurrently; retry"),
            ApiError::Store(error) => {
                tracing::error!(%error, "store failure");
                Status::unavailable("the hub's database is unavailable; retry later")
            }
        }
    }
}

/// `FAILED_PRECONDITION`: the request id was used before for a different request.
pub fn request_id_reused() -> ApiError {
    ApiError::FailedPrecondition {
        kind: "REQUEST_ID_REUSED",
        subject: "request_id".into(),
        description: "this request_id was already used for a different request; use a new request_id".into(),
    }
}

/// A single-field `INVALID_ARGUMENT`.
pub fn invalid(field: &str, description: impl Into<String>) -> ApiError {
    ApiError::InvalidArgument(vec![FieldViolation { field: field.into(), description: description.into() }])
}
