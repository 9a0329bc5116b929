//! Per-request plumbing: the request id, its tracing span, panic containment, and the final
//! rendering of every error as problem+json carrying the request id and path.
//!
//! This is the only place that logs internal error causes; it never lets them into a body.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError};
use futures_util::FutureExt;
use tracing::Instrument;

use crate::error::{ApiError, Problem, problem_response};

/// The header of a replayable POST (honoured by `crate::idempotency` where documented).
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// The request id header, accepted from the caller when sane and always echoed.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, available from request extensions.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

fn sane_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then(|| s.to_string())
}

/// The request-context middleware (use with `actix_web::middleware::from_fn`).
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(sane_request_id)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let lang = request_language(&req);
    let refused = control_characters_in_url(&req).or_else(|| unsupported_idempotency_key(&req));
    let path = req.path().to_string();
    let method = req.method().to_string();
    let span = tracing::info_span!("request", request_id = %request_id, %method, %path);
    let started = Instant::now();

    async move {
        if let Some(err) = refused {
            let res = req.into_response(err.error_response());
            let res = finalize_problem(res, &request_id, &path, lang);
            return Ok(with_language(with_request_id(res, &request_id), lang));
        }
        let outcome = AssertUnwindSafe(next.call(req)).catch_unwind().await;
        // The request cannot be kept aside while routing runs (routing needs it unshared), so
        // failures that consumed it leave as an error that renders its own complete problem.
        let res = match outcome {
            Ok(Ok(res)) => res.map_into_boxed_body(),
            Ok(Err(err)) => {
                let res = err.error_response();
                let mut problem = res
                    .extensions()
                    .get::<Problem>()
                    .cloned()
                    .unwrap_or_else(|| {
                        let status = res.status();
                        let mut p = ApiError::Internal(err.to_string()).problem();
                        if status.is_client_error() {
                            p = ApiError::BadRequest(err.to_string()).problem();
                            p.status = status.as_u16();
                        }
                        p
                    });
                log_internal(&mut problem, res.status());
                problem.localize(lang);
                return Err(CompleteProblem::new(problem, &request_id, &path, lang).into());
            }
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                let mut problem = ApiError::Internal(format!("handler panicked: {msg}")).problem();
                log_internal(&mut problem, StatusCode::INTERNAL_SERVER_ERROR);
                problem.localize(lang);
                return Err(CompleteProblem::new(problem, &request_id, &path, lang).into());
            }
        };
        let res = finalize_problem(res, &request_id, &path, lang);
        let res = with_language(with_request_id(res, &request_id), lang);
        tracing::info!(
            status = res.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request finished"
        );
        Ok(res)
    }
    .instrument(span)
    .await
}

fn with_request_id(
    mut res: ServiceResponse<BoxBody>,
    request_id: &str,
) -> ServiceResponse<BoxBody> {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    res
}

/// The language of the people-facing text of the answer: the best of `Accept-Language`
/// that the service speaks, else English.
fn request_language(req: &ServiceRequest) -> crate::i18n::Lang {
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::i18n::negotiate)
        .unwrap_or_default()
}

/// Says the language of the answer's text (`Content-Language`) unless the handler did:
/// problem titles and field messages, console pages.
fn with_language(
    mut res: ServiceResponse<BoxBody>,
    lang: crate::i18n::Lang,
) -> ServiceResponse<BoxBody> {
    if !res.headers().contains_key(header::CONTENT_LANGUAGE) {
        res.headers_mut().insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(lang.code()),
        );
    }
    res
}

/// A 400 for an `Idempotency-Key` sent to a POST that does not honour one: silently ignoring
/// it would let a client believe a retry is safe when it is not.
fn unsupported_idempotency_key(req: &ServiceRequest) -> Option<ApiError> {
    if req.method() != actix_web::http::Method::POST || !req.headers().contains_key(IDEMPOTENCY_KEY)
    {
        return None;
    }
    let state = req.app_data::<actix_web::web::Data<crate::AppState>>()?;
    let path = req.path();
    // Unknown paths and other methods answer 404/405 as usual.
    let known_post = state
        .routes
        .allowed(path)
        .is_some_and(|m| m.iter().any(|m| m == "POST"));
    (known_post && !state.routes.honours_idempotency_key(path)).then(|| {
        ApiError::field(
            IDEMPOTENCY_KEY,
            "not_supported",
            "This operation does not support Idempotency-Key; send it only to the operations \
             that document it (those that create or move money).",
        )
    })
}

/// A 400 naming the parameter (or `path`) when the URL carries a control character such as
/// NUL, which no parameter may hold (PostgreSQL refuses NUL in text; logs must not get escapes).
fn control_characters_in_url(req: &ServiceRequest) -> Option<ApiError> {
    use crate::kit::{is_forbidden_control, percent_decode};
    let bad = |s: &str| s.chars().any(|c| is_forbidden_control(c, false));
    let message = "Remove control characters (such as NUL) from this parameter.";
    if bad(&percent_decode(req.path())) {
        return Some(ApiError::field("path", "control_character", message));
    }
    let query = req.query_string();
    if query.is_empty() {
        return None;
    }
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(&value.replace('+', " "));
        let name = percent_decode(&name.replace('+', " "));
        if bad(&value) || bad(&name) {
            let field = if bad(&name) {
                "query".to_string()
            } else {
                name
            };
            return Some(ApiError::field(field, "control_character", message));
        }
    }
    None
}

/// Makes every 4xx/5xx a problem+json document with `request_id` and `instance`.
fn finalize_problem(
    res: ServiceResponse<BoxBody>,
    request_id: &str,
    path: &str,
    lang: crate::i18n::Lang,
) -> ServiceResponse<BoxBody> {
    let status = res.status();
    if status.as_u16() < 400 {
        return res;
    }
    let problem = res.response().extensions().get::<Problem>().cloned();
    // A deliberate JSON error body (the OAuth2 token endpoint's RFC 6749 errors) stays as is.
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    // So does a console page (HTML for a person, with the error at its form field).
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if problem.is_none() && (is_json || is_html) {
        return res;
    }
    let mut problem = match problem {
        Some(p) => p,
        None => framework_problem(&res, status),
    };
    log_internal(&mut problem, status);
    problem.localize(lang);
    problem.request_id = Some(request_id.to_string());
    problem.instance = Some(path.to_string());
    let (req, old) = res.into_parts();
    let mut new = problem_response(&problem);
    // Keep the headers the error set (Allow, Retry-After, WWW-Authenticate, CORS …).
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, new)
}

/// A problem for errors produced by the framework or a library rather than by `ApiError`.
fn framework_problem(res: &ServiceResponse<BoxBody>, status: StatusCode) -> Problem {
    let err = match status {
        StatusCode::NOT_FOUND => ApiError::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(0),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::UnsupportedMediaType("Send the body as application/json.".into())
        }
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed(Vec::new()),
        s if s.is_client_error() => {
            let detail = res
                .response()
                .error()
                .map(|e| e.to_string())
                .unwrap_or_else(|| s.canonical_reason().unwrap_or("Bad request").to_string());
            let mut p = ApiError::BadRequest(detail).problem();
            p.status = s.as_u16();
            p.title = s.canonical_reason().unwrap_or("Client error").to_string();
            p.title_key = None;
            return p;
        }
        _ => ApiError::Internal(
            res.response()
                .error()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "server error".into()),
        ),
    };
    err.problem()
}

fn log_internal(problem: &mut Problem, status: StatusCode) {
    if let Some(internal) = problem.internal.take() {
        tracing::error!(cause = %internal, "request failed");
    } else if status.is_server_error() {
        tracing::error!(status = status.as_u16(), "request failed");
    }
}

/// A problem that already carries its request id and path, for failures after which the
/// request is gone (a panic): it renders the whole response, `X-Request-Id` included.
#[derive(Debug)]
struct CompleteProblem(Problem, crate::i18n::Lang);

impl CompleteProblem {
    fn new(mut problem: Problem, request_id: &str, path: &str, lang: crate::i18n::Lang) -> Self {
        problem.request_id = Some(request_id.to_string());
        problem.instance = Some(path.to_string());
        Self(problem, lang)
    }
}

impl std::fmt::Display for CompleteProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0.status, self.0.title)
    }
}

impl ResponseError for CompleteProblem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        let mut res = problem_response(&self.0);
        if let Some(Ok(v)) = self.0.request_id.as_deref().map(HeaderValue::from_str) {
            res.headers_mut().insert(REQUEST_ID, v);
        }
        res.headers_mut().insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        res.headers_mut().insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(self.1.code()),
        );
        res
    }
}
