//! One error type for the whole API and its single mapping to `application/problem+json`
//! (RFC 9457). Internal details (SQL, panics, paths) are logged with the request id by the
//! request-context middleware and never put in a response body.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as a dotted path into the request (`organisation.country`), or a header name.
    pub field: String,
    /// A stable machine-readable code, e.g. `required`, `invalid`, `too_long`, `unknown_field`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Ok when no field is in error, else the 400 naming every field in error: how each check
/// that collects field errors ends, so a request is refused once with all its mistakes.
pub fn no_field_errors(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `urn:idpc-hub:problem:validation`.
    #[serde(rename = "type")]
    pub type_: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    pub detail: String,
    /// The request path this occurrence belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The request id, also sent as `X-Request-Id`; quote it when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Invalid fields, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The current version of the resource, for 412 Precondition Failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
    /// Internal cause, logged and never serialized.
    #[serde(skip)]
    #[schema(ignore)]
    pub internal: Option<String>,
    /// The message of `locales/*/errors.ftl` that is `title` in other languages; never
    /// serialized (the middleware writes the title in the caller's language).
    #[serde(skip)]
    #[schema(ignore)]
    pub title_key: Option<&'static str>,
}

impl Problem {
    /// Writes the title and the field messages in `lang` (`Accept-Language`). The `type`,
    /// the status and each field's `code` never change; a field code without a translation
    /// keeps the message its check wrote, and `detail` stays as written except for
    /// validation problems, whose detail is made of the field messages.
    pub fn localize(&mut self, lang: crate::i18n::Lang) {
        use crate::i18n::{message, t_args};
        if lang == crate::i18n::Lang::EN {
            return;
        }
        if let Some(title) = self.title_key.and_then(|k| message(lang, k, None)) {
            self.title = title;
        }
        for e in &mut self.errors {
            if let Some(m) = message(lang, &format!("field-{}", e.code), None) {
                e.message = m;
            }
        }
        match self.errors.as_slice() {
            [] => {}
            [one] => self.detail = format!("{}: {}", one.field, one.message),
            many => {
                let count = i64::try_from(many.len()).unwrap_or(i64::MAX);
                self.detail = t_args(lang, "problem-fields-invalid", &[("count", count.into())]);
            }
        }
    }
}

crate::text_enum! {
    /// Why a command was refused with 409 (or 422): the last part of the problem `type`.
    pub enum ConflictCode {
        /// A payee bank account is not confirmed, is in its cooling-off period, or was retired.
        AccountNotUsable = "account_not_usable",
        /// A tranche is already in an open payment run.
        AlreadyInRun = "already_in_run",
        /// The network's own paying account (PAYMENT_DEBTOR_ACCOUNT) is not set.
        DebtorAccountMissing = "debtor_account_missing",
        /// A fund's amount would fall below what it has already awarded.
        AmountBelowAwarded = "amount_below_awarded",
        /// Another request changed the same data at the same time; retry.
        ConcurrentUpdate = "concurrent_update",
        /// A document of a decided object: read-only, or superseded but never deleted.
        DocumentLocked = "document_locked",
        /// The organisation's document quota is used up.
        DocumentQuotaExceeded = "document_quota_exceeded",
        /// An application for this contact email or organisation name is still open.
        DuplicateApplication = "duplicate_application",
        /// Another user has this email address.
        EmailTaken = "email_taken",
        /// The grant's budget lines do not sum to its amount (the detail names both and the
        /// difference), or it has none.
        BudgetMismatch = "budget_mismatch",
        /// A revision of the grant's budget already waits for an officer.
        BudgetRevisionPending = "budget_revision_pending",
        /// A report recorded actuals on a budget line or an indicator that would be removed.
        HasActuals = "has_actuals",
        /// The fund has too little left to award this grant.
        FundExhausted = "fund_exhausted",
        /// The grant has too little left to commit this tranche.
        GrantExhausted = "grant_exhausted",
        /// The grant is closed, rejected or cancelled.
        GrantFinished = "grant_finished",
        /// The grant still has tranches that are not finished.
        GrantHasTranches = "grant_has_tranches",
        /// The grant is not active.
        GrantNotActive = "grant_not_active",
        /// A request with this Idempotency-Key is still running.
        IdempotencyInFlight = "idempotency_in_flight",
        /// The Idempotency-Key was used with another request body.
        IdempotencyKeyReused = "idempotency_key_reused",
        /// The resource is not in a state that allows this command.
        InvalidTransition = "invalid_transition",
        /// The user has not accepted the invitation yet.
        InvitationPending = "invitation_pending",
        /// The organisation is not a member.
        NotAMember = "not_a_member",
        /// What waits for confirmation is not what the confirmation names: it changed since
        /// it was read.
        PendingChanged = "pending_changed",
        /// Only a draft may be changed this way.
        NotDraft = "not_draft",
        /// The user is not waiting on an invitation.
        NotInvited = "not_invited",
        /// Only a dead message may be retried.
        OutboxNotDead = "outbox_not_dead",
        /// A renewal of this membership was already asked for and waits for a decision.
        RenewalAlreadyRequested = "renewal_already_requested",
        /// A financial report is submitted without any file.
        ReportFilesMissing = "report_files_missing",
        /// The tranche waits on a report that is not accepted yet.
        ReportNotAccepted = "report_not_accepted",
        /// A second approval must come from another person.
        SameApprover = "same_approver",
        /// The approver is one of the authors.
        SelfApproval = "self_approval",
        /// An admin may not disable or demote themselves.
        SelfLockout = "self_lockout",
        /// The webhook subscription is disabled; enable it first.
        SubscriptionDisabled = "subscription_disabled",
        /// Another organisation has this slug.
        SlugTaken = "slug_taken",
        /// The grant still has approved tranches that are not paid.
        UnpaidTranches = "unpaid_tranches",
    }
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 with field errors.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// 400 without a specific field.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 401: missing or invalid credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 403: the caller may see this but not do it.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404: unknown, or not the caller's to know about.
    #[error("not found")]
    NotFound,
    /// 405 with the allowed methods.
    #[error("method not allowed")]
    MethodNotAllowed(Vec<String>),
    /// 409: a rule or a concurrent request stands in the way. `code` names the rule.
    #[error("conflict: {code}: {detail}")]
    Conflict {
        /// The rule.
        code: ConflictCode,
        /// What happened.
        detail: String,
    },
    /// 412: the `If-Match` version is stale.
    #[error("precondition failed")]
    PreconditionFailed {
        /// The version the resource has now.
        current_version: i64,
    },
    /// 413.
    #[error("payload too large")]
    PayloadTooLarge(usize),
    /// 415.
    #[error("unsupported media type")]
    UnsupportedMediaType(String),
    /// 422: understood but not acceptable (e.g. an idempotency key reused with another body).
    #[error("unprocessable: {code}: {detail}")]
    Unprocessable {
        /// The rule.
        code: ConflictCode,
        /// What happened.
        detail: String,
    },
    /// 428: `If-Match` is required.
    #[error("precondition required")]
    PreconditionRequired,
    /// 429 with a Retry-After in seconds.
    #[error("too many requests")]
    TooManyRequests(u64),
    /// 503 with a Retry-After in seconds.
    #[error("service unavailable: {0}")]
    Unavailable(String, u64),
    /// 500; the text goes to the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A single-field validation error.
    pub fn field(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ApiError::Validation(vec![FieldError::new(field, code, message)])
    }

    /// An internal error from anything displayable.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
    }

    /// The problem document for this error (without request id and instance, which the
    /// middleware adds).
    pub fn problem(&self) -> Problem {
        let (slug, title, detail) = match self {
            ApiError::Validation(errors) => (
                "validation",
                "Invalid request",
                match errors.as_slice() {
                    [one] => format!("{}: {}", one.field, one.message),
                    _ => format!("{} fields are invalid", errors.len()),
                },
            ),
            ApiError::BadRequest(d) => ("bad-request", "Bad request", d.clone()),
            ApiError::Unauthorized(d) => ("unauthorized", "Unauthorized", d.clone()),
            ApiError::Forbidden(d) => ("forbidden", "Forbidden", d.clone()),
            ApiError::NotFound => (
                "not-found",
                "Not found",
                "No resource exists at this address.".into(),
            ),
            ApiError::MethodNotAllowed(allow) => (
                "method-not-allowed",
                "Method not allowed",
                format!("This resource accepts {}.", allow.join(", ")),
            ),
            ApiError::Conflict { code, detail } => (code.as_str(), "Conflict", detail.clone()),
            ApiError::PreconditionFailed { current_version } => (
                "precondition-failed",
                "Precondition failed",
                format!("The resource has changed; its current version is {current_version}."),
            ),
            ApiError::PayloadTooLarge(limit) => (
                "payload-too-large",
                "Payload too large",
                format!("The request body is larger than the limit of {limit} bytes."),
            ),
            ApiError::UnsupportedMediaType(d) => (
                "unsupported-media-type",
                "Unsupported media type",
                d.clone(),
            ),
            ApiError::Unprocessable { code, detail } => {
                (code.as_str(), "Unprocessable request", detail.clone())
            }
            ApiError::PreconditionRequired => (
                "precondition-required",
                "Precondition required",
                "This resource requires an If-Match header with its current ETag.".into(),
            ),
            ApiError::TooManyRequests(s) => (
                "too-many-requests",
                "Too many requests",
                format!("Try again in {s} seconds."),
            ),
            ApiError::Unavailable(d, _) => ("unavailable", "Service unavailable", d.clone()),
            ApiError::Internal(_) => (
                "internal",
                "Internal server error",
                "Something went wrong on our side; quote the request id when reporting it.".into(),
            ),
        };
        Problem {
            type_: format!("urn:idpc-hub:problem:{}", slug.replace('_', "-")),
            title: title.into(),
            status: self.status_code().as_u16(),
            detail,
            instance: None,
            request_id: None,
            errors: match self {
                ApiError::Validation(e) => e.clone(),
                _ => Vec::new(),
            },
            current_version: match self {
                ApiError::PreconditionFailed { current_version } => Some(*current_version),
                _ => None,
            },
            internal: self.internal_cause(),
            title_key: Some(self.title_key()),
        }
    }

    /// What an internal error hides from the body (logged by the middleware).
    fn internal_cause(&self) -> Option<String> {
        match self {
            ApiError::Internal(m) => Some(m.clone()),
            _ => None,
        }
    }

    /// The message of the problem's title (`locales/*/errors.ftl`).
    fn title_key(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "problem-validation",
            ApiError::BadRequest(_) => "problem-bad-request",
            ApiError::Unauthorized(_) => "problem-unauthorized",
            ApiError::Forbidden(_) => "problem-forbidden",
            ApiError::NotFound => "problem-not-found",
            ApiError::MethodNotAllowed(_) => "problem-method-not-allowed",
            ApiError::Conflict { .. } => "problem-conflict",
            ApiError::PreconditionFailed { .. } => "problem-precondition-failed",
            ApiError::PayloadTooLarge(_) => "problem-payload-too-large",
            ApiError::UnsupportedMediaType(_) => "problem-unsupported-media-type",
            ApiError::Unprocessable { .. } => "problem-unprocessable",
            ApiError::PreconditionRequired => "problem-precondition-required",
            ApiError::TooManyRequests(_) => "problem-too-many-requests",
            ApiError::Unavailable(..) => "problem-unavailable",
            ApiError::Internal(_) => "problem-internal",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(..) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let problem = self.problem();
        let mut res = problem_response(&problem);
        let headers = res.headers_mut();
        match self {
            ApiError::MethodNotAllowed(allow) => {
                if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                    headers.insert(header::ALLOW, v);
                }
            }
            ApiError::TooManyRequests(s) | ApiError::Unavailable(_, s) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*s));
            }
            ApiError::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        res.extensions_mut().insert(problem);
        res
    }
}

/// Serializes a problem as a response; the middleware re-renders it with request id and path.
pub fn problem_response(problem: &Problem) -> HttpResponse {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
        .body(serde_json::to_string(problem).unwrap_or_default())
}

impl From<crate::money::MoneyError> for FieldError {
    fn from(e: crate::money::MoneyError) -> Self {
        FieldError::new(e.field, e.code, e.message)
    }
}

impl From<crate::money::MoneyError> for ApiError {
    fn from(e: crate::money::MoneyError) -> Self {
        ApiError::Validation(vec![e.into()])
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => ApiError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                ApiError::Conflict {
                    code: crate::error::ConflictCode::ConcurrentUpdate,
                    detail: "A concurrent request changed the same data; retry.".into(),
                }
            }
            // The server went away or the link to it broke: an outage, not a bug. 503 with
            // Retry-After on every route, so clients and load balancers back off and retry.
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => {
                tracing::error!(error = %info.message(), "database unreachable");
                unreachable_database()
            }
            // SQLite's busy timeout ran out behind another writer.
            Error::DatabaseError(_, info) if info.message().contains("database is locked") => {
                tracing::warn!("database busy: {}", info.message());
                ApiError::Unavailable("The database is busy; retry shortly.".into(), 1)
            }
            other => ApiError::Internal(format!("database: {other}")),
        }
    }
}

/// The answer while the database cannot be reached.
fn unreachable_database() -> ApiError {
    ApiError::Unavailable("The database is unreachable; retry shortly.".into(), 5)
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::Query(q) => q.into(),
            crate::db::DbError::Pool(p) => {
                tracing::warn!(error = %p, "database pool exhausted");
                ApiError::Unavailable("The database is busy; retry shortly.".into(), 1)
            }
            crate::db::DbError::Connection(c) => {
                tracing::error!(error = %c, "database unreachable");
                unreachable_database()
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(format!("blocking task failed: {e}"))
    }
}

/// The documented error responses, each stated once under `components.responses` and
/// referenced by every operation that can answer it. Operations list them through the sets
/// below (`responses((status = 200, ...), AuthErrors, BodyErrors)`), never one by one.
pub mod docs {
    use std::collections::BTreeMap;

    use utoipa::IntoResponses;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

    use super::PROBLEM_JSON;

    /// (status, component name, description) of every shared error response.
    pub const RESPONSES: &[(&str, &str, &str)] = &[
        (
            "400",
            "BadRequest",
            "Invalid field or parameter; `errors` names each field",
        ),
        ("401", "Unauthorized", "No valid token"),
        (
            "403",
            "Forbidden",
            "The caller's role or scope does not allow this action",
        ),
        ("404", "NotFound", "Unknown, or not the caller's to see"),
        (
            "409",
            "Conflict",
            "A rule or a concurrent change stands in the way; the problem `type` names the rule (see `ConflictCode`)",
        ),
        (
            "412",
            "PreconditionFailed",
            "`If-Match` names a stale version; `current_version` gives the current one",
        ),
        ("413", "PayloadTooLarge", "Body too large"),
        ("415", "UnsupportedMediaType", "Not JSON"),
        (
            "422",
            "Unprocessable",
            "The `Idempotency-Key` was used with another body",
        ),
        ("428", "PreconditionRequired", "`If-Match` is required"),
        (
            "429",
            "TooManyRequests",
            "Too many attempts; see `Retry-After`",
        ),
        (
            "503",
            "ServiceUnavailable",
            "Busy or a dependency is down; try again after `Retry-After`",
        ),
    ];

    /// The `components.responses` entries, each a problem+json body.
    pub fn components() -> Vec<(String, Response)> {
        RESPONSES
            .iter()
            .map(|(_, name, description)| {
                (
                    name.to_string(),
                    ResponseBuilder::new()
                        .description(*description)
                        .content(
                            PROBLEM_JSON,
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("Problem")))
                                .build(),
                        )
                        .build(),
                )
            })
            .collect()
    }

    fn refs(statuses: &[&str]) -> BTreeMap<String, RefOr<Response>> {
        RESPONSES
            .iter()
            .filter(|(status, _, _)| statuses.contains(status))
            .map(|(status, name, _)| {
                (
                    status.to_string(),
                    RefOr::Ref(Ref::from_response_name(*name)),
                )
            })
            .collect()
    }

    macro_rules! error_set {
        ($(#[$meta:meta])* $name:ident: $($status:literal),+) => {
            $(#[$meta])*
            pub struct $name;
            impl IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    refs(&[$($status),+])
                }
            }
        };
    }

    error_set!(
        /// 401: the operation needs a token.
        Unauthenticated: "401"
    );
    error_set!(
        /// 401 and 403: a token, and a role or scope.
        AuthErrors: "401", "403"
    );
    error_set!(
        /// 400, 413 and 415: a JSON body that is checked.
        BodyErrors: "400", "413", "415"
    );
    error_set!(
        /// 400: parameters that are checked.
        QueryErrors: "400"
    );
    error_set!(
        /// 404: the object is unknown or not the caller's to see.
        NotFoundError: "404"
    );
    error_set!(
        /// 409: a rule or a concurrent change refuses the command.
        ConflictError: "409"
    );
    error_set!(
        /// 412 and 428: optimistic concurrency with `If-Match`.
        VersionErrors: "412", "428"
    );
    error_set!(
        /// 422: an `Idempotency-Key` reused with another body (409 while in flight).
        IdempotencyErrors: "409", "422"
    );
    error_set!(
        /// 429: rate limited.
        RateLimited: "429"
    );
    error_set!(
        /// 503: busy (password checks) or the database is unreachable.
        Unavailable: "503"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause() {
        let p = ApiError::Internal("SELECT * FROM secret".into()).problem();
        let body = serde_json::to_string(&p).unwrap();
        assert!(!body.contains("SELECT"));
        assert_eq!(p.status, 500);
    }

    #[test]
    fn every_429_and_503_says_when_to_retry() {
        for e in [
            ApiError::TooManyRequests(7),
            ApiError::Unavailable("busy".into(), 7),
        ] {
            let res = e.error_response();
            assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "7");
        }
    }

    #[test]
    fn a_lost_database_connection_is_503_with_retry_after_not_500() {
        use diesel::result::{DatabaseErrorKind, Error};
        for kind in [
            DatabaseErrorKind::ClosedConnection,
            DatabaseErrorKind::UnableToSendCommand,
        ] {
            let e: ApiError = Error::DatabaseError(kind, Box::new(String::from("gone"))).into();
            let res = e.error_response();
            assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert!(res.headers().get(header::RETRY_AFTER).is_some());
        }
        let e: ApiError = crate::db::DbError::Connection(diesel::ConnectionError::BadConnection(
            "refused".into(),
        ))
        .into();
        assert_eq!(e.error_response().status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn validation_problem_names_the_field() {
        let p = ApiError::field("country", "invalid", "unknown country code").problem();
        assert_eq!(p.errors[0].field, "country");
        assert!(p.detail.contains("country"));
    }
}
