//! HTTP conventions every route shares, applied once around the whole app so that routes
//! added later follow them without a line of their own: HEAD answered like GET without a
//! body, `Link: <…>; rel="next"` on pages with a next cursor, a `Cache-Control` fitted to each
//! answer, the OpenAPI document's ETag and 304, and the rate-limit fields of the IETF draft
//! (`RateLimit-Policy`, `RateLimit`) on the rate-limited routes.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody, to_bytes};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};

use crate::AppState;

/// The draft's policy field: the quota and window of each limit on a route.
pub const RATE_LIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// The draft's state field: what is left of a quota and when it resets.
pub const RATE_LIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// Swagger UI assets and the document change only with a release.
const DOCS_CACHE: &str = "public, max-age=3600";
const OPENAPI_CACHE: &str = "public, max-age=300";

/// The window of every limit of `auth::throttle` (`RATE_WINDOW`), in seconds.
const RATE_WINDOW_SECS: u32 = 60;

/// The operation extension naming the rate limits a handler counts, declared on its
/// `#[utoipa::path]` (the only route fact OpenAPI has no field for):
/// `extensions(("x-rate-limits" = json!([Limit::AuthPerIp])))`. The headers of
/// this module read it from the route table; the published document leaves it out.
pub const RATE_LIMITS: &str = "x-rate-limits";

/// A limit a handler counts (through `auth::throttle`), named as `RateLimit-Policy` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// Sign-in attempts per client address (`AUTH_RATE_LIMIT_PER_IP`).
    AuthPerIp,
    /// Sign-in attempts per account (`AUTH_RATE_LIMIT_PER_ACCOUNT`).
    AuthPerAccount,
    /// Membership applications per client address (`APPLICATION_RATE_LIMIT_PER_IP`).
    ApplicationPerIp,
}

impl Limit {
    /// The policy name in the headers and its configured quota per window.
    pub fn policy(self, config: &crate::config::Config) -> (&'static str, u32) {
        match self {
            Limit::AuthPerIp => ("ip", config.auth_rate_limit_per_ip),
            Limit::AuthPerAccount => ("account", config.auth_rate_limit_per_account),
            Limit::ApplicationPerIp => ("ip", config.application_rate_limit_per_ip),
        }
    }
}

/// The limits the route's handler counts, as (policy name, quota per window): declared on
/// the handler ([`RATE_LIMITS`]), with the configured numbers.
fn rate_limits(state: &AppState, method: &Method, path: &str) -> Vec<(&'static str, u32)> {
    state
        .routes
        .limits(method.as_str(), path)
        .iter()
        .map(|limit| limit.policy(&state.config))
        .collect()
}

/// A body that states its length and sends nothing: what a HEAD answer is. The HTTP/1
/// encoder writes `Content-Length` from the size and, for HEAD, writes no body bytes.
struct HeadBody(u64);

impl MessageBody for HeadBody {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.0)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(None)
    }
}

/// HEAD on any GET route: routed as GET, answered with the GET's status and headers
/// (`Content-Length` included) and no body. Wrap it outermost.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.method() != Method::HEAD {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    req.head_mut().method = Method::GET;
    let res = next.call(req).await?;
    let (req, res) = res.into_parts();
    let (res, body) = res.into_parts();
    let len = match body.size() {
        BodySize::Sized(n) => n,
        BodySize::None => 0,
        // A stream (compressed, for one) is measured by reading it.
        BodySize::Stream => to_bytes(body).await.map(|b| b.len() as u64).unwrap_or(0),
    };
    let res = res.set_body(BoxBody::new(HeadBody(len)));
    Ok(ServiceResponse::new(req, res))
}

/// `Link`, `Cache-Control`, the document's ETag and the rate-limit fields. Wrap it just
/// outside the request-context middleware, so it sees every answer as the client will
/// (problems included) and before compression.
pub async fn conventions(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let asked = Asked {
        method: req.method().clone(),
        path: req.path().to_string(),
        authenticated: req.headers().contains_key(header::AUTHORIZATION),
    };
    let query = req.query_string().to_string();
    let openapi_etag = state
        .as_ref()
        .filter(|_| asked.is_get("/openapi.json"))
        .map(|s| s.openapi_etag.clone());

    if let Some(tag) = &openapi_etag
        && let Some(res) = document_not_modified(&req, tag)
    {
        return Ok(req.into_response(res));
    }

    let res = next.call(req).await?.map_into_boxed_body();
    let mut res = if asked.method == Method::GET {
        with_next_link(res, &asked.path, &query).await?
    } else {
        res
    };
    let status = res.status();
    let headers = res.headers_mut();

    if let Some(tag) = &openapi_etag
        && status == StatusCode::OK
        && let Ok(v) = HeaderValue::from_str(tag)
    {
        headers.insert(header::ETAG, v);
    }
    fit_cache_control(headers, &asked, status);
    say_when_to_come_back(headers, status);
    if let Some(state) = &state {
        rate_limit_fields(headers, state, &asked, status);
    }
    Ok(res)
}

/// What the middleware keeps of a request to fit headers to its answer.
struct Asked {
    method: Method,
    path: String,
    /// The request carried credentials (`Authorization`).
    authenticated: bool,
}

impl Asked {
    fn is_get(&self, path: &str) -> bool {
        self.method == Method::GET && self.path == path
    }
}

/// The 304 for a GET of the OpenAPI document whose `If-None-Match` lists its ETag.
fn document_not_modified(req: &ServiceRequest, tag: &str) -> Option<HttpResponse> {
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    if_none_match.filter(|v| etag_listed(v, tag)).map(|_| {
        HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::CACHE_CONTROL, OPENAPI_CACHE))
            .finish()
    })
}

/// A `Cache-Control` fitted to the answer, unless the handler set one.
fn fit_cache_control(headers: &mut HeaderMap, asked: &Asked, status: StatusCode) {
    if headers.contains_key(header::CACHE_CONTROL) {
        return;
    }
    let get = asked.method == Method::GET;
    // Answers to anything but GET (token answers among them) are never stored.
    let fitted = if asked.is_get("/openapi.json") && status.is_success() {
        OPENAPI_CACHE
    } else if get && asked.path.starts_with("/docs/") && status.is_success() {
        DOCS_CACHE
    } else if get
        && asked.authenticated
        && (status.is_success() || status == StatusCode::NOT_MODIFIED)
        && headers.contains_key(header::ETAG)
    {
        "private, no-cache"
    } else {
        "no-store"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(fitted));
}

/// Every 429 and 503 says when to come back.
fn say_when_to_come_back(headers: &mut HeaderMap, status: StatusCode) {
    if matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) && !headers.contains_key(header::RETRY_AFTER)
    {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
}

/// `RateLimit-Policy` on a rate-limited route, and `RateLimit` on its 429.
fn rate_limit_fields(headers: &mut HeaderMap, state: &AppState, asked: &Asked, status: StatusCode) {
    let limits = rate_limits(state, &asked.method, &asked.path);
    if limits.is_empty() {
        return;
    }
    let policy = limits
        .iter()
        .map(|(name, quota)| format!("\"{name}\";q={quota};w={RATE_WINDOW_SECS}"))
        .collect::<Vec<_>>()
        .join(", ");
    if let Ok(v) = HeaderValue::from_str(&policy) {
        headers.insert(RATE_LIMIT_POLICY, v);
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        let reset = headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(RATE_WINDOW_SECS.into());
        // The limiter does not say which of the route's limits ran out; the first
        // (per address) is named, with the reset the limiter computed.
        let value = format!("\"{}\";r=0;t={reset}", limits[0].0);
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(RATE_LIMIT, v);
        }
    }
}

/// True when an `If-None-Match` value lists `tag` (or `*`), comparing weakly as RFC 9110 asks.
fn etag_listed(if_none_match: &str, tag: &str) -> bool {
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == tag || t.strip_prefix("W/") == Some(tag))
}

/// Adds `Link: <path?…&cursor=…>; rel="next"` to a successful JSON answer whose body has a
/// non-null `next_cursor`: every list, whatever its handler.
async fn with_next_link(
    res: ServiceResponse<BoxBody>,
    path: &str,
    query: &str,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if res.status() != StatusCode::OK || !is_json {
        return Ok(res);
    }
    let (req, res) = res.into_parts();
    let (mut res, body) = res.into_parts();
    let bytes = to_bytes(body)
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))?;
    if let Some(cursor) = next_cursor(&bytes) {
        let link = format!("<{}>; rel=\"next\"", next_page_url(path, query, &cursor));
        if let Ok(v) = HeaderValue::from_str(&link) {
            res.headers_mut().append(header::LINK, v);
        }
    }
    Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(bytes))))
}

fn next_cursor(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Paged {
        next_cursor: Option<String>,
    }
    serde_json::from_slice::<Paged>(body)
        .ok()?
        .next_cursor
        .filter(|c| !c.is_empty())
}

/// The request's path and query with `cursor` replaced.
pub fn next_page_url(path: &str, query: &str, cursor: &str) -> String {
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let name = p.split_once('=').map_or(*p, |(n, _)| n);
            crate::kit::percent_decode(name) != "cursor"
        })
        .map(str::to_string)
        .collect();
    pairs.push(format!("cursor={}", percent_encode(cursor)));
    format!("{path}?{}", pairs.join("&"))
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_keeps_the_filters_and_replaces_the_cursor() {
        assert_eq!(
            next_page_url(
                "/api/v1/grants",
                "status=active&cursor=old&limit=2",
                "abc_-"
            ),
            "/api/v1/grants?status=active&limit=2&cursor=abc_-"
        );
        assert_eq!(
            next_page_url("/api/v1/users", "", "a b"),
            "/api/v1/users?cursor=a%20b"
        );
    }

    #[test]
    fn a_next_cursor_is_read_from_a_page_only() {
        assert_eq!(
            next_cursor(br#"{"data":[],"next_cursor":"x","total":3}"#).as_deref(),
            Some("x")
        );
        assert_eq!(next_cursor(br#"{"data":[],"next_cursor":null}"#), None);
        assert_eq!(next_cursor(br#"[1,2]"#), None);
    }

    #[test]
    fn if_none_match_compares_weakly() {
        assert!(etag_listed("W/\"abc\", \"x\"", "\"abc\""));
        assert!(etag_listed("*", "\"abc\""));
        assert!(!etag_listed("\"abd\"", "\"abc\""));
    }
}
