//! Request extractors whose failures are problem+json that name the field at fault.
//!
//! `Json<T>` checks the media type, enforces the body limit and deserializes with the path
//! of the failing field (`organisation.country`), so clients can fix their request.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// The configured body limit, stored as app data.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

/// A JSON body, deserialized with field-naming errors.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().map(|l| l.0).unwrap_or(1 << 20);
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|s| {
                s.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            let is_json = matches!(&content_type, Some(ct) if ct == "application/json" || (ct.starts_with("application/") && ct.ends_with("+json")));
            if !is_json {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "Send the body as application/json (got {}).",
                    content_type.as_deref().unwrap_or("no Content-Type")
                )));
            }
            if declared_len.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge(limit));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk
                    .map_err(|e| ApiError::BadRequest(format!("Could not read the body: {e}")))?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge(limit));
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(Json)
        })
    }
}

/// Deserializes JSON, naming the failing field or position.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::field(
            "body",
            "required",
            "A JSON body is required.",
        ));
    }
    // Every request body of this API is an object; serde would also read a struct from an array.
    if body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b != b'{')
    {
        return Err(ApiError::field(
            "body",
            "invalid_type",
            "The body must be a JSON object.",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => {
            // Control characters (NUL, escapes) are refused in every text of every body, so
            // none reaches a database, a log line or an email.
            let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| {
                ApiError::field("body", "malformed_json", "The body is not valid JSON.")
            })?;
            let mut bad = Vec::new();
            control_characters(&value, "", &mut bad);
            if bad.is_empty() {
                Ok(v)
            } else {
                Err(ApiError::Validation(bad))
            }
        }
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            Err(ApiError::Validation(vec![describe_json_error(
                &path, &inner,
            )]))
        }
    }
}

/// Collects a field error for every string under `value` that holds a control character.
fn control_characters(value: &serde_json::Value, path: &str, out: &mut Vec<FieldError>) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            crate::kit::control_characters(
                out,
                if path.is_empty() { "body" } else { path },
                s,
                true,
            );
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                control_characters(item, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                control_characters(v, &join(path, k), out);
            }
        }
        _ => {}
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() || path == "." {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

fn backticked(msg: &str, prefix: &str) -> Option<String> {
    let rest = msg.strip_prefix(prefix)?;
    let start = rest.find('`')? + 1;
    let end = start + rest[start..].find('`')?;
    Some(rest[start..end].to_string())
}

fn describe_json_error(path: &str, e: &serde_json::Error) -> FieldError {
    use serde_json::error::Category;
    let msg = e.to_string();
    // serde_json appends " at line L column C"; keep it only for syntax errors.
    let bare = msg
        .rsplit_once(" at line ")
        .map(|(m, _)| m.to_string())
        .unwrap_or_else(|| msg.clone());
    match e.classify() {
        Category::Syntax | Category::Eof => FieldError::new(
            "body",
            "malformed_json",
            format!("Malformed JSON at line {} column {}.", e.line(), e.column()),
        ),
        Category::Io => FieldError::new("body", "unreadable", "The body could not be read."),
        Category::Data => {
            if let Some(f) = backticked(&bare, "missing field ") {
                FieldError::new(join(path, &f), "required", format!("`{f}` is required."))
            } else if let Some(f) = backticked(&bare, "unknown field ") {
                // serde_path_to_error's path already ends at the unknown field.
                let field = if path == f || path.ends_with(&format!(".{f}")) {
                    path.to_string()
                } else {
                    join(path, &f)
                };
                FieldError::new(
                    field,
                    "unknown_field",
                    format!("`{f}` is not a field of this request."),
                )
            } else {
                let field = if path.is_empty() || path == "." {
                    "body".to_string()
                } else {
                    path.to_string()
                };
                FieldError::new(field, "invalid", capitalise(&bare))
            }
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str() + ".",
        None => String::new(),
    }
}

/// Error handler for actix's own query-string extractor.
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    let msg = err.to_string();
    let field = backticked(&msg, "Query deserialize error: missing field ")
        .or_else(|| backticked(&msg, "Query deserialize error: unknown field "))
        .unwrap_or_else(|| "query".into());
    ApiError::field(
        field,
        "invalid",
        msg.replace("Query deserialize error: ", ""),
    )
    .into()
}

/// Error handler for actix's own path extractor.
pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::field(
        "path",
        "invalid",
        err.to_string().replace("Path deserialize error: ", ""),
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        country: String,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        organisation: Inner,
        count: u32,
    }

    fn field_of(body: &str) -> (String, String) {
        match parse_json::<Outer>(body.as_bytes()) {
            Err(ApiError::Validation(e)) => (e[0].field.clone(), e[0].code.clone()),
            other => panic!("expected validation error, got {other:?}"),
        }
    }

    #[test]
    fn mistyped_nested_field_is_named() {
        assert_eq!(
            field_of(r#"{"organisation":{"country":5},"count":1}"#).0,
            "organisation.country"
        );
    }

    #[test]
    fn missing_nested_field_is_named() {
        assert_eq!(
            field_of(r#"{"organisation":{},"count":1}"#),
            ("organisation.country".into(), "required".into())
        );
    }

    #[test]
    fn unknown_field_is_named() {
        assert_eq!(
            field_of(r#"{"organisation":{"country":"GB"},"count":1,"x":2}"#),
            ("x".into(), "unknown_field".into())
        );
    }

    #[test]
    fn malformed_json_gives_position() {
        let (f, c) = field_of(r#"{"organisation": "#);
        assert_eq!((f.as_str(), c.as_str()), ("body", "malformed_json"));
    }
}

/// The version named by `If-Match`, read with actix-web's typed header: `"3"` names version 3.
/// `None` when the header is absent; a service that requires it answers 428 through
/// [`IfMatch::required`]. An unreadable value is 400 naming `If-Match`.
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub Option<i64>);

/// The version a weak `If-Match` tag stands for: versions start at 1, so it matches none.
pub const NO_VERSION: i64 = -1;

impl IfMatch {
    /// The version, or 428 when the header was not sent.
    pub fn required(self) -> Result<i64, ApiError> {
        self.0.ok_or(ApiError::PreconditionRequired)
    }

    fn read(req: &HttpRequest) -> Result<Self, ApiError> {
        use actix_web::http::header::{Header, IfMatch as Typed};
        if !req.headers().contains_key(header::IF_MATCH) {
            return Ok(IfMatch(None));
        }
        let invalid = || {
            ApiError::field(
                "If-Match",
                "invalid",
                "Send the ETag of the version you edited, e.g. If-Match: \"3\".",
            )
        };
        match Typed::parse(req).map_err(|_| invalid())? {
            // If-Match uses strong comparison (RFC 9110 §13.1.1): a weak tag matches no
            // version, so it names one no row has and the update answers 412 with the
            // current version.
            Typed::Items(tags) if tags.len() == 1 && tags[0].weak => {
                tags[0].tag().parse::<i64>().map_err(|_| invalid())?;
                Ok(IfMatch(Some(NO_VERSION)))
            }
            Typed::Items(tags) if tags.len() == 1 => tags[0]
                .tag()
                .parse::<i64>()
                .map(|v| IfMatch(Some(v)))
                .map_err(|_| invalid()),
            _ => Err(invalid()),
        }
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(IfMatch::read(req))
    }
}

/// The ETag of a version: `"3"`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// True when `If-None-Match` lists the current ETag (or is `*`); weak tags compare weakly.
pub fn not_modified(req: &HttpRequest, version: i64) -> bool {
    let Some(v) = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let current = etag(version);
    v.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == current || t.strip_prefix("W/") == Some(current.as_str()))
}

#[cfg(test)]
mod if_match_tests {
    use super::*;

    fn read(value: &str) -> Result<IfMatch, ApiError> {
        let req = actix_web::test::TestRequest::default()
            .insert_header((header::IF_MATCH, value))
            .to_http_request();
        IfMatch::read(&req)
    }

    #[test]
    fn a_strong_tag_names_its_version() {
        assert_eq!(read("\"3\"").unwrap().0, Some(3));
    }

    #[test]
    fn a_weak_tag_matches_no_version() {
        assert_eq!(read("W/\"2\"").unwrap().0, Some(NO_VERSION));
        assert!(read("W/\"x\"").is_err());
    }
}
